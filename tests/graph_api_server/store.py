"""The mailbox and calendars behind the local Graph server, with change tracking for delta.

Every item lives in one collection (a mail folder id, or a calendar id). Each
change bumps a global sequence number and records, per collection, the last
change of each item and the removals, which is all a delta round needs:
``changes(collection, since)`` gives the items changed after ``since`` and
the ids removed after it.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import email
import email.policy
import hashlib
import itertools
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

INTERNET_HEADERS_GUID = "{00020386-0000-0000-C000-000000000046}"  # PS_INTERNET_HEADERS
MESSAGE_FLAGS = "Integer 0x0E07"  # PidTagMessageFlags: 1 = read, and not a draft
WELL_KNOWN = ("inbox", "sentitems", "drafts", "archive", "deleteditems", "junkemail")


def iso(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def recipient(address: str, name: str = "") -> dict[str, Any]:
    return {"emailAddress": {"name": name or address, "address": address}}


@dataclass
class Collection:
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)  # item id -> seq of its last change
    removed: dict[str, int] = field(default_factory=dict)  # item id -> seq of its removal


class GraphStore:
    def __init__(self, owner: str, display_name: str = "Owner") -> None:
        self.owner = owner
        self.display_name = display_name
        self.seq = 0
        self._ids = itertools.count(1)
        self.folders: dict[str, dict[str, Any]] = {}
        self.mail: dict[str, Collection] = {}
        self.calendars: dict[str, dict[str, Any]] = {}
        self.events: dict[str, Collection] = {}
        self.mime: dict[str, bytes] = {}  # message id -> the MIME it was created from
        for name in WELL_KNOWN:
            self.add_folder(name, {"sentitems": "Sent Items", "deleteditems": "Deleted Items",
                                   "junkemail": "Junk Email"}.get(name, name.capitalize()))
        self.add_calendar("calendar", "Calendar", default=True)

    # -- ids and sequence ---------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        raw = f"{prefix}-{next(self._ids)}".encode()
        return "AAMk" + base64.urlsafe_b64encode(hashlib.sha1(raw).digest()).decode().rstrip("=") + f"-{prefix}"

    def bump(self) -> int:
        self.seq += 1
        return self.seq

    # -- folders and messages ---------------------------------------------------------

    def add_folder(self, well_known: str, display_name: str) -> str:
        folder_id = self.new_id("folder")
        self.folders[well_known] = {"id": folder_id, "displayName": display_name}
        self.mail[folder_id] = Collection()
        return folder_id

    def folder_id(self, ref: str) -> str | None:
        """A folder id from a well-known name (any case) or an id."""
        if ref.lower() in self.folders:
            return str(self.folders[ref.lower()]["id"])
        return ref if ref in self.mail else None

    def all_messages(self) -> list[dict[str, Any]]:
        return [m for c in self.mail.values() for m in c.items.values()]

    def find_message(self, message_id: str) -> tuple[str, dict[str, Any]] | None:
        for folder_id, coll in self.mail.items():
            if message_id in coll.items:
                return folder_id, coll.items[message_id]
        return None

    def put_message(self, folder: str, message: dict[str, Any]) -> dict[str, Any]:
        folder_id = self.folder_id(folder)
        if folder_id is None:
            raise KeyError(folder)
        message.setdefault("id", self.new_id("msg"))
        message["parentFolderId"] = folder_id
        coll = self.mail[folder_id]
        coll.items[message["id"]] = message
        coll.changed[message["id"]] = self.bump()
        coll.removed.pop(message["id"], None)
        return message

    def update_message(self, message_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        found = self.find_message(message_id)
        if found is None:
            raise KeyError(message_id)
        folder_id, message = found
        for key, value in changes.items():
            if key == "singleValueExtendedProperties":
                props = {p["id"].lower(): p for p in message.get(key) or []}
                for p in value:
                    props[p["id"].lower()] = dict(p)
                message[key] = list(props.values())
            else:
                message[key] = copy.deepcopy(value)
        self.mail[folder_id].changed[message_id] = self.bump()
        return message

    def remove_message(self, message_id: str) -> None:
        found = self.find_message(message_id)
        if found is None:
            raise KeyError(message_id)
        folder_id, _ = found
        coll = self.mail[folder_id]
        del coll.items[message_id]
        coll.changed.pop(message_id, None)
        coll.removed[message_id] = self.bump()
        self.mime.pop(message_id, None)

    def move_message(self, message_id: str, folder: str) -> dict[str, Any]:
        found = self.find_message(message_id)
        if found is None:
            raise KeyError(message_id)
        _, message = found
        self.remove_message(message_id)
        return self.put_message(folder, message)

    def conversation_for(self, references: list[str], subject: str) -> str:
        wanted = {r.lower() for r in references}
        for m in self.all_messages() if wanted else ():
            if str(m.get("internetMessageId", "")).lower() in wanted:
                return str(m.get("conversationId"))
        return "AAQk" + hashlib.sha1((subject + str(self.seq)).encode()).hexdigest()[:24]

    def message_from_mime(self, raw: bytes, folder: str, now: dt.datetime) -> dict[str, Any]:
        """Create a message from MIME as Exchange does for POST with text/plain base64:
        the headers become properties, X- headers become PS_INTERNET_HEADERS named properties."""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)

        def recipients(header: str) -> list[dict[str, Any]]:
            return [recipient(a, n) for n, a in getaddresses([str(v) for v in parsed.get_all(header) or []]) if a]

        refs = " ".join(str(parsed.get(h, "")) for h in ("References", "In-Reply-To")).split()
        subject = str(parsed.get("Subject", ""))
        message: dict[str, Any] = {
            "subject": subject,
            "from": recipient(self.owner, self.display_name),
            "sender": recipient(self.owner, self.display_name),
            "toRecipients": recipients("To"), "ccRecipients": recipients("Cc"),
            "bccRecipients": recipients("Bcc"),
            "internetMessageId": str(parsed.get("Message-ID") or f"<{self.new_id('mid')}@graph.local>"),
            "conversationId": self.conversation_for(refs, subject),
            "isDraft": True, "isRead": True,
            "createdDateTime": iso(now), "lastModifiedDateTime": iso(now),
            "receivedDateTime": iso(now), "sentDateTime": iso(now),
            "hasAttachments": any(part.get_content_disposition() == "attachment" for part in parsed.walk()),
            "singleValueExtendedProperties": [
                {"id": f"String {INTERNET_HEADERS_GUID} Name {name.lower()}", "value": str(value)}
                for name, value in parsed.items() if name.lower().startswith("x-")],
        }
        stored = self.put_message(folder, message)
        self.mime[stored["id"]] = raw
        return stored

    # -- calendars and events -----------------------------------------------------------

    def add_calendar(self, key: str, name: str, default: bool = False) -> str:
        calendar_id = self.new_id("cal")
        self.calendars[key] = {"id": calendar_id, "name": name, "isDefaultCalendar": default}
        self.events[calendar_id] = Collection()
        return calendar_id

    def calendar_id(self, ref: str | None) -> str | None:
        if ref is None or ref == "calendar":
            return str(self.calendars["calendar"]["id"])
        if ref in self.calendars:
            return str(self.calendars[ref]["id"])
        return ref if ref in self.events else None

    def put_event(self, calendar: str | None, event: dict[str, Any]) -> dict[str, Any]:
        calendar_id = self.calendar_id(calendar)
        if calendar_id is None:
            raise KeyError(calendar)
        event.setdefault("id", self.new_id("evt"))
        coll = self.events[calendar_id]
        coll.items[event["id"]] = event
        coll.changed[event["id"]] = self.bump()
        coll.removed.pop(event["id"], None)
        return event

    def remove_event(self, calendar: str | None, event_id: str) -> None:
        calendar_id = self.calendar_id(calendar)
        assert calendar_id is not None
        coll = self.events[calendar_id]
        del coll.items[event_id]
        coll.changed.pop(event_id, None)
        coll.removed[event_id] = self.bump()
