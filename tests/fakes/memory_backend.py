"""An in-memory backend: a full ``BackendIO`` with no files and no network.

It is a real implementation of every port, held to the same contract suites
as the local, Google, IMAP and Microsoft backends (tests/contract/), so core
and service tests can use it instead of ad-hoc stubs:

- ``MemoryMailbox`` is the "server": mail and meetings are added and removed
  in an append-only change log. ``MemorySource`` reads it incrementally from
  a cursor (a position in the log), in batches, through the real contact
  rules (``classify_email``, ``classify_event``); a removal takes the
  contact back, as a calendar's does.
- ``MemoryOutbox`` keeps drafts by id, idempotent by key; the owner can
  ``discard`` or ``send`` one.
- ``MemoryBackend.busy`` answers from a list of intervals; ``deliver_digest``
  passes the digest gate (``owner_only``) and keeps one copy per key.
- ``MemoryBackend(failure=...)`` raises that error from ``sources()`` and
  ``deliver_digest``: a network that is down, a grant that was revoked.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

from villaged.core.contact import EventFacts, MailFacts, classify_email, classify_event
from villaged.domain.village import KEY_HEADER, Interaction, Village
from villaged.ports.backend import Interval, merge_intervals
from villaged.ports.cursor import Cursor
from villaged.ports.digest import owner_only
from villaged.ports.outbox import DraftSeen, Outbox
from villaged.ports.source import Source, SyncBatch, SyncContext

_generations = itertools.count(1)


@dataclass
class MemoryMailbox:
    """What a mail and calendar server would hold, as a log of changes."""

    changes: list[tuple[str, MailFacts | EventFacts | str]] = field(default_factory=list)
    generation: int = field(default_factory=lambda: next(_generations))
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    def mail(self, sender: str, to: Sequence[str] | str, when: dt.datetime, *,
             subject: str = "hello", cc: Sequence[str] = (), bulk: bool = False,
             thread: str | None = None) -> str:
        """A message from ``sender``; returns its uid (the Message-ID)."""
        uid = f"<m{next(self._numbers)}.{self.generation}@memory.test>"
        facts = MailFacts(uid=uid, date=when.astimezone(dt.UTC), senders=(sender,),
                          to=(to,) if isinstance(to, str) else tuple(to), cc=tuple(cc), bcc=(),
                          subject=subject, message_id=uid, thread=thread or uid, bulk=bulk)
        self.changes.append(("add", facts))
        return uid

    def meeting(self, start: dt.datetime, attendees: Iterable[tuple[str, str]], *,
                organizer: str | None = None, summary: str = "coffee",
                cancelled: bool = False) -> str:
        """An event with (address, PARTSTAT) attendees; returns its uid."""
        uid = f"e{next(self._numbers)}.{self.generation}@memory.test"
        self.changes.append(("add", EventFacts(
            uid=uid, start=start.astimezone(dt.UTC), summary=summary, cancelled=cancelled,
            organizer=organizer, attendees=tuple(attendees))))
        return uid

    def remove(self, uid: str) -> None:
        self.changes.append(("remove", uid))

    def compact(self) -> None:
        """Rewrite the log as what is there now (a new generation: cursors go stale)."""
        present: dict[str, MailFacts | EventFacts] = {}
        for op, item in self.changes:
            if op == "add":
                assert not isinstance(item, str)
                present[item.uid] = item
            else:
                present.pop(str(item), None)
        self.changes = [("add", facts) for facts in present.values()]
        self.generation = next(_generations)


@dataclass(frozen=True)
class MemoryCursor(Cursor):
    """A position in a MemoryMailbox's change log, in one generation of it."""

    KIND = "memory"
    VERSION = 1

    generation: int
    position: int


class MemorySource:
    """Reads a MemoryMailbox from a position in its change log."""

    cursor_type = MemoryCursor

    def __init__(self, mailbox: MemoryMailbox, name: str = "memory:mail",
                 batch_size: int = 2) -> None:
        self.mailbox = mailbox
        self._name = name
        self.batch_size = batch_size

    @property
    def name(self) -> str:
        return self._name

    def _start(self, cursor: MemoryCursor | None) -> int | None:
        """Where to resume in the log; None for a full rescan."""
        if cursor is None or cursor.generation != self.mailbox.generation:
            return None
        if not 0 <= cursor.position <= len(self.mailbox.changes):
            return None
        return cursor.position

    def sync(self, cursor: MemoryCursor | None, ctx: SyncContext) -> Iterator[SyncBatch]:
        start = self._start(cursor)
        replace = start is None
        position = start or 0
        changes = list(self.mailbox.changes)
        if position == len(changes) and not replace:
            return
        while True:
            chunk = changes[position:position + self.batch_size]
            current: dict[str, list[Interaction]] = {}
            removed: set[str] = set()
            for _, item in chunk:  # the batch's net effect: the store deletes, then inserts
                if isinstance(item, str):
                    current.pop(item, None)
                    removed.add(item)
                    continue
                removed.add(item.uid)  # a re-add replaces what it said before
                if isinstance(item, MailFacts):
                    current[item.uid] = classify_email(item, ctx.matcher, ctx.limits, self.name)
                else:
                    current[item.uid] = classify_event(item, ctx.matcher, ctx.limits, self.name)
            position += len(chunk)
            yield SyncBatch(
                interactions=[i for found in current.values() for i in found],
                removed_uids=sorted(removed), replace=replace,
                cursor=MemoryCursor(generation=self.mailbox.generation, position=position))
            ctx.progress(position, len(changes))
            replace = False
            if position >= len(changes):
                return


