"""Calendar state: events stored already expanded, change sequence numbers, sync tokens."""

from __future__ import annotations

import base64
import copy
import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from .contract import check_schema, discovery
from .errors import ApiError, full_sync_required, not_found


@dataclass
class StoredEvent:
    """One event (or one instance of a series) and the change that last touched it."""

    data: dict[str, Any]
    seq: int
    purged: bool = False


def rfc3339(moment: datetime, zone: ZoneInfo | None = None) -> str:
    """`2024-05-01T10:00:00Z` in UTC, or with the zone's offset."""
    if zone is None or zone.key == "UTC":
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.astimezone(zone).isoformat(timespec="seconds")


def parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))


class CalendarStore:
    """All calendars of one user; "primary" is the owner's address."""

    def __init__(self, owner_email: str, zone: str = "UTC") -> None:
        self.owner_email = owner_email
        self.zone = ZoneInfo(zone)
        self.calendars: dict[str, dict[str, StoredEvent]] = {owner_email: {}}
        self.seq = 0
        self.generation = 0
        self._ids = 0

    # ------------------------------------------------------------ calendars

    def resolve(self, calendar_id: str) -> str:
        """Map "primary" to the owner's address; 404 for unknown calendars."""
        cal = self.owner_email if calendar_id == "primary" else calendar_id
        if cal not in self.calendars:
            raise not_found("Not Found")
        return cal

    def add_calendar(self, calendar_id: str) -> None:
        """Make a (secondary) calendar exist."""
        self.calendars.setdefault(calendar_id, {})

    # --------------------------------------------------------------- events

    def add_event(self, calendar_id: str, event: dict[str, Any], now: datetime) -> str:
        """Store a new event (validated against the Event schema); return its id."""
        cal = self.owner_email if calendar_id == "primary" else calendar_id
        self.add_calendar(cal)
        data = copy.deepcopy(event)
        problems = check_schema(discovery("calendar"), data, "Event", "event")
        if problems:
            raise ValueError("seeded event does not match the Event schema: " + "; ".join(problems))
        if "start" not in data or "end" not in data:
            raise ValueError("seeded event needs start and end")
        data.setdefault("id", self._new_id(data))
        if data["id"] in self.calendars[cal]:
            raise ValueError(f"event {data['id']} already exists in {cal}")
        stamp = rfc3339_ms(now)
        owner = {"email": cal, "self": True} if cal == self.owner_email else {"email": cal}
        data.setdefault("kind", "calendar#event")
        data.setdefault("status", "confirmed")
        data.setdefault("created", stamp)
        data["updated"] = stamp
        data.setdefault("organizer", dict(owner))
        data.setdefault("creator", dict(data["organizer"]))
        data.setdefault("iCalUID", f"{data.get('recurringEventId', data['id'])}@google.com")
        data.setdefault("sequence", 0)
        data.setdefault("eventType", "default")
        self._mark_self(cal, data)
        self.seq += 1
        data["etag"] = self._etag(self.seq)
        self.calendars[cal][data["id"]] = StoredEvent(data, self.seq)
        return data["id"]

    def _new_id(self, data: dict[str, Any]) -> str:
        if "recurringEventId" in data and "originalStartTime" in data:
            ost = data["originalStartTime"]
            stamp = ost.get("dateTime", ost.get("date", "")).replace("-", "").replace(":", "")
            return f"{data['recurringEventId']}_{stamp[:15]}" + ("Z" if "dateTime" in ost else "")
        self._ids += 1
        return "ev" + hashlib.sha1(f"event{self._ids}".encode()).hexdigest()[:24]

    @staticmethod
    def _etag(seq: int) -> str:
        return f'"{3400000000000000 + seq * 1000}"'

    def _mark_self(self, cal: str, data: dict[str, Any]) -> None:
        for person in [data.get("organizer"), data.get("creator"), *data.get("attendees", [])]:
            if isinstance(person, dict) and person.get("email", "").lower() == cal.lower():
                person["self"] = True

    def get(self, calendar_id: str, event_id: str) -> StoredEvent:
        """The stored event, or a 404."""
        stored = self.calendars[self.resolve(calendar_id)].get(event_id)
        if stored is None or stored.purged:
            raise not_found("Not Found")
        return stored

    def update_event(self, calendar_id: str, event_id: str, changes: dict[str, Any], now: datetime) -> None:
        """Merge `changes` into an event, bumping updated, sequence and the change counter."""
        stored = self.get(calendar_id, event_id)
        merged = {**stored.data, **copy.deepcopy(changes)}
        problems = check_schema(discovery("calendar"), merged, "Event", "event")
        if problems:
            raise ValueError("updated event does not match the Event schema: " + "; ".join(problems))
        merged["updated"] = rfc3339_ms(now)
        merged["sequence"] = stored.data.get("sequence", 0) + 1
        self._mark_self(self.resolve(calendar_id), merged)
        self._touch(stored, merged)

    def cancel_event(self, calendar_id: str, event_id: str, now: datetime) -> None:
        """status=cancelled: hidden from lists unless showDeleted, present in incremental sync."""
        self.update_event(calendar_id, event_id, {"status": "cancelled"}, now)

    def delete_event(self, calendar_id: str, event_id: str, now: datetime) -> None:
        """Delete: only incremental sync still sees it, as a cancelled tombstone."""
        self.cancel_event(calendar_id, event_id, now)
        self.get(calendar_id, event_id).purged = True

    def _touch(self, stored: StoredEvent, data: dict[str, Any]) -> None:
        self.seq += 1
        data["etag"] = self._etag(self.seq)
        stored.data, stored.seq = data, self.seq

    # ------------------------------------------------------------- listings

    def events(self, cal: str) -> list[StoredEvent]:
        """Every stored event of a resolved calendar, in insertion order."""
        return list(self.calendars[cal].values())

    def sync_token(self, cal: str, seq: int) -> str:
        """An opaque token meaning "changes in `cal` after `seq`"."""
        text = f"{self.generation}|{seq}|{cal}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    def parse_sync_token(self, cal: str, token: str) -> int:
        """The seq a token stands for; 410 when expired or for another calendar."""
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            generation, seq, token_cal = text.split("|", 2)
            gen, at = int(generation), int(seq)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "Invalid sync token value.", "invalid") from None
        if gen != self.generation or token_cal != cal:
            raise full_sync_required()
        return at

    def expire_sync_tokens(self) -> None:
        """Every sync token issued so far answers 410 from now on."""
        self.generation += 1

    def bounds(self, data: dict[str, Any]) -> tuple[datetime, datetime]:
        """Start and end instants of an event (all-day dates in the calendar zone)."""
        start = self._instant(data["start"])
        end = self._instant(data.get("end", data["start"]))
        return start, end

    def _instant(self, when: dict[str, Any]) -> datetime:
        if "dateTime" in when:
            return parse_rfc3339(when["dateTime"])
        zone = ZoneInfo(when["timeZone"]) if when.get("timeZone") else self.zone
        return datetime.combine(date.fromisoformat(when["date"]), time(0), tzinfo=zone)

    def declined_by_owner(self, cal: str, data: dict[str, Any]) -> bool:
        """Whether the calendar's owner declined the event."""
        for person in data.get("attendees", []):
            if person.get("self") or person.get("email", "").lower() == cal.lower():
                return person.get("responseStatus") == "declined"
        return False


def rfc3339_ms(moment: datetime) -> str:
    """`updated` style: milliseconds, UTC, Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tombstone(data: dict[str, Any]) -> dict[str, Any]:
    """What Google returns for a cancelled event: little more than its id."""
    out = {"kind": "calendar#event", "etag": data["etag"], "id": data["id"], "status": "cancelled"}
    for key in ("recurringEventId", "originalStartTime"):
        if key in data:
            out[key] = data[key]
    return out
