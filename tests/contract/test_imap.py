"""The IMAP + CalDAV backend keeps every port's contract, against a real Dovecot and a
real Radicale (tests/servers): the IMAP mail source, the CalDAV calendar source, the
IMAP drafts folder, the digest APPENDed to the INBOX, and busy time from CalDAV."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Any

import pytest

from tests.contract.busy import BusyContract
from tests.contract.digest import DigestContract
from tests.contract.outbox import OutboxContract
from tests.contract.sources import SourceContract
from tests.contract.village import OWNER, OWNER_ALIAS, PEOPLE
from tests.imap_kit import CHICAGO, caldav_settings, imap_settings, password_file
from villaged.backends.imap.backend import ImapIO
from villaged.backends.imap.settings import ImapBackend
from villaged.domain.village import KEY_HEADER, Owner, Village
from villaged.ports.backend import BusyCalendar
from villaged.ports.outbox import Outbox
from villaged.ports.source import Source

FOLDERS = ("INBOX", "Sent", "Drafts", "Junk", "Trash")


def stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


class Imap:
    """The contract village on this test's Dovecot user (and Radicale calendar); a new
    ImapIO per use, as after a restart. Every ImapIO is closed at teardown."""

    def __init__(self, account: Any, root: Path, calendar: Any = None) -> None:
        self.account = account
        self.calendar_fixture = calendar
        self.state = root / "state"
        password_file(self.state, "imap", account.password)
        if calendar is not None:
            password_file(self.state, "caldav", calendar.password)
        self.village = Village(
            owner=Owner(name="Dana Reyes", addresses=(OWNER, OWNER_ALIAS), timezone=CHICAGO),
            people=PEOPLE,
            backend=ImapBackend(imap=imap_settings(account),
                                caldav=caldav_settings(calendar) if calendar else None))
        self.opened: list[ImapIO] = []
        self.count = 0

    def io(self) -> ImapIO:
        io = ImapIO(self.village, self.village.backend, self.state)  # type: ignore[arg-type]
        self.opened.append(io)
        return io

    def close(self) -> None:
        for io in self.opened:
            io.close()

    def client(self) -> Any:
        return self.account.client()


class ImapMail(Imap):
    # A message deleted from the server stays counted (as for Gmail: contact happened);
    # the full rescan reads every message, so it equals the incremental rounds exactly.
    calendar, removal, exact = False, "keep", True

    def source(self) -> Source:
        return self.io().sources()[0]

    def add(self, who: str, at: dt.datetime, outbound: bool = False) -> str:
        self.count += 1
        sender, to = (OWNER, who) if outbound else (who, OWNER)
        msgid = f"<contract{self.count}.{at.timestamp():.0f}@test>"
        raw = (f"From: {sender}\r\nTo: {to}\r\nSubject: hello\r\nDate: {format_datetime(at)}\r\n"
               f"Message-ID: {msgid}\r\n\r\nhello\r\n").encode()
        self.account.append("Sent" if outbound else "INBOX", raw)
        return msgid

    def remove(self, handle: str) -> None:
        c = self.client()
        for folder in ("INBOX", "Sent"):
            c.select_folder(folder)
            uids = c.search(["HEADER", "Message-ID", handle])
            if uids:
                c.delete_messages(uids)
                c.expunge()
        c.logout()


class Caldav(Imap):
    calendar, removal, exact = True, "forget", True

    def source(self) -> Source:
        return self.io().sources()[1]

    def add(self, who: str, at: dt.datetime, outbound: bool = False) -> str:
        self.count += 1
        uid = f"contract-{self.count}"
        self.calendar_fixture.put(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//villaged tests//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{stamp(at)}\r\n"
            f"DTEND:{stamp(at + dt.timedelta(minutes=45))}\r\nSUMMARY:coffee\r\n"
            f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{OWNER}\r\n"
            f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{who}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        return uid

    def remove(self, handle: str) -> None:
        self.calendar_fixture.delete(handle)


@pytest.fixture
def closing():  # type: ignore[no-untyped-def]
    made: list[Imap] = []
    yield made
    for harness in made:
        harness.close()


class TestImapSource(SourceContract):
    @pytest.fixture
    def harness(self, imap_account, tmp_path, closing):
        closing.append(ImapMail(imap_account, tmp_path))
        return closing[-1]


class TestCaldavSource(SourceContract):
    @pytest.fixture
    def harness(self, imap_account, caldav_calendar, tmp_path, closing):
        closing.append(Caldav(imap_account, tmp_path, caldav_calendar))
        return closing[-1]


class ImapDrafts(Imap):
    def outbox(self) -> Outbox:
        return self.io().outbox

    def _folder(self, folder: str) -> tuple[int, dict[int, bytes]]:
        c = self.client()
        try:
            info = c.select_folder(folder, readonly=True)
            uids = c.search("ALL")
            got = c.fetch(uids, ["BODY.PEEK[HEADER]"]) if uids else {}
            return int(info[b"UIDVALIDITY"]), {u: d[b"BODY[HEADER]"] for u, d in got.items()}
        finally:
            c.logout()

    def drafts(self) -> dict[str, list[str]]:
        validity, found = self._folder("Drafts")
        keys: dict[str, list[str]] = {}
        for uid, raw in sorted(found.items()):
            key = str(BytesHeaderParser().parsebytes(raw).get(KEY_HEADER, "")).strip()
            keys.setdefault(key, []).append(f"{validity}:{uid}")
        return keys

    def discard(self, draft_id: str) -> None:
        c = self.client()
        c.select_folder("Drafts")
        c.delete_messages([int(draft_id.split(":")[1])])
        c.expunge()
        c.logout()

    def reset(self) -> None:
        c = self.client()
        c.select_folder("Drafts")
        uids = c.search("ALL")
        if uids:
            c.delete_messages(uids)
            c.expunge()
        c.logout()

    def sent(self) -> int:
        return len(self._folder("Sent")[1])  # nothing villaged does may ever land there


class TestImapOutbox(OutboxContract):
    @pytest.fixture
    def harness(self, imap_account, tmp_path, closing):
        closing.append(ImapDrafts(imap_account, tmp_path))
        return closing[-1]


class ImapDigest(Imap):
    def __init__(self, account: Any, root: Path) -> None:
        super().__init__(account, root)
        self.backend = self.io()

    def deliver(self, message: EmailMessage) -> str:
        return self.backend.deliver_digest(message)

    def delivered(self) -> list[tuple[str, ...]]:
        found = []
        for folder in FOLDERS:
            for raw in self.account.messages(folder).values():
                parsed = BytesHeaderParser().parsebytes(raw)
                values = [str(v) for name in ("To", "Cc", "Bcc")
                          for v in parsed.get_all(name) or []]
                found.append(tuple(a for _, a in getaddresses(values)))
        return found


class TestImapDigest(DigestContract):
    @pytest.fixture
    def harness(self, imap_account, tmp_path, closing):
        closing.append(ImapDigest(imap_account, tmp_path))
        return closing[-1]


class CaldavBusy(Imap):
    def meeting(self, start: dt.datetime, end: dt.datetime) -> None:
        self.count += 1
        self.calendar_fixture.put(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//villaged tests//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:busy-{self.count}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{stamp(start)}\r\n"
            f"DTEND:{stamp(end)}\r\nSUMMARY:busy\r\n"
            f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{OWNER}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")

    def calendar(self) -> BusyCalendar:
        return self.io()


class TestCaldavBusy(BusyContract):
    @pytest.fixture
    def harness(self, imap_account, caldav_calendar, tmp_path, closing):
        closing.append(CaldavBusy(imap_account, tmp_path, caldav_calendar))
        return closing[-1]
