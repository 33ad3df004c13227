"""The service's jobs: the sync round, the weekly drafting round, the weekly digest.

``villaged run`` (the daemon) and ``villaged run --once`` both drive a
``Service``; neither has a code path of its own for what a job does. The
sync job and the drafting job are the one round (``run_round``), without and
with drafting; the digest job calls the digest entry point.

Weekly jobs and catch-up
------------------------
A weekly job has a slot in the owner's zone (``schedule_slots``). It is
*pending* when its latest slot (always within the last 7 days) has not been
done, i.e. no completed run (``ok``/``skipped``/``failed``) of the job

* was for that slot, or
* started after the slot's time, or
* started in the owner's current ISO week.

The same rule serves the slot that just arrived and the one missed while the
machine was off or suspended, so catch-up is not a separate path; an older
missed slot is never replayed. The last clause is there because the drafting
round and the digest key their work by the owner's ISO week *of the run*: a
slot missed last week and caught up this week did this week's work, so this
week's own slot must not run again (which would draft a second batch of
check-ins); the same holds when the owner moves the roulette day mid-week.

Claim → run → finish: ``store.job_claim(job, slot)`` inserts the row before
anything happens, and ``job_finish`` records the outcome. Only one runner
holds the state directory (``runlock``), so a row still unfinished when a
runner starts belongs to one that died mid-job: the slot is claimed again
(``job_reclaim``) and the job reruns, which is safe because the drafting
round is idempotent through the drafts ledger and the digest through its
own week key. After ``MAX_CRASHES`` such deaths the slot is given up
(``failed``) instead of crash-looping. A job stopped by a signal, or failed
for now, is recorded (``interrupted``/``retry``/``error``/``parked``) and
retried later in the same window.

Failures: transient ones (TransientError, local OSError) back off
exponentially per job (1 min doubling to 1 h) and retry in a later round.
An AuthError *parks* the jobs: the store's ``parked`` row holds the reason
and the fix, status and doctor show it, and the daemon stops calling the
backend (no crash loop) until it is restarted, reloaded (SIGHUP), or
something clears the row (a fresh grant). Logs carry an error's message, never a token.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from villaged.backends.registry import open_backend
from villaged.domain.errors import AuthError, TransientError, VillagedError
from villaged.domain.village import Action, Village
from villaged.domain.vocabulary import DONE_OUTCOMES, JobName, Outcome
from villaged.ports.backend import BackendIO
from villaged.service.schedule_slots import Slot, WeeklySlot
from villaged.store import JobRun, LastRun, Parked, Store

log = logging.getLogger(__name__)

SYNC, DRAFT, DIGEST = JobName.SYNC, JobName.DRAFT, JobName.DIGEST
LABELS: dict[str, str] = {SYNC: "sync round", DRAFT: "drafting round", DIGEST: "digest"}
MAX_CRASHES = 3

LAST_ROUND, LAST_SYNC = "round", "sync"  # Store.last_run kinds

class StopRequested(BaseException):
    """Raised at a safe point when the service was asked to stop.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception``
    on the way up mistakes it for a failure.
    """


@dataclass(frozen=True)
class WeeklyJob:
    name: JobName
    slot: WeeklySlot

    @property
    def label(self) -> str:
        return LABELS[self.name]


def weekly_jobs(village: Village) -> list[WeeklyJob]:
    """The weekly jobs in the order they run when both are pending: drafts, then
    the digest (which lists the drafts awaiting review)."""
    tz = village.owner.timezone
    return [WeeklyJob(DRAFT, WeeklySlot(village.roulette.day, village.roulette.time, tz)),
            WeeklyJob(DIGEST, WeeklySlot(village.digest.day, village.digest.time, tz))]


def pending_slot(store: Store, job: WeeklyJob, now: dt.datetime) -> Slot | None:
    """The job's latest slot if it has not been done yet (see the module doc)."""
    slot = job.slot.latest(now)
    week = _week(now, job.slot.tz)
    for run in store.job_runs(job.name, limit=50):
        if run.outcome not in DONE_OUTCOMES:
            continue
        started = run.started_at
        if run.slot == slot.key or started >= slot.at or _week(started, job.slot.tz) == week:
            return None
    return slot


