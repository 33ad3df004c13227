"""Reading dates, times of day, ranges of hours and days of the week."""

from __future__ import annotations

import datetime as dt
import re

from villaged.domain.village import WorkingHours
from villaged.schema.list_fields import ListFields
from villaged.schema.scalar_fields import ScalarFields
from villaged.schema.suggestions import did_you_mean

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_NUMBERS: dict[str, int] = {
    **{day: n for n, day in enumerate(WEEKDAYS)},
    **{day[:3]: n for n, day in enumerate(WEEKDAYS)},
    "tues": 1, "weds": 2, "thur": 3, "thurs": 3,
}  # fmt: skip
"""Day names and abbreviations, lower case, to 0 = Monday … 6 = Sunday."""

_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_HOURS = re.compile(r"\s*(\d{1,2}:\d{2})\s*[-–—]\s*(\d{1,2}:\d{2})\s*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class TimeFields(ScalarFields, ListFields):
    """A table's readers for dates, times and days, each failing at its key."""

    def date(self, name: str, *, example: str) -> dt.date | None:
        if name not in self.data:
            return None
        value = self.data[name]
        if isinstance(value, dt.datetime):
            self.fail(
                name,
                "expected a date, found a date and time",
                fix=f"write just the date, e.g. {example}",
            )
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and _DATE.fullmatch(value.strip()):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                self.fail(
                    name,
                    f'"{value}" is not a real date',
                    fix=f"write a date as YYYY-MM-DD, e.g. {example}",
                )
        self.wrong_type(name, "a date (YYYY-MM-DD)", example)

    def clock(self, name: str, default: dt.time, *, example: str) -> dt.time:
        if name not in self.data:
            return default
        value = self.data[name]
        if isinstance(value, dt.time) and value.tzinfo is None:
            return value
        if not isinstance(value, str):
            self.wrong_type(name, 'a time in quotes ("HH:MM", 24-hour)', example)
        parsed = parse_time(value)
        if parsed is None:
            self.fail(
                name,
                f'"{value}" is not a time',
                fix=f'write a 24-hour time as "HH:MM", e.g. {example}',
            )
        return parsed

    def hours(
        self, name: str, default: tuple[dt.time, dt.time], *, example: str
    ) -> tuple[dt.time, dt.time]:
        if name not in self.data:
            return default
        value = self.text(name, example=example)
        m = _HOURS.fullmatch(value)
        start = parse_time(m[1]) if m else None
        end = parse_time(m[2]) if m else None
        if start is None or end is None:
            self.fail(
                name,
                f'"{value}" is not a range of hours',
                fix=f'write "HH:MM-HH:MM" (24-hour), e.g. {example}',
            )
        if start >= end:
            self.fail(
                name,
                f'"{value}" ends before it starts',
                fix=f"the end must come after the start, e.g. {example}",
            )
        return start, end

    def day(self, name: str, default: int, *, example: str) -> int:
        if name not in self.data:
            return default
        value = self.text(name, example=example)
        number = DAY_NUMBERS.get(value.strip().lower())
        if number is None:
            self.fail(name, f'"{value}" is not a day of the week', fix=_day_fix(value))
        return number

    def days(self, name: str, default: tuple[int, ...], *, example: str) -> tuple[int, ...]:
        if name not in self.data:
            return default
        numbers: set[int] = set()
        for i, value in enumerate(self.strings(name, (), nonempty=True, example=example)):
            number = DAY_NUMBERS.get(value.lower())
            if number is None:
                self.fail_item(name, i, f'"{value}" is not a day of the week', fix=_day_fix(value))
            numbers.add(number)
        return tuple(sorted(numbers))

    def working_hours(
        self,
        days_name: str,
        hours_name: str,
        default: WorkingHours,
        *,
        days_example: str,
        hours_example: str,
    ) -> WorkingHours:
        """Days from ``days_name`` and hours from ``hours_name``, each else ``default``'s."""
        days = self.days(days_name, default.days, example=days_example)
        start, end = self.hours(hours_name, (default.start, default.end), example=hours_example)
        return WorkingHours(days=days, start=start, end=end)


def parse_time(text: str) -> dt.time | None:
    """A 24-hour ``HH:MM`` time, or None.

    >>> parse_time(" 9:05 "), parse_time("24:00")
    (datetime.time(9, 5), None)
    """
    m = _TIME.fullmatch(text.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        return None
    return dt.time(int(m[1]), int(m[2]))


def _day_fix(value: str) -> str:
    hint = did_you_mean(value.strip(), WEEKDAYS)
    return f"{hint}use a day name such as monday or mon ({', '.join(WEEKDAYS)})"
