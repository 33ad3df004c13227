"""A VTIMEZONE for the owner's zone, in the form calendar apps themselves write (pure).

icalendar can generate a VTIMEZONE from zoneinfo, but it lists every
transition as comma-separated RDATEs, and some widely used readers (vobject,
and through it dateutil's tzical) keep only the first RDATE of a line and so
read the wrong offset for every later date. Outlook, Google and Apple write
one STANDARD and one DAYLIGHT observance with a yearly RRULE ("2nd Sunday of
March at 02:00"). This module derives that rule from zoneinfo's transitions
and checks it against zoneinfo for the years around the meeting; a zone
whose current rule it cannot express that way falls back to icalendar's
RDATE form.
"""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

import icalendar

UTC = dt.UTC
_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
CHECK_YEARS = 12


def vtimezone(tz: ZoneInfo, around: dt.datetime) -> icalendar.Timezone:
    """A VTIMEZONE for ``tz`` valid for events from ``around`` on."""
    year = around.astimezone(tz).year
    component = _rule_based(tz, year)
    if component is not None:
        return component
    return icalendar.Timezone.from_tzinfo(
        tz, tzid=tz.key, first_date=dt.date(year - 1, 1, 1), last_date=dt.date(year + 30, 1, 1))


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


def _rules_for(tz: ZoneInfo, instant: dt.datetime) -> list[tuple[int, int, int, dt.time]]:
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


def _onset(rule: tuple[int, int, int, dt.time], year: int) -> dt.datetime:
    """The local wall time the rule gives in ``year``."""
    month, nth, weekday, time = rule
    days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1)
            if dt.date(year, month, d).weekday() == weekday]
    return dt.datetime.combine(dt.date(year, month, days[nth - 1 if nth > 0 else -1]), time)


def _rule_based(tz: ZoneInfo, year: int) -> icalendar.Timezone | None:
    years = range(year - 1, year + CHECK_YEARS)
    found = {y: transitions(tz, y) for y in years}
    component = icalendar.Timezone()
    component.add("tzid", tz.key)
    if not any(found.values()):
        offset = _offset(dt.datetime(year, 1, 1, tzinfo=UTC), tz)
        standard = icalendar.TimezoneStandard()
        standard.add("dtstart", dt.datetime(1970, 1, 1))  # noqa: DTZ001 - VTIMEZONE DTSTART is local time
        standard.add("tzoffsetfrom", offset)
        standard.add("tzoffsetto", offset)
        standard.add("tzname", dt.datetime(year, 1, 1, tzinfo=tz).tzname() or tz.key)
        component.add_component(standard)
        return component
    if any(len(found[y]) != 2 for y in years):
        return None
    first = found[years[0]]
    for instant in first:
        before = _offset(instant - dt.timedelta(seconds=1), tz)
        after = _offset(instant, tz)
        rule = next((r for r in _rules_for(tz, instant)
                     if all(any((_onset(r, y) - before).replace(tzinfo=UTC) == t
                                for t in found[y]) for y in years)), None)
        if rule is None:
            return None
        month, nth, weekday, _ = rule
        daylight = bool(instant.astimezone(tz).dst())
        part = icalendar.TimezoneDaylight() if daylight else icalendar.TimezoneStandard()
        part.add("dtstart", _onset(rule, years[0]))
        part.add("rrule", {"FREQ": "YEARLY", "BYMONTH": month,
                           "BYDAY": f"{nth}{_CODES[weekday]}"})
        part.add("tzoffsetfrom", before)
        part.add("tzoffsetto", after)
        part.add("tzname", instant.astimezone(tz).tzname() or tz.key)
        component.add_component(part)
    return component
