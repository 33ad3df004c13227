"""Settings types as the schema: read a TOML table into a dataclass declared with ``setting()``.

A field declared with ``villaged.domain.setting.setting(...)`` is a config key.
Its Python type says how the value is written (text, whole number, list of
paths, date, ...) unless ``Setting.kind`` says more (a day of the week, a URL,
a list of addresses); ``low``/``high`` bound numbers; ``required``, ``nonempty``
and ``choices`` are checked; every mistake fails at its key with the usual
file, line, key and fix. The allowed keys, the "did you mean", the homes of
misplaced keys and the example config all come from the same declarations.

>>> import dataclasses
>>> from villaged.domain.setting import setting
>>> @dataclasses.dataclass(frozen=True)
... class Daemon:
...     sync_minutes: int = setting(15, low=1, high=1440)
>>> [k.name for k in keys_of(Daemon)]
['sync_minutes']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from villaged.domain.setting import Setting, spec
from villaged.domain.village import Role, WorkingHours
from villaged.schema.typed_table import TypedTable
from villaged.schema.wording import toml_string

MISSING: Any = dataclasses.MISSING


@dataclass(frozen=True)
class Key:
    """One config key, derived from one field of a settings type."""

    name: str  # the TOML key
    field: str  # the dataclass field
    setting: Setting
    hint: Any  # the field's type, Optional unwrapped
    optional: bool  # the type allows None
    default: Any  # MISSING when the field has no default

    @property
    def kind(self) -> str:
        return self.setting.kind or _kind_of(self.hint)

    @property
    def names(self) -> tuple[str, ...]:
        """The TOML keys the value is written as (two for working days + hours)."""
        return self.setting.keys or (self.name,)

    @property
    def table_type(self) -> type | None:
        """The settings type of a sub-table key, else None."""
        if self.setting.inline or not _is_settings_type(self.hint):
            return None
        if typing.get_origin(self.hint) is tuple:  # [[person]]: an array of tables
            item: type = typing.get_args(self.hint)[0]
            return item
        return typing.cast(type, self.hint)

    def example(self, index: int = 0) -> str:
        """``key = value``: an example of writing this key, for fixes and the example config."""
        if self.setting.examples:
            return f"{self.names[index]} = {self.setting.examples[index]}"
        if self.setting.example:
            return f"{self.name} = {self.setting.example}"
        if self.default is not MISSING and self.default is not None:
            return f"{self.name} = {toml_value(self.default, self.kind)}"
        return f"{self.name} = ..."


@functools.cache
def keys_of(cls: type) -> tuple[Key, ...]:
    """The config keys ``cls`` declares, in field order."""
    hints = typing.get_type_hints(cls)
    keys = []
    for f in dataclasses.fields(cls):
        found = spec(f)
        if found is None:
            continue
        hint, optional = _unwrap(hints[f.name])
        if f.default is not MISSING:
            default = f.default
        elif callable(f.default_factory):
            default = f.default_factory()
        else:
            default = MISSING
        keys.append(Key(found.key or f.name, f.name, found, hint, optional, default))
    return tuple(keys)


def allowed(cls: type, table: str = "") -> tuple[str, ...]:
    """The keys (and sub-table names) allowed in ``cls``'s table, or in its flattened ``table``."""
    names: list[str] = []
    for key in keys_of(cls):
        if key.setting.inline and key.setting.table == table:
            names.extend(allowed(key.hint))
        elif key.setting.table == table:
            names.extend(key.names)
        elif not table and key.setting.table not in names:
            names.append(key.setting.table)  # a flattened sub-table, e.g. [invitations]
    return tuple(names)


def sections(cls: type, section: str) -> dict[str, tuple[str, ...]]:
    """Every table header under ``cls`` (written ``section``) with the keys it allows."""
    found = {section: allowed(cls)} if section else {}
    prefix = section.strip("[]")
    for key in keys_of(cls):
        sub = key.table_type
        if key.setting.table and not section:
            found[f"[{key.setting.table}]"] = allowed(cls, key.setting.table)
        elif sub is not None and key.hint is not cls:
            if key.kind == "tables":
                header = f"[[{key.name}]]"
            else:
                header = f"[{prefix}.{key.name}]" if prefix else f"[{key.name}]"
            found.update(sections(sub, header))
    return found


def read_settings(cls: type[Any], t: TypedTable | None, /, **given: Any) -> Any:
    """``t`` checked and read into ``cls``; ``given`` fields are read by the caller."""
    if t is None:
        return cls(**given)
    t.check_keys(allowed(cls))
    return cls(**read_values(cls, t), **given)


