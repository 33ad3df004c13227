"""MicrosoftIO: the BackendIO of ``[backend] kind = "microsoft"``.

Outlook mail (one source, all folders) and each configured calendar as
sources, Outlook Drafts as the outbox, busy times from ``calendarView`` for
invitations, and the digest placed in the owner's own Inbox (checked by
``owner_only`` first). Nothing talks to Microsoft until first used.

**The digest needs no permission beyond drafting.** Sending it would need
``Mail.Send``, which would let villaged send mail as the owner to anybody.
Instead it is created directly in the owner's Inbox (``POST
/me/mailFolders/inbox/messages``, covered by ``Mail.ReadWrite``), as a
received, unread message: ``PidTagMessageFlags`` (0x0E07) set at creation
tells Exchange it is not a draft. It carries villaged's key property, so a
retry after a lost answer finds it instead of delivering it twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

from villaged.backends.microsoft.api import GraphClient, RetryPolicy
from villaged.backends.microsoft.auth import MsalAuth, token_store_for
from villaged.backends.microsoft.calendar_source import OutlookCalendarSource, parse_time
from villaged.backends.microsoft.drafts import KEY_PROPERTY, OutlookDrafts
from villaged.backends.microsoft.mail_source import OutlookMailSource
from villaged.backends.microsoft.settings import MicrosoftSettings
from villaged.domain.errors import TransientError
from villaged.domain.village import KEY_HEADER, Village
from villaged.ports.backend import Interval, merge_intervals
from villaged.ports.digest import owner_only
from villaged.ports.outbox import Outbox
from villaged.ports.source import Source

log = logging.getLogger(__name__)

DELIVER_ATTEMPTS = 3
MESSAGE_FLAGS = "Integer 0x0E07"  # PidTagMessageFlags
MSGFLAG_READ = 0x1  # and without MSGFLAG_UNSENT (0x8): a received message, not a draft
FREE = frozenset({"free", "workingElsewhere"})


class MicrosoftIO:
    def __init__(
        self, village: Village, settings: MicrosoftSettings, state_dir: Path,
        retry: RetryPolicy | None = None, read_only: bool = False,
    ) -> None:
        self.village = village
        self.read_only = read_only  # a dry run: a refreshed token is not kept
        self.settings = settings
        self.state_dir = state_dir
        self.retry = retry or RetryPolicy()

    @cached_property
    def auth(self) -> MsalAuth:
        store = token_store_for(self.settings, self.village.owner.address, self.state_dir)
        return MsalAuth(self.settings, store, self.village.owner.address,
                        persist=not self.read_only)

    @cached_property
    def client(self) -> GraphClient:
        auth = self.auth
        auth.access_token()  # fail early, with the sign-in's own message
        return GraphClient(
            lambda force: auth.access_token(force_refresh=force),
            self.settings.graph_endpoint,
            retry=self.retry,
        )

    @cached_property
    def outbox(self) -> Outbox:
        return OutlookDrafts(lambda: self.client)

    def sources(self) -> list[Source]:
        owner = self.village.owner
        found: list[Source] = [
            OutlookMailSource(self.client, owner.addresses, self.village.people, self.settings.mail_folders)
        ]
        for calendar in dict.fromkeys(self.settings.calendars or ("calendar",)):
            found.append(OutlookCalendarSource(self.client, calendar, owner.timezone))
        return found

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        """The owner's busy intervals over [start, end): events not free, not cancelled, not declined."""
        intervals: list[Interval] = []
        for calendar in dict.fromkeys(self.settings.calendars or ("calendar",)):
            base = (
                "/me/calendarView"
                if calendar == "calendar"
                else f"/me/calendars/{quote(calendar)}/calendarView"
            )
            url: str | None = (
                f"{base}?startDateTime={_iso(start)}&endDateTime={_iso(end)}"
                "&$select=start,end,showAs,isCancelled,responseStatus&$top=500"
            )
            while url:
                page = self.client.get(url) or {}
                for event in page.get("value") or ():
                    if (
                        event.get("isCancelled")
                        or event.get("showAs") in FREE
                        or (event.get("responseStatus") or {}).get("response") == "declined"
                    ):
                        continue
                    begin = parse_time(event.get("start"), self.village.owner.timezone)
                    finish = parse_time(event.get("end"), self.village.owner.timezone)
                    if begin and finish and finish > begin:
                        intervals.append((max(begin, start), min(finish, end)))
                nxt = page.get("@odata.nextLink")
                url = self.client.relative(str(nxt)) if nxt else None
        return merge_intervals(intervals)

    def deliver_digest(self, message: EmailMessage) -> str:
        """Place the digest in the owner's own Inbox; refuse any other recipient."""
        owner_only(message, self.village.owner)
        key = str(message.get(KEY_HEADER) or message.get("Message-ID") or "").strip()
        if key:
            found = self._delivered(key)
            if found:
                return found
        body = _digest_json(message, self.village.owner.address, key)
        for attempt in range(1, DELIVER_ATTEMPTS + 1):
            try:
                created = self.client.request(
                    "POST",
                    "/me/mailFolders/inbox/messages",
                    json=body,
                    retry=False,
                    what="delivering the digest",
                )
            except TransientError:
                if attempt == DELIVER_ATTEMPTS:
                    raise
                self.client.pause(attempt)
                found = self._delivered(key) if key else None
                if found:
                    return found
                continue
            return str(created["id"])
        raise TransientError("Outlook did not take the digest", fix="villaged retries next round")

    def close(self) -> None:
        """Close the HTTP session, if one was opened."""
        client = self.__dict__.get("client")
        if client is not None:
            client.close()

    def _delivered(self, key: str) -> str | None:
        escaped = key.replace("'", "''")
        filt = f"singleValueExtendedProperties/any(ep: ep/id eq '{KEY_PROPERTY}' and ep/value eq '{escaped}')"
        answer = (
            self.client.get(
                f"/me/mailFolders/inbox/messages?$filter={quote(filt, safe='/:()$')}&$select=id&$top=1"
            )
            or {}
        )
        hits = answer.get("value") or []
        return str(hits[0]["id"]) if hits else None


def _digest_json(message: EmailMessage, owner: str, key: str) -> dict[str, Any]:
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    part = html or text
    content = part.get_content() if part is not None else ""
    props = [{"id": MESSAGE_FLAGS, "value": str(MSGFLAG_READ & 0)}]  # unread, and not a draft
    if key:
        props.append({"id": KEY_PROPERTY, "value": key})
    return {
        "subject": str(message.get("Subject", "")),
        "body": {"contentType": "html" if html is not None else "text", "content": content},
        "toRecipients": [{"emailAddress": {"address": owner}}],
        "from": {"emailAddress": {"address": owner, "name": "villaged"}},
        "singleValueExtendedProperties": props,
    }


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
