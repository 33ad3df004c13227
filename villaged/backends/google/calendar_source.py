"""A Google Calendar as a source of meetings: one source (and one cursor) per calendar.

A full sync lists the calendar's events with ``singleEvents=true`` (each
occurrence of a recurring event on its own) in a window from the lookback to
the future horizon, with a ``fields=`` partial response, and keeps the
``nextSyncToken``. Later syncs send only that token (never together with
timeMin, timeMax, orderBy or q, which Google refuses, as gcal_sync does) and
get back just what changed. A 410 Gone means the token expired: the stored
state for the calendar is cleared and it is listed in full again
(``SyncBatch(replace=True)``). Every week the window is moved on the same
way, so events that drift into the horizon are seen.

Each changed event replaces what was stored for it (its uid is in
``removed_uids`` and its current interactions follow), so a cancelled or
deleted event, a removed attendee or a new decline takes back the contact
it used to promise. Declines by either side, cancellations and the
attendee-count rule are the core rules (``contact.classify_event``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import replace as replace_field
from typing import Any
from zoneinfo import ZoneInfo

from villaged.backends.google.api import GoogleApi
from villaged.core.contact import EventFacts, classify_event
from villaged.core.recurrence import SeriesCap
from villaged.domain.errors import GoneError
from villaged.domain.village import Interaction
from villaged.ports.cursor import Cursor
from villaged.ports.source import SyncBatch, SyncContext, window_still_fresh

log = logging.getLogger(__name__)

PAGE = 2500
EVENT_FIELDS = ("nextPageToken,nextSyncToken,items(id,status,summary,start,recurringEventId,"
                "organizer(email,self),attendees(email,responseStatus,self,resource,organizer))")
PARTSTAT = {"accepted": "ACCEPTED", "declined": "DECLINED", "tentative": "TENTATIVE",
            "needsAction": "NEEDS-ACTION"}


class SyncTokenGone(Exception):
    """events.list answered 410: the sync token expired."""


def parse_start(start: Any, zone: dt.tzinfo) -> dt.datetime | None:
    """An event's start as aware UTC; all-day events start at midnight in ``zone``."""
    if not isinstance(start, dict):
        return None
    try:
        if isinstance(start.get("dateTime"), str):
            when = dt.datetime.fromisoformat(start["dateTime"].replace("Z", "+00:00"))
            if when.tzinfo is None:
                tz = start.get("timeZone")
                when = when.replace(tzinfo=ZoneInfo(tz) if isinstance(tz, str) else zone)
            return when.astimezone(dt.UTC)
        if isinstance(start.get("date"), str):
            day = dt.date.fromisoformat(start["date"])
            return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    except (ValueError, KeyError, OverflowError):
        return None
    return None


def event_facts(event: dict[str, Any], zone: dt.tzinfo) -> EventFacts | None:
    start = parse_start(event.get("start"), zone)
    if start is None:
        return None
    attendees = tuple(
        (a["email"], PARTSTAT.get(str(a.get("responseStatus")), "NEEDS-ACTION"))
        for a in event.get("attendees") or ()
        if isinstance(a, dict) and isinstance(a.get("email"), str) and not a.get("resource")
    )
    organizer = event.get("organizer")
    summary = event.get("summary")
    series = event.get("recurringEventId")
    return EventFacts(
        uid=str(event["id"]),
        start=start,
        summary=summary if isinstance(summary, str) else "",
        cancelled=event.get("status") == "cancelled",
        organizer=organizer.get("email") if isinstance(organizer, dict)
        and isinstance(organizer.get("email"), str) else None,
        attendees=attendees,
        series=series if isinstance(series, str) else None,
    )


@dataclass(frozen=True)
class CalendarCursor(Cursor):
    """The sync token, and the window and moment of the full listing it continues."""

    KIND = "gcalendar"
    VERSION = 1

    sync_token: str
    full_at: str  # when the window was last listed in full (ISO, aware)
    lookback_days: int
    horizon_days: int


