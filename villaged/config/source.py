"""The config file being read: its path, its text, and errors that name a line."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from villaged.config.positions import Key, Positions
from villaged.errors import ConfigError


class Source:
    """The config file: its path, its text, and where its keys are."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.base_dir = path.absolute().parent

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
