"""Outlook Drafts as villaged's outbox: it writes drafts, and has no way to send them.

``put`` creates the draft from the very MIME villaged builds for every
backend (check-in, or invitation with its text/calendar part), POSTed to
``/me/messages`` as base64 (``Content-Type: text/plain``), which Graph turns
into a draft in Drafts. It never creates an event (that would send
invitations) and never calls send.

**The key.** Each draft is marked with a single-value extended property in
villaged's own namespace (KEY_PROPERTY) holding the natural key: it survives
the owner's edits in Outlook. It is set by a PATCH right after the create.
The MIME also carries ``X-Villaged-Key``, which Exchange keeps as a named
property in the internet-headers namespace (HEADER_PROPERTY), so a draft
whose PATCH never happened (a crash between the two) is still recognised,
and the next ``put`` (in a drafting round) finishes its marking.

**Crash safety,** as for Gmail: the round writes the ledger row
(``creating``) before ``put``; ``put`` looks the key up first (one scan of
Drafts per outbox, kept up to date as it writes); a create whose answer was
lost is never simply repeated: Drafts is scanned again and only if the key
is still absent is the draft created. ``existing`` lists Drafts with the two
properties expanded, for reconcile.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from functools import cached_property
from typing import Any
from urllib.parse import quote

from villaged.backends.microsoft.api import GraphClient, GraphError
from villaged.domain.errors import TransientError
from villaged.domain.village import KEY_HEADER

log = logging.getLogger(__name__)

VILLAGED_GUID = "{6f4a7d0e-3b1c-4e52-9a8d-7c2f1b5e9d40}"
KEY_PROPERTY = f"String {VILLAGED_GUID} Name VillagedKey"
HEADER_PROPERTY = "String {00020386-0000-0000-C000-000000000046} Name " + KEY_HEADER.lower()
DRAFTS_LINK = "https://outlook.office.com/mail/drafts"
LIST_PAGE = 200
CREATE_ATTEMPTS = 4
SNAPSHOT_TTL = 300.0


def mime_base64(message: EmailMessage) -> bytes:
    return base64.b64encode(message.as_bytes(policy=SMTP))


def _values(message: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for prop in message.get("singleValueExtendedProperties") or ():
        if isinstance(prop, dict) and isinstance(prop.get("value"), str):
            values[str(prop.get("id", "")).lower()] = " ".join(prop["value"].split())
    return values


def key_of(message: dict[str, Any]) -> str | None:
    """villaged's key on a listed message: its own property first, else the header's."""
    values = _values(message)
    return values.get(KEY_PROPERTY.lower()) or values.get(HEADER_PROPERTY.lower()) or None


def marked(message: dict[str, Any]) -> bool:
    return KEY_PROPERTY.lower() in _values(message)


def expand_key_properties() -> str:
    filt = f"id eq '{KEY_PROPERTY}' or id eq '{HEADER_PROPERTY}'"
    return f"singleValueExtendedProperties($filter={filt})"


class OutlookDrafts:
    """Outlook Drafts. ``connect`` is called on first use, so building one never touches Graph."""

    def __init__(
        self, connect: Callable[[], GraphClient], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._connect = connect
        self._clock = clock
        self._snapshot: dict[str, str] = {}
        self._snapshot_at: float | None = None
        self._unmarked: dict[str, str] = {}  # key -> draft id: known only by the header property

    @cached_property
    def client(self) -> GraphClient:
        return self._connect()

    @property
    def name(self) -> str:
        return "outlook-drafts"

    @property
    def drafts_link(self) -> str:
        return DRAFTS_LINK

    def existing(self) -> dict[str, str]:
        """villaged key → draft id for every villaged draft in Drafts."""
        url: str | None = (
            f"/me/mailFolders/drafts/messages?$select=id&$top={LIST_PAGE}"
            f"&$expand={quote(expand_key_properties(), safe='$=(),')}"
        )
        found: dict[str, str] = {}
        while url:
            page = self.client.get(url) or {}
            for message in page.get("value") or ():
                key = key_of(message) if isinstance(message, dict) else None
                if key and key not in found:
                    found[key] = str(message["id"])
                    if not marked(message):
                        self._unmarked[key] = found[key]
                elif key:
                    log.warning("two drafts carry the key %s: %s and %s", key, found[key], message.get("id"))
            nxt = page.get("@odata.nextLink")
            url = self.client.relative(str(nxt)) if nxt else None
        self._snapshot = dict(found)
        self._snapshot_at = self._clock()
        return found

    def withdraw(self, key: str) -> None:
        """Delete villaged's draft with this key from Drafts (a stale invitation being replaced);
        nothing when it is gone already."""
        draft_id = self.existing().get(key)
        if draft_id is None:
            return
        try:
            self.client.request("DELETE", f"/me/messages/{quote(draft_id, safe='')}",
                                what="withdrawing a draft")
        except GraphError as exc:
            if exc.status != 404:  # already gone: that is what we wanted
                raise
        self._snapshot.pop(key, None)
        self._unmarked.pop(key, None)

    def put(self, key: str, message: EmailMessage, thread: str | None) -> str:
        """Create the draft unless one with this key exists; return its id. ``thread`` is not
        needed: the MIME's In-Reply-To and References put the reply in its conversation."""
        fresh = self._snapshot_at is not None and self._clock() - self._snapshot_at < SNAPSHOT_TTL
        known = self._snapshot if fresh else self.existing()
        # a crash between a create and its marking: finish the marking now (put runs only in
        # a drafting round; existing() stays read-only for dry runs)
        for unmarked_key, unmarked_id in list(self._unmarked.items()):
            self._mark(unmarked_id, unmarked_key)
            del self._unmarked[unmarked_key]
        if key in known:
            return known[key]
        if str(message.get(KEY_HEADER, "")).strip() != key:
            del message[KEY_HEADER]
            message[KEY_HEADER] = key
        body = mime_base64(message)
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                created = self.client.request(
                    "POST",
                    "/me/messages",
                    data=body,
                    headers={"Content-Type": "text/plain"},
                    retry=False,
                    what="creating a draft",
                )
            except TransientError:
                # the draft may exist although the answer was lost: look before writing again
                self.client.pause(attempt)
                again = self.existing().get(key)
                if again:
                    self._mark(again, key)
                    return again
                if attempt == CREATE_ATTEMPTS:
                    raise
                continue
            draft_id = str(created["id"])
            self._snapshot[key] = draft_id
            self._mark(draft_id, key)
            return draft_id
        raise TransientError("Outlook did not take the draft", fix="villaged retries next round")

    def _mark(self, draft_id: str, key: str) -> None:
        """Set villaged's own key property (idempotent; the header property already identifies it)."""
        try:
            self.client.request(
                "PATCH",
                f"/me/messages/{quote(draft_id, safe='')}",
                json={"singleValueExtendedProperties": [{"id": KEY_PROPERTY, "value": key}]},
                what="marking a draft",
            )
        except TransientError as exc:
            log.warning(
                "could not mark draft %s with its key yet (%s); its X-Villaged-Key still identifies it",
                key,
                exc.message,
            )
