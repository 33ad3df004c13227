"""The local backend keeps every port's contract: mbox, Maildir and .ics sources, the
Maildir drafts outbox, the Maildir digest box and busy time from .ics files."""

from __future__ import annotations

import datetime as dt
import email
import itertools
import mailbox
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

import pytest

from tests.contract.busy import BusyContract
from tests.contract.digest import DigestContract
from tests.contract.outbox import OutboxContract
from tests.contract.sources import SourceContract
from tests.contract.village import CHICAGO, OWNER, contract_village
from tests.google_fixtures import raw_message
from villaged.backends.local.backend import LocalIO
from villaged.backends.local.ics import IcsSource
from villaged.backends.local.maildir import MaildirSource
from villaged.backends.local.mbox import MboxSource
from villaged.backends.local.outbox import MaildirOutbox
from villaged.backends.local.settings import LocalBackend
from villaged.domain.village import KEY_HEADER
from villaged.ports.backend import BusyCalendar


def mail(who: str, at: dt.datetime, outbound: bool, n: int) -> bytes:
    sender, to = (OWNER, who) if outbound else (who, OWNER)
    return raw_message(sender, to, f"hello {n}", at, msgid=f"<c{n}@contract.test>")


def maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


# -- sources ------------------------------------------------------------------------------

class Mbox:
    """An mbox the mail client appends to; deleting a message rewrites the file."""

    calendar, removal, exact = False, "forget", True

    def __init__(self, root: Path) -> None:
        self.path = root / "inbox.mbox"
        self.path.write_bytes(b"")
        self.messages: dict[str, bytes] = {}
        self.numbers = itertools.count()

    def source(self) -> MboxSource:
        return MboxSource(self.path, batch_bytes=300)  # small batches: several per sync

    def add(self, who: str, at: dt.datetime, outbound: bool = False) -> str:
        n = next(self.numbers)
        block = b"From contract@test Mon Nov 23 10:00:00 2026\n" + \
            mail(who, at, outbound, n).replace(b"\r\n", b"\n") + b"\n"
        self.messages[str(n)] = block
        with self.path.open("ab") as f:
            f.write(block)
        return str(n)

    def remove(self, handle: str) -> None:
        del self.messages[handle]
        self.path.write_bytes(b"".join(self.messages.values()))


class Maildir:
    """A Maildir the MDA delivers into; deleted mail stays counted (it happened)."""

    calendar, removal, exact = False, "keep", True

    def __init__(self, root: Path) -> None:
        self.root = maildir(root / "Mail")
        self.numbers = itertools.count()

    def source(self) -> MaildirSource:
        return MaildirSource(self.root, batch_files=2)

    def add(self, who: str, at: dt.datetime, outbound: bool = False) -> str:
        n = next(self.numbers)
        path = self.root / "new" / f"17000000{n:02d}.M{n}P1.contract"
        path.write_bytes(mail(who, at, outbound, n))
        return str(path)

    def remove(self, handle: str) -> None:
        Path(handle).unlink()


EVENT = """BEGIN:VEVENT
UID:{uid}
DTSTAMP:20261101T000000Z
DTSTART:{start}
DTEND:{end}
SUMMARY:coffee
ORGANIZER:mailto:{owner}
ATTENDEE;PARTSTAT=ACCEPTED:mailto:{owner}
ATTENDEE;PARTSTAT=ACCEPTED:mailto:{who}
END:VEVENT
"""


def stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def ics(events: dict[str, str]) -> str:
    return ("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//villaged//contract//EN\n"
            + "".join(events.values()) + "END:VCALENDAR\n")


class Ics:
    """An exported .ics file, rewritten whole on every change."""

    calendar, removal, exact = True, "forget", True

    def __init__(self, root: Path) -> None:
        self.path = root / "calendar.ics"
        self.events: dict[str, str] = {}
        self.path.write_text(ics(self.events))
        self.numbers = itertools.count()

    def source(self) -> IcsSource:
        return IcsSource(self.path, CHICAGO)

    def add(self, who: str, at: dt.datetime, outbound: bool = False) -> str:
        uid = f"e{next(self.numbers)}@contract.test"
        self.events[uid] = EVENT.format(uid=uid, start=stamp(at),
                                        end=stamp(at + dt.timedelta(minutes=45)),
                                        owner=OWNER, who=who)
        self.path.write_text(ics(self.events))
        return uid

    def remove(self, handle: str) -> None:
        del self.events[handle]
        self.path.write_text(ics(self.events))


