"""An Outlook calendar as a source of meetings: ``calendarView/delta`` over the lookback and horizon.

A full sync asks ``/me/calendarView/delta`` (or ``/me/calendars/{id}/calendarView/delta``)
for the window from the lookback to the horizon; Graph returns each
occurrence of a recurring series on its own (``type`` occurrence or
exception, with ``seriesMasterId``), plus single events, and a delta link at
the end. Later syncs send only that link and get what changed: a changed
event replaces what was stored for it (its id goes in ``removed_uids``), a
deleted one (``@removed``) takes back the contact it promised. A rejected
link (410) clears the calendar's rows and lists the window again; so does a
week's passing, to move the window on (as the Google calendar source does).

The meeting rules are the shared ones (``contact.classify_event``): declined
by either side, cancelled (``isCancelled``), too many attendees, and
start in the future = scheduled. The owner's own answer is Graph's
``responseStatus`` (the owner's attendee entry often just says "none").
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

from villaged.backends.microsoft.api import GraphClient, GraphError
from villaged.core.contact import EventFacts, classify_event
from villaged.domain.village import Interaction
from villaged.ports.cursor import Cursor
from villaged.ports.source import SyncBatch, SyncContext, window_still_fresh

log = logging.getLogger(__name__)

PAGE = 500
RESPONSE = {
    "accepted": "ACCEPTED",
    "organizer": "ACCEPTED",
    "declined": "DECLINED",
    "tentativelyAccepted": "TENTATIVE",
    "none": "NEEDS-ACTION",
    "notResponded": "NEEDS-ACTION",
}


@dataclass(frozen=True)
class OutlookCalendarCursor(Cursor):
    """The calendarView delta link, and the window and moment of the full listing it continues."""

    KIND = "outlook-calendar"
    VERSION = 1

    link: str
    full_at: str  # ISO, aware
    lookback_days: int
    horizon_days: int


class DeltaExpired(Exception):
    pass


def parse_time(value: Any, zone: dt.tzinfo) -> dt.datetime | None:
    """A Graph dateTimeTimeZone as aware UTC (Graph answers in UTC unless asked otherwise)."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        return None
    text = value["dateTime"].replace("Z", "")
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]}"
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    tz_name = value.get("timeZone")
    tz: dt.tzinfo = dt.UTC
    if isinstance(tz_name, str) and tz_name not in ("UTC", "tzone://Microsoft/Utc"):
        try:
            tz = ZoneInfo(tz_name)
        except (KeyError, ValueError):
            tz = zone  # a Windows zone name: Graph was asked for UTC, so this is rare
    return when.replace(tzinfo=tz).astimezone(dt.UTC)


def _address(value: Any) -> str | None:
    address = ((value or {}).get("emailAddress") or {}).get("address") if isinstance(value, dict) else None
    return address if isinstance(address, str) and "@" in address else None


def event_facts(event: dict[str, Any], zone: dt.tzinfo, is_owner: Any) -> EventFacts | None:
    start = parse_time(event.get("start"), zone)
    if start is None:
        return None
    own = RESPONSE.get(str((event.get("responseStatus") or {}).get("response")), "NEEDS-ACTION")
    attendees = []
    for attendee in event.get("attendees") or ():
        if not isinstance(attendee, dict) or attendee.get("type") == "resource":
            continue
        address = _address(attendee)
        if not address:
            continue
        status = RESPONSE.get(str((attendee.get("status") or {}).get("response")), "NEEDS-ACTION")
        if is_owner(address) and own != "NEEDS-ACTION":
            status = own
        attendees.append((address, status))
    subject = event.get("subject")
    series = event.get("seriesMasterId")
    return EventFacts(
        uid=str(event["id"]),
        start=start,
        summary=subject if isinstance(subject, str) else "",
        cancelled=event.get("isCancelled") is True,
        organizer=_address(event.get("organizer")),
        attendees=tuple(attendees),
        series=series if isinstance(series, str) else None,
    )


