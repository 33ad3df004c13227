"""Outlook mail as a source of contact: per-person queries first, then per-folder delta.

**Initial sync is per person, not per message** (measured: bench/graph_sync.py;
the README gives the figures). First it asks each folder (Inbox, Sent Items,
and any configured) for a delta link that starts *now*:
``messages/delta?$filter=receivedDateTime ge <a day ago>`` (the only $filter
delta allows), so nothing arriving during the sync is missed and the link
costs one request per folder, whatever the mailbox size. Then, for each
person, two queries in JSON $batch requests of 20:

- in:  ``/me/messages?$filter=receivedDateTime ge <lookback> and (from/emailAddress/address eq 'a' …)``
  ``&$orderby=receivedDateTime desc&$top=10`` (the ordered property comes first in
  $filter, as Exchange requires);
- out: ``/me/mailFolders/sentitems/messages?$search="recipients:a OR …"&$top=10``
  (recipients covers To, Cc and Bcc; $search cannot be combined with $filter, so
  the lookback is applied here).

Both with ``$select`` of only what the contact rules need. When none of a
person's newest hits count as contact (mailing-list mail, say), the next page
is read, up to MAX_PAGES.

**Then incremental:** the stored delta link of each folder, all in one $batch,
with their next pages batched too. A round with nothing new is one request.
A person added to the village (or whose addresses changed) gets the
per-person queries on the next sync. A delta link the service rejects
(410, ``syncStateNotFound``, ``resyncRequired``) starts a per-person resync
with fresh links: what it finds is what the lost changes would have told
about each person's newest contact, so the standings are the same.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from villaged.backends.microsoft.api import Call, GraphClient, GraphError
from villaged.backends.microsoft.message import NOT_A_MESSAGE, SELECT, classify_message
from villaged.domain.addresses import normalize
from villaged.domain.village import Interaction, Kind, Person
from villaged.ports.cursor import Cursor
from villaged.ports.source import SyncBatch, SyncContext

log = logging.getLogger(__name__)

PAGE = 10  # newest hits per person and direction: usually all that is needed
MAX_PAGES = 3
DELTA_PAGE = 500  # Prefer: odata.maxpagesize for delta pages
SEED_OVERLAP = dt.timedelta(days=1)
_SAFE_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


@dataclass(frozen=True)
class MailCursor(Cursor):
    """Each folder's delta link, and what the per-person lookup was made for."""

    KIND = "outlook-mail"
    VERSION = 1

    links: dict[str, str]  # folder -> its delta link ("" for a folder that does not exist)
    people: dict[str, tuple[str, ...]]  # person key -> normalised addresses looked up
    owner: tuple[str, ...]
    lookback_days: int
    folders: tuple[str, ...]


class DeltaExpired(Exception):
    """A stored delta link was refused (410 / syncStateNotFound / resyncRequired)."""


@dataclass
class _Probe:
    person: str
    kind: Kind
    url: str
    pages: int = 0
    done: bool = False


