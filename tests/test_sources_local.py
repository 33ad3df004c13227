"""The local backend's sources: choosing them, and the contract they all keep."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from villaged.backends.local.ics import IcsSource
from villaged.backends.local.maildir import MaildirSource
from villaged.backends.local.mbox import MboxSource
from villaged.backends.local.settings import LocalBackend
from villaged.backends.local.sources import local_sources
from villaged.domain.addresses import Matcher
from villaged.domain.errors import VillagedError
from villaged.domain.village import Person, Role, Thresholds
from villaged.ports.source import SyncContext
from villaged.service.sync import sync_all
from villaged.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
NOW = dt.datetime(2025, 11, 25, 12, 0, tzinfo=dt.UTC)
TZ = ZoneInfo("America/New_York")
PEOPLE = (
    Person("ada", "Ada Lovelace", ("ada@analytical.org",), Role.MENTOR),
    Person("alan", "Alan Turing", ("alan@bletchley.example.uk",), Role.COACH),
)
CTX = SyncContext(matcher=Matcher.build(("dana@example.org",), PEOPLE), limits=Thresholds(),
                  now=NOW)


def maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def ada_mail(n: int) -> bytes:
    return (f"From: Ada <ada@analytical.org>\nTo: dana@example.org\n"
            f"Date: Mon, 24 Nov 2025 10:{n:02d}:00 +0000\nMessage-ID: <a{n}@x>\n"
            f"Subject: hi\n\nbody\n").encode()


def test_paths_become_the_right_sources(tmp_path: Path) -> None:
    mbox = tmp_path / "takeout.mbox"
    shutil.copy(FIXTURES / "mail" / "takeout.mbox", mbox)
    inbox = maildir(tmp_path / "Mail")
    maildir(inbox / ".Drafts")
    plus_only = tmp_path / "PlusOnly"  # Maildir++ folders, no INBOX of its own
    maildir(plus_only / ".Work")
    takeout = tmp_path / "Takeout" / "Mail"
    takeout.mkdir(parents=True)
    shutil.copy(mbox, takeout / "All mail Including Spam and Trash.mbox")
    calendars = tmp_path / "calendars"
    calendars.mkdir()
    shutil.copy(FIXTURES / "ics" / "google.ics", calendars / "work.ics")
    backend = LocalBackend(mail=(mbox, inbox, plus_only, takeout),
                           calendars=(FIXTURES / "ics" / "outlook.ics", calendars),
                           drafts=inbox / ".Drafts")
    sources = local_sources(backend, TZ)
    assert [type(s) for s in sources] == [MboxSource, MaildirSource, MaildirSource, MboxSource,
                                          IcsSource, IcsSource]
    assert sources[1].exclude == ((inbox / ".Drafts").resolve(),)
    assert sources[3].name == f"mbox:{takeout / 'All mail Including Spam and Trash.mbox'}"
    assert sources[5].name == f"ics:{calendars / 'work.ics'}"


def test_a_missing_mail_path_names_the_config_key(tmp_path: Path) -> None:
    backend = LocalBackend(mail=(tmp_path / "nowhere.mbox",), calendars=(),
                           drafts=tmp_path / "Drafts")
    with pytest.raises(VillagedError) as err:
        local_sources(backend, TZ)
    assert "backend.mail" in str(err.value) and str(tmp_path / "nowhere.mbox") in str(err.value)
    assert err.value.fix


def test_a_missing_calendar_names_the_config_key(tmp_path: Path) -> None:
    backend = LocalBackend(mail=(), calendars=(tmp_path / "cal.ics",), drafts=tmp_path / "D")
    with pytest.raises(VillagedError, match="backend.calendars") as err:
        local_sources(backend, TZ)
    assert err.value.fix


def test_a_directory_that_is_not_mail_is_refused(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    backend = LocalBackend(mail=(tmp_path / "photos",), calendars=(), drafts=tmp_path / "D")
    with pytest.raises(VillagedError, match="backend.mail"):
        local_sources(backend, TZ)


# -- one contract, every local source ------------------------------------------

def make_mbox(tmp: Path) -> tuple[MboxSource, callable]:
    path = tmp / "mail.mbox"
    path.write_bytes(b"From x Mon Nov 24 10:00:00 2025\n" + ada_mail(1))

    def add() -> None:
        with open(path, "ab") as f:
            f.write(b"From x Mon Nov 24 10:00:00 2025\n" + ada_mail(2))
    return MboxSource(path), add


def make_maildir(tmp: Path) -> tuple[MaildirSource, callable]:
    root = maildir(tmp / "Mail")
    (root / "new" / "1.M1.host").write_bytes(ada_mail(1))
    return MaildirSource(root), lambda: (root / "new" / "2.M2.host").write_bytes(ada_mail(2))


def make_ics(tmp: Path) -> tuple[IcsSource, callable]:
    path = tmp / "cal.ics"
    event = ("BEGIN:VEVENT\nUID:{uid}\nDTSTART:2025110{day}T150000Z\nSUMMARY:Coffee\n"
             "ATTENDEE;PARTSTAT=ACCEPTED:mailto:ada@analytical.org\n"
             "ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@example.org\nEND:VEVENT\n")
    head, tail = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n", "END:VCALENDAR\n"
    path.write_text(head + event.format(uid="e1", day=3) + tail)
    return IcsSource(path, TZ), lambda: path.write_text(
        head + event.format(uid="e1", day=3) + event.format(uid="e2", day=4) + tail)


@pytest.fixture(params=[make_mbox, make_maildir, make_ics], ids=["mbox", "maildir", "ics"])
def source_and_change(request, tmp_path: Path):
    return request.param(tmp_path)


def test_contract(source_and_change, tmp_path: Path) -> None:
    source, add = source_and_change
    kind = source.name.split(":", 1)[0]
    assert kind in ("mbox", "maildir", "ics") and Path(source.name[len(kind) + 1:]).is_absolute()
    with Store(tmp_path / "state.sqlite3") as store:
        first = list(source.sync(None, CTX))
        assert first and first[0].replace and first[-1].cursor is not None
        report = sync_all(store, [source], CTX)
        assert report.sources[source.name].new == 1
        for i in store.interactions():
            assert i.source == source.name and i.person == "ada"
            assert i.at.utcoffset() == dt.timedelta(0)
        # Running again is the same as running once.
        assert list(source.sync(store.cursor(source.name), CTX)) == []
        assert sync_all(store, [source], CTX).sources[source.name].batches == 0
        # New evidence arrives and is picked up without a full rescan.
        add()
        batches = list(source.sync(store.cursor(source.name), CTX))
        assert batches and not batches[0].replace
        sync_all(store, [source], CTX)
        assert len(store.interactions("ada")) == 2
