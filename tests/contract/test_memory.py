"""The in-memory fake backend (tests/fakes/memory_backend.py) keeps every port's contract."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest

from tests.contract.busy import BusyContract
from tests.contract.digest import DigestContract
from tests.contract.outbox import OutboxContract
from tests.contract.sources import SourceContract
from tests.contract.village import OWNER, contract_village
from tests.fakes.memory_backend import MemoryBackend, MemoryMailbox, MemoryOutbox, MemorySource
from villaged.domain.village import KEY_HEADER
from villaged.ports.backend import BusyCalendar


class MemoryMail:
    calendar, removal, exact = False, "forget", True

    def __init__(self) -> None:
        self.mailbox = MemoryMailbox()

    def source(self) -> MemorySource:
        return MemorySource(self.mailbox, batch_size=2)

    def add(self, who: str, at: dt.datetime, outbound: bool = False) -> str:
        if outbound:
            return self.mailbox.mail(OWNER, who, at)
        return self.mailbox.mail(who, OWNER, at)

    def remove(self, handle: str) -> None:
        self.mailbox.remove(handle)


class MemoryCalendar(MemoryMail):
    calendar = True

    def add(self, who: str, at: dt.datetime, outbound: bool = False) -> str:
        return self.mailbox.meeting(at, [(OWNER, "ACCEPTED"), (who, "ACCEPTED")], organizer=OWNER)


class TestMemoryMailSource(SourceContract):
    @pytest.fixture
    def harness(self):
        return MemoryMail()


class TestMemoryCalendarSource(SourceContract):
    @pytest.fixture
    def harness(self):
        return MemoryCalendar()


class MemoryDrafts:
    def __init__(self) -> None:
        self.box = MemoryOutbox()

    def outbox(self) -> MemoryOutbox:
        return self.box  # the drafts live in the object: a restart keeps the same one

    def drafts(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for draft_id, message in self.box.drafts.items():
            found.setdefault(str(message[KEY_HEADER]), []).append(draft_id)
        return found

    def discard(self, draft_id: str) -> None:
        self.box.discard(draft_id)

    def reset(self) -> None:
        self.box.drafts.clear()

    def sent(self) -> int:
        return len(self.box.sent)


class TestMemoryOutbox(OutboxContract):
    @pytest.fixture
    def harness(self):
        return MemoryDrafts()


class MemoryDigest:
    def __init__(self) -> None:
        self.io = MemoryBackend(contract_village())

    def deliver(self, message: EmailMessage) -> str:
        return self.io.deliver_digest(message)

    def delivered(self) -> list[tuple[str, ...]]:
        return [tuple(a.addr_spec for a in m["To"].addresses) for m in self.io.inbox.values()]


class TestMemoryDigest(DigestContract):
    @pytest.fixture
    def harness(self):
        return MemoryDigest()


class MemoryBusy:
    def __init__(self) -> None:
        self.io = MemoryBackend(contract_village())

    def meeting(self, start: dt.datetime, end: dt.datetime) -> None:
        self.io.busy_times.append((start, end))

    def calendar(self) -> BusyCalendar:
        return self.io


class TestMemoryBusy(BusyContract):
    @pytest.fixture
    def harness(self):
        return MemoryBusy()
