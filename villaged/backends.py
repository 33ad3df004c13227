"""The I/O seam: each backend supplies sources, an outbox and a calendar view.

round.py talks only to this protocol, so the local files backend and the
Google backend run the very same round.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol

from villaged.outbox.base import Outbox
from villaged.sources.base import Source
from villaged.village import LocalBackend, Village

Interval = tuple[dt.datetime, dt.datetime]


class BackendIO(Protocol):
    @property
    def outbox(self) -> Outbox: ...

    def sources(self) -> list[Source]: ...


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


def open_backend(village: Village, state_dir: Path) -> BackendIO:
    backend = village.backend
    if isinstance(backend, LocalBackend):
        return LocalIO(village, backend)
    from villaged.google.backend import GoogleIO  # heavy: imported only when used

    return GoogleIO(village, backend, state_dir)
