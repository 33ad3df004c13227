"""Busy times from local .ics calendars, for placing a first meeting.

An event makes the owner busy unless it is transparent ("show me as
free"), cancelled, or declined by the owner. All-day events count only when
they say TRANSP:OPAQUE outright: calendars (Google's among them) treat
all-day entries such as birthdays and holidays as free by default.
Recurring events are expanded with recurring-ical-events; floating times are
read in the owner's zone.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from villaged.core import recurrence
from villaged.core.icalendar_events import event_busy
from villaged.domain.addresses import normalize
from villaged.ports.backend import CalendarUnreadable, Interval, merge_intervals
from villaged.ports.source import unreadable

log = logging.getLogger(__name__)



def calendar_files(paths: Iterable[Path]) -> list[Path]:
    """The .ics files named, or found inside named folders."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.rglob("*.ics")))
        else:
            files.append(path)
    return files


def busy_intervals(
    paths: Iterable[Path],
    owner_addresses: Sequence[str],
    tz: ZoneInfo,
    start: dt.datetime,
    end: dt.datetime,
) -> list[Interval]:
    """Sorted, merged busy intervals (aware, UTC) that overlap [start, end)."""
    owner = {normalize(a) for a in owner_addresses}
    found: list[Interval] = []
    for path in calendar_files(paths):
        for calendar in _read(path):
            try:  # bounded per event: an endless RRULE is left out (recurrence.py)
                occurrences = recurrence.expand(calendar, start, end, str(path)).occurrences
            except Exception as exc:  # recurring-ical-events raises many kinds on garbage
                raise CalendarUnreadable(
                    f"the calendar {path} cannot be expanded ({type(exc).__name__})",
                    fix="export it again from your calendar app, or remove it from "
                        "[backend] calendars") from exc
            for event in occurrences:
                interval = event_busy(event, owner, tz)
                if interval and interval[0] < end and start < interval[1]:
                    found.append(interval)
    return merge_intervals(found)


def _read(path: Path) -> list[icalendar.Calendar]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        problem = unreadable(path, "calendar", "backend.calendars", exc)
        raise CalendarUnreadable(problem.message, problem.fix) from exc
    try:
        return list(icalendar.Calendar.from_ical(data, multiple=True))
    except Exception as exc:  # icalendar raises ValueError and friends on garbage
        raise CalendarUnreadable(f"the calendar {path} is not valid iCalendar "
                                 f"({type(exc).__name__})",
                                 fix="export it again from your calendar app") from exc
