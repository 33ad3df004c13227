"""What the service did and will do next, for ``villaged status`` and ``doctor``.

Read-only: it looks at the store (job_runs and the kv facts the jobs and the
daemon write) and the run lock, and computes the next weekly slots itself.
Light imports only, so ``villaged status`` stays fast.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from villaged.domain.village import Village
from villaged.domain.vocabulary import Outcome
from villaged.service import runlock
from villaged.service.jobs import (
    LABELS,
    LAST_ROUND,
    LAST_SYNC,
    SYNC,
    next_slot,
    parked,
    pending_slot,
    weekly_jobs,
)
from villaged.store import DaemonState, LastRun, Parked, Store

PROBLEM_OUTCOMES = tuple(o for o in Outcome if o.problem)


@dataclass(frozen=True)
class JobView:
    name: str
    label: str
    last_at: dt.datetime | None
    last_slot: str | None
    last_outcome: str | None
    last_detail: str
    next_text: str

    @property
    def problem(self) -> bool:
        return self.last_outcome in PROBLEM_OUTCOMES


@dataclass(frozen=True)
class ServiceView:
    runner_pid: int | None  # who holds the run lock (-1: someone, pid unknown)
    daemon: DaemonState | None
    parked: Parked | None
    last_round: LastRun | None
    jobs: list[JobView]


def service_view(village: Village, store: Store, now: dt.datetime, state_dir: Path) -> ServiceView:
    tz = village.owner.timezone
    pid = runlock.holder(state_dir)
    daemon = store.daemon_state()
    live = daemon if daemon and pid is not None and daemon.pid == pid else None
    parked_now = parked(store)
    jobs = []

    last_sync = store.last_run(LAST_SYNC)
    next_sync = live.next.get(SYNC) if live else None
    jobs.append(JobView(
        SYNC, LABELS[SYNC],
        last_sync.at if last_sync else None, None,
        last_sync.outcome if last_sync else None,
        last_sync.detail if last_sync else "",
        f"~{when_text(next_sync, tz)}" if next_sync and not parked_now else
        "parked" if parked_now else
        f"every {village.sync_minutes} min while `villaged run` (or the timer) runs",
    ))
    for job in weekly_jobs(village):
        runs = store.job_runs(job.name, limit=1)
        last = runs[0] if runs else None
        pending = pending_slot(store, job, now)
        if pending is None:
            next_text = when_text(next_slot(store, job, now).at, tz)
        elif parked_now:
            next_text = f"parked (slot {pending.key} waits)"
        elif live:
            next_text = f"now (slot {pending.key})"
        else:
            next_text = f"at the next start or round (slot {pending.key} not run yet)"
        last_at = None
        if last:
            last_at = last.finished_at or last.started_at
        jobs.append(JobView(job.name, job.label, last_at, last.slot if last else None,
                            (last.outcome or "running/unfinished") if last else None,
                            (last.detail or "") if last else "", next_text))
    return ServiceView(pid, live, parked_now, store.last_run(LAST_ROUND), jobs)


def when_text(when: dt.datetime, tz: dt.tzinfo) -> str:
    return f"{when.astimezone(tz):%a %Y-%m-%d %H:%M %Z}"
