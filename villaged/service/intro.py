"""`villaged draft --intro PERSON`: one introduction to a prospect, on the owner's request only.

The draft goes through the same ledger as every other draft (row first, then the
draft, then ``created``), so a crash never leaves two; at most one introduction a
prospect unless the owner asks again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from villaged.compose.intro import compose_intro, needs_words
from villaged.compose.templating import environment
from villaged.core.plan import iso_week
from villaged.domain.errors import VillagedError
from villaged.domain.village import DraftRecord, DraftState, Person, Village
from villaged.domain.vocabulary import DraftKind
from villaged.ports.backend import BackendIO
from villaged.service.round import reconcile_ledger
from villaged.store import Store

INTRO = DraftKind.INTRO


@dataclass(frozen=True)
class IntroDraft:
    key: str
    draft_id: str
    subject: str
    needs_words: bool
    drafts_link: str


def draft_intro(village: Village, store: Store, io: BackendIO, person: Person, now: dt.datetime,
                *, again: bool = False) -> IntroDraft:
    if not person.prospect:
        raise VillagedError(f"{person.name} is already part of your village",
                            fix="introductions are for prospects: `villaged prospect add ...`")
    reconcile_ledger(store, io, now)
    previous = [r for r in store.ledger(person.key) if r.kind == INTRO]
    if previous and not again:
        last = previous[-1]
        when = last.created_at.astimezone(village.owner.timezone).date()
        raise VillagedError(f"an introduction to {person.name} was drafted on {when} "
                            f"({last.state.value})",
                            fix="pass --again to draft another one")
    key = f"{INTRO}:{person.key}:{len(previous) + 1}"
    message = compose_intro(village, person, key, environment(village.config_dir), now)
    record = DraftRecord(key=key, person=person.key, kind=INTRO, week=iso_week(now, village),
                         state=DraftState.CREATING, created_at=now,
                         subject=str(message["Subject"]))
    if store.ledger_begin(record):
        draft_id = io.outbox.put(key, message, None)
        store.ledger_set(key, DraftState.CREATED, now, draft_id)
    else:  # the same key already recorded: a concurrent or repeated request
        draft_id = next((r.draft_id or "" for r in store.ledger(person.key) if r.key == key), "")
    return IntroDraft(key=key, draft_id=draft_id, subject=record.subject,
                      needs_words=needs_words(message), drafts_link=io.outbox.drafts_link)
