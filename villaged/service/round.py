"""The one round, in three steps: observe → decide → act.

* observe (I/O): sync the sources into the store, bring the drafts ledger in
  line with the drafts folder (reconcile), read what the plan needs (the
  interactions, the ledger, busy times);
* decide (pure): assess and plan, from the observation and ``now``;
* act (I/O): compose each planned draft, deliver it into the drafts folder
  and record it in the ledger.

``run_round`` is the one composition of the three: `villaged draft`,
`run --once`, the daemon and `demo` all call it. A dry run (``preview``:
`villaged plan`, `villaged doctor`) *looks* instead of observing: it reads the
store as it is (no sync: the plan is made from what the last sync stored, and
says when that was), reads the drafts folder and reconciles the ledger in
memory, then decides. It writes nothing: not the store, not the drafts folder,
not an API that writes.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.message import EmailMessage

import jinja2

from villaged.compose.checkin import compose_checkin, compose_reply
from villaged.compose.headers import message_id_for
from villaged.compose.invite import compose_invite
from villaged.compose.templating import environment
from villaged.compose.voice import needs_words
from villaged.core.assess import assess
from villaged.core.invitations import busy_window
from villaged.core.notes import owner_notes
from villaged.core.pauses import with_snoozes
from villaged.core.plan import iso_week, plan
from villaged.domain.addresses import Matcher
from villaged.domain.village import (
    OPEN_DRAFT_STATES,
    Action,
    DraftRecord,
    DraftState,
    Interaction,
    PlanItem,
    Standing,
    Village,
)
from villaged.domain.vocabulary import DraftKind
from villaged.ports.backend import BackendIO, CalendarUnreadable, Interval
from villaged.ports.outbox import DraftSeen, Withdrawing, drafts_seen, reconcile
from villaged.ports.source import Progress, SyncContext, no_progress
from villaged.service.sync import SyncReport, sync_all
from villaged.store import Store

log = logging.getLogger(__name__)


@dataclass
class RoundResult:
    week: str
    drafts_link: str = ""
    standings: list[Standing] = field(default_factory=list)
    plan: list[PlanItem] = field(default_factory=list)
    sync: SyncReport | None = None
    written: list[tuple[Action, str]] = field(default_factory=list)
    reconciled: list[tuple[str, DraftState]] = field(default_factory=list)
    interrupted: bool = False
    synced_at: dt.datetime | None = None  # a preview: when the data it planned from was synced
    notes: dict[str, list[str]] = field(default_factory=dict)  # person -> the owner's notes
    needs_words: set[str] = field(default_factory=set)  # action keys with a blank to fill


COMPOSERS = {DraftKind.CHECKIN: compose_checkin, DraftKind.REPLY: compose_reply,
             DraftKind.INVITE: compose_invite}


def compose(village: Village, action: Action, env: jinja2.Environment,
            now: dt.datetime) -> EmailMessage:
    return COMPOSERS[action.action](village, action, env, now)


def body_text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    return str(part.get_content()) if part is not None else ""


def annotate(village: Village, result: RoundResult, interactions: Sequence[Interaction],
             now: dt.datetime) -> None:
    """For the owner's eyes: their notes for each person drafted to, and which drafts hold
    a blank for their own words (compose is pure, so a dry run may render them)."""
    env = environment(village.config_dir)
    for action in (a for a in result.plan if isinstance(a, Action)):
        result.notes[action.person] = owner_notes(village.person(action.person), interactions)
        if needs_words(body_text(compose(village, action, env, now))):
            result.needs_words.add(action.key)


@dataclass(frozen=True)
class Observation:
    """What the decision needs, as observed (or, for a dry run, looked at)."""

    interactions: list[Interaction]
    ledger: list[DraftRecord]
    busy: list[Interval]
    sync: SyncReport | None = None
    busy_problem: str | None = None  # why busy times are unknown (an unreadable calendar)
    reconciled: list[tuple[str, DraftState]] = field(default_factory=list)
    synced_at: dt.datetime | None = None


@dataclass(frozen=True)
class Decision:
    week: str
    standings: list[Standing]
    plan: list[PlanItem]


# -- observe ----------------------------------------------------------------------------

def sync_sources(village: Village, store: Store, io: BackendIO, now: dt.datetime,
                 progress: Progress = no_progress) -> SyncReport:
    ctx = SyncContext(matcher=Matcher.build(village.owner.addresses, village.people),
                      limits=village.thresholds, now=now, progress=progress)
    return sync_all(store, io.sources(), ctx)


def identities(village: Village | None, rows: Sequence[DraftRecord],
               ) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """What recognises an edited draft besides its key: each person's addresses, and
    the Message-ID villaged gave each draft (see ports.outbox.reconcile)."""
    if village is None:
        return {}, {}
    return ({p.key: tuple(p.emails) for p in village.people},
            {r.key: message_id_for(r.key, village.owner.address) for r in rows})


def reconcile_ledger(store: Store, io: BackendIO, now: dt.datetime,
                     village: Village | None = None) -> list[tuple[str, DraftState]]:
    """Bring open ledger rows in line with what is really in the drafts folder
    (an edited draft is recognised even when its key header is gone: see reconcile)."""
    open_rows = [r for r in store.ledger() if r.state in OPEN_DRAFT_STATES]
    if not open_rows:
        return []
    addresses, message_ids = identities(village, open_rows)
    changes = reconcile(open_rows, drafts_seen(io.outbox), store.interactions(),
                        addresses, message_ids)
    done = []
    for row, state, draft_id in changes:
        if row.state is DraftState.CREATING and draft_id is None:
            store.ledger_forget(row.key)  # never written: the plan may propose it again
            continue
        store.ledger_set(row.key, state, now, draft_id)
        done.append((row.key, state))
    return done


def busy_times(village: Village, io: BackendIO, now: dt.datetime
               ) -> tuple[list[Interval], str | None]:
    """The owner's busy times, read only when someone has an agreement (an
    invitation needs a slot), and why they are unknown if a calendar cannot be
    read: that costs only the invitations (the plan says why), not the round."""
    if not any(p.agreement for p in village.people):
        return [], None
    try:
        return io.busy(*busy_window(village, now)), None
    except CalendarUnreadable as exc:
        log.warning("busy times unknown, no invitations this round: %s", exc.message)
        return [], exc.message


def observe(village: Village, store: Store, io: BackendIO, now: dt.datetime, *,
            sync: bool = True, progress: Progress = no_progress) -> Observation:
    """Sync (when asked) and reconcile: the writing half of looking."""
    report = sync_sources(village, store, io, now, progress) if sync else None
    reconciled = reconcile_ledger(store, io, now, village)
    busy, busy_problem = busy_times(village, io, now)
    return Observation(interactions=store.interactions(), ledger=store.ledger(),
                       busy=busy, sync=report, reconciled=reconciled, busy_problem=busy_problem)


def look(village: Village, store: Store | None, io: BackendIO, now: dt.datetime) -> Observation:
    """What ``observe`` would see, without writing anything: no sync (the stored
    interactions are used as they are), the ledger reconciled in memory.
    ``store`` is None when there is no state database yet."""
    interactions = store.interactions() if store is not None else []
    ledger = store.ledger() if store is not None else []
    if any(r.state in OPEN_DRAFT_STATES for r in ledger):
        ledger = reconciled_in_memory(ledger, drafts_seen(io.outbox), interactions, now, village)
    busy, busy_problem = busy_times(village, io, now)
    return Observation(interactions=interactions, ledger=ledger, busy=busy,
                       busy_problem=busy_problem,
                       synced_at=store.last_synced() if store is not None else None)


def reconciled_in_memory(ledger: Sequence[DraftRecord],
                         present: Mapping[str, str] | Sequence[DraftSeen],
                         interactions: Sequence[Interaction],
                         now: dt.datetime, village: Village | None = None) -> list[DraftRecord]:
    """The ledger as ``reconcile_ledger`` would leave it (pure)."""
    addresses, message_ids = identities(
        village, [r for r in ledger if r.state in OPEN_DRAFT_STATES])
    changes = {row.key: (state, draft_id) for row, state, draft_id
               in reconcile(ledger, present, interactions, addresses, message_ids)}
    result = []
    for row in ledger:
        if row.key not in changes:
            result.append(row)
            continue
        state, draft_id = changes[row.key]
        if row.state is DraftState.CREATING and draft_id is None:
            continue
        result.append(replace(row, state=state, draft_id=draft_id or row.draft_id,
                              updated_at=now))
    return result


# -- decide -----------------------------------------------------------------------------

def decide(village: Village, seen: Observation, now: dt.datetime) -> Decision:
    """Assess and plan (pure)."""
    week = iso_week(now, village)
    standings = assess(village, seen.interactions, now)
    items = plan(village, standings, seen.interactions, seen.ledger, seen.busy, now, week,
                 seen.busy_problem)
    return Decision(week=week, standings=standings, plan=items)


# -- act --------------------------------------------------------------------------------

def act(village: Village, store: Store, io: BackendIO, decided: Decision, result: RoundResult,
        now: dt.datetime, *, draft: bool, stop: threading.Event | None = None) -> None:
    """With ``draft``, compose, write and record each planned draft."""
    if draft:
        result.interrupted = not write_drafts(village, store, io, result, now, stop)


def run_round(
    village: Village,
    store: Store,
    io: BackendIO,
    now: dt.datetime,
    *,
    sync: bool = True,
    draft: bool = False,
    progress: Progress = no_progress,
    stop: threading.Event | None = None,
) -> RoundResult:
    """Run one round: observe, decide, act (drafts only with ``draft``)."""
    village = with_snoozes(village, store.snoozes())
    seen = observe(village, store, io, now, sync=sync, progress=progress)
    decided = decide(village, seen, now)
    result = RoundResult(week=decided.week, drafts_link=io.outbox.drafts_link,
                         standings=decided.standings, plan=decided.plan, sync=seen.sync,
                         reconciled=seen.reconciled)
    annotate(village, result, seen.interactions, now)
    act(village, store, io, decided, result, now, draft=draft, stop=stop)
    return result


def preview(village: Village, store: Store | None, io: BackendIO, now: dt.datetime) -> RoundResult:
    """A dry run of the round: look, decide, and no act. Writes nothing."""
    if store is not None:
        village = with_snoozes(village, store.snoozes())
    seen = look(village, store, io, now)
    decided = decide(village, seen, now)
    result = RoundResult(week=decided.week, drafts_link=io.outbox.drafts_link,
                         standings=decided.standings, plan=decided.plan, synced_at=seen.synced_at)
    annotate(village, result, seen.interactions, now)
    return result


def write_drafts(village: Village, store: Store, io: BackendIO, result: RoundResult,
                 now: dt.datetime, stop: threading.Event | None) -> bool:
    """Write each planned draft; False if stopped early at a safe point.

    Ledger row first (``creating``), then the draft, then ``created``: a crash
    anywhere is repaired by reconcile_ledger on the next round.
    """
    env = environment(village.config_dir)
    for action in (a for a in result.plan if isinstance(a, Action)):
        if stop is not None and stop.is_set():
            return False
        message = compose(village, action, env, now)
        record = DraftRecord(key=action.key, person=action.person, kind=action.action,
                             week=action.week, state=DraftState.CREATING, created_at=now,
                             subject=str(message["Subject"]), variant=action.variant,
                             slot=action.slot)
        if action.replaces and not isinstance(io.outbox, Withdrawing):
            log.warning("cannot replace the stale invitation %s: %s cannot withdraw drafts",
                        action.replaces, io.outbox.name)
            continue
        if not store.ledger_begin(record):
            continue
        if action.replaces:  # never two invitation drafts for one person
            assert isinstance(io.outbox, Withdrawing)
            io.outbox.withdraw(action.replaces)
            store.ledger_set(action.replaces, DraftState.REPLACED, now)
        thread = action.reply_to.thread if action.reply_to else None
        draft_id = io.outbox.put(action.key, message, thread)
        store.ledger_set(action.key, DraftState.CREATED, now, draft_id)
        result.written.append((action, draft_id))
        log.info("drafted %s for %s", action.action, action.person)
    return True
