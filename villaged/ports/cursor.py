"""Typed, versioned sync cursors, and the one place they become JSON and back.

Each source has its own cursor type: a frozen dataclass subclassing
``Cursor``, with a ``KIND`` (which source wrote it) and a ``VERSION`` (bumped
whenever its fields change meaning). The source declares it as
``cursor_type``; the sync driver decodes the stored cursor with it before
``Source.sync`` and encodes each batch's cursor after, so a source only ever
sees its own type, or None for a full sync.

A stored cursor of another version or kind, or one whose fields do not fit
the type (a hand-edited or half-migrated store), decodes to None: a clean
full rescan, never a crash. Cursors stored before they were typed carry no
``kind``; they are read when their version matches, their fields being the
same.

Field types are plain: str, int, bool, float, tuples (JSON lists) and dicts
with str keys (JSON objects), nested, and ``X | None``.
"""

from __future__ import annotations

import logging
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar, TypeVar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cursor:
    """Base of every source's cursor type."""

    KIND: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1


C = TypeVar("C", bound=Cursor)


def encode(cursor: Cursor) -> dict[str, Any]:
    """The JSON object stored for ``cursor``."""
    return {"kind": cursor.KIND, "version": cursor.VERSION,
            **{f.name: _plain(getattr(cursor, f.name)) for f in fields(cursor)}}


def decode(cursor_type: type[C], stored: Mapping[str, Any] | None) -> C | None:
    """The stored JSON object as a ``cursor_type``; None (a full rescan) if it is not one."""
    if not isinstance(stored, Mapping):
        return None
    kind, version = stored.get("kind", cursor_type.KIND), stored.get("version")
    if kind != cursor_type.KIND or version != cursor_type.VERSION:
        log.info("stored %s cursor version %r is not %s version %d: full rescan",
                 kind, version, cursor_type.KIND, cursor_type.VERSION)
        return None
    hints = typing.get_type_hints(cursor_type)
    values: dict[str, Any] = {}
    for f in fields(cursor_type):
        if f.name not in stored:
            if f.default is MISSING and f.default_factory is MISSING:
                log.info("stored %s cursor lacks %r: full rescan", kind, f.name)
                return None
            continue
        value = _frozen(stored[f.name])
        if not _fits(value, hints[f.name]):
            log.info("stored %s cursor has an unusable %r: full rescan", kind, f.name)
            return None
        values[f.name] = value
    return cursor_type(**values)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _frozen(v) for k, v in value.items()}
    return value


def _fits(value: Any, hint: Any) -> bool:
    """Whether a decoded JSON value fits a field's type hint."""
    if hint is Any:
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in args)
    if hint is type(None):
        return value is None
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(v, args[0]) for v in value)
        return len(value) == len(args) and all(_fits(v, a) for v, a in zip(value, args, strict=True))
    if origin in (dict, Mapping):
        return isinstance(value, dict) and all(
            isinstance(k, str) and _fits(v, args[1]) for k, v in value.items())
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(hint, type) and isinstance(value, hint)


def stored_cursor(source: object, stored: Mapping[str, Any] | None) -> Any:
    """What ``source.sync`` is given for the stored JSON object: its ``cursor_type``
    decoded (a source without one is given the JSON object as it is)."""
    cursor_type = getattr(source, "cursor_type", None)
    if isinstance(cursor_type, type) and issubclass(cursor_type, Cursor):
        return decode(cursor_type, stored)
    return stored


def storable(cursor: Cursor | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The JSON object to store for a batch's cursor (None: forget the stored one)."""
    if cursor is None:
        return None
    if isinstance(cursor, Cursor):
        return encode(cursor)
    return dict(cursor)
