"""The config file being read: its path, its text, and errors that name a line."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

from villaged.domain.errors import ConfigError
from villaged.schema.positions import Key, Positions


class Source:
    """The config file: its path, its text, and where its keys are."""

    def __init__(self, path: Path, text: str, homes: Mapping[str, list[str]] | None = None) -> None:
        self.path = path
        self.text = text
        self.base_dir = path.absolute().parent
        # key -> the table headers it belongs under, to say "move it to [owner]"
        self.homes: Mapping[str, list[str]] = homes or {}

    @cached_property
    def positions(self) -> Positions:
        """Scanned on first use only: a valid config that loads needs no lines."""
        return Positions(self.text)

    def line(self, key: Key) -> int | None:
        return self.positions.line(key)

    def error(self, key: Key, label: str, problem: str, fix: str) -> ConfigError:
        line = self.line(key)
        where = f"{self.path}, line {line}" if line else str(self.path)
        return ConfigError(f"{where}: {label}: {problem}", fix=fix)
