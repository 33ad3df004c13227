"""Reading single values: text, whole numbers, numbers, booleans, choices, roles, zones."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from villaged.domain.village import Role
from villaged.schema.suggestions import did_you_mean
from villaged.schema.table import Table

ROLES = ", ".join(r.label for r in Role)


class ScalarFields(Table):
    """A table's readers for single values, each failing at its key."""

    def text(
        self,
        name: str,
        *,
        example: str,
        required: bool = False,
        nonempty: bool = False,
        default: str = "",
    ) -> str:
        if name not in self.data:
            if required:
                self.missing(name, example)
            return default
        value = self.data[name]
        if not isinstance(value, str):
            self.wrong_type(name, "text in double quotes", example)
        if nonempty and not value.strip():
            self.fail(name, "is empty", fix=f"write {example}")
        return value.strip() if nonempty else value

    def integer(
        self, name: str, default: Any, *, low: int, high: int | None = None, example: str = ""
    ) -> Any:
        example = example or f"{name} = {default}"
        if name not in self.data:
            return default
        value = self.data[name]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.wrong_type(name, "a whole number", example)
        if value < low or (high is not None and value > high):
            limits = f"from {low} to {high}" if high is not None else f"of at least {low}"
            bound = f"at least {low}" if value < low else f"at most {high}"
            self.fail(
                name,
                f"{value} is out of range",
                fix=f"it must be {bound}; use a whole number {limits}, e.g. {example}",
            )
        return value

    def number(
        self, name: str, default: float, *, low: float, high: float, example: str = ""
    ) -> float:
        example = example or f"{name} = {default}"
        if name not in self.data:
            return default
        value = self.data[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.wrong_type(name, "a number", example)
        if not low <= value <= high:  # also NaN and the infinities
            bound = f"at most {high:g}" if value > high else f"at least {low:g}"
            fix = f"it must be {bound}; use a number from {low:g} to {high:g}, e.g. {example}"
            self.fail(name, f"{value} is out of range", fix=fix)
        return float(value)

    def boolean(self, name: str, default: bool) -> bool:
        if name not in self.data:
            return default
        value = self.data[name]
        if not isinstance(value, bool):
            self.wrong_type(name, "true or false (without quotes)", f"{name} = true")
        return value

    def choice(self, name: str, options: tuple[str, ...], default: str, *, example: str) -> str:
        value = self.text(name, example=example, default=default)
        if value not in options:
            allowed = ", ".join(f'"{o}"' for o in options)
            fix = f"{did_you_mean(value, options)}{name} must be one of: {allowed}"
            self.fail(name, f'"{value}" is not allowed', fix=fix)
        return value

    def role(self, name: str) -> Role:
        example = 'role = "mentor"'
        if name not in self.data:
            self.fail(name, "missing", fix=f"add {example}; role must be one of: {ROLES}")
        value = self.text(name, example=example)
        try:
            return Role.parse(value)
        except ValueError:
            spaced = re.sub(r"[\s_-]+", " ", value.strip().lower())
            hint = did_you_mean(spaced, [r.label for r in Role])
            self.fail(name, f'"{value}" is not a role', fix=f"{hint}role must be one of: {ROLES}")

    def timezone(self, name: str) -> zoneinfo.ZoneInfo:
        example = 'timezone = "America/Chicago"'
        value = self.text(name, required=True, nonempty=True, example=example)
        try:
            return zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
        hint = did_you_mean(value, zoneinfo.available_timezones())
        self.fail(
            name,
            f'"{value}" is not a known time zone',
            fix=f'{hint}use an IANA zone name such as "America/Chicago" or "Europe/London"',
        )
