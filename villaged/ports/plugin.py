"""What a backend registers: its settings types, its reader, its factory and its doctor checks.

``villaged.backends.registry`` lists one ``BackendPlugin`` per backend; nothing
else in villaged knows which backends exist.

A backend declares its config keys the way the rest of the config does: as
fields of its frozen settings dataclasses, declared with
``villaged.domain.setting.setting(...)``. ``tables`` names where each settings
type is written: ``""`` for keys right under ``[backend]`` (the local backend's
mail, calendars, drafts), ``"google"`` for ``[backend.google]``. The allowed
keys, "did you mean", the homes of misplaced keys and the example config are
derived from them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from villaged.domain.village import BackendSettings, Village
from villaged.ports.backend import BackendIO
from villaged.ports.doctor import BackendCheckup, Finding
from villaged.schema import declared
from villaged.schema.typed_table import TypedTable


@dataclass(frozen=True)
class BackendPlugin:
    kind: str  # [backend] kind = "..."
    # (the [backend] table, whether this kind is the chosen one) -> settings, or None when
    # not chosen. Every backend's keys are checked whenever present, so switching is one line.
    read: Callable[[TypedTable, bool], BackendSettings | None]
    # (village, settings, state dir, read_only); lazy imports. read_only: a dry run, which must
    # write nothing, not even a refreshed access token
    open: Callable[[Village, Any, Path, bool], BackendIO]
    doctor: Callable[[BackendCheckup], list[Finding]]
    # where each settings type is written: "" = right under [backend], "x" = [backend.x]
    tables: Mapping[str, type] = field(default_factory=dict)
    # Hand-listed keys, for a backend whose settings are not declared with setting():
    keys: tuple[str, ...] = ()  # the keys (and sub-tables) this backend owns in [backend]
    sections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # "[backend.x]" -> keys
    # Its sources read the whole mailbox when given an AnyoneMatcher (so `suggest` works);
    # False for sources that only ask the server about the village's own people.
    reads_whole_mailbox: bool = True
    example: str = ""  # a line or two for the example config: what this backend is

    def backend_keys(self) -> tuple[str, ...]:
        """The keys and sub-tables this backend owns in [backend]."""
        derived = tuple(name for table, cls in self.tables.items()
                        for name in (declared.allowed(cls) if not table else (table,)))
        return tuple(dict.fromkeys(self.keys + derived))

    def backend_sections(self) -> dict[str, tuple[str, ...]]:
        """Its sub-tables' headers ("[backend.google]") with the keys each allows."""
        found = dict(self.sections)
        for table, cls in self.tables.items():
            if table:
                found.update(declared.sections(cls, f"[backend.{table}]"))
        return found
