"""What a doctor check reports, and what a backend's checks are given."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from villaged.domain.village import Village


class Level(str, Enum):
    OK = "ok"
    PROBLEM = "problem"  # always with a concrete fix
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    check: str
    level: Level
    message: str
    fix: str = ""


@dataclass(frozen=True)
class BackendCheckup:
    """What a backend's doctor checks may look at. They must write nothing."""

    village: Village
    settings: Any  # the backend's own settings type
    config_path: Path
    state_dir: Path
    now: dt.datetime
