"""Bounded expansion of recurring events: one endless RRULE cannot eat the machine.

Every calendar backend expands recurrences through here (the local .ics files,
the busy-time reader, CalDAV), or, when its server expands them (Google's
``singleEvents``), counts occurrences per series with ``SeriesCap``. The
bound is per event, in time and in memory:

* ``MAX_OCCURRENCES``: at most this many occurrences of one event in the
  window. A contact rule needs to know that a meeting recurs, not a million
  instances of it: a daily meeting over the default 13-month window is ~400.
* ``MAX_STEPS``: at most this many occurrences from the event's first one to
  the window's end, which is what an RRULE expander steps through (an
  every-minute event that started years ago costs that much even for a
  small window).

Both are estimated *before* expanding, from the RRULE's frequency, interval,
BY-lists, COUNT and UNTIL (an upper bound); an event over either bound is
left out whole (its overrides with it) and reported, never half-expanded.
What the estimate lets through is capped again after expansion, so RDATE
lists and surprises are bounded too. The skipped excess is reported as skip
counts (``TOO_FREQUENT`` series, ``OVER_LIMIT`` occurrences) that `villaged
sync` prints and the store keeps.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import icalendar
import recurring_ical_events

log = logging.getLogger(__name__)

MAX_OCCURRENCES = 1000
MAX_STEPS = 100_000
TOO_FREQUENT = "recurring event too frequent to expand"
OVER_LIMIT = f"occurrences over {MAX_OCCURRENCES} per event"

_PERIOD = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": 86400,
           "WEEKLY": 7 * 86400, "MONTHLY": 28 * 86400, "YEARLY": 365 * 86400}
_ORDER = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# a BY-list expands (multiplies) the set when it is finer than the frequency
_EXPANDS = {"BYSECOND": "SECONDLY", "BYMINUTE": "MINUTELY", "BYHOUR": "HOURLY",
            "BYMONTHDAY": "DAILY", "BYYEARDAY": "DAILY", "BYWEEKNO": "WEEKLY",
            "BYMONTH": "MONTHLY"}


@dataclass
class Expansion:
    occurrences: list[Any] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def _aware(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0), tzinfo=dt.UTC)
    return None


def _per_period(rule: Any, freq: str) -> int:
    """Upper bound of occurrences per FREQ period from the expanding BY-lists."""
    rank = _ORDER.index(freq)
    many = 1
    for name, finest in _EXPANDS.items():
        values = rule.get(name)
        if values and _ORDER.index(finest) < rank:
            many *= len(values)
    days = rule.get("BYDAY")
    if days:
        if freq == "WEEKLY":
            many *= len(days)
        elif freq == "MONTHLY":
            many *= len(days) * 5
        elif freq == "YEARLY":
            many *= len(days) * (5 if rule.get("BYMONTH") or rule.get("BYWEEKNO") else 53)
    return max(1, many)


def estimate(rule: Any, first: dt.datetime, start: dt.datetime, end: dt.datetime
             ) -> tuple[int, int]:
    """(steps from ``first`` to ``end``, occurrences in [start, end)) for one RRULE:
    upper bounds, cheap (no expansion)."""
    freq = str((rule.get("FREQ") or ["DAILY"])[0]).upper()
    if freq not in _PERIOD:
        return 0, 0
    interval = max(1, int((rule.get("INTERVAL") or [1])[0]))
    until = _aware((rule.get("UNTIL") or [None])[0])
    last = min(end, until) if until else end
    step = _PERIOD[freq] * interval
    many = _per_period(rule, freq)

    def periods(a: dt.datetime, b: dt.datetime) -> int:
        seconds = (b - a).total_seconds()
        return 0 if seconds < 0 else math.ceil(seconds / step) + 1

    steps = periods(first, last) * many
    inside = periods(max(first, start), last) * many
    count = (rule.get("COUNT") or [None])[0]
    if count is not None:
        steps, inside = min(steps, int(count)), min(inside, int(count))
    return steps, inside


def series_cost(events: Iterable[Any], start: dt.datetime, end: dt.datetime
                ) -> tuple[int, int]:
    """(steps, occurrences in the window) for the VEVENTs sharing one UID."""
    steps = inside = 0
    for event in events:
        if "RECURRENCE-ID" in event:
            continue
        try:
            first = _aware(event.decoded("DTSTART"))
        except (KeyError, ValueError, TypeError):
            continue
        if first is None:
            continue
        rules = event.get("RRULE")
        for rule in rules if isinstance(rules, list) else [rules] if rules else []:
            s, i = estimate(rule, first, start, end)
            steps, inside = steps + s, inside + i
        rdates = event.get("RDATE")
        for rdate in rdates if isinstance(rdates, list) else [rdates] if rdates else []:
            n = len(getattr(rdate, "dts", []) or [])
            steps, inside = steps + n, inside + n
    return steps, inside


def expand(calendar: icalendar.Calendar, start: dt.datetime, end: dt.datetime,
           name: str = "calendar", limit: int = MAX_OCCURRENCES, max_steps: int = MAX_STEPS
           ) -> Expansion:
    """The occurrences of ``calendar``'s events in [start, end), each event bounded.

    Raises what recurring-ical-events raises for a broken calendar: callers
    that want one bad event to cost only itself expand UID by UID (``by_uid``).
    """
    result = Expansion()
    by_uid: dict[str, list[Any]] = {}
    others = []
    for component in calendar.subcomponents:
        if component.name == "VEVENT":
            by_uid.setdefault(str(component.get("UID", "")), []).append(component)
        else:
            others.append(component)
    kept: list[Any] = []
    for events in by_uid.values():
        steps, inside = series_cost(events, start, end)
        if steps > max_steps or inside > limit:
            log.warning("%s: leaving out a recurring event that would expand to about %d "
                        "occurrences (%d in the window; the limit is %d)", name, steps,
                        inside, limit)
            result.skipped[TOO_FREQUENT] += 1
            continue
        kept.extend(events)
    if len(kept) != sum(len(e) for e in by_uid.values()):
        calendar = _with(calendar, others + kept)
    cap = SeriesCap(limit)
    for occurrence in recurring_ical_events.of(calendar).between(start, end):
        if cap.take(str(occurrence.get("UID", ""))):
            result.occurrences.append(occurrence)
    result.skipped.update(cap.skipped)
    return result


def by_uid(calendar: icalendar.Calendar) -> list[icalendar.Calendar]:
    """One calendar per UID (with the shared VTIMEZONEs), to expand one at a time."""
    shared = [c for c in calendar.subcomponents if c.name != "VEVENT"]
    groups: dict[str, list[Any]] = {}
    for c in calendar.subcomponents:
        if c.name == "VEVENT":
            groups.setdefault(str(c.get("UID", "")), []).append(c)
    return [_with(calendar, shared + events) for events in groups.values()]


def _with(calendar: icalendar.Calendar, components: list[Any]) -> icalendar.Calendar:
    copy = icalendar.Calendar()
    for key, value in calendar.items():
        copy.add(key, value)
    copy.subcomponents = components
    return copy


class SeriesCap:
    """Counts occurrences per series; ``take`` is False past the limit (and counts it).

    For backends whose server expands recurrences (Google's ``singleEvents``):
    call ``take(series_id)`` for every occurrence, keep it only if True.
    """

    def __init__(self, limit: int = MAX_OCCURRENCES) -> None:
        self.limit = limit
        self.seen: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()

    def take(self, series: str | None) -> bool:
        if not series:
            return True
        self.seen[series] += 1
        if self.seen[series] > self.limit:
            self.skipped[OVER_LIMIT] += 1
            return False
        return True