class OutlookCalendarSource:
    """One Outlook calendar. ``name`` is "outlook-calendar:" + the calendar ("calendar" = the default)."""

    def __init__(self, client: GraphClient, calendar: str, zone: dt.tzinfo) -> None:
        self.client = client
        self.calendar = calendar
        self.zone = zone

    @property
    def name(self) -> str:
        return f"outlook-calendar:{self.calendar}"

    def __repr__(self) -> str:
        return f"OutlookCalendarSource({self.calendar!r})"

    @property
    def path(self) -> str:
        return (
            "/me/calendarView"
            if self.calendar == "calendar"
            else f"/me/calendars/{self.calendar}/calendarView"
        )

    cursor_type = OutlookCalendarCursor

    def sync(self, cursor: OutlookCalendarCursor | None, ctx: SyncContext) -> Iterator[SyncBatch]:
        if cursor is not None and self._usable(cursor, ctx):
            try:
                items, link = self._follow(cursor.link)
            except DeltaExpired:
                log.info("%s: the delta link expired; clearing and listing the window again", self.name)
            else:
                if items or link != cursor.link:
                    yield self._batch(items, ctx, replace_field(cursor, link=link), replace=False)
                return
        start = ctx.now - dt.timedelta(days=ctx.limits.lookback_days)
        end = ctx.now + dt.timedelta(days=ctx.limits.horizon_days)
        items, link = self._follow(f"{self.path}/delta?startDateTime={_iso(start)}&endDateTime={_iso(end)}")
        fresh = OutlookCalendarCursor(link=link, full_at=ctx.now.isoformat(),
                                      lookback_days=ctx.limits.lookback_days,
                                      horizon_days=ctx.limits.horizon_days)
        yield self._batch(items, ctx, fresh, replace=True)

    def _usable(self, cursor: OutlookCalendarCursor, ctx: SyncContext) -> bool:
        if not cursor.link:
            return False
        if (cursor.lookback_days, cursor.horizon_days) != (
            ctx.limits.lookback_days,
            ctx.limits.horizon_days,
        ):
            return False
        return window_still_fresh(cursor.full_at, ctx.now)

    def _follow(self, url: str) -> tuple[list[dict[str, Any]], str]:
        items: list[dict[str, Any]] = []
        prefer = {"Prefer": f"odata.maxpagesize={PAGE}"}
        while True:
            try:
                page = self.client.get(self.client.relative(url), headers=prefer)
            except GraphError as exc:
                if exc.resync:
                    raise DeltaExpired() from exc
                raise
            items.extend(i for i in (page or {}).get("value") or () if isinstance(i, dict))
            if page.get("@odata.nextLink"):
                url = str(page["@odata.nextLink"])
                continue
            return items, str(page.get("@odata.deltaLink") or "")

    def _batch(
        self, items: list[dict[str, Any]], ctx: SyncContext, cursor: OutlookCalendarCursor, replace: bool
    ) -> SyncBatch:
        interactions: list[Interaction] = []
        removed: list[str] = []
        skipped: Counter[str] = Counter()
        for event in items:
            if not isinstance(event.get("id"), str):
                skipped["event without an id"] += 1
                continue
            removed.append(event["id"])
            if "@removed" in event:
                continue
            facts = event_facts(event, self.zone, ctx.matcher.is_owner)
            if facts is None:
                skipped["event without a usable start"] += 1
                continue
            interactions.extend(classify_event(facts, ctx.matcher, ctx.limits, self.name))
        log.info(
            "%s: %d events, %d meeting interactions%s",
            self.name,
            len(items),
            len(interactions),
            " (full)" if replace else "",
        )
        return SyncBatch(
            interactions=interactions,
            cursor=cursor if cursor.link else None,
            removed_uids=[] if replace else removed,
            skipped=skipped,
            replace=replace,
        )


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
