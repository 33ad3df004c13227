"""Gmail as a source of contact: per-person search first, then history.

**Initial sync is per person, not per message.** It reads the profile's
historyId first (so nothing that arrives during the sync is missed), then
for each person asks Gmail for the newest direct message in each direction:

- in:  ``from:(their addresses) to:(me OR your addresses) -in:chats -in:drafts after:<epoch>``
- out: ``from:(me OR your addresses) (to:(…) OR cc:(…) OR bcc:(…)) -in:chats -in:drafts after:<epoch>``

The list calls go in batches of at most 50, with a small ``maxResults``; the
newest hit of each is fetched with ``format=metadata``, only the headers the
core rules need and a ``fields=`` partial response, again in batches. Only
when the newest hits are mass mail (or otherwise not direct, by
``contact.classify_email``) does it look further back: 1, 1, 2, then 4
more at a time, then a second page. The cost is about 20 quota units per
person (two searches, two messages), whatever the size of the mailbox.

**Then incremental:** ``users.history.list`` from the stored historyId
(messageAdded, plus labelAdded for mail that gains SENT), metadata of the
added messages in batches, matched against the village. The owner's sent
messages are recorded like any other, which is how a villaged draft that was
sent is told from one that was discarded. A person added to the village (or
whose addresses changed) gets the per-person search on the next sync; and
when so much arrived that reading it all would cost more than looking every
person up again (a long time offline), the per-person search is used.

**An expired historyId** (HTTP 404) starts a per-person resync from a fresh
profile historyId; what it finds is what an uninterrupted history would have
told about the newest contact, so the result is the same either way.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from villaged.backends.google.api import GoogleApi
from villaged.backends.google.gmail_message import (
    MESSAGE_FIELDS,
    METADATA_HEADERS,
    NOT_A_MESSAGE,
    classify_message,
)
from villaged.domain.addresses import normalize
from villaged.domain.errors import NotFoundError
from villaged.domain.village import Interaction, Kind, Person
from villaged.ports.cursor import Cursor
from villaged.ports.source import SyncBatch, SyncContext

log = logging.getLogger(__name__)

LIST_PAGE = 10  # messages.list maxResults: the newest few are all a person usually needs
PROBES = (1, 1, 2, 4)  # messages fetched per round while the newest ones are not direct
MAX_PAGES = 2  # list pages per person and direction
HISTORY_PAGE = 500
FETCH_CHUNK = 500  # added messages per SyncBatch during incremental sync
SEARCH_INSTEAD = 6  # more added messages than this many per person: search per person instead
HISTORY_TYPES = ["messageAdded", "labelAdded"]
HISTORY_FIELDS = ("history(messagesAdded(message(id,labelIds)),"
                  "labelsAdded(message(id,labelIds),labelIds)),historyId,nextPageToken")
IGNORED_LABELS = frozenset({"DRAFT", "CHAT", "SPAM", "TRASH"})
_SAFE_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`|~-]+@[A-Za-z0-9.-]+")


class HistoryExpired(Exception):
    """history.list answered 404: the stored historyId is too old."""


@dataclass
class _Probe:
    """The search for one person's newest direct message in one direction."""

    person: str
    kind: Kind
    q: str
    ids: list[str] = field(default_factory=list)
    token: str | None = None
    pages: int = 0
    rounds: int = 0
    done: bool = False


def _group(addresses: Sequence[str]) -> str:
    return addresses[0] if len(addresses) == 1 else "(" + " OR ".join(addresses) + ")"


def _safe(addresses: Sequence[str]) -> list[str]:
    good = [a.strip() for a in addresses if _SAFE_ADDRESS.fullmatch(a.strip())]
    for bad in set(addresses) - set(good):
        log.warning("not searching Gmail for %r: not a plain address", bad)
    return good


@dataclass(frozen=True)
class GmailCursor(Cursor):
    """The historyId to continue from, and who was searched for under which settings."""

    KIND = "gmail"
    VERSION = 1

    history_id: str
    people: dict[str, tuple[str, ...]]  # person key -> normalised addresses, as searched
    owner: tuple[str, ...]  # the owner's normalised addresses
    lookback_days: int


