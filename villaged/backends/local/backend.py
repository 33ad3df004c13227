"""LocalIO: the BackendIO of ``[backend] kind = "local"``.

mbox/Maildir mail and .ics calendars as sources, a Maildir folder as the
drafts outbox, busy time from the .ics files, the digest into a Maildir.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from villaged.backends.local.digest import MaildirDigestBox, digest_folder
from villaged.backends.local.ics_busy import busy_intervals
from villaged.backends.local.outbox import MaildirOutbox
from villaged.backends.local.settings import LocalBackend
from villaged.backends.local.sources import local_sources
from villaged.domain.village import Village
from villaged.ports.backend import Interval
from villaged.ports.outbox import Outbox
from villaged.ports.source import Source


class LocalIO:
    def __init__(self, village: Village, backend: LocalBackend) -> None:
        self.village = village
        self.backend = backend
        self._outbox = MaildirOutbox(backend.drafts)

    @property
    def outbox(self) -> Outbox:
        return self._outbox

    def sources(self) -> list[Source]:
        return local_sources(self.backend, self.village.owner.timezone)

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        owner = self.village.owner
        return busy_intervals(self.backend.calendars, owner.addresses, owner.timezone, start, end)

    def deliver_digest(self, message: EmailMessage) -> str:
        folder = digest_folder(self.village, self.backend)
        return MaildirDigestBox(folder, self.village.owner).deliver(message)

    def close(self) -> None:
        """Nothing to release: files are opened and closed per use."""
