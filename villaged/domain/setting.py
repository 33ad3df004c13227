"""How a settings field is written in the config: its key, doc, example and range.

The settings types (``Village``, ``Thresholds``, ``Roulette``, each backend's
settings) are the config's one schema: a field declared with ``setting(...)``
is a config key. ``villaged.schema.declared`` reads a TOML table into such a
type, and ``villaged.config.example`` writes the commented example config
from the same declarations, so a key is defined in exactly one place.

>>> from dataclasses import dataclass, fields
>>> @dataclass(frozen=True)
... class Daemon:
...     sync_minutes: int = setting(15, doc="How often to sync, in minutes.", low=1, high=1440)
>>> spec(fields(Daemon)[0]).high
1440

Plain data only: the domain imports nothing from the config machinery.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SETTING = "villaged.setting"  # the dataclass field metadata key


@dataclass(frozen=True)
class Setting:
    """One config key, as declared on a settings field."""

    doc: str = ""  # what the key means: a comment above it in the example config
    key: str = ""  # the TOML key when it is not the field's name
    table: str = ""  # the sub-table the key lives in ("" = the settings type's own table)
    kind: str = ""  # how the value is written, when the field's type does not say it
    # ("weekday", "weekdays", "working_hours", "url", "emails", "slug", "rhythm", ...)
    example: str = ""  # a TOML value shown when the default is not a useful example
    low: float | None = None  # inclusive range of a number
    high: float | None = None
    choices: tuple[str, ...] = ()  # the allowed texts of a choice
    required: bool = False
    nonempty: bool = False  # text that must not be blank; a list that must not be empty
    keys: tuple[str, ...] = ()  # a value written as several keys (working days + hours)
    examples: tuple[str, ...] = ()  # one example per key of ``keys``
    custom: bool = False  # read by the table's own code, which passes the value in
    inline: bool = False  # a settings type whose keys sit in this same table (credentials)
    in_example: bool = True  # shown in the commented example config


def setting(default: Any = dataclasses.MISSING, *, factory: Callable[[], Any] | None = None,
            **spec: Any) -> Any:
    """A dataclass field that is a config key (``spec``: the ``Setting`` fields)."""
    metadata = {SETTING: Setting(**spec)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def spec(field: dataclasses.Field[Any]) -> Setting | None:
    """The ``Setting`` of a dataclass field, None when it is no config key."""
    found = field.metadata.get(SETTING)
    return found if isinstance(found, Setting) else None
