"""The one protocol every source (mbox, Maildir, .ics, Gmail, Calendar) follows.

A source yields batches; the sync driver writes each batch and its cursor in
one transaction, so a crash mid-sync loses nothing and duplicates nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from villaged.domain.addresses import Matcher
from villaged.domain.errors import VillagedError
from villaged.domain.village import Interaction, Thresholds
from villaged.ports.cursor import Cursor


def unreadable(path: object, what: str, config_key: str, exc: OSError) -> VillagedError:
    """The user-facing error for a configured mail or calendar path that can't be read."""
    if isinstance(exc, FileNotFoundError):
        return VillagedError(f"the {what} {path} is missing",
                             fix=f"restore it, or remove it from {config_key} in your village config")
    return VillagedError(f"cannot read the {what} {path}: {exc.strerror or exc}",
                         fix=f"check the permissions of {path}")


Progress = Callable[[int, int], None]  # (done, total) in the source's own unit


def no_progress(done: int, total: int) -> None:
    """The default progress callback: stay quiet."""


@dataclass(frozen=True)
class SyncContext:
    matcher: Matcher
    limits: Thresholds
    now: dt.datetime
    progress: Progress = no_progress


# A calendar is listed over a window around `now` (lookback_days back, horizon_days
# ahead); changes since come by token. The window moves with `now`, so it is listed
# afresh at least weekly.
WINDOW_LIFETIME = dt.timedelta(days=7)


def window_still_fresh(listed_at: str, now: dt.datetime) -> bool:
    """Whether a calendar window listed at ``listed_at`` (ISO 8601, as a cursor keeps
    it) may still be followed by its token, or must be listed again."""
    try:
        listed = dt.datetime.fromisoformat(listed_at)
    except (TypeError, ValueError):
        return False
    return listed.tzinfo is not None and dt.timedelta(0) <= now - listed < WINDOW_LIFETIME


@dataclass
class SyncBatch:
    """Interactions found plus the cursor to store with them, atomically."""

    interactions: list[Interaction] = field(default_factory=list)
    # the source's own cursor type (ports.cursor); a plain mapping is an untyped cursor,
    # stored as it is, for sources not yet given a cursor type; None drops the stored one
    cursor: Cursor | Mapping[str, Any] | None = None
    removed_uids: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    replace: bool = False  # drop everything stored for this source first (full rescan)


class Source(Protocol):
    """A source of contact. It also names its cursor type as ``cursor_type`` (a
    ``ports.cursor.Cursor`` subclass): the sync driver decodes the stored cursor
    with it, so ``sync`` is given that type, or None for a full sync."""

    @property
    def name(self) -> str:
        """Stable identifier; the key of the stored cursor."""

    def sync(self, cursor: Any, ctx: SyncContext) -> Iterator[SyncBatch]:
        """Yield batches of what is new since ``cursor`` (everything if None)."""
