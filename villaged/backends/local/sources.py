"""The sources of the local backend: mbox files, Maildirs and .ics files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from villaged.backends.local.ics import IcsSource
from villaged.backends.local.maildir import MaildirSource, is_maildir
from villaged.backends.local.mbox import MboxSource
from villaged.backends.local.settings import LocalBackend
from villaged.domain.errors import VillagedError
from villaged.ports.source import Source


def has_maildir_folders(path: Path) -> bool:
    """True if ``path`` holds Maildir folders (Maildir++ or nested) one level down."""
    try:
        return any(child.is_dir() and is_maildir(child) for child in path.iterdir())
    except OSError:
        return False


def mail_sources(path: Path, drafts: Path) -> list[Source]:
    """The source(s) for one ``backend.mail`` entry."""
    path = path.expanduser()
    if not path.exists():
        raise VillagedError(
            f"backend.mail: {path} does not exist",
            fix=f"point backend.mail at an mbox file or a Maildir, or create {path}")
    if path.is_file():
        return [MboxSource(path)]
    if path.is_dir():
        if is_maildir(path) or has_maildir_folders(path):
            return [MaildirSource(path, exclude=[drafts])]
        mboxes = sorted(p for p in path.glob("*.mbox") if p.is_file())
        if mboxes:  # e.g. Google Takeout's Mail/ folder
            return [MboxSource(p) for p in mboxes]
        raise VillagedError(
            f"backend.mail: {path} is a directory but neither a Maildir "
            "(no cur/ or new/, no Maildir folders) nor a folder of .mbox files",
            fix="point backend.mail at the mbox file or at the Maildir's top folder")
    raise VillagedError(f"backend.mail: {path} is neither a file nor a directory",
                        fix="point backend.mail at an mbox file or a Maildir")


def calendar_sources(path: Path, owner_tz: dt.tzinfo) -> list[Source]:
    """The source(s) for one ``backend.calendars`` entry."""
    path = path.expanduser()
    if not path.exists():
        raise VillagedError(
            f"backend.calendars: {path} does not exist",
            fix="point backend.calendars at an exported .ics file (or a folder of them), "
                "or remove the entry")
    if path.is_dir():
        files = sorted(p for p in path.glob("*.ics") if p.is_file())
        if not files:
            raise VillagedError(f"backend.calendars: {path} holds no .ics files",
                                fix="point backend.calendars at an exported .ics file")
        return [IcsSource(p, owner_tz) for p in files]
    return [IcsSource(path, owner_tz)]


def local_sources(backend: LocalBackend, owner_tz: dt.tzinfo) -> list[Source]:
    """Every source of the local backend, mail first, then calendars.

    A path that is a Maildir (cur/ or new/, or Maildir folders inside) becomes
    a MaildirSource that never reads ``backend.drafts``; a file becomes an
    MboxSource; a folder of ``*.mbox`` files one MboxSource each; calendars
    become IcsSources. A missing path is a VillagedError naming the config key.
    """
    sources: list[Source] = []
    for path in backend.mail:
        sources.extend(mail_sources(Path(path), Path(backend.drafts)))
    for path in backend.calendars:
        sources.extend(calendar_sources(Path(path), owner_tz))
    return sources
