"""Registration of the IMAP + CalDAV backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from villaged.backends.imap.settings import CaldavSettings, ImapSettings, read_imap
from villaged.domain.village import Village
from villaged.ports.backend import BackendIO
from villaged.ports.doctor import BackendCheckup, Finding
from villaged.ports.plugin import BackendPlugin


def _open(village: Village, settings: Any, state_dir: Path, read_only: bool) -> BackendIO:
    from villaged.backends.imap.backend import ImapIO  # imapclient, caldav: only when used

    return ImapIO(village, settings, state_dir)


def _doctor(checkup: BackendCheckup) -> list[Finding]:
    from villaged.backends.imap.doctor import checks

    return checks(checkup)


PLUGIN = BackendPlugin(kind="imap", read=read_imap, open=_open, doctor=_doctor,
                       tables={"imap": ImapSettings, "caldav": CaldavSettings},
                       example='"imap": any IMAP mail server, with CalDAV calendars')
