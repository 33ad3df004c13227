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
import recurring_ical_events

from villaged.domain.addresses import normalize
from villaged.domain.errors import VillagedError
from villaged.ports.backend import Interval, merge_intervals
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
            for event in recurring_ical_events.of(calendar).between(start, end):
                interval = event_busy(event, owner, tz)
                if interval and interval[0] < end and start < interval[1]:
                    found.append(interval)
    return merge_intervals(found)


def event_busy(event: icalendar.Event, owner: set[str], tz: ZoneInfo) -> Interval | None:
    """The event's span if it makes the owner busy, else None."""
    transp = str(event.get("TRANSP", "")).upper()
    if transp == "TRANSPARENT" or str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    begin = event.get("DTSTART")
    if begin is None:
        return None
    all_day = not isinstance(begin.dt, dt.datetime)
    if all_day and transp != "OPAQUE":
        return None
    if _owner_declined(event, owner):
        return None
    try:
        first, last = event.start, event.end
    except (ValueError, KeyError, TypeError):  # malformed: no usable end
        return None
    return _aware(first, tz), _aware(last, tz)


def _owner_declined(event: icalendar.Event, owner: set[str]) -> bool:
    attendees = event.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    for attendee in attendees:
        address = str(attendee)
        if address.lower().startswith("mailto:"):
            address = address[len("mailto:"):]
        if normalize(address) in owner:
            partstat = str(getattr(attendee, "params", {}).get("PARTSTAT", "")).upper()
            if partstat == "DECLINED":
                return True
    return False


def _aware(when: dt.date | dt.datetime, tz: ZoneInfo) -> dt.datetime:
    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time(0, 0))
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.astimezone(dt.UTC)


def _read(path: Path) -> list[icalendar.Calendar]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise unreadable(path, "calendar", "backend.calendars", exc) from exc
    try:
        return list(icalendar.Calendar.from_ical(data, multiple=True))
    except ValueError as exc:
        raise VillagedError(f"the calendar {path} is not valid iCalendar: {exc}",
                            fix="export it again from your calendar app") from exc
