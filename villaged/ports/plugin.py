"""What a backend registers: its settings reader, its factory and its doctor checks.

``villaged.backends.registry`` lists one ``BackendPlugin`` per backend; nothing
else in villaged knows which backends exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from villaged.domain.village import BackendSettings, Village
from villaged.ports.backend import BackendIO
from villaged.ports.doctor import BackendCheckup, Finding
from villaged.schema.typed_table import TypedTable


@dataclass(frozen=True)
class BackendPlugin:
    kind: str  # [backend] kind = "..."
    keys: tuple[str, ...]  # the keys (and sub-tables) this backend owns in [backend]
    # (the [backend] table, whether this kind is the chosen one) -> settings, or None when
    # not chosen. Every backend's keys are checked whenever present, so switching is one line.
    read: Callable[[TypedTable, bool], BackendSettings | None]
    open: Callable[[Village, Any, Path], BackendIO]  # (village, settings, state dir); lazy imports
    doctor: Callable[[BackendCheckup], list[Finding]]
    sections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # "[backend.x]" -> keys