class CalendarSource:
    """One Google calendar. ``name`` is "gcalendar:" + the calendar id."""

    def __init__(self, api: GoogleApi, calendar_id: str, zone: dt.tzinfo) -> None:
        self.api = api
        self.calendar_id = calendar_id
        self.zone = zone
        self._over_limit: Counter[str] = Counter()

    @property
    def name(self) -> str:
        return f"gcalendar:{self.calendar_id}"

    def __repr__(self) -> str:
        return f"CalendarSource({self.calendar_id!r})"

    cursor_type = CalendarCursor

    def sync(self, cursor: CalendarCursor | None, ctx: SyncContext) -> Iterator[SyncBatch]:
        if cursor is not None and self._usable(cursor, ctx):
            try:
                items, token = self._list(ctx, sync_token=cursor.sync_token)
            except SyncTokenGone:
                log.info("%s: sync token expired (410); clearing and resyncing", self.name)
            else:
                if items or token != cursor.sync_token:
                    yield self._batch(items, ctx, replace_field(cursor, sync_token=token),
                                      replace=False)
                return
        items, token = self._list(ctx, sync_token=None)
        cursor_now = CalendarCursor(sync_token=token, full_at=ctx.now.isoformat(),
                                    lookback_days=ctx.limits.lookback_days,
                                    horizon_days=ctx.limits.horizon_days)
        yield self._batch(items, ctx, cursor_now, replace=True)

    def _usable(self, cursor: CalendarCursor, ctx: SyncContext) -> bool:
        if not cursor.sync_token:
            return False
        if (cursor.lookback_days, cursor.horizon_days) != (
                ctx.limits.lookback_days, ctx.limits.horizon_days):
            return False
        return window_still_fresh(cursor.full_at, ctx.now)

    def _list(self, ctx: SyncContext, sync_token: str | None) -> tuple[list[dict[str, Any]], str]:
        events = self.api.calendar.events()
        params: dict[str, Any] = {"calendarId": self.calendar_id, "singleEvents": True,
                                  "maxResults": PAGE, "fields": EVENT_FIELDS}
        if sync_token:
            params["syncToken"] = sync_token  # alone: no timeMin/timeMax/orderBy/q with it
        else:
            params["timeMin"] = _rfc3339(ctx.now - dt.timedelta(days=ctx.limits.lookback_days))
            params["timeMax"] = _rfc3339(ctx.now + dt.timedelta(days=ctx.limits.horizon_days))
        items: list[dict[str, Any]] = []
        page_token = None
        # Google expands recurrences itself (singleEvents): bound what we keep per
        # series, as the local expansion does, and report the excess
        cap = SeriesCap()
        self._over_limit = cap.skipped
        while True:
            request = events.list(**params, pageToken=page_token) if page_token else \
                events.list(**params)
            try:
                page = self.api.execute(request)
            except GoneError as exc:
                if sync_token:
                    raise SyncTokenGone() from exc
                raise
            items.extend(i for i in page.get("items") or ()
                         if isinstance(i, dict) and cap.take(i.get("recurringEventId")))
            page_token = page.get("nextPageToken")
            if not page_token:
                return items, str(page.get("nextSyncToken") or "")

    def _batch(self, items: list[dict[str, Any]], ctx: SyncContext, cursor: CalendarCursor,
               replace: bool) -> SyncBatch:
        interactions: list[Interaction] = []
        removed: list[str] = []
        skipped: Counter[str] = Counter(self._over_limit)
        for event in items:
            if not isinstance(event.get("id"), str):
                skipped["event without an id"] += 1
                continue
            removed.append(event["id"])  # whatever it said before is replaced
            if event.get("status") == "cancelled":
                continue
            facts = event_facts(event, self.zone)
            if facts is None:
                skipped["event without a usable start"] += 1
                continue
            interactions.extend(classify_event(facts, ctx.matcher, ctx.limits, self.name))
        log.info("%s: %d events, %d meeting interactions%s", self.name, len(items),
                 len(interactions), " (full)" if replace else "")
        return SyncBatch(interactions=interactions, cursor=cursor if cursor.sync_token else None,
                         removed_uids=[] if replace else removed, skipped=skipped, replace=replace)


def _rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
