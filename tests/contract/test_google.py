"""The Google backend keeps every port's contract, against the local Google API server
with the real google-api-python-client over HTTP: the Gmail and Google Calendar sources,
Gmail drafts, the digest sent through Gmail, and free/busy."""

from __future__ import annotations

import datetime as dt
import email
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest

from tests.contract.busy import BusyContract
from tests.contract.digest import DigestContract
from tests.contract.outbox import OutboxContract
from tests.contract.sources import SourceContract
from tests.contract.village import OWNER
from tests.google_api_server import GoogleApiServer
from tests.google_fixtures import Setup, raw_message, server  # noqa: F401  (fixture)
from villaged.domain.village import KEY_HEADER
from villaged.ports.backend import BusyCalendar
from villaged.ports.outbox import Outbox
from villaged.ports.source import Source


def stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Google:
    """A village configured (from TOML) against the local server; a new GoogleIO per use."""

    def __init__(self, server: GoogleApiServer, root: Path) -> None:
        self.server = server
        self.setup = Setup(server, root)
        self.village = self.setup.village()

    def io(self) -> Any:
        return self.setup.io(self.village)


class Gmail(Google):
    # Gmail's history reports no deletions that villaged reads: mail once seen stays counted.
    # Its first sync searches the newest direct message per person and direction, so a
    # full rescan and incremental syncs agree on the newest contact, not on every message.
    calendar, removal, exact = False, "keep", False

    def source(self) -> Source:
        return self.io().sources()[0]

    def add(self, who: str, at: dt.datetime, outbound: bool = False) -> str:
        sender, to = (OWNER, who) if outbound else (who, OWNER)
        return self.server.add_message(raw_message(sender, to, "hello", at),
                                       labels=("SENT",) if outbound else ("INBOX",),
                                       internal_date=at)

    def remove(self, handle: str) -> None:
        self.server.delete_message(handle)


class GoogleCalendar(Google):
    calendar, removal, exact = True, "forget", True

    def source(self) -> Source:
        return self.io().sources()[1]

    def add(self, who: str, at: dt.datetime, outbound: bool = False) -> str:
        return self.server.add_event("primary", {
            "summary": "coffee", "start": {"dateTime": stamp(at)},
            "end": {"dateTime": stamp(at + dt.timedelta(minutes=45))},
            "attendees": [{"email": OWNER, "responseStatus": "accepted"},
                          {"email": who, "responseStatus": "accepted"}]})

    def remove(self, handle: str) -> None:
        self.server.delete_event("primary", handle)


class TestGmailSource(SourceContract):
    @pytest.fixture
    def harness(self, server, tmp_path):
        return Gmail(server, tmp_path)


class TestGoogleCalendarSource(SourceContract):
    @pytest.fixture
    def harness(self, server, tmp_path):
        return GoogleCalendar(server, tmp_path)


class GmailDrafts(Google):
    def outbox(self) -> Outbox:
        return self.io().outbox

    def drafts(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for d in self.server.drafts():
            key = str(email.message_from_bytes(d.raw, policy=default_policy)[KEY_HEADER])
            found.setdefault(key, []).append(d.id)
        return found

    def discard(self, draft_id: str) -> None:
        self.server.delete_draft(draft_id)

    def reset(self) -> None:
        for d in self.server.drafts():
            self.server.delete_draft(d.id)

    def sent(self) -> int:
        return len(self.server.sent_messages())


class TestGmailOutbox(OutboxContract):
    @pytest.fixture
    def harness(self, server, tmp_path):
        return GmailDrafts(server, tmp_path)


class GmailDigest(Google):
    def __init__(self, server: GoogleApiServer, root: Path) -> None:
        super().__init__(server, root)
        self.backend = self.io()

    def deliver(self, message: EmailMessage) -> str:
        return self.backend.deliver_digest(message)

    def delivered(self) -> list[tuple[str, ...]]:
        return [tuple(s.recipients) for s in self.server.sent_messages()]


class TestGmailDigest(DigestContract):
    @pytest.fixture
    def harness(self, server, tmp_path):
        return GmailDigest(server, tmp_path)


class FreeBusy(Google):
    def meeting(self, start: dt.datetime, end: dt.datetime) -> None:
        self.server.add_event("primary", {
            "summary": "busy", "start": {"dateTime": stamp(start)}, "end": {"dateTime": stamp(end)},
            "attendees": [{"email": OWNER, "responseStatus": "accepted"}]})

    def calendar(self) -> BusyCalendar:
        return self.io()


class TestGoogleFreeBusy(BusyContract):
    @pytest.fixture
    def harness(self, server, tmp_path):
        return FreeBusy(server, tmp_path)