class GmailSource:
    """The owner's Gmail. ``name`` is "gmail"."""

    name = "gmail"

    def __init__(self, api: GoogleApi, owner_addresses: Sequence[str],
                 people: Sequence[Person]) -> None:
        self.api = api
        self.owner_addresses = tuple(owner_addresses)
        self.people = tuple(people)

    def __repr__(self) -> str:
        return "GmailSource()"

    # -- the protocol -----------------------------------------------------------

    cursor_type = GmailCursor

    def sync(self, cursor: GmailCursor | None, ctx: SyncContext) -> Iterator[SyncBatch]:
        if cursor is None or not self._usable(cursor, ctx):
            log.info("gmail: initial per-person sync of %d people", len(self.people))
            yield from self._full(ctx, replace=True)
            return
        try:
            yield from self._incremental(cursor, ctx)
        except HistoryExpired:
            log.info("gmail: history %s has expired; per-person resync", cursor.history_id)
            yield from self._full(ctx, replace=False)

    # -- cursor -------------------------------------------------------------------

    def _owner_signature(self) -> tuple[str, ...]:
        return tuple(sorted(normalize(a) for a in self.owner_addresses))

    def _people_signature(self) -> dict[str, tuple[str, ...]]:
        return {p.key: tuple(sorted(normalize(e) for e in p.emails)) for p in self.people}

    def _cursor(self, history_id: str, ctx: SyncContext) -> GmailCursor:
        return GmailCursor(history_id=str(history_id), people=self._people_signature(),
                           owner=self._owner_signature(), lookback_days=ctx.limits.lookback_days)

    def _usable(self, cursor: GmailCursor, ctx: SyncContext) -> bool:
        if not cursor.history_id.isdigit():
            return False
        return (cursor.owner, cursor.lookback_days) == (
            self._owner_signature(), ctx.limits.lookback_days)

    # -- full (per person) --------------------------------------------------------

    def _full(self, ctx: SyncContext, replace: bool) -> Iterator[SyncBatch]:
        gmail = self.api.gmail
        profile = self.api.execute(
            gmail.users().getProfile(userId="me", fields="emailAddress,historyId"))
        history_id = str(profile["historyId"])
        address = profile.get("emailAddress")
        if address and not ctx.matcher.is_owner(address):
            log.warning("gmail: the account %s is not among your [owner] addresses; "
                        "mail sent from it will not count as yours", address)
        interactions, skipped = self._search(self.people, ctx)
        yield SyncBatch(interactions=interactions, cursor=self._cursor(history_id, ctx),
                        skipped=skipped, replace=replace)

    def _queries(self, person: Person, after: int) -> list[tuple[Kind, str]]:
        theirs = _safe(person.emails)
        if not theirs:
            return []
        mine = ["me", *_safe(self.owner_addresses)]
        tail = f"-in:chats -in:drafts after:{after}"
        group = _group(theirs)
        # inbound: only mail on which the owner is a recipient (Gmail's to: covers To,
        # Cc and Bcc). A list post that reaches the owner only through the list can
        # never be direct contact (contact.classify_email), so leaving it out on the
        # server changes no result, and a person's 23 list posts cost nothing.
        return [
            (Kind.EMAIL_IN, f"from:{group} to:{_group(mine)} {tail}"),
            (Kind.EMAIL_OUT, f"from:{_group(mine)} (to:{group} OR cc:{group} OR bcc:{group}) {tail}"),
        ]

    def _search(self, people: Sequence[Person],
                ctx: SyncContext) -> tuple[list[Interaction], Counter[str]]:
        """The newest direct message in each direction for each of ``people``."""
        after = int((ctx.now.timestamp()) - ctx.limits.lookback_days * 86400)
        probes = [_Probe(p.key, kind, q) for p in people for kind, q in self._queries(p, after)]
        seen: dict[str, tuple[list[Interaction], str | None]] = {}
        total = len(people)
        ctx.progress(0, total)
        while True:
            calls = self._round_calls(probes, seen)
            if not calls:
                break
            answers = self.api.batch(calls)
            for call_key, answer in answers.items():
                what, target = cast(tuple[str, Any], call_key)
                if what == "list":
                    self._listed(probes[target], answer)
                else:
                    seen[target] = self._classified(target, answer, ctx)
            for probe in probes:
                self._advance(probe, seen)
            done = {p.key for p in people} - {p.person for p in probes if not p.done}
            ctx.progress(len(done), total)
        interactions = [i for found, _ in seen.values() for i in found]
        skipped = Counter(reason for _, reason in seen.values() if reason)
        return interactions, skipped

    def _round_calls(self, probes: list[_Probe],
                     seen: dict[str, Any]) -> list[tuple[tuple[str, Any], Any]]:
        messages = self.api.gmail.users().messages()
        calls: list[tuple[tuple[str, Any], Any]] = []
        queued: set[str] = set()
        for n, probe in enumerate(probes):
            if probe.done:
                continue
            if not probe.ids:
                calls.append((("list", n), messages.list(
                    userId="me", q=probe.q, maxResults=LIST_PAGE, pageToken=probe.token,
                    fields="messages(id),nextPageToken")))
                continue
            width = PROBES[min(probe.rounds, len(PROBES) - 1)]
            for msg_id in probe.ids[:width]:
                if msg_id not in seen and msg_id not in queued:
                    queued.add(msg_id)
                    calls.append((("get", msg_id), self._get(msg_id)))
            probe.rounds += 1
        return calls

    def _get(self, msg_id: str) -> Any:
        return self.api.gmail.users().messages().get(
            userId="me", id=msg_id, format="metadata", metadataHeaders=list(METADATA_HEADERS),
            fields=MESSAGE_FIELDS)

    @staticmethod
    def _listed(probe: _Probe, answer: Any) -> None:
        probe.pages += 1
        if isinstance(answer, Exception) or not isinstance(answer, dict):
            log.warning("gmail: search failed for %s: %s", probe.person, answer)
            probe.done = True
            return
        probe.ids = [m["id"] for m in answer.get("messages") or ()
                     if isinstance(m, dict) and isinstance(m.get("id"), str)]
        token = answer.get("nextPageToken")
        probe.token = token if isinstance(token, str) and probe.pages < MAX_PAGES else None
        probe.rounds = 0
        if not probe.ids:
            probe.done = True

    def _classified(self, msg_id: str, answer: Any,
                    ctx: SyncContext) -> tuple[list[Interaction], str | None]:
        if isinstance(answer, Exception):
            if isinstance(answer, NotFoundError):  # deleted between list and get
                return [], None
            log.warning("gmail: cannot read message %s: %s", msg_id, answer)
            return [], NOT_A_MESSAGE
        return classify_message(answer, ctx.matcher, ctx.limits, ctx.now, self.name)

    @staticmethod
    def _advance(probe: _Probe, seen: dict[str, tuple[list[Interaction], str | None]]) -> None:
        """Drop fetched, non-direct hits from the front; finish at a direct one."""
        while probe.ids and probe.ids[0] in seen:
            found, _ = seen[probe.ids[0]]
            if any(i.person == probe.person and i.kind is probe.kind and i.direct
                   for i in found):
                probe.done = True
                probe.ids = []
                return
            probe.ids.pop(0)
        if not probe.ids and probe.pages and probe.token is None:
            probe.done = True

    # -- incremental ------------------------------------------------------------

    def _incremental(self, cursor: GmailCursor, ctx: SyncContext) -> Iterator[SyncBatch]:
        start = cursor.history_id
        added, history_id = self._history(start)
        known = cursor.people
        current = self._people_signature()
        newcomers = [p for p in self.people if known.get(p.key) != current[p.key]]
        new_cursor = self._cursor(history_id, ctx)
        if not added and not newcomers:
            if history_id != start:
                yield SyncBatch(cursor=new_cursor)
            return
        if len(added) > SEARCH_INSTEAD * max(len(self.people), 1):
            # Reading every new message would cost more than looking each person
            # up again (about 20 units a person); the newest contact is the same.
            log.info("gmail: %d new messages since history %s; searching per person instead",
                     len(added), start)
            found_all, skipped_all = self._search(self.people, ctx)
            yield SyncBatch(interactions=found_all, cursor=new_cursor, skipped=skipped_all)
            return
        log.info("gmail: %d new messages since history %s; %d people to search",
                 len(added), start, len(newcomers))
        for offset in range(0, len(added), FETCH_CHUNK):
            chunk = added[offset:offset + FETCH_CHUNK]
            answers = self.api.batch([(msg_id, self._get(msg_id)) for msg_id in chunk])
            interactions: list[Interaction] = []
            skipped: Counter[str] = Counter()
            for msg_id in chunk:
                found, reason = self._classified(msg_id, answers.get(msg_id), ctx)
                interactions.extend(found)
                if reason:
                    skipped[reason] += 1
            last = offset + FETCH_CHUNK >= len(added) and not newcomers
            # until every added message is in, the stored cursor stays where it was
            yield SyncBatch(interactions=interactions, cursor=new_cursor if last else cursor,
                            skipped=skipped)
        if newcomers:
            found_new, skipped_new = self._search(newcomers, ctx)
            yield SyncBatch(interactions=found_new, cursor=new_cursor, skipped=skipped_new)

    def _history(self, start: str) -> tuple[list[str], str]:
        """Ids of messages added (or newly SENT) since ``start``, oldest first, and
        the mailbox's current historyId."""
        history = self.api.gmail.users().history()
        added: dict[str, None] = {}
        token = None
        history_id = start
        while True:
            request = history.list(userId="me", startHistoryId=start, historyTypes=HISTORY_TYPES,
                                   maxResults=HISTORY_PAGE, pageToken=token, fields=HISTORY_FIELDS)
            try:
                page = self.api.execute(request)
            except NotFoundError as exc:
                raise HistoryExpired(start) from exc
            for record in page.get("history") or ():
                for item in record.get("messagesAdded") or ():
                    message = item.get("message") or {}
                    if not IGNORED_LABELS.intersection(message.get("labelIds") or ()):
                        added.setdefault(str(message.get("id") or ""), None)
                for item in record.get("labelsAdded") or ():
                    message = item.get("message") or {}
                    if "SENT" in (item.get("labelIds") or ()) and not IGNORED_LABELS.intersection(
                            message.get("labelIds") or ()):
                        added.setdefault(str(message.get("id") or ""), None)
            history_id = str(page.get("historyId") or history_id)
            token = page.get("nextPageToken")
            if not token:
                break
        return [m for m in added if m], history_id
