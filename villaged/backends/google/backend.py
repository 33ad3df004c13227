"""GoogleIO: the BackendIO of ``[backend] kind = "google"``.

Gmail and Google Calendar as sources, Gmail Drafts as the outbox,
free/busy for invitations, and the digest sent to the owner (and only the
owner: ``ports.digest.owner_only`` is checked before anything leaves).
Nothing talks to Google until first used, so building a GoogleIO is free.
"""

from __future__ import annotations

import datetime as dt
import logging
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from typing import Any

from villaged.backends.google.api import GoogleApi, RetryPolicy
from villaged.backends.google.auth import load_credentials, saver, token_store_for
from villaged.backends.google.calendar_source import CalendarSource, parse_start
from villaged.backends.google.drafts import GmailOutbox, raw_message
from villaged.backends.google.gmail_source import GmailSource
from villaged.backends.google.quota import Pacer
from villaged.backends.google.settings import GoogleBackend
from villaged.domain.errors import TransientError
from villaged.domain.village import Village
from villaged.ports.backend import Interval, merge_intervals
from villaged.ports.digest import owner_only
from villaged.ports.outbox import Outbox
from villaged.ports.source import Source

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 3


class GoogleIO:
    def __init__(self, village: Village, backend: GoogleBackend, state_dir: Path,
                 retry: RetryPolicy | None = None, read_only: bool = False) -> None:
        self.village = village
        self.read_only = read_only  # a dry run: a refreshed access token is not kept
        self.backend = backend
        self.state_dir = state_dir
        self.retry = retry or RetryPolicy()

    @cached_property
    def api(self) -> GoogleApi:
        store = token_store_for(self.village, self.backend, self.state_dir)
        credentials = load_credentials(store, self.backend)
        return GoogleApi(credentials, gmail_endpoint=self.backend.gmail_endpoint,
                         calendar_endpoint=self.backend.calendar_endpoint,
                         pacer=Pacer(self.backend.quota_units_per_minute), retry=self.retry,
                         on_refresh=None if self.read_only else saver(store))

    @cached_property
    def outbox(self) -> Outbox:
        return GmailOutbox(lambda: self.api)

    def sources(self) -> list[Source]:
        owner = self.village.owner
        found: list[Source] = [GmailSource(self.api, owner.addresses, self.village.people)]
        seen = set()
        for calendar_id in self.backend.calendars or ("primary",):
            if calendar_id not in seen:
                seen.add(calendar_id)
                found.append(CalendarSource(self.api, calendar_id, owner.timezone))
        return found

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        """The owner's busy intervals over [start, end) from freebusy.query, merged."""
        calendars = list(dict.fromkeys(self.backend.calendars or ("primary",)))
        body = {"timeMin": _rfc3339(start), "timeMax": _rfc3339(end),
                "items": [{"id": c} for c in calendars]}
        answer = self.api.execute(self.api.calendar.freebusy().query(body=body))
        intervals: list[Interval] = []
        for calendar_id, info in (answer.get("calendars") or {}).items():
            for error in info.get("errors") or ():
                log.warning("free/busy for %s: %s", calendar_id, error.get("reason"))
            for slot in info.get("busy") or ():
                begin = parse_start({"dateTime": slot.get("start")}, dt.UTC)
                finish = parse_start({"dateTime": slot.get("end")}, dt.UTC)
                if begin and finish and finish > begin:
                    intervals.append((max(begin, start), min(finish, end)))
        return merge_intervals(intervals)

    def deliver_digest(self, message: EmailMessage) -> str:
        """Send the digest to the owner's own address (once per Message-ID); refuse anything else."""
        owner_only(message, self.village.owner)
        body = {"raw": raw_message(message)}
        message_id = str(message.get("Message-ID", "")).strip()
        messages = self.api.gmail.users().messages()
        for attempt in range(1, SEND_ATTEMPTS + 1):
            # a digest sent by a run killed before it recorded the week (or whose
            # answer was lost) is found by its Message-ID, derived from its key
            if message_id:
                found = self._sent(message_id)
                if found:
                    return found
            try:
                sent = self.api.execute(messages.send(userId="me", body=body, fields="id"),
                                        retry=False)
            except TransientError:
                if attempt == SEND_ATTEMPTS:
                    raise
                self.api.pause(attempt)
                continue
            return str(sent["id"])
        raise TransientError("Gmail did not take the digest", fix="villaged retries next round")

    def close(self) -> None:
        """Close the HTTP session, if one was opened."""
        api = self.__dict__.get("api")
        if api is not None:
            api.close()

    def _sent(self, message_id: str) -> str | None:
        """The id of a sent message with this Message-ID (a send whose answer was lost)."""
        answer = self.api.execute(self.api.gmail.users().messages().list(
            userId="me", q=f"in:sent rfc822msgid:{message_id.strip('<>')}", maxResults=1,
            fields="messages(id)"))
        hits = answer.get("messages") or []
        return str(hits[0]["id"]) if hits else None


def _rfc3339(when: Any) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
