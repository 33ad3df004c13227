"""The Gmail mailbox: messages, threads, history records, drafts and sent mail."""

from __future__ import annotations

import bisect
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from . import query
from .errors import ApiError, bad_request, not_found
from .mail import StoredMessage, normalize_subject, parse_headers, recipients_of, references_of
from .mail_index import MailIndex

HISTORY_TYPES = ("messageAdded", "messageDeleted", "labelAdded", "labelRemoved")


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """One change: a message added or deleted, or labels added or removed."""

    id: int
    kind: str
    message_id: str
    thread_id: str
    labels: tuple[str, ...]
    changed: tuple[str, ...] = ()


@dataclass(frozen=True)
class DraftView:
    """A draft as tests see it."""

    id: str
    message_id: str
    thread_id: str
    raw: bytes
    labels: tuple[str, ...]


@dataclass(frozen=True)
class SentMessage:
    """A message that left the mailbox: its bytes and envelope."""

    id: str
    thread_id: str
    raw: bytes
    sender: str
    recipients: tuple[str, ...]
    via: str  # "messages.send", "drafts.send" or "owner"


class Mailbox:
    """All Gmail state for one user. Not thread-safe: the server serialises access."""

    def __init__(self, profile_email: str, zone: str = "America/Los_Angeles") -> None:
        self.profile_email = profile_email
        self.zone = ZoneInfo(zone)
        self.index = MailIndex()
        self.by_id: dict[str, StoredMessage] = {}
        self.threads: dict[str, set[int]] = {}
        self.history: list[HistoryRecord] = []
        self._history_ids: list[int] = []
        self.history_id = 1000
        self.history_floor = 0
        self.drafts: OrderedDict[str, str] = OrderedDict()  # draft id -> message id
        self.sent: list[SentMessage] = []
        self._seq = 0
        self._draft_seq = 0
        self._search_cache: OrderedDict[tuple, list[int]] = OrderedDict()

    # ------------------------------------------------------------- history

    def _record(self, kind: str, msg: StoredMessage, changed: tuple[str, ...] = ()) -> int:
        self.history_id += 1 + len(self.history) % 3  # ids grow but are not contiguous
        record = HistoryRecord(self.history_id, kind, msg.id, msg.thread_id, tuple(sorted(msg.labels)), changed)
        self.history.append(record)
        self._history_ids.append(record.id)
        msg.history_id = record.id
        return record.id

    def expire_history(self) -> None:
        """Forget every history record so far: older startHistoryIds answer 404."""
        self.history_floor = self.history_id

    def history_since(self, start: int, types: list[str] | None, label: str | None) -> list[HistoryRecord]:
        """Records after `start`, filtered by type and label (404 when `start` is expired)."""
        if start < self.history_floor:
            raise not_found()
        pos = bisect.bisect_right(self._history_ids, start)
        wanted = set(types or HISTORY_TYPES)
        return [
            r for r in self.history[pos:]
            if r.kind in wanted and (label is None or label in r.labels or label in r.changed)
        ]

    # ------------------------------------------------------------ messages

    def add_message(
        self,
        raw: bytes,
        labels: tuple[str, ...] | list[str] = ("INBOX",),
        thread_id: str | None = None,
        internal_date_ms: int | None = None,
        now_ms: int = 0,
    ) -> StoredMessage:
        """Store a message, thread it, index it and record messageAdded."""
        headers = parse_headers(raw)
        self._seq += 1
        msg_id = "%016x" % (0x18F3A2B400000000 + self._seq * 0x1F3)
        if thread_id is None:  # received mail: Gmail threads by References + Subject
            thread_id = self._thread_by_references(headers) or msg_id
        elif not thread_id:  # API-created mail that did not join a thread
            thread_id = msg_id
        msg = StoredMessage(
            idx=len(self.index.messages),
            id=msg_id,
            thread_id=thread_id,
            raw=raw,
            internal_date=internal_date_ms if internal_date_ms is not None else now_ms,
            labels=set(labels),
            headers=headers,
            history_id=self.history_id,
        )
        self.index.add(msg)
        self.by_id[msg.id] = msg
        self.threads.setdefault(thread_id, set()).add(msg.idx)
        self._record("messageAdded", msg)
        return msg

    def _thread_by_references(self, headers: list[tuple[str, str]]) -> str | None:
        refs = references_of(headers)
        if not refs:
            return None
        subject = normalize_subject(next((v for n, v in headers if n.lower() == "subject"), ""))
        for ref in reversed(refs):
            for idx in self.index.by_message_id(ref):
                parent = self.index.messages[idx]
                if parent is not None and normalize_subject(parent.header("Subject")) == subject:
                    return parent.thread_id
        return None

    def thread_for_reply(self, thread_id: str | None, raw: bytes) -> str | None:
        """Gmail's rule for joining `thread_id`: it exists, References/In-Reply-To name a
        message in it, and the Subject matches. Otherwise the message starts a new thread."""
        if not thread_id:
            return None
        members = self.threads.get(thread_id)
        if not members:
            raise bad_request("Invalid thread_id value")
        headers = parse_headers(raw)
        subject = normalize_subject(next((v for n, v in headers if n.lower() == "subject"), ""))
        refs = set(references_of(headers))
        for idx in members:
            msg = self.index.messages[idx]
            if msg is not None and msg.message_id in refs and normalize_subject(msg.header("Subject")) == subject:
                return thread_id
        return None

    def get(self, msg_id: str) -> StoredMessage:
        """The live message `msg_id` or a 404."""
        msg = self.by_id.get(msg_id)
        if msg is None:
            raise not_found()
        return msg

    def remove_message(self, msg_id: str) -> None:
        """Delete permanently, recording messageDeleted."""
        msg = self.get(msg_id)
        self._record("messageDeleted", msg)
        self.index.remove(msg)
        del self.by_id[msg_id]
        members = self.threads.get(msg.thread_id, set())
        members.discard(msg.idx)
        if not members:
            self.threads.pop(msg.thread_id, None)

    def modify_labels(self, msg_id: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> None:
        """Change labels, recording labelAdded / labelRemoved."""
        msg = self.get(msg_id)
        added = tuple(sorted(set(add) - msg.labels))
        removed = tuple(sorted(set(remove) & msg.labels))
        self.index.relabel(msg, set(added), set(removed))
        if added:
            self._record("labelAdded", msg, added)
        if removed:
            self._record("labelRemoved", msg, removed)

    def profile(self) -> dict[str, object]:
        """users.getProfile."""
        return {
            "emailAddress": self.profile_email,
            "messagesTotal": len(self.index.live),
            "threadsTotal": len(self.threads),
            "historyId": str(self.history_id),
        }

    # -------------------------------------------------------------- search

    def search(self, q: str | None, label_ids: list[str], include_spam_trash: bool, now_ms: int,
               within: set[int] | None = None) -> list[int]:
        """Message indices matching q and labelIds, newest first (cached per mailbox version)."""
        key = (q or "", tuple(label_ids), include_spam_trash, self.index.version,
               None if within is None else frozenset(within))
        cached = self._search_cache.get(key)
        if cached is not None:
            self._search_cache.move_to_end(key)
            return cached
        node = query.parse(q) if q and q.strip() else None
        if node is None:
            found = self.index.universe()
        else:
            ctx = query.Context(self.index, self.profile_email, now_ms, self.zone)
            found = query.evaluate(node, ctx) & self.index.live
        for label in label_ids:
            found &= self.index.by_label(label)
        if not include_spam_trash and not (node and query.mentions_spam_or_trash(node)):
            found -= self.index.by_label("SPAM")
            found -= self.index.by_label("TRASH")
        if within is not None:
            found &= within
        ordered = self.index.newest_first(found)
        self._search_cache[key] = ordered
        if len(self._search_cache) > 64:
            self._search_cache.popitem(last=False)
        return ordered

    # -------------------------------------------------------------- drafts

    def _complete(self, raw: bytes, now: datetime) -> bytes:
        """Headers Gmail adds when missing: From, Date, Message-ID."""
        names = {n.lower() for n, _ in parse_headers(raw)}
        extra = b""
        if "from" not in names:
            extra += f"From: {self.profile_email}\r\n".encode()
        if "date" not in names:
            extra += f"Date: {format_datetime(now.astimezone(UTC))}\r\n".encode()
        if "message-id" not in names:
            digest = hashlib.sha1(raw + str(self._seq).encode()).hexdigest()[:24]
            extra += f"Message-ID: <CA+{digest}@mail.gmail.com>\r\n".encode()
        return extra + raw

    def create_draft(self, raw: bytes, thread_id: str | None, now: datetime) -> tuple[str, StoredMessage]:
        """drafts.create: a DRAFT-labelled message (recorded in history, as Gmail does)."""
        thread = self.thread_for_reply(thread_id, raw)
        now_ms = int(now.timestamp() * 1000)
        msg = self.add_message(self._complete(raw, now), ("DRAFT",), thread or "", now_ms, now_ms)
        self._draft_seq += 1
        draft_id = f"r{5038117210000000000 + self._draft_seq * 7919}"
        self.drafts[draft_id] = msg.id
        return draft_id, msg

    def edit_draft(self, draft_id: str, raw: bytes, now: datetime) -> StoredMessage:
        """The owner edits a draft in Gmail's editor: the draft id stays, the message
        inside is a new one (new id; the editor keeps no custom header)."""
        old = self.draft_message(draft_id)
        now_ms = int(now.timestamp() * 1000)
        msg = self.add_message(self._complete(raw, now), ("DRAFT",), old.thread_id, now_ms, now_ms)
        self.remove_message(old.id)
        self.drafts[draft_id] = msg.id
        return msg

    def draft_message(self, draft_id: str) -> StoredMessage:
        """The message behind a draft, or a 404."""
        msg_id = self.drafts.get(draft_id)
        if msg_id is None:
            raise not_found()
        return self.get(msg_id)

    def delete_draft(self, draft_id: str) -> None:
        """drafts.delete: gone for good, with its message."""
        msg = self.draft_message(draft_id)
        del self.drafts[draft_id]
        self.remove_message(msg.id)

    def draft_views(self) -> list[DraftView]:
        """Every draft, oldest first, with its raw bytes."""
        out = []
        for draft_id in self.drafts:
            msg = self.draft_message(draft_id)
            out.append(DraftView(draft_id, msg.id, msg.thread_id, msg.raw, tuple(sorted(msg.labels))))
        return out

    def draft_for_message(self, msg_id: str) -> str | None:
        """The draft id whose message is `msg_id`."""
        return next((d for d, m in self.drafts.items() if m == msg_id), None)

    # ---------------------------------------------------------------- send

    def send(self, raw: bytes, thread_id: str | None, now: datetime, via: str) -> SentMessage:
        """Send mail: a SENT message in the mailbox plus a record of the envelope."""
        raw = self._complete(raw, now)
        recipients = recipients_of(parse_headers(raw))
        if not recipients:
            raise ApiError(400, "Recipient address required", "invalidArgument")
        thread = self.thread_for_reply(thread_id, raw)
        now_ms = int(now.timestamp() * 1000)
        msg = self.add_message(raw, ("SENT",), thread or "", now_ms, now_ms)
        sent = SentMessage(msg.id, msg.thread_id, raw, self.profile_email, recipients, via)
        self.sent.append(sent)
        return sent

    def send_draft(self, draft_id: str, now: datetime, via: str) -> SentMessage:
        """Send a draft: the draft and its message go, a SENT message comes."""
        msg = self.draft_message(draft_id)
        raw, thread = msg.raw, msg.thread_id
        recipients = recipients_of(parse_headers(raw))
        if not recipients:
            raise ApiError(400, "Recipient address required", "invalidArgument")
        self.delete_draft(draft_id)
        now_ms = int(now.timestamp() * 1000)
        keep_thread = thread if thread in self.threads else ""
        new = self.add_message(raw, ("SENT",), keep_thread, now_ms, now_ms)
        sent = SentMessage(new.id, new.thread_id, raw, self.profile_email, recipients, via)
        self.sent.append(sent)
        return sent
