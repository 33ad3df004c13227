"""The one round: sync → reconcile → assess → plan → compose → deliver → record.

`villaged draft`, `run --once`, the daemon and `demo` all call run_round.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field

from villaged.compose.checkin import compose_checkin
from villaged.compose.invite import compose_invite
from villaged.compose.templating import environment
from villaged.core.assess import assess
from villaged.core.invitations import busy_window
from villaged.core.pauses import with_snoozes
from villaged.core.plan import iso_week, plan
from villaged.domain.addresses import Matcher
from villaged.domain.village import Action, DraftRecord, DraftState, PlanItem, Standing, Village
from villaged.ports.backend import BackendIO
from villaged.ports.outbox import reconcile
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


def sync_sources(village: Village, store: Store, io: BackendIO, now: dt.datetime,
                 progress: Progress = no_progress) -> SyncReport:
    ctx = SyncContext(matcher=Matcher.build(village.owner.addresses, village.people),
                      limits=village.thresholds, now=now, progress=progress)
    return sync_all(store, io.sources(), ctx)


def reconcile_ledger(store: Store, io: BackendIO, now: dt.datetime) -> list[tuple[str, DraftState]]:
    """Bring open ledger rows in line with what is really in the drafts folder."""
    open_rows = [r for r in store.ledger() if r.state.value in ("creating", "created", "pending")]
    if not open_rows:
        return []
    changes = reconcile(open_rows, io.outbox.existing(), store.interactions())
    done = []
    for row, state, draft_id in changes:
        if row.state is DraftState.CREATING and draft_id is None:
            store.ledger_forget(row.key)  # never written: the plan may propose it again
            continue
        store.ledger_set(row.key, state, now, draft_id)
        done.append((row.key, state))
    return done


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
    """Run one round. With ``draft`` False it only plans (a dry run)."""
    village = with_snoozes(village, store.snoozes())
    result = RoundResult(week=iso_week(now, village), drafts_link=io.outbox.drafts_link)
    if sync:
        result.sync = sync_sources(village, store, io, now, progress)
    result.reconciled = reconcile_ledger(store, io, now)
    interactions = store.interactions()
    result.standings = assess(village, interactions, now)
    # busy times only matter when someone has an agreement (an invitation needs a slot)
    busy = io.busy(*busy_window(village, now)) if any(p.agreement for p in village.people) else []
    result.plan = plan(village, result.standings, interactions, store.ledger(), busy, now,
                       result.week)
    if draft:
        result.interrupted = not write_drafts(village, store, io, result, now, stop)
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
        compose = compose_invite if action.action == "invite" else compose_checkin
        message = compose(village, action, env, now)
        record = DraftRecord(key=action.key, person=action.person, kind=action.action,
                             week=action.week, state=DraftState.CREATING, created_at=now,
                             subject=str(message["Subject"]), variant=action.variant,
                             slot=action.slot)
        if not store.ledger_begin(record):
            continue
        thread = action.reply_to.thread if action.reply_to else None
        draft_id = io.outbox.put(action.key, message, thread)
        store.ledger_set(action.key, DraftState.CREATED, now, draft_id)
        result.written.append((action, draft_id))
        log.info("drafted %s for %s", action.action, action.person)
    return True
