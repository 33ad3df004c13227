"""Meeting rhythms: a plain phrase or an RRULE in, a normalised RRULE out (pure).

A formal mentorship agreement says how often the two people meet. The owner
writes it the way people say it, and villaged turns it into the RRULE an
invitation carries, plus the approximate spacing in days that "within the
rhythm" is measured against:

>>> parse_rhythm("every other week")
('FREQ=WEEKLY;INTERVAL=2', 14)
>>> parse_rhythm("monthly on the 2nd Tuesday")
('FREQ=MONTHLY;BYDAY=2TU', 30)
>>> parse_rhythm("monthly on the last Friday")
('FREQ=MONTHLY;BYDAY=-1FR', 30)
>>> parse_rhythm("quarterly")
('FREQ=MONTHLY;INTERVAL=3', 91)
>>> parse_rhythm("RRULE:FREQ=WEEKLY;INTERVAL=4")
('FREQ=WEEKLY;INTERVAL=4', 28)

Anything else raises a ConfigError that lists phrases it does understand:

>>> parse_rhythm("whenever we can")
Traceback (most recent call last):
  ...
villaged.domain.errors.ConfigError: cannot read the rhythm "whenever we can"
  fix: write a phrase such as "weekly", "every 2 weeks", "every other week", \
"monthly", "monthly on the 2nd Tuesday", "monthly on the last Friday", \
"quarterly", or an RRULE such as "FREQ=WEEKLY;INTERVAL=4"
"""

from __future__ import annotations

import datetime as dt
import re
from itertools import islice

from dateutil.rrule import rrulestr

from villaged.domain.errors import ConfigError

RHYTHM_EXAMPLES: tuple[str, ...] = (
    "weekly",
    "every 2 weeks",
    "every other week",
    "monthly",
    "monthly on the 2nd Tuesday",
    "monthly on the last Friday",
    "quarterly",
)

RHYTHM_FIX = (
    "write a phrase such as "
    + ", ".join(f'"{p}"' for p in RHYTHM_EXAMPLES)
    + ', or an RRULE such as "FREQ=WEEKLY;INTERVAL=4"'
)

MAX_INTERVAL_DAYS = 366
"""An agreement meets at least once a year ("yearly" is the rarest rhythm)."""
_TOO_RARE = ('an agreement meets at least once a year: write e.g. "quarterly", '
             '"every 6 months" or "yearly"')

# Meetings repeat at most daily; their time of day comes from working hours.
_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_DAYS_PER = {"DAILY": 1.0, "WEEKLY": 7.0, "MONTHLY": 30.44, "YEARLY": 365.25}
_RULE_PARTS = (
    "FREQ",
    "UNTIL",
    "COUNT",
    "INTERVAL",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
)
_TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")

_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "other": 2, "second": 2, "third": 3, "fourth": 4,
}  # fmt: skip
_WEEKDAYS = {
    "monday": "MO", "mon": "MO",
    "tuesday": "TU", "tue": "TU", "tues": "TU",
    "wednesday": "WE", "wed": "WE",
    "thursday": "TH", "thu": "TH", "thur": "TH", "thurs": "TH",
    "friday": "FR", "fri": "FR",
    "saturday": "SA", "sat": "SA",
    "sunday": "SU", "sun": "SU",
}  # fmt: skip
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
    "fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "last": -1,
    "second last": -2, "second to last": -2, "next to last": -2, "penultimate": -2,
}  # fmt: skip

_NUM = r"(?P<n>\d+|" + "|".join(_NUMBERS) + ")"
_DAY = r"(?:" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")"
_ORD = r"(?:" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + r")"

# (pattern, FREQ, fixed interval or None to read the number)
_BASES: tuple[tuple[str, str, int | None], ...] = (
    (r"(?:weekly|every week|each week|once a week)", "WEEKLY", 1),
    (r"(?:bi ?weekly|fortnightly|every fortnight|once a fortnight)", "WEEKLY", 2),
    (r"every " + _NUM + r" weeks?", "WEEKLY", None),
    (r"(?:monthly|every month|each month|once a month)", "MONTHLY", 1),
    (r"every " + _NUM + r" months?", "MONTHLY", None),
    (r"(?:quarterly|every quarter|once a quarter)", "MONTHLY", 3),
    (r"(?:yearly|annually|every year|once a year)", "YEARLY", 1),
)


