"""ImapIO: the BackendIO of ``[backend] kind = "imap"``.

An IMAP mailbox (and, with ``[backend.caldav]``, CalDAV calendars) as sources,
the IMAP drafts folder as the outbox, busy times from the CalDAV events, and
the digest APPENDed to the owner's INBOX. One IMAP connection is shared by
all of them and opened on first use, so building an ImapIO is free; after a
broken connection the next use opens a new one.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path

from villaged.backends.imap.calendar_source import CaldavAccount, CaldavSource
from villaged.backends.imap.connection import ImapSession, connect
from villaged.backends.imap.drafts import Appender, ImapDigestBox, ImapOutbox, drafts_folder
from villaged.backends.imap.mail_source import ImapMailSource
from villaged.backends.imap.secrets import Secret, load_secret
from villaged.backends.imap.settings import ImapBackend
from villaged.domain.errors import TransientError
from villaged.domain.village import Village
from villaged.ports.backend import Interval
from villaged.ports.outbox import Outbox
from villaged.ports.source import Source


class ImapConnection:
    """The one IMAP session, opened lazily and reopened after a failure."""

    def __init__(self, backend: ImapBackend, state_dir: Path) -> None:
        self.settings = backend.imap
        self.state_dir = state_dir
        self._session: ImapSession | None = None
        self.commands_closed = 0  # commands of sessions already closed
        self.logins = 0

    def secret(self) -> Secret:
        s = self.settings
        return load_secret(s.credentials, "imap", s.username, s.host, self.state_dir)

    def session(self) -> ImapSession:
        if self._session is None:
            self._session = connect(self.settings, self.secret())
            self.logins += 1
        return self._session

    def reset(self) -> None:
        if self._session is not None:
            self.commands_closed += self._session.commands
            self._session.logout()
        self._session = None

    @property
    def commands(self) -> int:
        return self.commands_closed + (self._session.commands if self._session else 0)


class ImapIO:
    def __init__(self, village: Village, backend: ImapBackend, state_dir: Path) -> None:
        self.village = village
        self.backend = backend
        self.state_dir = state_dir
        self.connection = ImapConnection(backend, state_dir)
        self._drafts: str | None = None

    def _session(self) -> ImapSession:
        return self.connection.session()

    def drafts_folder(self) -> str:
        if self._drafts is None:
            configured = self.backend.imap.drafts_folder
            try:
                self._drafts = configured if configured else drafts_folder(
                    self._session().folders(status=False), None)
            except TransientError:
                self.connection.reset()
                raise
        return self._drafts

    @cached_property
    def caldav(self) -> CaldavAccount | None:
        settings = self.backend.caldav
        if settings is None:
            return None
        return CaldavAccount(settings, lambda: load_secret(
            settings.credentials, "caldav", settings.username,
            settings.host,
            self.state_dir))

    @cached_property
    def appender(self) -> Appender:
        return Appender(self._session, self.connection.reset, self.backend.imap)

    @cached_property
    def outbox(self) -> Outbox:
        return ImapOutbox(self._session, self.connection.reset, self.backend.imap,
                          self.state_dir, self.drafts_folder)

    def sources(self) -> list[Source]:
        owner = self.village.owner
        found: list[Source] = [ImapMailSource(
            self._session, self.backend.imap, owner.addresses, self.village.people,
            drafts_folder=lambda: self.backend.imap.drafts_folder,
            reset=self.connection.reset)]
        if self.caldav is not None:
            found.append(CaldavSource(self.caldav, owner.timezone))
        return found

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        if self.caldav is None:
            return []
        owner = self.village.owner
        return self.caldav.busy(owner.addresses, owner.timezone, start, end)

    def deliver_digest(self, message: EmailMessage) -> str:
        return ImapDigestBox(self.appender, self.village.owner).deliver(message)

    def close(self) -> None:
        self.connection.reset()
        if self.caldav is not None:
            self.caldav.reset()
