"""Registration of the Microsoft 365 backend: Outlook mail and calendar through Microsoft Graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from villaged.backends.microsoft.settings import MicrosoftSettings, read_microsoft
from villaged.domain.village import Village
from villaged.ports.backend import BackendIO
from villaged.ports.doctor import BackendCheckup, Finding
from villaged.ports.plugin import BackendPlugin


def _open(village: Village, settings: Any, state_dir: Path, read_only: bool) -> BackendIO:
    from villaged.backends.microsoft.backend import MicrosoftIO  # msal, requests: only when used

    return MicrosoftIO(village, settings, state_dir, read_only=read_only)


def _doctor(checkup: BackendCheckup) -> list[Finding]:
    from villaged.backends.microsoft.doctor import checks

    return checks(checkup)


PLUGIN = BackendPlugin(
    kind="microsoft",
    read=read_microsoft,
    open=_open,
    doctor=_doctor,
    tables={"microsoft": MicrosoftSettings},
    example='"microsoft": Outlook mail and calendar (Microsoft 365)',
)