def next_slot(store: Store, job: WeeklyJob, now: dt.datetime) -> Slot:
    """The first slot after ``now`` that will run (one whose week a run already
    covered is passed over)."""
    slot = job.slot.next(now)
    if pending_slot(store, job, slot.at) is None:
        slot = job.slot.next(slot.at)
    return slot


def _week(when: dt.datetime, tz: dt.tzinfo) -> tuple[int, int]:
    year, week, _ = when.astimezone(tz).isocalendar()
    return year, week


def _run_row(store: Store, job: str, slot: str) -> JobRun | None:
    return next((r for r in store.job_runs(job, limit=50) if r.slot == slot), None)


def claim(store: Store, job: str, slot: str, now: dt.datetime) -> bool:
    """Claim a slot for this runner (the caller holds the run lock)."""
    if store.job_claim(job, slot, now):
        return True
    row = _run_row(store, job, slot)
    if row is None or row.outcome in DONE_OUTCOMES:
        return False
    if row.finished_at is None:
        crashes = store.crashes(job, slot) + 1
        store.set_crashes(job, slot, crashes)
        if crashes > MAX_CRASHES:
            log.error("%s for %s: the runner died %d times during it; giving up on this slot",
                      LABELS.get(job, job), slot, crashes - 1)
            store.job_finish(job, slot, now, Outcome.FAILED,
                             f"gave up: villaged died {crashes - 1} times during this job")
            store.set_crashes(job, slot, None)
            return False
        log.warning("%s for %s did not finish last time (villaged was killed or crashed); "
                    "running it again", LABELS.get(job, job), slot)
    return store.job_reclaim(job, slot, now, DONE_OUTCOMES)


def finish(store: Store, job: str, slot: str, now: dt.datetime, outcome: Outcome,
           detail: str) -> None:
    store.job_finish(job, slot, now, outcome, detail)
    if outcome in DONE_OUTCOMES:
        store.set_crashes(job, slot, None)


# -- small persisted facts: parked, last round -----------------------------------

def parked(store: Store) -> Parked | None:
    """Why the jobs are parked (an auth error), or None."""
    return store.parked()


def park(store: Store, job: str, exc: AuthError, now: dt.datetime) -> None:
    store.park(Parked(reason=exc.message, fix=exc.fix or "", job=job, at=now))


def unpark(store: Store) -> None:
    """Let the jobs run again (call it after a fresh grant)."""
    store.unpark()


# -- backoff -------------------------------------------------------------------------

@dataclass
class Backoff:
    """Exponential backoff after failures: base, 2×base, 4×base, ... up to cap."""

    base: float = 60.0
    cap: float = 3600.0
    failures: int = 0
    not_before: dt.datetime | None = None

    def fail(self, now: dt.datetime) -> float:
        self.failures += 1
        delay = min(self.cap, self.base * 2 ** (self.failures - 1))
        self.not_before = now + dt.timedelta(seconds=delay)
        return delay

    def succeed(self) -> None:
        self.failures, self.not_before = 0, None

    def ready(self, now: dt.datetime) -> bool:
        return self.not_before is None or now >= self.not_before


# -- the service -----------------------------------------------------------------------

@dataclass
class JobReport:
    job: JobName
    outcome: Outcome
    detail: str = ""
    slot: str | None = None

    @property
    def success(self) -> bool:
        return self.outcome.success

    def line(self) -> str:
        what = LABELS.get(self.job, self.job) + (f" ({self.slot})" if self.slot else "")
        return f"{what}: {self.outcome}" + (f": {self.detail}" if self.detail else "")


def is_transient(exc: BaseException) -> bool:
    """Worth retrying later as it is: villaged's TransientError (backends translate
    their network failures into it) or a local OSError (a full disk, a busy file)."""
    return isinstance(exc, (TransientError, OSError))