def parse_rhythm(text: str, tz: dt.tzinfo | None = None) -> tuple[str, int]:
    """``text`` as (RRULE value without "RRULE:", approximate interval in days).

    ``tz`` is the zone the meetings happen in (the owner's); it matters for
    checking an RRULE's UNTIL, which must then be given in UTC.

    >>> parse_rhythm("every 4 weeks")
    ('FREQ=WEEKLY;INTERVAL=4', 28)
    >>> parse_rhythm("Fortnightly")
    ('FREQ=WEEKLY;INTERVAL=2', 14)
    >>> parse_rhythm("every 2 months")
    ('FREQ=MONTHLY;INTERVAL=2', 61)
    >>> parse_rhythm("every 2 weeks on Thursday")
    ('FREQ=WEEKLY;INTERVAL=2;BYDAY=TH', 14)
    >>> parse_rhythm("the first Monday of every month")
    ('FREQ=MONTHLY;BYDAY=1MO', 30)
    >>> parse_rhythm("freq=monthly;byday=-1fr")
    ('FREQ=MONTHLY;BYDAY=-1FR', 30)
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("the rhythm is empty", fix=RHYTHM_FIX)
    raw = text.strip()
    if "=" in raw or raw.upper().startswith("RRULE"):
        parts = _rrule_parts(raw)
    else:
        if re.search(r"(?<![\w])-\s*\d", raw):
            raise ConfigError(f'"{raw}" has a negative number', fix=RHYTHM_FIX)
        parts = _phrase_parts(raw)
    interval = int(parts.get("INTERVAL", "1"))
    if interval * _DAYS_PER[parts["FREQ"]] > MAX_INTERVAL_DAYS:
        raise ConfigError(f'"{raw}" is more than a year between meetings', fix=_TOO_RARE)
    rule = ";".join(f"{name}={value}" for name, value in parts.items())
    days = _interval_days(rule, parts, tz, raw)
    if days > MAX_INTERVAL_DAYS:
        raise ConfigError(f'"{raw}" is more than a year between meetings', fix=_TOO_RARE)
    return rule, days


def _phrase_parts(raw: str) -> dict[str, str]:
    phrase = re.sub(r"[\s_,\-]+", " ", raw.lower()).strip(" .")
    phrase = re.sub(r"^(?:meet |meeting )", "", phrase)

    # "the 2nd Tuesday of every month"
    m = re.fullmatch(
        r"(?:on )?(?:the |every )?(?P<ord>" + _ORD + r") (?P<day>" + _DAY + r")s?"
        r" (?:of|in) (?:the|every|each) month",
        phrase,
    )
    if m:
        return {"FREQ": "MONTHLY", "BYDAY": _nth_day(m["ord"], m["day"])}

    for pattern, freq, fixed in _BASES:
        m = re.match(pattern + r"(?= |$)", phrase)
        if not m:
            continue
        interval = fixed if fixed is not None else _number(m["n"])
        if interval is None or interval < 1:
            break
        parts = {"FREQ": freq}
        if interval > 1:
            parts["INTERVAL"] = str(interval)
        rest = phrase[m.end() :].strip()
        if rest:
            extra = _on_parts(freq, rest)
            if extra is None:
                break
            parts.update(extra)
        return parts

    raise ConfigError(f'cannot read the rhythm "{raw}"', fix=RHYTHM_FIX)


def _on_parts(freq: str, rest: str) -> dict[str, str] | None:
    """The "on ..." tail of a phrase, or None if it makes no sense for ``freq``."""
    if freq == "MONTHLY":
        m = re.fullmatch(
            r"on (?:the )?(?P<ord>" + _ORD + r") (?P<day>" + _DAY + r")s?(?: of the month)?",
            rest,
        )
        if m:
            return {"BYDAY": _nth_day(m["ord"], m["day"])}
        m = re.fullmatch(r"on (?:the )?last day(?: of the month)?", rest)
        if m:
            return {"BYMONTHDAY": "-1"}
        m = re.fullmatch(
            r"on (?:the |day )?(?P<md>\d{1,2})(?:st|nd|rd|th)?(?: of the month)?", rest
        )
        if m and 1 <= int(m["md"]) <= 28:
            return {"BYMONTHDAY": str(int(m["md"]))}
        if m and 29 <= int(m["md"]) <= 31:
            raise ConfigError(
                f"not every month has a day {int(m['md'])}",
                fix='say "monthly on the last day", or pick a day from 1 to 28',
            )
        return None
    if freq == "WEEKLY":
        m = re.fullmatch(r"on (?P<days>" + _DAY + r"s?(?: (?:and )?" + _DAY + r"s?)*)", rest)
        if m:
            codes: list[str] = []
            for word in re.split(r" (?:and )?", m["days"]):
                code = _WEEKDAYS[word.rstrip("s") if word not in _WEEKDAYS else word]
                if code not in codes:
                    codes.append(code)
            return {"BYDAY": ",".join(codes)}
        return None
    return None


def _nth_day(ordinal: str, day: str) -> str:
    word = day if day in _WEEKDAYS else day.rstrip("s")
    return f"{_ORDINALS[ordinal]}{_WEEKDAYS[word]}"


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBERS.get(word)


def _rrule_parts(raw: str) -> dict[str, str]:
    """Check an RRULE's shape and return its parts in order, FREQ first."""
    value = re.sub(r"\s+", "", raw).upper()
    if value.startswith("RRULE:"):
        value = value[len("RRULE:") :]
    if "\n" in raw.strip() or "DTSTART" in value or ":" in value:
        raise ConfigError(
            f'"{raw}" is not a single RRULE',
            fix='give only the rule itself, e.g. "FREQ=WEEKLY;INTERVAL=4": '
            "villaged picks the first meeting's date and time",
        )
    parts: dict[str, str] = {}
    for item in filter(None, value.split(";")):
        name, sep, val = item.partition("=")
        if not sep or not name or not val:
            raise ConfigError(
                f'"{raw}" is not a valid RRULE: "{item}" is not NAME=VALUE',
                fix='separate the parts with ";", e.g. "FREQ=MONTHLY;BYDAY=2TU"',
            )
        if name in _TIME_PARTS:
            raise ConfigError(
                f'"{raw}": {name} is not allowed in a meeting rhythm',
                fix="leave the time of day out of the rule and set the agreement's hours, "
                'e.g. hours = "14:00-17:00"',
            )
        if name not in _RULE_PARTS:
            raise ConfigError(
                f'"{raw}" is not a valid RRULE: unknown part {name}',
                fix="use only " + ", ".join(_RULE_PARTS),
            )
        if name in parts:
            raise ConfigError(
                f'"{raw}" is not a valid RRULE: {name} appears twice',
                fix=f"keep one {name}",
            )
        parts[name] = val
    freq = parts.get("FREQ")
    if freq is None:
        raise ConfigError(
            f'"{raw}" is not a valid RRULE: it has no FREQ',
            fix='start it with FREQ, e.g. "FREQ=WEEKLY;INTERVAL=2"',
        )
    if freq not in _FREQUENCIES:
        raise ConfigError(
            f'"{raw}": FREQ={freq} is not a meeting rhythm',
            fix="use FREQ=" + ", FREQ=".join(_FREQUENCIES),
        )
    if "COUNT" in parts and "UNTIL" in parts:
        raise ConfigError(
            f'"{raw}" is not a valid RRULE: it has both COUNT and UNTIL',
            fix="keep one of COUNT and UNTIL",
        )
    for name in ("INTERVAL", "COUNT"):
        if name in parts and not (parts[name].isdigit() and int(parts[name]) >= 1):
            raise ConfigError(
                f'"{raw}" is not a valid RRULE: {name}={parts[name]}',
                fix=f"{name} must be a whole number of at least 1",
            )
    if freq == "WEEKLY" and re.search(r"[\d]", parts.get("BYDAY", "")):
        raise ConfigError(
            f'"{raw}" is not a valid RRULE: a weekly rule cannot say which Tuesday of the month',
            fix='use FREQ=MONTHLY for "the 2nd Tuesday", e.g. "FREQ=MONTHLY;BYDAY=2TU"',
        )
    return {"FREQ": freq, **{k: v for k, v in parts.items() if k != "FREQ"}}