def read_values(
    cls: type,
    t: TypedTable,
    *,
    table: str = "",
    required: bool = True,
    fallback: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The values of ``cls``'s keys found in ``t`` (by field name); defaults otherwise.

    Custom keys and sub-tables are left to the caller. ``table``: only the keys
    flattened into that sub-table. ``required=False``: missing required keys
    are not an error (a backend that is not the chosen one). ``fallback``: the
    base value of a composite key, e.g. the owner's working hours.
    """
    values: dict[str, Any] = {}
    for key in keys_of(cls):
        if key.setting.inline and key.setting.table == table:
            values[key.field] = key.hint(**read_values(key.hint, t, required=required))
            continue
        if key.setting.custom or key.setting.table != table or key.table_type is not None:
            continue
        present = any(name in t.data for name in key.names)
        if not present and (key.default is not MISSING or not required):
            if key.default is not MISSING:
                values[key.field] = key.default
            continue
        values[key.field] = _read(key, t, (fallback or {}).get(key.field))
    return values


def _read(key: Key, t: TypedTable, fallback: Any) -> Any:
    s, name, kind = key.setting, key.name, key.kind
    example = key.example()
    default: Any = None if key.default is MISSING else key.default
    if kind == "working_hours":
        days_key, hours_key = key.names
        base = fallback or default or WorkingHours()
        return t.working_hours(days_key, hours_key, base,
                               days_example=key.example(0), hours_example=key.example(1))
    if kind == "bool":
        return t.boolean(name, default)
    if kind in ("int", "weekday"):
        if kind == "weekday":
            return t.day(name, default, example=example)
        low, high = _range(key)
        return t.integer(name, default, low=int(low), high=int(high), example=example)
    if kind == "float":
        low, high = _range(key)
        return t.number(name, default, low=low, high=high, example=example)
    if kind == "url":
        return t.url(name, example=example)
    if kind == "path":
        return t.path(name, example=example, required=s.required)
    if kind == "paths":
        return t.paths(name, example=example)
    if kind == "emails":
        return t.emails(name, example=example)
    if kind == "weekdays":
        return t.days(name, default, example=example)
    if kind == "strings":
        return t.strings(name, default or (), example=example, nonempty=s.nonempty)
    if kind == "date":
        return t.date(name, example=example)
    if kind == "time":
        return t.clock(name, default, example=example)
    if kind == "timezone":
        return t.timezone(name)
    if kind == "role":
        return t.role(name)
    if kind == "str":
        if s.choices:
            return t.choice(name, s.choices, default or "", example=example)
        value = t.text(name, example=example, required=s.required, nonempty=s.nonempty,
                       default=default or "")
        return None if key.optional and not value else value
    raise TypeError(f"{name}: no reader for {kind!r}")  # a declaration bug


def _range(key: Key) -> tuple[float, float]:
    s = key.setting
    if s.low is None or s.high is None:
        raise TypeError(f"{key.name}: a number needs a range (low=..., high=...)")
    return s.low, s.high


def _kind_of(hint: Any) -> str:
    if hint is bool:
        return "bool"
    if hint is int:
        return "int"
    if hint is float:
        return "float"
    if hint is str:
        return "str"
    if hint is Path:
        return "path"
    if hint is dt.date:
        return "date"
    if hint is dt.time:
        return "time"
    if hint is ZoneInfo:
        return "timezone"
    if hint is Role:
        return "role"
    if hint is WorkingHours:
        return "working_hours"
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple and args[1:] == (Ellipsis,):
        item = args[0]
        if item is Path:
            return "paths"
        if item is str:
            return "strings"
        if _is_settings_type(item):
            return "tables"
    if _is_settings_type(hint):
        return "table"
    return "custom"


def _unwrap(hint: Any) -> tuple[Any, bool]:
    """``X | None`` as (X, True); anything else as (hint, False)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return hint, False


def _is_settings_type(hint: Any) -> bool:
    """A dataclass that declares config keys (also inside a tuple of them)."""
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        return bool(args) and _is_settings_type(args[0])
    return dataclasses.is_dataclass(hint) and isinstance(hint, type) and bool(keys_of(hint))


_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def toml_value(value: Any, kind: str = "") -> str:
    """``value`` written as TOML, for examples.

    >>> toml_value(1.0), toml_value(("a", "b")), toml_value(dt.time(7, 30)), toml_value(0, "weekday")
    ('1.0', '["a", "b"]', '"07:30"', '"monday"')
    """
    if kind == "weekday":
        return toml_string(_DAY_NAMES[value])
    if kind == "weekdays":
        return "[" + ", ".join(toml_string(_DAY_NAMES[d][:3]) for d in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.time):
        return toml_string(f"{value:%H:%M}")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return toml_string(str(value))
