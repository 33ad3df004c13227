"""Reading file paths (``~`` expanded, relative to the config) and URLs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from villaged.schema.list_fields import ListFields
from villaged.schema.scalar_fields import ScalarFields

_UNEXPANDABLE = '"{}" starts with ~ but that home directory is unknown'


class PathFields(ScalarFields, ListFields):
    """A table's readers for paths and URLs, each failing at its key."""

    def path(self, name: str, *, example: str, required: bool = False) -> Path | None:
        if name not in self.data:
            if required:
                self.missing(name, example)
            return None
        value = self.text(name, nonempty=True, example=example)
        path = self._resolve(value)
        if path is None:
            self.fail(name, _UNEXPANDABLE.format(value), fix=f"write a full path, e.g. {example}")
        return path

    def paths(self, name: str, *, example: str) -> tuple[Path, ...]:
        paths: list[Path] = []
        for i, value in enumerate(self.strings(name, (), example=example)):
            path = self._resolve(value)
            if path is None:
                fix = f"write a full path, e.g. {example}"
                self.fail_item(name, i, _UNEXPANDABLE.format(value), fix=fix)
            paths.append(path)
        return tuple(paths)

    def _resolve(self, value: str) -> Path | None:
        """``~`` expanded, relative to the config file's folder; None if ``~`` cannot be."""
        try:
            path = Path(value).expanduser()
        except RuntimeError:
            return None
        return path if path.is_absolute() else self.src.base_dir / path

    def url(self, name: str, *, example: str) -> str | None:
        if name not in self.data:
            return None
        value = self.text(name, nonempty=True, example=example)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.fail(
                name, f'"{value}" is not an http(s) URL', fix=f"write a full URL, e.g. {example}"
            )
        return value
