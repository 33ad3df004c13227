"""A VTIMEZONE for the owner's zone that every independent reader agrees on (pure).

Readers differ in how much of a VTIMEZONE they understand. vobject (and
through it Radicale and dateutil's tzical) reads the offset of a date from
the observances whose onsets come *before* it, and keeps only the first
value of a comma-separated RDATE; ical.js does the same with RDATE. A block
whose rules start in the year before the meeting is read as UTC by some of
them for earlier dates, and an RDATE list as "one transition only".

So the block is written the way Google Calendar's exports are, starting in
1970, with every transition taken from zoneinfo itself:

* the zone's current rule ("2nd Sunday of March at 02:00"), from the first
  year it holds through CHECK_YEARS after the meeting, as one STANDARD and
  one DAYLIGHT observance with a yearly RRULE (BYMONTH, BYDAY);
* every earlier transition since 1970 (and every transition at all, for a
  zone whose current rule is no yearly RRULE, up to RDATE_YEARS after the
  meeting) as an observance with one RDATE per line, grouped by offset;
* the offset in force on 1 January 1970 as the first observance.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections import defaultdict
from zoneinfo import ZoneInfo

import icalendar

UTC = dt.UTC
_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
EPOCH_YEAR = 1970
CHECK_YEARS = 12  # the yearly rule must reproduce zoneinfo this many years past the meeting
RDATE_YEARS = 30  # without a yearly rule, transitions are listed this far past the meeting

Rule = tuple[int, int, int, dt.time]  # month, nth weekday (-1 = last), weekday, local wall time


def vtimezone(tz: ZoneInfo, around: dt.datetime) -> icalendar.Timezone:
    """A VTIMEZONE for ``tz`` valid from 1970 through (at least) the years after ``around``."""
    block = icalendar.Timezone.from_ical(_block(tz.key, around.astimezone(tz).year))
    assert isinstance(block, icalendar.Timezone)
    return block


@functools.lru_cache(maxsize=32)
def _block(key: str, year: int) -> bytes:
    """The VTIMEZONE's bytes (scanning 1970 onwards takes a few tenths of a second: cached)."""
    tz = ZoneInfo(key)
    found = {y: transitions(tz, y) for y in range(EPOCH_YEAR, year + max(CHECK_YEARS,
                                                                          RDATE_YEARS) + 1)}
    component = icalendar.Timezone()
    component.add("tzid", tz.key)
    first = dt.datetime(EPOCH_YEAR, 1, 1, tzinfo=UTC)
    initial = _offset(first, tz)
    _observance(component, daylight=bool(first.astimezone(tz).dst()),
                onset=first.replace(tzinfo=None), before=initial, after=initial,
                name=first.astimezone(tz).tzname() or tz.key)

    ruled = _yearly_rules(tz, found, year)
    listed_until = ruled[0] if ruled else year + RDATE_YEARS + 1
    listed = [t for y in range(EPOCH_YEAR, listed_until) for t in found.get(y, [])]
    groups: dict[tuple[dt.timedelta, dt.timedelta, str, bool], list[dt.datetime]] = \
        defaultdict(list)
    for instant in listed:
        before = _offset(instant - dt.timedelta(seconds=1), tz)
        after = _offset(instant, tz)
        local = instant.astimezone(tz)
        groups[(before, after, local.tzname() or tz.key, bool(local.dst()))].append(
            (instant + before).replace(tzinfo=None))
    for (before, after, name, daylight), onsets in sorted(groups.items(),
                                                           key=lambda kv: kv[1][0]):
        part = _observance(component, daylight=daylight, onset=onsets[0], before=before,
                           after=after, name=name)
        for onset in onsets[1:]:
            part.add("rdate", onset)  # one RDATE per line: every reader reads each one

    if ruled:
        start_year, rules = ruled
        for rule, before, after, name, daylight in rules:
            month, nth, weekday, _ = rule
            part = _observance(component, daylight=daylight, onset=_onset(rule, start_year),
                               before=before, after=after, name=name)
            part.add("rrule", {"FREQ": "YEARLY", "BYMONTH": month,
                               "BYDAY": f"{nth}{_CODES[weekday]}"})
    return component.to_ical()


