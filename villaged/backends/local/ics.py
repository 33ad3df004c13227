"""An .ics calendar file (Google or Outlook export) as a source of meetings.

The file is parsed with icalendar and its events are expanded with
recurring-ical-events over the window [now - lookback_days, now +
horizon_days] (RRULE, RDATE, EXDATE and RECURRENCE-ID overrides included).
Each occurrence becomes ``EventFacts`` and goes through ``classify_event``.

Incremental sync: the cursor holds the file's SHA-256, the window's first and
last day, and the (uid, person) keys it stored. An unchanged file over the
same window yields nothing; otherwise the whole window is expanded again and
one batch carries every occurrence, with ``removed_uids`` for occurrences
that are gone (or changed attendees) and skip counts as a difference, so the
store ends up exactly as a full rescan would leave it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from villaged.core.contact import EventFacts, classify_event
from villaged.domain.village import Interaction
from villaged.ports.cursor import Cursor
from villaged.ports.source import SyncBatch, SyncContext, unreadable

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


@dataclass(frozen=True)
class IcsCursor(Cursor):
    """The file's digest, the window read, and what it stored."""

    KIND = "ics"
    VERSION = 1

    sha256: str
    start: str  # first and last UTC day of the window, ISO
    end: str
    keys: tuple[tuple[str, str], ...]  # (uid, person) of every interaction stored
    skipped: dict[str, int]