class MemoryOutbox:
    """Drafts in a dict. ``put`` keeps the first draft written for a key."""

    def __init__(self) -> None:
        self.drafts: dict[str, EmailMessage] = {}
        self.sent: list[EmailMessage] = []  # what the owner sent (villaged never sends)
        self._ids = itertools.count(1)

    @property
    def name(self) -> str:
        return "memory-drafts"

    @property
    def drafts_link(self) -> str:
        return "memory://drafts"

    def put(self, key: str, message: EmailMessage, thread: str | None) -> str:
        found = self.existing().get(key)
        if found:
            return found
        draft = copy.deepcopy(message)
        if str(draft.get(KEY_HEADER, "")).strip() != key:
            del draft[KEY_HEADER]
            draft[KEY_HEADER] = key
        draft_id = f"draft-{next(self._ids)}"
        self.drafts[draft_id] = draft
        return draft_id

    def withdraw(self, key: str) -> None:
        draft_id = self.existing().get(key)
        if draft_id is not None:
            del self.drafts[draft_id]

    def existing(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for draft_id, draft in self.drafts.items():
            key = str(draft.get(KEY_HEADER, "")).strip()
            if key:
                found.setdefault(key, draft_id)
        return found

    def seen(self) -> list[DraftSeen]:
        from email.utils import getaddresses

        return [DraftSeen(draft_id, str(d.get(KEY_HEADER, "")).strip() or None,
                          str(d.get("Message-ID", "")).strip() or None,
                          tuple(a for _, a in getaddresses([str(v) for v in d.get_all("To", [])])))
                for draft_id, d in self.drafts.items()]

    def discard(self, draft_id: str) -> None:
        """The owner deletes a draft."""
        del self.drafts[draft_id]

    def send(self, draft_id: str) -> EmailMessage:
        """The owner sends a draft (from their mail client, not through villaged)."""
        message = self.drafts.pop(draft_id)
        self.sent.append(message)
        return message

    def keyless(self, message: EmailMessage) -> str:
        """A draft the owner wrote by hand."""
        draft_id = f"draft-{next(self._ids)}"
        self.drafts[draft_id] = copy.deepcopy(message)
        return draft_id


class MemoryBackend:
    """A BackendIO held entirely in memory (see the module docstring)."""

    def __init__(self, village: Village, *, mailbox: MemoryMailbox | None = None,
                 outbox: Outbox | None = None, busy: Iterable[Interval] = (),
                 failure: BaseException | None = None, batch_size: int = 2) -> None:
        self.village = village
        self.mailbox = mailbox if mailbox is not None else MemoryMailbox()
        self._outbox: Outbox = outbox if outbox is not None else MemoryOutbox()
        self.busy_times: list[Interval] = list(busy)
        self.failure = failure
        self.batch_size = batch_size
        self.inbox: dict[str, EmailMessage] = {}  # the owner's inbox: digests delivered
        self.closed = False

    @property
    def outbox(self) -> Outbox:
        return self._outbox

    def sources(self) -> list[Source]:
        if self.failure is not None:
            raise self.failure
        return [MemorySource(self.mailbox, batch_size=self.batch_size)]

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        return merge_intervals((max(a, start), min(b, end)) for a, b in self.busy_times
                               if a < end and b > start)

    def deliver_digest(self, message: EmailMessage) -> str:
        if self.failure is not None:
            raise self.failure
        owner_only(message, self.village.owner)
        key = str(message.get(KEY_HEADER, "")).strip()
        for message_id, delivered in self.inbox.items():
            if key and str(delivered.get(KEY_HEADER, "")).strip() == key:
                return message_id
        message_id = f"digest-{len(self.inbox) + 1}"
        self.inbox[message_id] = copy.deepcopy(message)
        return message_id

    def close(self) -> None:
        self.closed = True
