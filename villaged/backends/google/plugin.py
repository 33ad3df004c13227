"""Registration of the Google backend: Gmail, Google Calendar, Gmail drafts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from villaged.backends.google.settings import GoogleBackend, read_google
from villaged.domain.village import Village
from villaged.ports.backend import BackendIO
from villaged.ports.doctor import BackendCheckup, Finding
from villaged.ports.plugin import BackendPlugin


def _open(village: Village, settings: Any, state_dir: Path, read_only: bool) -> BackendIO:
    from villaged.backends.google.backend import GoogleIO  # heavy: imported only when used

    return GoogleIO(village, settings, state_dir, read_only=read_only)


def _doctor(checkup: BackendCheckup) -> list[Finding]:
    from villaged.backends.google.doctor import checks

    return checks(checkup)


PLUGIN = BackendPlugin(kind="google", read=read_google, open=_open, doctor=_doctor,
                       tables={"google": GoogleBackend},
                       example='"google": Gmail and Google Calendar',
                       reads_whole_mailbox=False)