class Service:
    """The jobs of one village against one store, with backoff and parking.

    ``clock`` gives ``now``; ``stop`` is set by a signal; ``heartbeat`` is
    called whenever work makes progress (the watchdog reads it).
    """

    def __init__(self, village: Village, store: Store, state_dir: Path,
                 clock: Callable[[], dt.datetime], stop: threading.Event,
                 heartbeat: Callable[..., None] = lambda *_: None) -> None:
        self.store = store
        self.state_dir = state_dir
        self.clock = clock
        self.stop = stop
        self.heartbeat = heartbeat
        self.backoff: dict[str, Backoff] = {SYNC: Backoff(), DRAFT: Backoff(), DIGEST: Backoff()}
        self.last_sync_monotonic: float | None = None
        self.on_job: Callable[[str], None] = lambda _job: None  # e.g. a STATUS= line
        self.wait_for_writers = False  # the daemon: a busy write lock means "later"
        self._io: BackendIO | None = None
        self.set_village(village)

    def set_village(self, village: Village) -> None:
        """Use a (re)loaded config: reopen the backend, forget backoff, retry parked jobs."""
        self.village = village
        self.jobs = weekly_jobs(village)
        if self._io is not None:
            self._io.close()
        self._io = None
        for backoff in self.backoff.values():
            backoff.succeed()
        self.retry_parked = True

    @property
    def io(self) -> BackendIO:
        if self._io is None:
            self._io = open_backend(self.village, self.state_dir)
        return self._io

    # -- what is due --------------------------------------------------------------

    def is_parked(self) -> bool:
        """Parked, and not allowed one more try (start, reload)."""
        return not self.retry_parked and parked(self.store) is not None

    def pending(self, now: dt.datetime) -> list[tuple[WeeklyJob, Slot]]:
        """Weekly jobs whose slot is pending, whatever their backoff."""
        found = []
        for job in self.jobs:
            slot = pending_slot(self.store, job, now)
            if slot is not None:
                found.append((job, slot))
        return found

    def wake_at(self, now: dt.datetime) -> dt.datetime | None:
        """When a weekly job next needs attention: its next slot, or its backoff's end
        (None while everything is parked)."""
        times = []
        parked_now = self.is_parked()
        for job in self.jobs:
            slot = pending_slot(self.store, job, now)
            if slot is None:
                times.append(next_slot(self.store, job, now).at)
            elif not parked_now:
                times.append(self.backoff[job.name].not_before or now)
        return min(times, default=None)

    # -- running ------------------------------------------------------------------

    def step(self, sync: bool) -> list[JobReport]:
        """One service round, holding the state directory's write lock (one writer at
        a time: a `villaged draft` or `log` typed meanwhile waits for it, and the
        other way round). ``run --once`` exits 2 if another command keeps the lock;
        the daemon (``wait_for_writers``) logs it and tries again next time."""
        from villaged.service import runlock

        try:
            with runlock.writer(self.state_dir, "run"):
                return self._step(sync)
        except runlock.Busy as exc:
            if not self.wait_for_writers:
                raise
            log.warning("%s; trying again later", exc.message)
            return []

    def _step(self, sync: bool) -> list[JobReport]:
        """The drafting job if pending (its round syncs first), else a plain sync
        round if asked; then the digest if pending."""
        if self.is_parked():
            return []
        self.retry_parked = False
        now = self.clock()
        pending = {job.name: (job, slot) for job, slot in self.pending(now)
                   if self.backoff[job.name].ready(now)}
        reports: list[JobReport] = []
        drafted = self.run_weekly(*pending[DRAFT]) if DRAFT in pending else None
        if drafted:
            reports.append(drafted)
        elif sync and self.backoff[SYNC].ready(now):
            reports.append(self.run_sync())
        if DIGEST in pending and not self.stop.is_set() and parked(self.store) is None:
            if not reports:  # the digest should see the newest mail: sync first
                reports.append(self.run_sync())
                if self.stop.is_set() or parked(self.store) is not None:
                    return reports
            report = self.run_weekly(*pending[DIGEST])
            if report:
                reports.append(report)
        return reports

    def run_sync(self) -> JobReport:
        self.on_job(SYNC)
        now = self.clock()
        report = self._guarded(SYNC, lambda: self._round(now, draft=False))
        self.last_sync_monotonic = time.monotonic()
        self.store.set_last_run(LAST_SYNC, LastRun(at=self.clock(), job=SYNC,
                                                   outcome=report.outcome, detail=report.detail))
        self._record(report)
        return report

    def run_weekly(self, job: WeeklyJob, slot: Slot) -> JobReport | None:
        now = self.clock()
        if not claim(self.store, job.name, slot.key, now):
            return None
        self.on_job(job.name)
        late = now - slot.at
        if late > dt.timedelta(minutes=5):
            log.info("%s: catching up the slot of %s (%s late)", job.label, slot.key,
                     _human(late))
        else:
            log.info("%s: slot %s", job.label, slot.key)
        run = (lambda: self._round(now, draft=True)) if job.name == DRAFT else \
            (lambda: self._digest(now))
        report = self._guarded(job.name, run)
        report.slot = slot.key
        if job.name == DRAFT and report.outcome not in (Outcome.RETRY, Outcome.ERROR,
                                                        Outcome.PARKED):
            self.last_sync_monotonic = time.monotonic()
            self.store.set_last_run(LAST_SYNC, LastRun(at=self.clock(), job=SYNC,
                                                       outcome=report.outcome))
        finish(self.store, job.name, slot.key, self.clock(), report.outcome, report.detail)
        self._record(report)
        return report

    def _progress(self, *_: object) -> None:
        """The round's progress callback: a sign of life for the watchdog, and a safe
        point to stop at (sources call it between committed batches)."""
        self.heartbeat()
        if self.stop.is_set():
            raise StopRequested

    def _round(self, now: dt.datetime, draft: bool) -> tuple[Outcome, str]:
        from villaged.service.round import run_round

        result = run_round(self.village, self.store, self.io, now, draft=draft,
                           progress=self._progress, stop=self.stop)
        new = result.sync.new if result.sync is not None else 0
        actions = sum(1 for item in result.plan if isinstance(item, Action))
        parts = [f"{new} interactions read"]
        if draft:
            parts.append(f"{len(result.written)} draft(s) written of {actions} planned")
        else:
            parts.append(f"{actions} draft(s) would be planned")
        if result.interrupted:
            return Outcome.INTERRUPTED, "stopped at a safe point; " + ", ".join(parts)
        return Outcome.OK, ", ".join(parts)

    def _digest(self, now: dt.datetime) -> tuple[Outcome, str]:
        from villaged.service.digest import run_digest

        result = run_digest(self.village, self.store, self.io, now, force=False)
        if result.delivered:
            return Outcome.OK, f"delivered the digest for {result.week}"
        return Outcome.OK, result.note or "not delivered"

    def _guarded(self, job: JobName, run: Callable[[], tuple[Outcome, str]]) -> JobReport:
        label = LABELS[job]
        backoff = self.backoff[job]
        try:
            outcome, detail = run()
        except StopRequested:
            log.info("%s: stopped at a safe point", label)
            return JobReport(job, Outcome.INTERRUPTED, "stopped by a signal before it finished")
        except AuthError as exc:
            park(self.store, job, exc, self.clock())
            log.error("%s: %s\n  fix: %s\nThe jobs are parked until then; afterwards "
                      "restart or reload villaged.", label, exc.message, exc.fix or "-")
            return JobReport(job, Outcome.PARKED, exc.message)
        except Exception as exc:
            delay = backoff.fail(self.clock())
            if is_transient(exc):
                log.warning("%s failed (%s); retrying in %s", label, _describe(exc),
                            _human(dt.timedelta(seconds=delay)))
                return JobReport(job, Outcome.RETRY, _describe(exc))
            if isinstance(exc, VillagedError):
                log.error("%s failed: %s (retrying in %s)", label, exc,
                          _human(dt.timedelta(seconds=delay)))
            else:
                log.exception("%s failed with a bug (retrying in %s)", label,
                              _human(dt.timedelta(seconds=delay)))
            return JobReport(job, Outcome.ERROR, _describe(exc))
        backoff.succeed()
        if parked(self.store) is not None:
            unpark(self.store)
            log.info("the backend works again: jobs unparked")
        if outcome is Outcome.INTERRUPTED:
            log.info("%s: %s", label, detail)
        return JobReport(job, outcome, detail)

    def _record(self, report: JobReport) -> None:
        self.store.set_last_run(LAST_ROUND, LastRun(
            at=self.clock(), job=report.job, slot=report.slot, outcome=report.outcome,
            detail=report.detail))
        level = logging.INFO if report.job != SYNC or report.outcome is not Outcome.OK else logging.DEBUG
        log.log(level, "%s", report.line())


def _describe(exc: BaseException) -> str:
    if isinstance(exc, VillagedError):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{type(exc).__name__}: {exc.strerror}{where}"
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")


def _human(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
