"""The I/O seam: each backend supplies sources, an outbox, busy time and digest delivery.

The round talks only to this protocol, so every backend runs the very same round.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from villaged.domain.errors import VillagedError
from villaged.ports.outbox import Outbox
from villaged.ports.source import Source

if TYPE_CHECKING:
    from email.message import EmailMessage

Interval = tuple[dt.datetime, dt.datetime]


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Busy intervals sorted, with overlapping and touching ones joined."""
    merged: list[Interval] = []
    for first, last in sorted(intervals):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


class BusyCalendar(Protocol):
    def busy(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        """The owner's busy intervals (aware, merged) overlapping [start, end)."""


class DigestDelivery(Protocol):
    def deliver_digest(self, message: EmailMessage) -> str:
        """Deliver the digest to the owner (only: see ports.digest.owner_only); return its id."""


class BackendIO(BusyCalendar, DigestDelivery, Protocol):
    """Everything one backend provides to the round."""

    @property
    def outbox(self) -> Outbox: ...

    def sources(self) -> list[Source]: ...

    def close(self) -> None:
        """Release connections; a no-op for backends that hold none."""


class CalendarUnreadable(VillagedError):
    """A calendar the busy times come from cannot be read (a garbage .ics, ...).

    BackendIO.busy raises it; the round then plans without busy times: only
    the invitations (which need a free slot) are skipped, with this message as
    the reason, and the digest says so. Check-ins are not affected.
    """
