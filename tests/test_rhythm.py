"""Meeting rhythms: the phrases an owner writes, the RRULEs and dates they mean."""

from __future__ import annotations

import datetime as dt
import doctest
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from icalendar import vRecur

from villaged.domain import rhythm
from villaged.domain.errors import ConfigError
from villaged.domain.rhythm import RHYTHM_EXAMPLES, parse_rhythm

CHICAGO = ZoneInfo("America/Chicago")
# Tuesday 6 January 2026, 10:00 in Chicago: the first meeting.
START = dt.datetime(2026, 1, 6, 10, 0, tzinfo=CHICAGO)


def d(month: int, day: int, year: int = 2026) -> dt.date:
    return dt.date(year, month, day)


PHRASES = [
    # phrase, rrule, interval days, the first three meeting dates from START
    ("weekly", "FREQ=WEEKLY", 7, [d(1, 6), d(1, 13), d(1, 20)]),
    ("every week", "FREQ=WEEKLY", 7, [d(1, 6), d(1, 13), d(1, 20)]),
    ("every 2 weeks", "FREQ=WEEKLY;INTERVAL=2", 14, [d(1, 6), d(1, 20), d(2, 3)]),
    ("every other week", "FREQ=WEEKLY;INTERVAL=2", 14, [d(1, 6), d(1, 20), d(2, 3)]),
    ("biweekly", "FREQ=WEEKLY;INTERVAL=2", 14, [d(1, 6), d(1, 20), d(2, 3)]),
    ("bi-weekly", "FREQ=WEEKLY;INTERVAL=2", 14, [d(1, 6), d(1, 20), d(2, 3)]),
    ("fortnightly", "FREQ=WEEKLY;INTERVAL=2", 14, [d(1, 6), d(1, 20), d(2, 3)]),
    ("every 4 weeks", "FREQ=WEEKLY;INTERVAL=4", 28, [d(1, 6), d(2, 3), d(3, 3)]),
    ("every four weeks", "FREQ=WEEKLY;INTERVAL=4", 28, [d(1, 6), d(2, 3), d(3, 3)]),
    ("monthly", "FREQ=MONTHLY", 30, [d(1, 6), d(2, 6), d(3, 6)]),
    ("every month", "FREQ=MONTHLY", 30, [d(1, 6), d(2, 6), d(3, 6)]),
    ("every 2 months", "FREQ=MONTHLY;INTERVAL=2", 61, [d(1, 6), d(3, 6), d(5, 6)]),
    ("monthly on the 2nd Tuesday", "FREQ=MONTHLY;BYDAY=2TU", 30, [d(1, 13), d(2, 10), d(3, 10)]),
    ("Monthly on the second tuesday.", "FREQ=MONTHLY;BYDAY=2TU", 30, [d(1, 13), d(2, 10), d(3, 10)]),
    ("the 2nd Tuesday of every month", "FREQ=MONTHLY;BYDAY=2TU", 30, [d(1, 13), d(2, 10), d(3, 10)]),
    ("monthly on the last Friday", "FREQ=MONTHLY;BYDAY=-1FR", 30, [d(1, 30), d(2, 27), d(3, 27)]),
    ("monthly on the 15th", "FREQ=MONTHLY;BYMONTHDAY=15", 30, [d(1, 15), d(2, 15), d(3, 15)]),
    ("quarterly", "FREQ=MONTHLY;INTERVAL=3", 91, [d(1, 6), d(4, 6), d(7, 6)]),
    ("every 2 weeks on Thursday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", 14, [d(1, 8), d(1, 22), d(2, 5)]),
    ("RRULE:FREQ=WEEKLY;INTERVAL=4", "FREQ=WEEKLY;INTERVAL=4", 28, [d(1, 6), d(2, 3), d(3, 3)]),
    ("FREQ=MONTHLY;BYDAY=2TU", "FREQ=MONTHLY;BYDAY=2TU", 30, [d(1, 13), d(2, 10), d(3, 10)]),
    ("  rrule: interval=2; freq=weekly ", "FREQ=WEEKLY;INTERVAL=2", 14, [d(1, 6), d(1, 20), d(2, 3)]),
]  # fmt: skip


