"""One TOML table of the config: its keys checked, its mistakes failed at their key.

The typed readers (text, numbers, times, lists, paths) build on this
``Table``: see ``typed_table.TypedTable``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn, Self

from villaged.schema.positions import Key
from villaged.schema.source import Source
from villaged.schema.suggestions import unknown_key_fix
from villaged.schema.wording import describe


class Table:
    """One TOML table, read key by key; every mistake fails at its key."""

    def __init__(
        self, src: Source, data: dict[str, Any], key: Key, label: str, section: str
    ) -> None:
        self.src = src
        self.data = data
        self.key = key  # position path, e.g. ("person", 1)
        self.label = label  # shown to the user, e.g. 'person[2] "Ada Lovelace"'
        self.section = section  # the header it lives under, e.g. "[[person]]"

    # -- errors

    def label_for(self, name: str) -> str:
        return f"{self.label} → {name}" if self.label else name

    def fail(self, name: str, problem: str, fix: str) -> NoReturn:
        raise self.src.error(self.key + (name,), self.label_for(name), problem, fix) from None

    def fail_item(self, name: str, index: int, problem: str, fix: str) -> NoReturn:
        label = f"{self.label_for(name)}[{index + 1}]"
        raise self.src.error(self.key + (name, index), label, problem, fix) from None

    def missing(self, name: str, example: str) -> NoReturn:
        self.fail(name, "missing", fix=f"add {example} under {self.section}")

    def wrong_type(self, name: str, expected: str, example: str) -> NoReturn:
        found = describe(self.data[name])
        self.fail(name, f"expected {expected}, found {found}", fix=f"write {example}")

    # -- keys

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for name in self.data:
            if name not in allowed:
                self.unknown(name, allowed)

    def unknown(self, name: str, allowed: Iterable[str], what: str = "key") -> NoReturn:
        value = self.data[name]
        top = not self.key
        is_table = isinstance(value, dict) or (
            isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
        )
        if top and is_table:
            problem = f"unknown table [{name}]"
        elif top:
            problem = f'unknown key "{name}" at the top of the file'
        else:
            problem = f'unknown {what} "{name}"'
        fix = unknown_key_fix(name, list(allowed), what=what, section=self.section, top=top,
                              homes=self.src.homes)
        self.fail(name, problem, fix)

    # -- tables

    def table(self, name: str, *, required: bool = False, example: str = "") -> Self | None:
        if name not in self.data:
            if required:
                self.fail(
                    name,
                    f"the [{name}] table is missing",
                    fix=f"add {example} (`villaged init` writes a commented example)",
                )
            return None
        value = self.data[name]
        section = f"[{name}]" if not self.key else f"[{self.section.strip('[]')}.{name}]"
        if not isinstance(value, dict):
            self.fail(
                name,
                f"expected a table, found {describe(value)}",
                fix=f"write {section} on a line of its own, with its keys below it",
            )
        return type(self)(self.src, value, self.key + (name,), self.label_for(name), section)
