"""Days as the owner says them: 2026-11-20, today, yesterday, tuesday, -3d."""

from __future__ import annotations

import datetime as dt
import re

from villaged.domain.errors import VillagedError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_AGO = re.compile(r"^-(\d{1,4})d$")
_SPAN = re.compile(r"^(\d{1,3})([dw])$")


def past_day(text: str, today: dt.date) -> dt.date:
    """A day on or before ``today``; a weekday name means the last one before today.

    >>> past_day("tuesday", dt.date(2026, 11, 26))  # a Thursday
    datetime.date(2026, 11, 24)
    >>> past_day("-3d", dt.date(2026, 11, 26))
    datetime.date(2026, 11, 23)
    """
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - dt.timedelta(days=1)
    for number, name in enumerate(WEEKDAYS):
        if name.startswith(word) and len(word) >= 3:
            back = (today.weekday() - number) % 7 or 7
            return today - dt.timedelta(days=back)
    if m := _AGO.match(word):
        return today - dt.timedelta(days=int(m[1]))
    try:
        day = dt.date.fromisoformat(word)
    except ValueError:
        raise VillagedError(f"{text!r} is not a day I understand",
                            fix="use 2026-11-20, today, yesterday, a weekday name or -3d") from None
    if day > today:
        raise VillagedError(f"{day} is in the future", fix="log contacts that have happened")
    return day


def until_day(text: str, today: dt.date) -> dt.date:
    """The end of a snooze: a span such as 2w or 10d from today, or a date after today."""
    word = text.strip().lower()
    if m := _SPAN.match(word):
        days = int(m[1]) * (7 if m[2] == "w" else 1)
        if days >= 1:
            return today + dt.timedelta(days=days)
    try:
        day = dt.date.fromisoformat(word)
    except ValueError:
        raise VillagedError(f"{text!r} is not a snooze length I understand",
                            fix="use e.g. 2w, 10d or a date such as 2027-03-01") from None
    if day <= today:
        raise VillagedError(f"{day} is not after today", fix="give a day in the future")
    return day