class TestMboxSource(SourceContract):
    @pytest.fixture
    def harness(self, tmp_path):
        return Mbox(tmp_path)


class TestMaildirSource(SourceContract):
    @pytest.fixture
    def harness(self, tmp_path):
        return Maildir(tmp_path)


class TestIcsSource(SourceContract):
    @pytest.fixture
    def harness(self, tmp_path):
        return Ics(tmp_path)


# -- the Maildir drafts outbox ------------------------------------------------------------

class MaildirDrafts:
    def __init__(self, root: Path) -> None:
        self.folder = root / "Maildir" / ".Drafts"

    def outbox(self) -> MaildirOutbox:
        return MaildirOutbox(self.folder)

    def drafts(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        parser = BytesHeaderParser()
        for sub in ("cur", "new"):
            for path in sorted((self.folder / sub).glob("*")) if self.folder.exists() else ():
                assert path.name.endswith(":2,D"), "a draft is flagged D, in cur/"
                key = str(parser.parsebytes(path.read_bytes()).get(KEY_HEADER, "")).strip()
                found.setdefault(key, []).append(path.name.split(":")[0])
        assert not self.folder.exists() or not list((self.folder / "tmp").iterdir())
        return found

    def discard(self, draft_id: str) -> None:
        mailbox.Maildir(self.folder, create=False).remove(draft_id)

    def reset(self) -> None:
        for sub in ("cur", "new", "tmp"):
            for path in (self.folder / sub).glob("*") if self.folder.exists() else ():
                path.unlink()

    def sent(self) -> int:
        return 0  # a Maildir has no way to send


class TestMaildirOutbox(OutboxContract):
    @pytest.fixture
    def harness(self, tmp_path):
        return MaildirDrafts(tmp_path)


# -- the Maildir digest box ------------------------------------------------------------------

class MaildirDigest:
    def __init__(self, root: Path) -> None:
        village = contract_village(root)
        self.io = LocalIO(village, LocalBackend(mail=(), calendars=(),
                                                drafts=root / "Maildir" / ".Drafts"))
        self.inbox = root / "Maildir"

    def deliver(self, message: EmailMessage) -> str:
        return self.io.deliver_digest(message)

    def delivered(self) -> list[tuple[str, ...]]:
        found = []
        for sub in ("new", "cur"):
            for path in sorted((self.inbox / sub).glob("*")) if self.inbox.exists() else ():
                msg = email.message_from_bytes(path.read_bytes(), policy=default_policy)
                found.append(tuple(a.addr_spec for a in msg["To"].addresses))
        drafts = self.inbox / ".Drafts"
        assert not drafts.exists() or not any(drafts.rglob("*:2,D")), "a digest is no draft"
        return found


class TestMaildirDigest(DigestContract):
    @pytest.fixture
    def harness(self, tmp_path):
        return MaildirDigest(tmp_path)


# -- busy time from .ics files ----------------------------------------------------------------

class IcsBusy:
    def __init__(self, root: Path) -> None:
        self.path = root / "busy.ics"
        self.events: dict[str, str] = {}
        self.path.write_text(ics(self.events))

    def meeting(self, start: dt.datetime, end: dt.datetime) -> None:
        uid = f"b{len(self.events)}@contract.test"
        self.events[uid] = EVENT.format(uid=uid, start=stamp(start), end=stamp(end),
                                        owner=OWNER, who="someone@else.example")
        self.path.write_text(ics(self.events))

    def calendar(self) -> BusyCalendar:
        village = contract_village(self.path.parent)
        return LocalIO(village, LocalBackend(mail=(), calendars=(self.path,),
                                             drafts=self.path.parent / "Drafts"))


class TestIcsBusy(BusyContract):
    @pytest.fixture
    def harness(self, tmp_path):
        return IcsBusy(tmp_path)
