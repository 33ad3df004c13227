"""The local backend's sources: which source each configured path becomes.

What every source guarantees is tested by tests/contract/ (test_local.py)."""

from __future__ import annotations

import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from villaged.backends.local.ics import IcsSource
from villaged.backends.local.maildir import MaildirSource
from villaged.backends.local.mbox import MboxSource
from villaged.backends.local.settings import LocalBackend
from villaged.backends.local.sources import local_sources
from villaged.domain.errors import VillagedError

FIXTURES = Path(__file__).parent / "fixtures"
TZ = ZoneInfo("America/New_York")


def maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


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