def _interval_days(rule: str, parts: dict[str, str], tz: dt.tzinfo | None, raw: str) -> int:
    """The average spacing of the rule's occurrences, in whole days."""
    start = dt.datetime(2001, 1, 1, 9, 0, tzinfo=tz or dt.UTC)  # a Monday
    bounded = "COUNT" in parts or "UNTIL" in parts
    probe = rule if bounded else f"{rule};UNTIL=21010101T000000Z"
    try:
        dates = list(islice(rrulestr(probe, dtstart=start), 121))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ConfigError(
            f'"{raw}" is not a valid RRULE: {exc}',
            fix=_fix_for(str(exc)),
        ) from None
    if len(dates) >= 2:
        average = (dates[-1] - dates[0]) / (len(dates) - 1)
        return max(1, round(average.total_seconds() / 86400))
    if not dates and not bounded:
        raise ConfigError(
            f'"{raw}" never produces a meeting date',
            fix='check the BY... parts, e.g. "FREQ=MONTHLY;BYDAY=2TU"',
        )
    freq = parts["FREQ"]
    return max(1, round(_DAYS_PER[freq] * int(parts.get("INTERVAL", "1"))))


def _fix_for(message: str) -> str:
    if "UNTIL" in message:
        return "give UNTIL in UTC, e.g. UNTIL=20261231T235959Z"
    return 'see RFC 5545 section 3.3.10, e.g. "FREQ=MONTHLY;BYDAY=2TU"'
