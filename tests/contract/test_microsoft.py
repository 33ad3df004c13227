"""The Microsoft 365 backend keeps every port's contract, against the local Graph server with
MSAL and requests over HTTPS: the Outlook mail and calendar sources, Outlook drafts, the digest
placed in the owner's Inbox, and busy times from calendarView."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.contract.busy import BusyContract
from tests.contract.digest import DigestContract
from tests.contract.outbox import OutboxContract
from tests.contract.sources import SourceContract
from tests.contract.village import NOW, OWNER
from tests.graph_api_server import GraphServer, assert_no_violations
from tests.graph_fixtures import Setup
from villaged.ports.backend import BusyCalendar
from villaged.ports.outbox import Outbox
from villaged.ports.source import Source


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphServer]:
    with GraphServer(owner=OWNER, display_name="Dana Reyes", clock=lambda: NOW) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
        yield server
        assert_no_violations(server)


class Microsoft:
    """A village configured (from TOML) against the local Graph server; a new MicrosoftIO per use."""

    def __init__(self, graph: GraphServer, root: Path) -> None:
        self.graph = graph
        self.setup = Setup(graph, root)
        self.village = self.setup.village()

    def io(self) -> Any:
        return self.setup.io(self.village)


class OutlookMail(Microsoft):
    # Deleted mail stays counted (it happened). The first sync looks up each person's newest
    # mail, so a full rescan agrees with incremental syncs on the newest contact only.
    calendar, removal, exact = False, "keep", False

    def source(self) -> Source:
        return self.io().sources()[0]

    def add(self, who: str, at: dt.datetime, outbound: bool = False) -> str:
        # sent at ``at``, arriving in the mailbox now (as mail does)
        if outbound:
            return self.graph.add_message(folder="sentitems", sender=OWNER, to=(who,), subject="hello",
                                          when=at, received=max(at, NOW))
        return self.graph.add_message(sender=who, to=(OWNER,), subject="hello", when=at, received=max(at, NOW))

    def remove(self, handle: str) -> None:
        self.graph.delete_message(handle)


class OutlookCalendar(Microsoft):
    calendar, removal, exact = True, "forget", True

    def source(self) -> Source:
        return self.io().sources()[1]

    def add(self, who: str, at: dt.datetime, outbound: bool = False) -> str:
        return self.graph.add_event(start=at, end=at + dt.timedelta(minutes=45), subject="coffee",
                                    attendees=((OWNER, "accepted"), (who, "accepted")))

    def remove(self, handle: str) -> None:
        self.graph.store.remove_event(None, handle)


class TestOutlookMailSource(SourceContract):
    @pytest.fixture
    def harness(self, graph, tmp_path):
        return OutlookMail(graph, tmp_path)


class TestOutlookCalendarSource(SourceContract):
    @pytest.fixture
    def harness(self, graph, tmp_path):
        return OutlookCalendar(graph, tmp_path)


class OutlookDraftsHarness(Microsoft):
    def outbox(self) -> Outbox:
        return self.io().outbox

    def drafts(self) -> dict[str, list[str]]:
        from villaged.backends.microsoft.drafts import key_of

        found: dict[str, list[str]] = {}
        for d in self.graph.drafts():
            found.setdefault(key_of(d) or "", []).append(d["id"])
        return found

    def discard(self, draft_id: str) -> None:
        self.graph.delete_message(draft_id)

    def reset(self) -> None:
        for d in self.graph.drafts():
            self.graph.delete_message(d["id"])

    def sent(self) -> int:
        sent = self.graph.store.folder_id("sentitems")
        return len(self.graph.store.mail[sent or ""].items)


class TestOutlookOutbox(OutboxContract):
    @pytest.fixture
    def harness(self, graph, tmp_path):
        return OutlookDraftsHarness(graph, tmp_path)


class InboxDigest(Microsoft):
    def __init__(self, graph: GraphServer, root: Path) -> None:
        super().__init__(graph, root)
        self.backend = self.io()

    def deliver(self, message: EmailMessage) -> str:
        return self.backend.deliver_digest(message)

    def delivered(self) -> list[tuple[str, ...]]:
        """Everything that arrived anywhere: the Inbox (the digest's place) and Sent Items."""
        found = []
        for folder in ("inbox", "sentitems"):
            folder_id = self.graph.store.folder_id(folder) or ""
            for m in self.graph.store.mail[folder_id].items.values():
                found.append(tuple(r["emailAddress"]["address"] for r in m.get("toRecipients") or ()))
        return found


class TestOutlookDigest(DigestContract):
    @pytest.fixture
    def harness(self, graph, tmp_path):
        return InboxDigest(graph, tmp_path)


class CalendarBusy(Microsoft):
    def meeting(self, start: dt.datetime, end: dt.datetime) -> None:
        self.graph.add_event(start=start, end=end, subject="busy")

    def calendar(self) -> BusyCalendar:
        return self.io()


class TestOutlookBusy(BusyContract):
    @pytest.fixture
    def harness(self, graph, tmp_path):
        return CalendarBusy(graph, tmp_path)