@pytest.mark.parametrize(("phrase", "rule", "days", "dates"), PHRASES)
def test_phrase_gives_rrule_and_dates(phrase, rule, days, dates):
    assert parse_rhythm(phrase, CHICAGO) == (rule, days)
    occurrences = list(islice(rrulestr(rule, dtstart=START), 3))
    assert [o.date() for o in occurrences] == dates
    assert all(o.time() == dt.time(10, 0) for o in occurrences)


@pytest.mark.parametrize("phrase", RHYTHM_EXAMPLES)
def test_every_advertised_example_is_understood(phrase):
    rule, days = parse_rhythm(phrase, CHICAGO)
    assert rule.startswith("FREQ=") and days > 0
    vRecur.from_ical(rule)  # what an invitation will carry


def test_weekly_keeps_its_local_time_across_the_dst_change():
    rule, _ = parse_rhythm("weekly", CHICAGO)
    march = dt.datetime(2026, 3, 3, 14, 0, tzinfo=CHICAGO)  # DST starts 8 March
    first, second, third = islice(rrulestr(rule, dtstart=march), 3)
    assert [o.hour for o in (first, second, third)] == [14, 14, 14]
    assert first.utcoffset() != third.utcoffset()


def test_bounded_rrules_are_kept():
    assert parse_rhythm("FREQ=MONTHLY;COUNT=6", CHICAGO) == ("FREQ=MONTHLY;COUNT=6", 30)
    rule = "FREQ=WEEKLY;INTERVAL=2;UNTIL=20261231T235959Z"
    assert parse_rhythm(rule, CHICAGO) == (rule, 14)


def test_tz_is_optional():
    assert parse_rhythm("every other week") == ("FREQ=WEEKLY;INTERVAL=2", 14)


@pytest.mark.parametrize(
    ("text", "message", "fix"),
    [
        ("whenever we can", 'cannot read the rhythm "whenever we can"', "monthly on the 2nd Tuesday"),
        ("", "the rhythm is empty", "every 2 weeks"),
        ("every 0 weeks", "cannot read the rhythm", "every other week"),
        ("monthly on Tuesday", "cannot read the rhythm", "monthly on the 2nd Tuesday"),
        ("yearly on the 2nd Tuesday", "cannot read the rhythm", "quarterly"),
        ("monthly on the 31st", "not every month has a day 31", "monthly on the last day"),
        ("FREQ=HOURLY", "FREQ=HOURLY is not a meeting rhythm", "FREQ=WEEKLY"),
        ("FREQ=WEEKLY;BYHOUR=14", "BYHOUR is not allowed", 'hours = "14:00-17:00"'),
        ("INTERVAL=2", "it has no FREQ", "FREQ=WEEKLY;INTERVAL=2"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL=0", "at least 1"),
        ("FREQ=WEEKLY;FREQ=MONTHLY", "FREQ appears twice", "keep one FREQ"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20261231T000000Z", "both COUNT and UNTIL", "keep one"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a valid RRULE", "FREQ=MONTHLY;BYDAY=2TU"),
        ("FREQ=WEEKLY;BYDAY=2TU", "which Tuesday of the month", "FREQ=MONTHLY"),
        ("FREQ=WEEKLY;COLOR=RED", "unknown part COLOR", "BYDAY"),
        ("FREQ=MONTHLY;UNTIL=20261231", "UNTIL", "UNTIL=20261231T235959Z"),
        ("FREQ=MONTHLY;BYDAY=6TU", "never produces a meeting date", "BYDAY=2TU"),
        ("DTSTART:20260101T100000\nRRULE:FREQ=WEEKLY", "not a single RRULE", "FREQ=WEEKLY;INTERVAL=4"),
        ("FREQ=WEEKLY;;INTERVAL", "is not NAME=VALUE", ";"),
    ],
)
def test_mistakes_raise_one_config_error_with_a_fix(text, message, fix):
    with pytest.raises(ConfigError) as info:
        parse_rhythm(text, CHICAGO)
    assert message in info.value.message
    assert info.value.fix and fix in info.value.fix


def test_unknown_phrase_lists_examples():
    with pytest.raises(ConfigError) as info:
        parse_rhythm("now and then", CHICAGO)
    for example in RHYTHM_EXAMPLES:
        assert f'"{example}"' in str(info.value)


def test_docstring_examples():
    result = doctest.testmod(rhythm)
    assert result.attempted > 5 and result.failed == 0
