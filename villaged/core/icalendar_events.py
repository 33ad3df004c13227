"""iCalendar data → meeting interactions and busy intervals (pure).

The one reading of calendar data that every backend with raw iCalendar uses
(.ics files in the local backend, CalDAV resources in the IMAP backend):
icalendar parses, recurring-ical-events expands RRULE, RDATE, EXDATE and
RECURRENCE-ID overrides (and X-WR-TIMEZONE is honoured), each occurrence
becomes ``EventFacts`` and goes through ``classify_event``; broken events are
counted and left out, never fatal. ``event_busy`` says whether an expanded
event makes the owner busy (not transparent, cancelled or declined by the
owner; all-day only when explicitly opaque).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import icalendar

from villaged.core import recurrence
from villaged.core.contact import EventFacts, classify_event
from villaged.domain.addresses import Matcher, normalize
from villaged.domain.village import Interaction, Thresholds

try:  # a Google export may name its zone only in X-WR-TIMEZONE
    import x_wr_timezone
except ImportError:  # pragma: no cover - installed with recurring-ical-events
    x_wr_timezone = None

log = logging.getLogger(__name__)

UNPARSEABLE = "unparseable calendar"
BROKEN_EVENT = "broken event"
TIME_PROPERTIES = frozenset({"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE",
                             "RECURRENCE-ID"})
_MAILTO = re.compile(r"^\s*mailto:", re.IGNORECASE)
_UTC = dt.UTC
Span = tuple[dt.datetime, dt.datetime]


def address_of(value: Any) -> str:
    """The email address of an ORGANIZER or ATTENDEE value."""
    text = _MAILTO.sub("", str(value)).strip()
    params = getattr(value, "params", None) or {}
    if "@" not in text and "@" in str(params.get("EMAIL", "")):
        text = _MAILTO.sub("", str(params["EMAIL"])).strip()
    return text


def as_utc(value: dt.date | dt.datetime, owner_tz: dt.tzinfo) -> dt.datetime:
    """An aware UTC datetime; dates and floating times are read in the owner's zone."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0), tzinfo=owner_tz)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=owner_tz)
    return value.astimezone(_UTC)


def occurrence_uid(uid: str, start: dt.datetime) -> str:
    return f"{uid}@{start.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def expand_calendar(data: bytes, first: dt.date, last: dt.date, matcher: Matcher,
                    limits: Thresholds, source: str, owner_tz: dt.tzinfo,
                    ) -> tuple[list[Interaction], Counter[str], bool]:
    """(interactions, skipped, parsed) for every occurrence in [first, last] (whole UTC days).

    ``source`` names the interactions (and the log lines); dates and floating
    times are read in ``owner_tz``. Never raises on broken data."""
    skipped: Counter[str] = Counter()
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception as exc:  # icalendar raises ValueError and friends
        # (the exception's text may quote the calendar: log only its kind)
        log.warning("%s: cannot parse the calendar (%s)", source, type(exc).__name__)
        skipped[UNPARSEABLE] += 1
        return [], skipped, False
    if not calendars:
        skipped[UNPARSEABLE] += 1
        return [], skipped, False
    start = dt.datetime.combine(first, dt.time(0), tzinfo=_UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=_UTC)
    interactions: list[Interaction] = []
    for calendar in calendars:
        for occurrence, recurring in _occurrences(source, calendar, start, end, skipped):
            facts = _facts(source, owner_tz, occurrence, recurring)
            if facts is None:
                skipped[BROKEN_EVENT] += 1
                continue
            interactions.extend(classify_event(facts, matcher, limits, source))
    return interactions, skipped, True


def _occurrences(name: str, calendar: icalendar.Calendar, start: dt.datetime,
                 end: dt.datetime, skipped: Counter[str]
                 ) -> Iterator[tuple[Any, set[str]]]:
    """Yield (occurrence, recurring UIDs); broken events are counted and left out."""
    if x_wr_timezone is not None:
        try:
            calendar = x_wr_timezone.to_standard(calendar)
        except Exception as exc:  # a bad X-WR-TIMEZONE: read the times as they are
            log.warning("%s: ignoring X-WR-TIMEZONE (%s)", name, type(exc).__name__)
    kept = []
    for component in calendar.subcomponents:
        if component.name == "VEVENT" and not _usable(component):
            skipped[BROKEN_EVENT] += 1
            continue
        kept.append(component)
    calendar.subcomponents = kept
    recurring = {str(c.get("UID", "")) for c in kept if c.name == "VEVENT"
                 and ("RRULE" in c or "RDATE" in c or "RECURRENCE-ID" in c)}
    try:  # bounded per event (recurrence.py): an endless RRULE is left out and reported
        expansion = recurrence.expand(calendar, start, end, name)
        occurrences = expansion.occurrences
        skipped.update(expansion.skipped)
    except Exception as exc:
        log.warning("%s: expanding event by event after %s", name,
                    type(exc).__name__)
        occurrences = _one_by_one(name, calendar, start, end, skipped)
    for occurrence in occurrences:
        yield occurrence, recurring


def _one_by_one(name: str, calendar: icalendar.Calendar, start: dt.datetime,
                end: dt.datetime, skipped: Counter[str]) -> list[icalendar.Event]:
    """Expand each UID on its own, so one bad event costs only itself."""
    result: list[icalendar.Event] = []
    for single in recurrence.by_uid(calendar):
        try:
            expansion = recurrence.expand(single, start, end, name)
        except Exception as exc:
            log.warning("%s: skipping a broken event (%s)", name, type(exc).__name__)
            skipped[BROKEN_EVENT] += 1
            continue
        result.extend(expansion.occurrences)
        skipped.update(expansion.skipped)
    return result


def _facts(name: str, owner_tz: dt.tzinfo, occurrence: icalendar.Event,
           recurring: set[str]) -> EventFacts | None:
    try:
        uid = str(occurrence.get("UID", "")).strip()
        begin = as_utc(occurrence.decoded("DTSTART"), owner_tz)
        if not uid:
            uid = "sha1:" + hashlib.sha1(
                f"{begin.isoformat()}|{occurrence.get('SUMMARY', '')}".encode()).hexdigest()
        attendees = occurrence.get("ATTENDEE", [])
        if not isinstance(attendees, list):
            attendees = [attendees]
        organizer = occurrence.get("ORGANIZER")
        return EventFacts(
            uid=occurrence_uid(uid, begin),
            start=begin,
            summary=" ".join(str(occurrence.get("SUMMARY", "")).split()),
            cancelled=str(occurrence.get("STATUS", "")).strip().upper() == "CANCELLED",
            organizer=address_of(organizer) if organizer else None,
            attendees=tuple(
                (address_of(a), str(getattr(a, "params", {}).get("PARTSTAT", "NEEDS-ACTION"))
                 .upper()) for a in attendees),
            series=uid if uid in recurring else None,
        )
    except Exception as exc:  # a broken property surfaces only when read
        log.warning("%s: skipping a broken occurrence (%s)", name,
                    type(exc).__name__)
        return None


def _usable(event: icalendar.Component) -> bool:
    """False for an event whose times cannot be read (it would break expansion)."""
    if "DTSTART" not in event:
        return False
    errors = getattr(event, "errors", None) or []
    return not any(str(name).upper() in TIME_PROPERTIES for name, _ in errors)


def event_busy(event: icalendar.Event, owner: set[str], tz: dt.tzinfo) -> Span | None:
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


def _aware(when: dt.date | dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time(0, 0))
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.astimezone(dt.UTC)
