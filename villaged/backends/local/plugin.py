"""Registration of the local backend: mbox/Maildir mail, .ics calendars, Maildir drafts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from villaged.backends.local import doctor
from villaged.backends.local.settings import LocalBackend, read_local
from villaged.domain.village import Village
from villaged.ports.backend import BackendIO
from villaged.ports.plugin import BackendPlugin


def _open(village: Village, settings: Any, state_dir: Path, read_only: bool) -> BackendIO:
    from villaged.backends.local.backend import LocalIO

    return LocalIO(village, settings)


PLUGIN = BackendPlugin(kind="local", read=read_local, open=_open, doctor=doctor.checks,
                       tables={"": LocalBackend},
                       example='"local": mail files on this machine')