def _observance(component: icalendar.Timezone, *, daylight: bool, onset: dt.datetime,
                before: dt.timedelta, after: dt.timedelta, name: str) -> icalendar.Component:
    part = icalendar.TimezoneDaylight() if daylight else icalendar.TimezoneStandard()
    part.add("dtstart", onset)  # VTIMEZONE DTSTART is local wall time, without a zone
    part.add("tzoffsetfrom", before)
    part.add("tzoffsetto", after)
    part.add("tzname", name)
    component.add_component(part)
    return part


def transitions(tz: ZoneInfo, year: int) -> list[dt.datetime]:
    """The UTC instants in ``year`` at which the zone's offset changes."""
    found = []
    cursor = dt.datetime(year, 1, 1, tzinfo=UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=UTC)
    step = dt.timedelta(days=1)
    while cursor < end:
        nxt = cursor + step
        if cursor.astimezone(tz).utcoffset() != nxt.astimezone(tz).utcoffset():
            lo, hi = cursor, nxt
            while hi - lo > dt.timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == lo.astimezone(tz).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append(hi.replace(microsecond=0))
        cursor = nxt
    return found


def _offset(when: dt.datetime, tz: ZoneInfo) -> dt.timedelta:
    offset = when.astimezone(tz).utcoffset()
    assert offset is not None
    return offset


def _rules_for(tz: ZoneInfo, instant: dt.datetime) -> list[Rule]:
    """Candidate (month, nth, weekday, wall time) descriptions of one transition."""
    before = _offset(instant - dt.timedelta(seconds=1), tz)
    wall = (instant + before).replace(tzinfo=None)
    nth = (wall.day - 1) // 7 + 1
    days = calendar.monthrange(wall.year, wall.month)[1]
    candidates = []
    if nth <= 4:
        candidates.append((wall.month, nth, wall.weekday(), wall.time()))
    if wall.day + 7 > days:
        candidates.append((wall.month, -1, wall.weekday(), wall.time()))
    return candidates


def _onset(rule: Rule, year: int) -> dt.datetime:
    """The local wall time the rule gives in ``year``."""
    month, nth, weekday, time = rule
    days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1)
            if dt.date(year, month, d).weekday() == weekday]
    return dt.datetime.combine(dt.date(year, month, days[nth - 1 if nth > 0 else -1]), time)


def _yearly_rules(
    tz: ZoneInfo, found: dict[int, list[dt.datetime]], year: int,
) -> tuple[int, list[tuple[Rule, dt.timedelta, dt.timedelta, str, bool]]] | None:
    """The zone's current rule as two yearly observances, and the first year it holds.

    None when the years around the meeting do not show two transitions a year
    that one (month, nth weekday, time) rule each reproduces.
    """
    last = year + CHECK_YEARS
    if any(len(found[y]) != 2 for y in range(year, last + 1)):
        return None
    rules = []
    for instant in found[last]:
        before = _offset(instant - dt.timedelta(seconds=1), tz)
        after = _offset(instant, tz)
        rule = next((r for r in _rules_for(tz, instant)
                     if all(_holds(r, before, after, tz, found[y], y)
                            for y in range(year, last + 1))), None)
        if rule is None:
            return None
        local = instant.astimezone(tz)
        rules.append((rule, before, after, local.tzname() or tz.key, bool(local.dst())))
    start = year
    while start - 1 >= EPOCH_YEAR and len(found[start - 1]) == 2 and all(
            _holds(rule, before, after, tz, found[start - 1], start - 1)
            for rule, before, after, _, _ in rules):
        start -= 1
    return start, rules


def _holds(rule: Rule, before: dt.timedelta, after: dt.timedelta, tz: ZoneInfo,
           instants: list[dt.datetime], year: int) -> bool:
    """The rule gives one of the year's transitions, with the same offsets."""
    at = (_onset(rule, year) - before).replace(tzinfo=UTC)
    return any(t == at and _offset(t - dt.timedelta(seconds=1), tz) == before
               and _offset(t, tz) == after for t in instants)