@dataclass
class _Found:
    interactions: list[Interaction] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def _odata(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _q(value: str) -> str:
    return quote(value, safe="/:'=(),@$")


class OutlookMailSource:
    """The owner's Outlook mailbox. ``name`` is "outlook-mail"."""

    name = "outlook-mail"

    def __init__(
        self,
        client: GraphClient,
        owner_addresses: Sequence[str],
        people: Sequence[Person],
        folders: Sequence[str] = ("inbox", "sentitems"),
    ) -> None:
        self.client = client
        self.owner_addresses = tuple(owner_addresses)
        self.people = tuple(people)
        self.folders = tuple(folders)

    def __repr__(self) -> str:
        return f"OutlookMailSource({self.folders!r})"

    # -- the protocol -----------------------------------------------------------------

    cursor_type = MailCursor

    def sync(self, cursor: MailCursor | None, ctx: SyncContext) -> Iterator[SyncBatch]:
        if not self._usable(cursor, ctx):
            log.info("outlook: initial per-person sync of %d people", len(self.people))
            yield self._full(ctx, self.people, replace=True)
            return
        assert cursor is not None
        try:
            yield from self._incremental(cursor, ctx)
        except DeltaExpired:
            log.info("outlook: a delta link expired; per-person resync")
            yield self._full(ctx, self.people, replace=False)

    # -- cursor ---------------------------------------------------------------------------

    def _people(self) -> dict[str, tuple[str, ...]]:
        return {p.key: tuple(sorted(normalize(e) for e in p.emails)) for p in self.people}

    def _cursor(self, links: dict[str, str], ctx: SyncContext) -> MailCursor:
        return MailCursor(links=dict(links), people=self._people(),
                          owner=tuple(sorted(normalize(a) for a in self.owner_addresses)),
                          lookback_days=ctx.limits.lookback_days, folders=self.folders)

    def _usable(self, cursor: MailCursor | None, ctx: SyncContext) -> bool:
        if cursor is None or set(cursor.links) != set(self.folders) or cursor.folders != self.folders:
            return False
        return (cursor.owner, cursor.lookback_days) == (
            tuple(sorted(normalize(a) for a in self.owner_addresses)), ctx.limits.lookback_days)

    # -- delta --------------------------------------------------------------------------

    def _delta(self, starts: dict[str, str], ctx: SyncContext, found: _Found) -> dict[str, str]:
        """Follow each folder's delta from ``starts`` (folder → URL) to its new delta link,
        all folders in one $batch per page; classify what came back."""
        links: dict[str, str] = {}
        pending = dict(starts)
        prefer = {"Prefer": f"odata.maxpagesize={DELTA_PAGE}"}
        while pending:
            answers = self.client.batch(
                [Call(folder, self.client.relative(url), headers=prefer) for folder, url in pending.items()]
            )
            following: dict[str, str] = {}
            for folder, answer in answers.items():
                if isinstance(answer, GraphError):
                    if answer.resync:
                        raise DeltaExpired(folder)
                    if answer.status == 404:
                        log.warning("outlook: the mail folder %r does not exist; it is skipped", folder)
                        links[folder] = ""
                        continue
                    raise answer
                self._classify(answer.get("value") or (), ctx, found)
                if answer.get("@odata.nextLink"):
                    following[folder] = str(answer["@odata.nextLink"])
                else:
                    links[folder] = str(answer.get("@odata.deltaLink") or "")
            pending = following
        return links

    def _incremental(self, cursor: MailCursor, ctx: SyncContext) -> Iterator[SyncBatch]:
        stored: dict[str, str] = dict(cursor.links)
        starts = {f: link for f, link in stored.items() if link}
        found = _Found()
        links = {**stored, **self._delta(starts, ctx, found)} if starts else dict(stored)
        known = cursor.people
        current = self._people()
        newcomers = [p for p in self.people if known.get(p.key) != current[p.key]]
        if newcomers:
            log.info("outlook: %d people new or changed; looking them up", len(newcomers))
            self._search(newcomers, ctx, found)
        new_cursor = self._cursor(links, ctx)
        if found.interactions or found.skipped or new_cursor != cursor:
            yield SyncBatch(interactions=found.interactions, cursor=new_cursor, skipped=found.skipped)

    # -- full (per person) ------------------------------------------------------------------

    def _full(self, ctx: SyncContext, people: Sequence[Person], replace: bool) -> SyncBatch:
        found = _Found()
        since = _iso(ctx.now - SEED_OVERLAP)
        seeds = {
            f: f"/me/mailFolders/{_q(f)}/messages/delta?$select={SELECT}"
            f"&$filter={_q(f'receivedDateTime ge {since}')}"
            for f in self.folders
        }
        links = self._delta(seeds, ctx, found)
        self._search(people, ctx, found)
        return SyncBatch(
            interactions=found.interactions,
            cursor=self._cursor(links, ctx),
            skipped=found.skipped,
            replace=replace,
        )

    def _probes(self, person: Person, ctx: SyncContext) -> list[_Probe]:
        theirs = [a.strip() for a in person.emails if _SAFE_ADDRESS.fullmatch(a.strip())]
        for bad in set(person.emails) - set(theirs):
            log.warning("not searching Outlook for %r: not a plain address", bad)
        if not theirs:
            return []
        since = _iso(ctx.now - dt.timedelta(days=ctx.limits.lookback_days))
        senders = " or ".join(f"from/emailAddress/address eq {_odata(a)}" for a in theirs)
        inbound = (
            f"/me/messages?$filter={_q(f'receivedDateTime ge {since} and ({senders})')}"
            f"&$orderby={_q('receivedDateTime desc')}&$top={PAGE}&$select={SELECT}"
        )
        search = '"' + " OR ".join(f"recipients:{a}" for a in theirs) + '"'
        outbound = f"/me/mailFolders/sentitems/messages?$search={_q(search)}&$top={PAGE}&$select={SELECT}"
        return [_Probe(person.key, Kind.EMAIL_IN, inbound), _Probe(person.key, Kind.EMAIL_OUT, outbound)]

    def _search(self, people: Sequence[Person], ctx: SyncContext, found: _Found) -> None:
        probes = [probe for person in people for probe in self._probes(person, ctx)]
        total = len(probes)
        while True:
            active = [p for p in probes if not p.done]
            if not active:
                break
            ctx.progress(total - len(active), total)
            answers = self.client.batch([Call(str(n), p.url) for n, p in enumerate(probes) if not p.done])
            for n, probe in enumerate(probes):
                if probe.done or str(n) not in answers:
                    continue
                answer = answers[str(n)]
                probe.pages += 1
                if isinstance(answer, GraphError):
                    log.warning("outlook: a lookup for %s failed: %s", probe.person, answer.code)
                    found.skipped["failed lookup"] += 1
                    probe.done = True
                    continue
                got = self._classify(answer.get("value") or (), ctx, found)
                direct = any(i.person == probe.person and i.kind is probe.kind and i.direct for i in got)
                following = answer.get("@odata.nextLink")
                if direct or not following or probe.pages >= MAX_PAGES:
                    probe.done = True
                else:
                    probe.url = self.client.relative(str(following))
        ctx.progress(total, total)

    def _classify(self, messages: Sequence[Any], ctx: SyncContext, found: _Found) -> list[Interaction]:
        got: list[Interaction] = []
        for message in messages:
            interactions, reason = classify_message(message, ctx, self.name)
            if reason:
                found.skipped[reason if reason != NOT_A_MESSAGE else NOT_A_MESSAGE] += 1
            got.extend(interactions)
        found.interactions.extend(got)
        return got