class IcsSource:
    """One .ics file. ``name`` is "ics:" + its absolute path."""

    def __init__(self, path: Path, owner_tz: dt.tzinfo | str = "UTC") -> None:
        self.path = Path(os.path.abspath(path))
        self.owner_tz = ZoneInfo(owner_tz) if isinstance(owner_tz, str) else owner_tz

    @property
    def name(self) -> str:
        return f"ics:{self.path}"

    def __repr__(self) -> str:
        return f"IcsSource({str(self.path)!r})"

    def window(self, ctx: SyncContext) -> tuple[dt.date, dt.date]:
        """First and last UTC day read: whole days, so the window (and the
        cursor) changes once a day rather than on every run."""
        now = ctx.now.astimezone(_UTC)
        return ((now - dt.timedelta(days=ctx.limits.lookback_days)).date(),
                (now + dt.timedelta(days=ctx.limits.horizon_days)).date())

    cursor_type = IcsCursor

    def sync(self, cursor: IcsCursor | None, ctx: SyncContext) -> Iterator[SyncBatch]:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise unreadable(self.path, "calendar file", "backend.calendars", exc) from exc
        digest = hashlib.sha256(data).hexdigest()
        first, last = self.window(ctx)
        if cursor and (cursor.sha256, cursor.start, cursor.end) == (
                digest, first.isoformat(), last.isoformat()):
            log.debug("%s: unchanged", self.name)
            return

        interactions, skipped, parsed = self.expand(data, first, last, ctx)
        previous_keys = set(cursor.keys) if cursor else set()
        if parsed:
            keys = {(i.uid, i.person) for i in interactions}
        else:  # keep what a half-written or broken file cannot confirm or deny
            keys = previous_keys
        removed = sorted({uid for uid, person in previous_keys - keys})
        delta = Counter(skipped)
        if cursor:
            delta.subtract(cursor.skipped)
        new_cursor = IcsCursor(sha256=digest, start=first.isoformat(), end=last.isoformat(),
                               keys=tuple(sorted(keys)), skipped=dict(skipped))
        log.info("%s: %d meeting interactions in %s..%s, %d removed", self.name,
                 len(interactions), first, last, len(removed))
        yield SyncBatch(interactions=interactions, cursor=new_cursor, removed_uids=removed,
                        skipped=Counter({k: v for k, v in delta.items() if v}),
                        replace=cursor is None)
        ctx.progress(1, 1)

    def expand(self, data: bytes, first: dt.date, last: dt.date, ctx: SyncContext,
               ) -> tuple[list[Interaction], Counter[str], bool]:
        """(interactions, skipped, parsed) for every occurrence in the window."""
        skipped: Counter[str] = Counter()
        try:
            calendars = icalendar.Calendar.from_ical(data, multiple=True)
        except Exception as exc:  # icalendar raises ValueError and friends
            # (the exception's text may quote the calendar: log only its kind)
            log.warning("%s: cannot parse the calendar (%s)", self.name, type(exc).__name__)
            skipped[UNPARSEABLE] += 1
            return [], skipped, False
        if not calendars:
            skipped[UNPARSEABLE] += 1
            return [], skipped, False
        start = dt.datetime.combine(first, dt.time(0), tzinfo=_UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=_UTC)
        interactions: list[Interaction] = []
        for calendar in calendars:
            for occurrence, recurring in self._occurrences(calendar, start, end, skipped):
                facts = self._facts(occurrence, recurring)
                if facts is None:
                    skipped[BROKEN_EVENT] += 1
                    continue
                interactions.extend(classify_event(facts, ctx.matcher, ctx.limits, self.name))
        return interactions, skipped, True

    def _occurrences(self, calendar: icalendar.Calendar, start: dt.datetime,
                     end: dt.datetime, skipped: Counter[str]
                     ) -> Iterator[tuple[Any, set[str]]]:
        """Yield (occurrence, recurring UIDs); broken events are counted and left out."""
        if x_wr_timezone is not None:
            try:
                calendar = x_wr_timezone.to_standard(calendar)
            except Exception as exc:  # a bad X-WR-TIMEZONE: read the times as they are
                log.warning("%s: ignoring X-WR-TIMEZONE (%s)", self.name, type(exc).__name__)
        kept = []
        for component in calendar.subcomponents:
            if component.name == "VEVENT" and not _usable(component):
                skipped[BROKEN_EVENT] += 1
                continue
            kept.append(component)
        calendar.subcomponents = kept
        recurring = {str(c.get("UID", "")) for c in kept if c.name == "VEVENT"
                     and ("RRULE" in c or "RDATE" in c or "RECURRENCE-ID" in c)}
        try:
            occurrences = list(recurring_ical_events.of(calendar).between(start, end))
        except Exception as exc:
            log.warning("%s: expanding event by event after %s", self.name,
                        type(exc).__name__)
            occurrences = self._one_by_one(calendar, start, end, skipped)
        for occurrence in occurrences:
            yield occurrence, recurring

    def _one_by_one(self, calendar: icalendar.Calendar, start: dt.datetime,
                    end: dt.datetime, skipped: Counter[str]) -> list[icalendar.Event]:
        """Expand each UID on its own, so one bad event costs only itself."""
        shared = [c for c in calendar.subcomponents if c.name != "VEVENT"]
        by_uid: dict[str, list[icalendar.Component]] = {}
        for c in calendar.subcomponents:
            if c.name == "VEVENT":
                by_uid.setdefault(str(c.get("UID", "")), []).append(c)
        result: list[icalendar.Event] = []
        for uid, events in by_uid.items():
            single = icalendar.Calendar()
            for key, value in calendar.items():
                single.add(key, value)
            single.subcomponents = shared + events
            try:
                result.extend(recurring_ical_events.of(single).between(start, end))
            except Exception as exc:
                log.warning("%s: skipping event %s (%s)", self.name, uid, type(exc).__name__)
                skipped[BROKEN_EVENT] += 1
        return result

    def _facts(self, occurrence: icalendar.Event, recurring: set[str]) -> EventFacts | None:
        try:
            uid = str(occurrence.get("UID", "")).strip()
            begin = as_utc(occurrence.decoded("DTSTART"), self.owner_tz)
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
            log.warning("%s: skipping a broken occurrence (%s)", self.name,
                        type(exc).__name__)
            return None


def _usable(event: icalendar.Component) -> bool:
    """False for an event whose times cannot be read (it would break expansion)."""
    if "DTSTART" not in event:
        return False
    errors = getattr(event, "errors", None) or []
    return not any(str(name).upper() in TIME_PROPERTIES for name, _ in errors)
