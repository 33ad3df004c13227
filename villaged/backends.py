"""The I/O seam: each backend supplies sources, an outbox and a calendar view.

round.py talks only to this protocol, so the local files backend and the
Google backend run the very same round.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from villaged.outbox.base import Outbox
from villaged.sources.base import Source
from villaged.village import LocalBackend, Village

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


class BackendIO(Protocol):
    @property
    def outbox(self) -> Outbox: ...

    def sources(self) -> list[Source]: ...

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        """The owner's busy intervals (aware) overlapping [start, end)."""

    def deliver_digest(self, message: EmailMessage) -> str:
        """Deliver the digest to the owner (only: see outbox.digest.owner_only); return its id."""


class LocalIO:
    """mbox/Maildir mail, .ics calendars, drafts in a Maildir folder."""

    def __init__(self, village: Village, backend: LocalBackend) -> None:
        from villaged.outbox.maildir import MaildirOutbox

        self.village = village
        self.backend = backend
        self._outbox = MaildirOutbox(backend.drafts)

    @property
    def outbox(self) -> Outbox:
        return self._outbox

    def sources(self) -> list[Source]:
        from villaged.sources.local import local_sources

        return local_sources(self.backend, self.village.owner.timezone)

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        from villaged.sources.ics_busy import busy_intervals

        owner = self.village.owner
        return busy_intervals(self.backend.calendars, owner.addresses, owner.timezone, start, end)

    def deliver_digest(self, message: EmailMessage) -> str:
        from villaged.outbox.digest import MaildirDigestBox, digest_folder

        folder = digest_folder(self.village, self.backend)
        return MaildirDigestBox(folder, self.village.owner).deliver(message)


def open_backend(village: Village, state_dir: Path) -> BackendIO:
    backend = village.backend
    if isinstance(backend, LocalBackend):
        return LocalIO(village, backend)
    from villaged.google.backend import GoogleIO  # heavy: imported only when used

    return GoogleIO(village, backend, state_dir)
