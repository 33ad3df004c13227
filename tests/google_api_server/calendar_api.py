"""Calendar v3 method handlers, over a CalendarStore."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .calendar_store import CalendarStore, StoredEvent, parse_rfc3339, rfc3339, rfc3339_ms, tombstone
from .call import Call
from .errors import ApiError, bad_request
from .paging import PageCache

Result = tuple[int, "dict[str, Any] | None"]
# Google refuses these together with syncToken.
_NOT_WITH_SYNC = ("timeMin", "timeMax", "orderBy", "q", "iCalUID", "updatedMin",
                  "privateExtendedProperty", "sharedExtendedProperty")


class CalendarApi:
    """events.list, events.get, freebusy.query, calendarList.list."""

    def __init__(self, store: CalendarStore, pages: PageCache) -> None:
        self.store = store
        self.pages = pages
        self.handlers: dict[str, Callable[[Call], Result]] = {
            "calendar.events.list": self.list_events,
            "calendar.events.get": self.get_event,
            "calendar.freebusy.query": self.freebusy,
            "calendar.calendarList.list": self.calendar_list,
        }

    def handle(self, call: Call) -> Result | None:
        """Run the handler for the call's method; None when it is not implemented."""
        handler = self.handlers.get(call.spec.id)
        return None if handler is None else handler(call)

    # -------------------------------------------------------------- events

    def list_events(self, call: Call) -> Result:
        p = call.params
        cal = self.store.resolve(p["calendarId"])
        size = max(1, min(int(p.get("maxResults", 250)), 2500))
        if p.get("pageToken"):
            resumed = self.pages.resume(p["pageToken"])
            if resumed is None or resumed[2][0] != cal:
                raise bad_request("Invalid page token value.", "invalid")
            items, offset, extra = resumed
        else:
            if "syncToken" in p:
                clashing = [k for k in _NOT_WITH_SYNC if k in p]
                if clashing:
                    raise bad_request(
                        f"Sync token cannot be used together with {', '.join(clashing)}.", "invalid"
                    )
                since = self.store.parse_sync_token(cal, p["syncToken"])
                items = self._changes(cal, since, bool(p.get("singleEvents")))
            else:
                items = self._full(cal, p)
            offset, extra = 0, (cal, self.store.sync_token(cal, self.store.seq))
        page, next_token = self.pages.page(items, offset, size, extra)
        out: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"p{self.store.seq}"',
            "summary": cal,
            "updated": rfc3339_ms(call.now),
            "timeZone": p.get("timeZone") or self.store.zone.key,
            "accessRole": "owner",
            "defaultReminders": [],
            "items": [_trim(ev, p.get("maxAttendees")) for ev in page],
        }
        if next_token:
            out["nextPageToken"] = next_token
        else:
            out["nextSyncToken"] = extra[1]
        return 200, out

    def _changes(self, cal: str, since: int, single: bool) -> list[dict[str, Any]]:
        changed = [ev for ev in self.store.events(cal) if ev.seq > since and _shape_ok(ev, single)]
        changed.sort(key=lambda ev: ev.seq)
        return [_render(ev) for ev in changed]

    def _full(self, cal: str, p: dict[str, Any]) -> list[dict[str, Any]]:
        single = bool(p.get("singleEvents"))
        if p.get("orderBy") == "startTime" and not single:
            raise bad_request("The requested ordering is not available for the particular query.", "invalid")
        tmin = parse_rfc3339(p["timeMin"]) if "timeMin" in p else None
        tmax = parse_rfc3339(p["timeMax"]) if "timeMax" in p else None
        if tmin and tmax and tmax <= tmin:
            raise bad_request("The specified time range is empty.", "timeRangeEmpty")
        updated_min = parse_rfc3339(p["updatedMin"]) if "updatedMin" in p else None
        needle = (p.get("q") or "").lower()
        chosen: list[StoredEvent] = []
        for ev in self.store.events(cal):
            data = ev.data
            if ev.purged or not _shape_ok(ev, single):
                continue
            if data.get("status") == "cancelled" and not p.get("showDeleted"):
                continue
            if "iCalUID" in p and data.get("iCalUID") != p["iCalUID"]:
                continue
            if updated_min and parse_rfc3339(data["updated"]) < updated_min:
                continue
            if needle and not any(needle in str(data.get(f, "")).lower() for f in ("summary", "description", "location")):
                continue
            start, end = self.store.bounds(data)
            if tmax and start >= tmax:
                continue
            if tmin and end <= tmin and "recurrence" not in data:
                continue
            chosen.append(ev)
        if p.get("orderBy") == "startTime":
            chosen.sort(key=lambda ev: self.store.bounds(ev.data)[0])
        elif p.get("orderBy") == "updated":
            chosen.sort(key=lambda ev: ev.data["updated"])
        return [_render(ev) for ev in chosen]

    def get_event(self, call: Call) -> Result:
        ev = self.store.get(call.params["calendarId"], call.params["eventId"])
        return 200, _render(ev)

    def calendar_list(self, call: Call) -> Result:
        items = [
            {
                "kind": "calendar#calendarListEntry",
                "etag": f'"c{i}"',
                "id": cal,
                "summary": cal,
                "timeZone": self.store.zone.key,
                "accessRole": "owner",
                **({"primary": True} if cal == self.store.owner_email else {}),
            }
            for i, cal in enumerate(self.store.calendars)
        ]
        return 200, {"kind": "calendar#calendarList", "etag": '"l"', "items": items, "nextSyncToken": "cl"}

    # ------------------------------------------------------------ freebusy

    def freebusy(self, call: Call) -> Result:
        body = call.body or {}
        if "timeMin" not in body or "timeMax" not in body:
            raise ApiError(400, "Missing timeMin or timeMax.", "required")
        tmin, tmax = parse_rfc3339(body["timeMin"]), parse_rfc3339(body["timeMax"])
        if tmax <= tmin:
            raise bad_request("The specified time range is empty.", "timeRangeEmpty")
        items = body.get("items", [])
        if len(items) > 50:
            raise bad_request("Too many calendars requested.", "tooManyCalendarsRequested")
        try:
            zone = ZoneInfo(body.get("timeZone") or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise bad_request(f"Invalid time zone: {body.get('timeZone')}", "invalid") from None
        calendars: dict[str, Any] = {}
        for item in items:
            try:
                cal = self.store.resolve(item["id"])
            except ApiError:
                calendars[item["id"]] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                continue
            busy = self._busy(cal, tmin, tmax)
            calendars[item["id"]] = {"busy": [{"start": rfc3339(s, zone), "end": rfc3339(e, zone)} for s, e in busy]}
        return 200, {
            "kind": "calendar#freeBusy",
            "timeMin": rfc3339_ms(tmin),
            "timeMax": rfc3339_ms(tmax),
            "calendars": calendars,
        }

    def _busy(self, cal: str, tmin: datetime, tmax: datetime) -> list[tuple[datetime, datetime]]:
        spans = []
        for ev in self.store.events(cal):
            data = ev.data
            if ev.purged or data.get("status") == "cancelled" or "recurrence" in data:
                continue
            if data.get("transparency") == "transparent" or self.store.declined_by_owner(cal, data):
                continue
            start, end = self.store.bounds(data)
            if end > tmin and start < tmax:
                spans.append((max(start, tmin), min(end, tmax)))
        spans.sort()
        merged: list[tuple[datetime, datetime]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged


def _shape_ok(ev: StoredEvent, single: bool) -> bool:
    """singleEvents=true lists instances, never series masters; false lists masters, not instances."""
    return "recurrence" not in ev.data if single else "recurringEventId" not in ev.data


def _render(ev: StoredEvent) -> dict[str, Any]:
    if ev.data.get("status") == "cancelled":
        return tombstone(ev.data)
    return copy.deepcopy(ev.data)


def _trim(event: dict[str, Any], max_attendees: int | None) -> dict[str, Any]:
    if max_attendees and len(event.get("attendees", [])) > max_attendees:
        event = {**event, "attendees": event["attendees"][:max_attendees], "attendeesOmitted": True}
    return event
