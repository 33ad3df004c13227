"""An .ics calendar file (Google or Outlook export) as a source of meetings.

The file is parsed and expanded by ``core.icalendar_events.expand_calendar``
(the same reading CalDAV calendars get) over the window [now - lookback_days,
now + horizon_days] (RRULE, RDATE, EXDATE and RECURRENCE-ID overrides
included); each occurrence goes through ``classify_event``.

Incremental sync: the cursor holds the file's SHA-256, the window's first and
last day, and the (uid, person) keys it stored. An unchanged file over the
same window yields nothing; otherwise the whole window is expanded again and
one batch carries every occurrence, with ``removed_uids`` for occurrences
that are gone (or changed attendees) and skip counts as a difference, so the
store ends up exactly as a full rescan would leave it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from villaged.core.icalendar_events import expand_calendar
from villaged.domain.village import Interaction
from villaged.ports.cursor import Cursor
from villaged.ports.source import SyncBatch, SyncContext, unreadable

log = logging.getLogger(__name__)

_UTC = dt.UTC


@dataclass(frozen=True)
class IcsCursor(Cursor):
    """The file's digest, the window read, and what it stored."""

    KIND = "ics"
    VERSION = 1

    sha256: str
    start: str  # first and last UTC day of the window, ISO
    end: str
    keys: tuple[tuple[str, str], ...]  # (uid, person) of every interaction stored
    skipped: dict[str, int]


class IcsSource:
    """One .ics file. ``name`` is "ics:" + its absolute path."""

    def __init__(self, path: Path, owner_tz: dt.tzinfo | str = "UTC") -> None:
        self.path = Path(os.path.abspath(path))
        self.owner_tz = ZoneInfo(owner_tz) if isinstance(owner_tz, str) else owner_tz

    @property
    def name(self) -> str:
        return f"ics:{self.path}"

    def __repr__(self) -> str:
        return f"IcsSource({str(self.path)!r})"

    def window(self, ctx: SyncContext) -> tuple[dt.date, dt.date]:
        """First and last UTC day read: whole days, so the window (and the
        cursor) changes once a day rather than on every run."""
        now = ctx.now.astimezone(_UTC)
        return ((now - dt.timedelta(days=ctx.limits.lookback_days)).date(),
                (now + dt.timedelta(days=ctx.limits.horizon_days)).date())

    cursor_type = IcsCursor

    def sync(self, cursor: IcsCursor | None, ctx: SyncContext) -> Iterator[SyncBatch]:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise unreadable(self.path, "calendar file", "backend.calendars", exc) from exc
        digest = hashlib.sha256(data).hexdigest()
        first, last = self.window(ctx)
        if cursor and (cursor.sha256, cursor.start, cursor.end) == (
                digest, first.isoformat(), last.isoformat()):
            log.debug("%s: unchanged", self.name)
            return

        interactions, skipped, parsed = self.expand(data, first, last, ctx)
        previous_keys = set(cursor.keys) if cursor else set()
        if parsed:
            keys = {(i.uid, i.person) for i in interactions}
        else:  # keep what a half-written or broken file cannot confirm or deny
            keys = previous_keys
        removed = sorted({uid for uid, person in previous_keys - keys})
        delta = Counter(skipped)
        if cursor:
            delta.subtract(cursor.skipped)
        new_cursor = IcsCursor(sha256=digest, start=first.isoformat(), end=last.isoformat(),
                               keys=tuple(sorted(keys)), skipped=dict(skipped))
        log.info("%s: %d meeting interactions in %s..%s, %d removed", self.name,
                 len(interactions), first, last, len(removed))
        yield SyncBatch(interactions=interactions, cursor=new_cursor, removed_uids=removed,
                        skipped=Counter({k: v for k, v in delta.items() if v}),
                        replace=cursor is None)
        ctx.progress(1, 1)

    def expand(self, data: bytes, first: dt.date, last: dt.date, ctx: SyncContext,
               ) -> tuple[list[Interaction], Counter[str], bool]:
        """(interactions, skipped, parsed) for every occurrence in the window."""
        return expand_calendar(data, first, last, ctx.matcher, ctx.limits, self.name,
                               self.owner_tz)
