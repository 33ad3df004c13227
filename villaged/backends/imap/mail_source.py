"""An IMAP mailbox as a source of contact: headers only, never a body, never a flag.

**Which folders.** ``[backend.imap] folders``; by default INBOX and the
special-use ``\\Sent`` folder (RFC 6154), or with ``folders = ["*"]`` every
selectable folder except ``\\Junk``, ``\\Trash`` and ``\\Drafts``. The drafts
folder is never read as mail: a draft is not contact.

**What is read.** Folders are opened with EXAMINE (read-only: no flag can
change), and messages are read with ``BODY.PEEK[HEADER.FIELDS (...)]``
holding exactly the headers the contact rules need (``HEADER_FIELDS``). The
header block goes through ``core.mailparse.classify_block``, the same parser,
contact rules, mass-mail rules and skip reasons as mbox and Maildir.

**Full sync: server-side SEARCH, then headers of the hits.** Per folder one
``UID SEARCH`` for mail since the lookback that is from a village member
(From), or from the owner to one (To, Cc, Bcc): each address by its local
part (so any +tag and any case match; a Gmail address by its domain, so any
dots match), which is a superset of what the contact rules can count; the
parser and the rules then decide exactly. Then the
header fields of the hits only, in chunks. The alternative, fetching the header fields of
every message, is kept as ``strategy="all"`` for the benchmark, which
measures both (README, "IMAP and CalDAV").

**Incremental by UIDVALIDITY + UIDNEXT.** The cursor keeps both per folder.
A round asks for every folder's status in one command where the server has
LIST-STATUS (RFC 5819), else one STATUS per folder; a folder whose UIDNEXT
did not move costs nothing more; one that moved is EXAMINEd and the headers
of ``UID FETCH <old UIDNEXT>:*`` are read. A changed UIDVALIDITY (a restored
or migrated mailbox), a new set of people, owner addresses or folders, or a
changed lookback starts a full rescan that replaces what was stored, so the
result always equals a full rescan. (villaged never reads flags, so
CONDSTORE/QRESYNC's mod-sequences would not save a command: UIDNEXT already
says whether anything arrived.)

The interaction uid is the Message-ID (as for mbox and Maildir), so a message
filed in two folders counts once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from villaged.backends.imap.connection import Folder, ImapSession, uid_set
from villaged.backends.imap.settings import ALL_FOLDERS, ImapSettings
from villaged.core.mailparse import classify_block
from villaged.domain.addresses import normalize
from villaged.domain.errors import TransientError, VillagedError
from villaged.domain.village import Interaction, Person
from villaged.ports.cursor import Cursor
from villaged.ports.source import SyncBatch, SyncContext

log = logging.getLogger(__name__)

HEADER_FIELDS = ("FROM", "SENDER", "TO", "CC", "BCC", "DATE", "MESSAGE-ID", "IN-REPLY-TO",
                 "REFERENCES", "SUBJECT", "LIST-ID", "LIST-UNSUBSCRIBE", "LIST-POST",
                 "PRECEDENCE")
FETCH_ITEMS = f"(BODY.PEEK[HEADER.FIELDS ({' '.join(HEADER_FIELDS)})])"
FETCH_CHUNK = 2000  # messages per UID FETCH (and per SyncBatch)
NEW_BY_SEARCH = 5000  # more new messages than this in a folder: search them instead
SKIP_SPECIAL = frozenset({"\\junk", "\\trash", "\\drafts"})
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


@dataclass(frozen=True)
class ImapCursor(Cursor):
    """Per folder (UIDVALIDITY, UIDNEXT), and a digest of the settings they hold for."""

    KIND = "imap"
    VERSION = 1

    signature: str  # owner, people, lookback, folders and strategy, hashed
    folders: dict[str, tuple[int, ...]]  # folder -> (UIDVALIDITY, UIDNEXT)


def choose_folders(folders: Sequence[Folder], wanted: Sequence[str],
                   drafts: str | None) -> list[Folder]:
    """The folders to read, or a VillagedError naming a configured folder that is missing."""
    by_name = {f.name: f for f in folders}
    for f in folders:
        if f.name.upper() == "INBOX":
            by_name.setdefault("INBOX", f)
    if list(wanted) == [ALL_FOLDERS]:
        return [f for f in folders if f.selectable and not (SKIP_SPECIAL & f.flags)
                and f.name != drafts]
    if not wanted:
        chosen = [by_name["INBOX"]] if "INBOX" in by_name else []
        chosen += [f for f in folders if "\\sent" in f.flags and f.selectable]
        return chosen
    chosen = []
    for name in wanted:
        folder = by_name.get(name) or by_name.get(name.upper() if name.upper() == "INBOX" else "")
        if folder is None or not folder.selectable:
            known = ", ".join(sorted(f.name for f in folders if f.selectable)) or "(none)"
            raise VillagedError(f"the IMAP folder {name!r} does not exist on the server",
                                fix=f"correct [backend.imap] folders; the server has: {known}")
        chosen.append(folder)
    return chosen


def address_terms(address: str, keys: Sequence[tuple[str, ...]]) -> list[list[Any]]:
    """Search keys matching ``address`` in the headers ``keys`` the way the contact
    rules match it: whatever the case, with any +tag, and for Gmail with any dots
    (there the domain alone: every dot variant contains it)."""
    local, _, domain = address.strip().lower().rpartition("@")
    if not local or not domain:
        return []
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        return [[*key, d] for key in keys for d in sorted(GMAIL_DOMAINS)]
    # the local part alone: one substring test per header (the domain would double the
    # server's work for few fewer hits; the parser drops what is not the person)
    return [[*key, local] for key in keys]


def or_tree(terms: list[list[Any]]) -> list[Any]:
    """``OR`` over ``terms`` as a balanced tree (shallow nesting for any number of terms)."""
    if len(terms) == 1:
        return terms[0]
    middle = len(terms) // 2
    return ["OR", or_tree(terms[:middle]), or_tree(terms[middle:])]


def _dedupe(terms: list[list[Any]]) -> list[list[Any]]:
    seen: list[list[Any]] = []
    for term in terms:
        if term not in seen:
            seen.append(term)
    return seen


def search_criteria(owner: Sequence[str], people: Sequence[Person],
                    since: dt.date | None) -> list[Any] | None:
    """Every message that can be evidence about a village member (a superset: the
    parser and the contact rules decide), or None if nobody has an address.

    Mail from a village member (From), or mail from the owner to one (To, Cc or
    Bcc), the way Gmail's per-person queries put it. (A message with no From
    address, counted by its Sender, is found only by ``strategy="all"``: RFC 5322
    makes From mandatory.)"""
    addresses = [e for p in people for e in p.emails]
    inbound = _dedupe([t for a in addresses for t in address_terms(a, [("FROM",)])])
    outbound = _dedupe([t for a in addresses
                        for t in address_terms(a, [("TO",), ("CC",), ("BCC",)])])
    mine = _dedupe([t for a in owner for t in address_terms(a, [("FROM",)])])
    if not inbound:
        return None
    tree = or_tree(inbound)
    if mine:
        tree = ["OR", tree, [or_tree(mine), or_tree(outbound)]]  # (from me AND to them)
    return (["SINCE", since] if since else []) + [tree]


def header_block(item: dict[bytes, Any]) -> bytes | None:
    for key, value in item.items():
        if key.startswith(b"BODY[HEADER.FIELDS") and isinstance(value, bytes):
            return value
    return None


class ImapMailSource:
    """The owner's IMAP mailbox. ``name`` is ``imap:<username>@<host>``."""

    cursor_type = ImapCursor

    def __init__(self, session: Callable[[], ImapSession], settings: ImapSettings,
                 owner_addresses: Sequence[str], people: Sequence[Person],
                 drafts_folder: Callable[[], str | None] = lambda: None,
                 strategy: str = "search", reset: Callable[[], None] = lambda: None) -> None:
        self._session = session
        self._reset = reset
        self.settings = settings
        self.owner_addresses = tuple(owner_addresses)
        self.people = tuple(people)
        self._drafts_folder = drafts_folder
        self.strategy = strategy

    @property
    def name(self) -> str:
        return f"imap:{self.settings.username}@{self.settings.host}"

    def __repr__(self) -> str:
        return f"ImapMailSource({self.name!r})"

    # -- cursor -------------------------------------------------------------------

    def _signature(self, ctx: SyncContext, folders: list[Folder]) -> str:
        """A digest of what a stored cursor is valid for (a change: full rescan)."""
        settings = {
            "owner": sorted(normalize(a) for a in self.owner_addresses),
            "people": {p.key: sorted(normalize(e) for e in p.emails) for p in self.people},
            "lookback_days": ctx.limits.lookback_days,
            "folders": sorted(f.name for f in folders),
            "strategy": self.strategy,
        }
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()

    # -- the protocol ---------------------------------------------------------------

    def sync(self, cursor: ImapCursor | None, ctx: SyncContext) -> Iterator[SyncBatch]:
        try:
            yield from self._sync(cursor, ctx)
        except TransientError:
            self._reset()  # the connection is broken: the next use opens a new one
            raise

    def _sync(self, cursor: ImapCursor | None, ctx: SyncContext) -> Iterator[SyncBatch]:
        session = self._session()
        listed = session.folders(status=True)
        chosen = choose_folders(listed, self.settings.folders, self._drafts_folder())
        signature = self._signature(ctx, chosen)
        stored = dict(cursor.folders) if cursor is not None else {}
        usable = cursor is not None and cursor.signature == signature
        if usable and any(f.name in stored and stored[f.name][0] != f.uidvalidity
                          for f in chosen):
            changed = [f.name for f in chosen if f.name in stored
                       and stored[f.name][0] != f.uidvalidity]
            log.info("%s: UIDVALIDITY of %s changed; full rescan", self.name, ", ".join(changed))
            usable = False
        if not usable:
            yield from self._full(session, chosen, signature, ctx)
            return
        yield from self._incremental(session, chosen, signature, stored, ctx)

    def _cursor(self, signature: str, folders: dict[str, tuple[int, int]]) -> ImapCursor:
        return ImapCursor(signature=signature,
                          folders={name: tuple(v) for name, v in sorted(folders.items())})

    # -- full -------------------------------------------------------------------------

    def _full(self, session: ImapSession, chosen: list[Folder], signature: str,
              ctx: SyncContext) -> Iterator[SyncBatch]:
        since = (ctx.now - dt.timedelta(days=ctx.limits.lookback_days)).date()
        criteria: list[Any] | None
        if self.strategy == "all":
            criteria = ["SINCE", since]
        else:
            criteria = search_criteria(self.owner_addresses, self.people, since)
        done = total = 0
        first = True
        folders_cursor = {}
        log.info("%s: full sync of %s", self.name, ", ".join(f.name for f in chosen))
        for folder in chosen:
            answer = session.examine(folder.name)
            validity = int(answer.get(b"UIDVALIDITY", folder.uidvalidity or 0))
            nxt = int(answer.get(b"UIDNEXT", folder.uidnext or 1))
            folders_cursor[folder.name] = (validity, nxt)
            uids = session.uid_search(criteria, f"searching {folder.name}") if criteria and int(
                answer.get(b"EXISTS", 1)) else []
            total += len(uids)
            ctx.progress(done, total)
            for offset in range(0, len(uids), FETCH_CHUNK):
                chunk = uids[offset:offset + FETCH_CHUNK]
                interactions, skipped = self._read(session, uid_set(chunk), folder.name, ctx)
                done += len(chunk)
                ctx.progress(done, total)
                # no cursor until the last batch: a crash midway starts over, never half
                yield SyncBatch(interactions=interactions, cursor=None, skipped=skipped,
                                replace=first)
                first = False
        yield SyncBatch(cursor=self._cursor(signature, folders_cursor), replace=first)

    # -- incremental --------------------------------------------------------------------

    def _incremental(self, session: ImapSession, chosen: list[Folder],
                     signature: str, stored: dict[str, tuple[int, ...]],
                     ctx: SyncContext) -> Iterator[SyncBatch]:
        chosen_names = {f.name for f in chosen}
        folders_cursor = {name: (int(v[0]), int(v[1])) for name, v in stored.items()
                          if name in chosen_names}
        changed = [f for f in chosen
                   if f.name not in stored or f.uidnext is None or f.uidnext != stored[f.name][1]]
        if not changed:
            return
        for folder in changed:
            answer = session.examine(folder.name)
            validity = int(answer.get(b"UIDVALIDITY", folder.uidvalidity or 0))
            nxt = int(answer.get(b"UIDNEXT", folder.uidnext or 1))
            start = int(stored[folder.name][1]) if folder.name in stored else 1
            if folder.name in stored and validity != stored[folder.name][0]:
                # changed between the status and the EXAMINE: start over next round
                yield SyncBatch(cursor=None)
                return
            if folder.name not in stored:
                since = (ctx.now - dt.timedelta(days=ctx.limits.lookback_days)).date()
                criteria = (["SINCE", since] if self.strategy == "all"
                            else search_criteria(self.owner_addresses, self.people, since))
                uids = session.uid_search(criteria, f"searching {folder.name}") \
                    if criteria else []
                ranges = [uid_set(uids[i:i + FETCH_CHUNK])
                          for i in range(0, len(uids), FETCH_CHUNK)]
            elif nxt - start > NEW_BY_SEARCH:
                uids = session.uid_search(["UID", f"{start}:*"], f"searching {folder.name}")
                uids = [u for u in uids if u >= start]
                ranges = [uid_set(uids[i:i + FETCH_CHUNK])
                          for i in range(0, len(uids), FETCH_CHUNK)]
            else:
                ranges = [f"{start}:*"] if nxt > start else []
            interactions: list[Interaction] = []
            skipped: Counter[str] = Counter()
            for index, ranged in enumerate(ranges):
                found, skips = self._read(session, ranged, folder.name, ctx, min_uid=start)
                interactions.extend(found)
                skipped.update(skips)
                if index < len(ranges) - 1 and len(interactions) >= FETCH_CHUNK:
                    yield SyncBatch(interactions=interactions, cursor=self._cursor(
                        signature, folders_cursor), skipped=skipped)
                    interactions, skipped = [], Counter()
            folders_cursor[folder.name] = (validity, nxt)
            log.info("%s: %s: %d new interactions (UIDs from %d)", self.name, folder.name,
                     len(interactions), start)
            yield SyncBatch(interactions=interactions, skipped=skipped,
                            cursor=self._cursor(signature, folders_cursor))

    # -- reading headers ---------------------------------------------------------------

    def _read(self, session: ImapSession, uids: str, folder: str, ctx: SyncContext,
              min_uid: int = 0) -> tuple[list[Interaction], Counter[str]]:
        answer = session.fetch_range(uids, FETCH_ITEMS, f"reading headers in {folder}")
        interactions: list[Interaction] = []
        skipped: Counter[str] = Counter()
        for uid, item in sorted(answer.items()):
            if uid < min_uid:  # "n:*" answers the last message even when n is past it
                continue
            block = header_block(item)
            if block is None:
                skipped["message without headers"] += 1
                continue
            found, reason = classify_block(block, ctx.matcher, ctx.limits, ctx.now, self.name)
            if reason:
                skipped[reason] += 1
            interactions.extend(found)
        return interactions, skipped
