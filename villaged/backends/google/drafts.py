"""Gmail Drafts as villaged's outbox: it writes drafts, and has no way to send them.

``put`` creates a draft from the raw RFC 2822 message (base64url), inside the
owner's thread when the check-in replies to one (``threadId``). Every draft
carries its natural key in ``X-Villaged-Key``; ``existing`` lists the drafts
folder and reads that one header of each draft's message (``messages.get``
with ``format=metadata``, ``metadataHeaders``, batched; a draft's message id
changes when it is edited, so unchanged drafts are not read again), so
the round can reconcile its ledger against what is really there, including
rows left in ``creating`` by a crash between drafts.create and the ledger
commit.

``put`` is idempotent by key: it looks the key up first (one drafts scan per
outbox, kept up to date as it writes), and a create whose answer was lost (a
dropped connection, a 5xx) is never simply repeated: the drafts folder is
scanned again, and only if the key is still absent is the draft created.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses
from functools import cached_property
from typing import Any

from villaged.backends.google.api import GoogleApi
from villaged.domain.errors import NotFoundError, RemoteError, TransientError
from villaged.domain.village import KEY_HEADER
from villaged.ports.outbox import DraftSeen

log = logging.getLogger(__name__)

DRAFTS_LINK = "https://mail.google.com/mail/u/0/#drafts"
LIST_PAGE = 500
CREATE_ATTEMPTS = 4
SEEN_HEADERS = [KEY_HEADER, "Message-ID", "To", "Cc"]
SNAPSHOT_TTL = 300.0  # seconds a drafts scan is trusted for put()
_THREAD_ID = re.compile(r"[0-9a-f]{6,32}")


def raw_message(message: EmailMessage) -> str:
    return base64.urlsafe_b64encode(message.as_bytes(policy=SMTP)).decode("ascii")


def gmail_thread(thread: str | None) -> str | None:
    """A Gmail threadId, or None for a thread reference from elsewhere (a Message-ID)."""
    return thread if thread and _THREAD_ID.fullmatch(thread) else None


def key_of(message: Any) -> str | None:
    """The X-Villaged-Key header of a messages.get(format=metadata) answer."""
    return _header(message, KEY_HEADER)


def _header(message: Any, name: str) -> str | None:
    """One header of a messages.get(format=metadata) answer, whitespace folded."""
    if not isinstance(message, dict):
        return None
    payload = message.get("payload") or {}
    for header in payload.get("headers") or ():
        if isinstance(header, dict) and str(header.get("name", "")).lower() == name.lower():
            value = header.get("value")
            return " ".join(value.split()) if isinstance(value, str) and value.strip() else None
    return None


class GmailOutbox:
    """Gmail Drafts. ``connect`` is called on first use, so building one never
    touches Google (a round reads ``drafts_link`` before anything else)."""

    def __init__(self, connect: Callable[[], GoogleApi],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._connect = connect
        self._clock = clock
        self._keys: dict[str, str | None] = {}  # draft message id → key (None: not villaged's)
        self._info: dict[str, tuple[str | None, tuple[str, ...]]] = {}  # → Message-ID, recipients
        self._snapshot: dict[str, str] = {}  # key → draft id, as last seen
        self._snapshot_at: float | None = None

    @cached_property
    def api(self) -> GoogleApi:
        return self._connect()

    @property
    def name(self) -> str:
        return "gmail-drafts"

    @property
    def drafts_link(self) -> str:
        return DRAFTS_LINK

    def existing(self) -> dict[str, str]:
        """X-Villaged-Key → draft id for every villaged draft in the drafts folder."""
        found: dict[str, str] = {}
        for draft in self.seen():
            key = draft.key
            if key and key not in found:
                found[key] = draft.draft_id
            elif key:
                log.warning("two drafts carry the key %s: %s and %s", key, found[key],
                            draft.draft_id)
        self._snapshot = dict(found)
        self._snapshot_at = self._clock()
        return found

    def seen(self) -> list[DraftSeen]:
        """Every draft, with its key (if villaged's header survived), Message-ID and
        recipients. Gmail keeps the draft id when the owner edits a draft (the message
        inside is new, and Gmail's editor drops custom headers): reconcile matches it."""
        drafts = self._list()
        unknown = [m for _, m in drafts if m not in self._keys]
        if unknown:
            # drafts.get has no metadataHeaders; the draft's message, read with
            # messages.get, can be asked for just these headers (same 5 units)
            messages = self.api.gmail.users().messages()
            answers = self.api.batch([(message_id, messages.get(
                userId="me", id=message_id, format="metadata", metadataHeaders=SEEN_HEADERS,
                fields="id,payload/headers")) for message_id in unknown])
            for message_id in unknown:
                answer = answers.get(message_id)
                if isinstance(answer, Exception):
                    if isinstance(answer, NotFoundError):  # deleted or edited while we looked
                        continue
                    raise TransientError(f"cannot read a draft's headers: {answer}",
                                         fix="villaged retries next round")
                self._keys[message_id] = key_of(answer)
                self._info[message_id] = (_header(answer, "Message-ID"), tuple(
                    a for _, a in getaddresses([_header(answer, "To") or "",
                                                _header(answer, "Cc") or ""]) if a))
        result = []
        for draft_id, message_id in sorted(drafts):
            if message_id not in self._keys:
                continue
            msgid, recipients = self._info.get(message_id, (None, ()))
            result.append(DraftSeen(draft_id, self._keys[message_id], msgid, recipients))
        return result

    def _list(self) -> list[tuple[str, str]]:
        drafts = self.api.gmail.users().drafts()
        out: list[tuple[str, str]] = []
        token = None
        while True:
            page = self.api.execute(drafts.list(
                userId="me", maxResults=LIST_PAGE, pageToken=token,
                fields="drafts(id,message/id),nextPageToken"))
            for d in page.get("drafts") or ():
                message_id = (d.get("message") or {}).get("id")
                if isinstance(d.get("id"), str) and isinstance(message_id, str):
                    out.append((d["id"], message_id))
            token = page.get("nextPageToken")
            if not token:
                return out

    def withdraw(self, key: str) -> None:
        """drafts.delete villaged's draft with this key (a stale invitation being replaced)."""
        draft_id = self.existing().get(key)
        if draft_id is None:
            return
        with contextlib.suppress(NotFoundError):  # already gone: that is what we wanted
            self.api.execute(self.api.gmail.users().drafts().delete(userId="me", id=draft_id))
        self._snapshot.pop(key, None)

    def put(self, key: str, message: EmailMessage, thread: str | None) -> str:
        """Create the draft unless one with this key exists; return its id."""
        fresh = self._snapshot_at is not None and self._clock() - self._snapshot_at < SNAPSHOT_TTL
        known = self._snapshot if fresh else self.existing()
        if key in known:
            return known[key]
        if str(message.get(KEY_HEADER, "")).strip() != key:
            del message[KEY_HEADER]
            message[KEY_HEADER] = key
        body: dict[str, Any] = {"message": {"raw": raw_message(message)}}
        thread_id = gmail_thread(thread)
        if thread_id:
            body["message"]["threadId"] = thread_id
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                draft = self.api.execute(
                    self.api.gmail.users().drafts().create(userId="me", body=body, fields="id,message/id"),
                    retry=False)
            except TransientError:
                # The draft may have been written even though the answer was lost.
                self.api.pause(attempt)
                found = self.existing().get(key)
                if found:
                    return found
                if attempt == CREATE_ATTEMPTS:
                    raise
                continue
            except RemoteError as exc:
                if "threadId" in body["message"] and exc.status in (400, 404):
                    log.info("the thread %s is gone; drafting %s as a new thread", thread_id, key)
                    del body["message"]["threadId"]
                    continue
                raise
            draft_id = str(draft["id"])
            message_id = (draft.get("message") or {}).get("id")
            if isinstance(message_id, str):
                self._keys[message_id] = key
            self._snapshot[key] = draft_id
            return draft_id
        raise TransientError("Gmail did not take the draft", fix="villaged retries next round")
