"""``villaged run``: the foreground daemon, and ``villaged run --once``.

The loop
--------
``schedule`` keeps the sync round's interval: every ``sync_minutes`` with
±10 % jitter (``every(lo).to(hi).seconds``), so many machines never hit a
server in step. The weekly jobs are *not* given to ``schedule``: it counts
in the host's naive local time, while the slots are wall-clock times in the
owner's zone, which may differ from the host's, and must follow the owner's
DST changes and an injected ``--now`` clock. So the loop asks the Service,
on every wake-up, which weekly slot is pending (``schedule_slots`` does the
zoneinfo arithmetic), and sleeps until the earliest of: the next sync, the
next weekly slot, the end of a backoff, or ``MAX_SLEEP`` (which also bounds
any surprise: a suspend, a clock step, a fall-back hour in the host zone).
The same check at startup is the catch-up. See jobs.py for claim → run →
finish.

Signals
-------
SIGTERM, SIGINT and SIGHUP are blocked in every thread and taken with
``sigwait`` by a thread of their own, so no Python-level handler ever runs
in the middle of the main thread's work (a handler that sets an Event can
deadlock on the Event's lock). SIGTERM/SIGINT set ``stop``: the round stops
at its next safe point (between drafts, between sync batches), the loop
exits, and the process exits 0. Should a single batch take longer than
``STOP_GRACE`` seconds, the signal thread ends the process anyway (exit 0):
every write is one transaction or a tmp-then-rename, so that is as safe as
the kill -9 the design already tolerates, and it keeps the promise of an
exit within 10 s. SIGHUP reloads the config; an invalid one is logged and
the old one kept.

systemd
-------
READY=1 once the store is open and the schedule set; STATUS= lines for
every job; RELOADING=1/READY=1 around a reload; STOPPING=1 on the way out;
WATCHDOG=1 from sdnotify.Watchdog while the loop's heartbeat is fresh.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import schedule

from villaged.domain.errors import VillagedError
from villaged.domain.village import Village
from villaged.domain.vocabulary import Outcome
from villaged.service import redact, runlock
from villaged.service.clock import Clock
from villaged.service.jobs import (
    LABELS,
    SYNC,
    JobReport,
    Service,
    next_slot,
    parked,
    pending_slot,
)
from villaged.service.paths import ensure_private_dir
from villaged.service.sdnotify import Heartbeat, Notifier, Watchdog, watchdog_interval
from villaged.store import DaemonState, Store

log = logging.getLogger(__name__)

MAX_SLEEP = 60.0  # seconds: the loop looks at the clock at least this often
MIN_SLEEP = 0.5  # never spin, whatever the arithmetic says
STOP_GRACE = 8.0  # seconds from SIGTERM to a forced (still safe) exit
JITTER = 0.10
SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def load_config(path: Path) -> Village:
    from villaged.config import load_village

    return load_village(path)


class SignalRelay:
    """SIGTERM/SIGINT → ``stop``; SIGHUP → ``reload``; both wake the loop."""

    def __init__(self, on_stop: Callable[[], None] | None = None) -> None:
        self.stop = threading.Event()
        self.reload = threading.Event()
        self.wake = threading.Event()
        self.on_stop = on_stop or (lambda: None)
        self.stopped_at: float | None = None

    def start(self) -> None:
        """Call before starting any other thread, so that every thread inherits the mask."""
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        threading.Thread(target=self._run, name="villaged-signals", daemon=True).start()

    def _run(self) -> None:
        while True:
            signum = signal.sigwait(SIGNALS)
            if signum == signal.SIGHUP:
                log.info("SIGHUP: reloading the config")
                self.reload.set()
                self.wake.set()
                continue
            name = signal.Signals(signum).name
            if self.stop.is_set():
                log.info("%s again: still stopping", name)
                continue
            log.info("%s: stopping at the next safe point", name)
            self.stopped_at = time.monotonic()
            self.stop.set()
            self.wake.set()
            threading.Thread(target=self._deadline, name="villaged-stop-deadline",
                             daemon=True).start()

    def _deadline(self) -> None:
        time.sleep(STOP_GRACE)
        log.warning("still busy %.0f s after the stop signal; exiting now (every write is "
                    "atomic: the next run picks up where this one stopped)", STOP_GRACE)
        self.on_stop()
        logging.shutdown()
        os._exit(0)


class Daemon:
    def __init__(self, config_path: Path, village: Village, store: Store, state_dir: Path,
                 clock: Clock, relay: SignalRelay, notifier: Notifier) -> None:
        self.config_path = config_path
        self.store = store
        self.clock = clock
        self.relay = relay
        self.notifier = notifier
        self.heartbeat = Heartbeat()
        self.scheduler = schedule.Scheduler()
        self.sync_requested = True  # a sync round right at the start
        self.service = Service(village, store, state_dir, clock.now, relay.stop,
                               heartbeat=self.heartbeat.beat)
        self.service.on_job = self._on_job
        self.service.wait_for_writers = True
        self.started_at = clock.now()
        self.reloaded_at: dt.datetime | None = None
        self.reload_error: str | None = None
        self.next_sync_at: dt.datetime | None = None

    @property
    def village(self) -> Village:
        return self.service.village

    # -- the schedule ------------------------------------------------------------

    def schedule_sync(self) -> None:
        self.scheduler.clear(SYNC)
        seconds = self.village.sync_minutes * 60
        low, high = round(seconds * (1 - JITTER)), round(seconds * (1 + JITTER))
        self.scheduler.every(max(1, low)).to(max(1, high)).seconds.do(self._request_sync).tag(SYNC)
        self._sync_span = high

    def _request_sync(self) -> None:
        self.sync_requested = True

    def _sync_overdue(self) -> bool:
        """schedule counts in the host's naive local time, which can jump back an hour
        at a DST change; the monotonic clock cannot."""
        last = self.service.last_sync_monotonic
        return last is not None and time.monotonic() - last > self._sync_span * 1.5

    def sleep_seconds(self) -> float:
        now = self.clock.now()
        waits = [MAX_SLEEP]
        idle = self.scheduler.idle_seconds
        if idle is not None:
            waits.append(idle)
        wake = self.service.wake_at(now)
        if wake is not None:
            waits.append((wake - now).total_seconds() + 0.05)
        return max(MIN_SLEEP, min(waits))

    # -- the loop -------------------------------------------------------------------

    def run(self) -> int:
        interval = watchdog_interval()
        watchdog = Watchdog(self.notifier, interval, self.heartbeat) if interval else None
        if watchdog:
            watchdog.start()
        self.schedule_sync()
        self._publish()
        self.notifier.ready(self.status_line("started"))
        log.info("villaged started (pid %d): %s, %d people, sync every %d min, %s",
                 os.getpid(), self.config_path, len(self.village.people),
                 self.village.sync_minutes, self._weekly_text())
        try:
            while not self.relay.stop.is_set():
                self.heartbeat.beat()
                if self.relay.reload.is_set():
                    self.relay.reload.clear()
                    self.reload()
                self.scheduler.run_pending()
                if self._sync_overdue():
                    self.sync_requested = True
                sync, self.sync_requested = self.sync_requested, False
                reports = self.service.step(sync)
                if self.relay.stop.is_set():
                    break
                self._publish()
                self.notifier.status(self.status_line("idle", reports))
                self.relay.wake.wait(self.sleep_seconds())
                self.relay.wake.clear()
        finally:
            self.notifier.stopping()
            if watchdog:
                watchdog.stop()
            self._publish(running=False)
            log.info("villaged stopped")
        return 0

    def reload(self) -> None:
        self.notifier.reloading()
        try:
            village = load_config(self.config_path)
        except Exception as exc:  # noqa: BLE001 - a reload must never take the daemon down
            self.reload_error = str(exc) if isinstance(exc, VillagedError) else \
                f"{type(exc).__name__}: {exc}"
            log.error("config reload failed; keeping the previous config: %s", self.reload_error)
        else:
            old_minutes = self.village.sync_minutes
            self.service.set_village(village)
            if village.sync_minutes != old_minutes:
                self.schedule_sync()
            self.reload_error = None
            self.sync_requested = True
            log.info("config reloaded: %d people, sync every %d min, %s",
                     len(village.people), village.sync_minutes, self._weekly_text())
        self.reloaded_at = self.clock.now()
        self._publish()
        self.notifier.ready(self.status_line("reloaded" if self.reload_error is None
                                             else "reload failed, previous config kept"))

    # -- what the outside sees ---------------------------------------------------------

    def _on_job(self, job: str) -> None:
        self.heartbeat.beat()
        self.notifier.status(f"running the {LABELS.get(job, job)}")

    def _weekly_text(self) -> str:
        return "; ".join(f"{job.label} {job.slot.describe()}" for job in self.service.jobs)

    def _next_runs(self) -> dict[str, dt.datetime]:
        now = self.clock.now()
        nexts: dict[str, dt.datetime] = {}
        idle = self.scheduler.idle_seconds
        if idle is not None:
            nexts[SYNC] = now + dt.timedelta(seconds=max(0.0, idle))
        parked_now = self.service.is_parked()
        for job in self.service.jobs:
            if pending_slot(self.store, job, now) is not None and not parked_now:
                nexts[job.name] = max(now, self.service.backoff[job.name].not_before or now)
            else:
                nexts[job.name] = next_slot(self.store, job, now).at
        return nexts

    def status_line(self, state: str, reports: list[JobReport] | None = None) -> str:
        tz = self.village.owner.timezone
        parts = [state]
        if self.reload_error and state != "reload failed, previous config kept":
            parts.append("last config reload failed, previous config in use")
        why = parked(self.store)
        if why:
            parts.append(f"PARKED: {why.reason}")
        for report in reports or []:
            if report.outcome is not Outcome.OK:
                parts.append(report.line())
        nexts = ", ".join(f"{LABELS[name]} {when.astimezone(tz):%a %Y-%m-%d %H:%M %Z}"
                          for name, when in self._next_runs().items())
        return "; ".join(parts) + f"; next: {nexts}"

    def _publish(self, running: bool = True) -> None:
        """What `villaged status` and `doctor` show about the daemon."""
        nexts = self._next_runs()
        self.store.set_daemon_state(DaemonState(
            pid=os.getpid(), running=running, config=str(self.config_path),
            started_at=self.started_at, reloaded_at=self.reloaded_at,
            reload_error=self.reload_error, next=dict(nexts), updated_at=self.clock.now()))


def run_daemon(config_path: Path, state_dir: Path, given_now: dt.datetime | None) -> int:
    """The foreground daemon; returns the exit code."""
    village = load_config(config_path)  # a bad config at start: exit 2, no restart loop
    redact.install()
    notifier = Notifier()
    relay = SignalRelay(on_stop=notifier.stopping)
    relay.start()
    clock = Clock(given_now)
    ensure_private_dir(state_dir)
    with runlock.hold(state_dir), Store.in_dir(state_dir) as store:
        return Daemon(config_path, village, store, state_dir, clock, relay, notifier).run()


def run_once(config_path: Path, state_dir: Path, given_now: dt.datetime | None
             ) -> tuple[int, list[JobReport]]:
    """One full round for a timer or cron: sync, then the weekly jobs if pending.

    Exit code 0 when every job succeeded (or nothing was due, or a signal
    stopped it cleanly), 2 when the backend needs the owner (auth), 1 for a
    failure worth retrying.
    """
    village = load_config(config_path)
    redact.install()
    relay = SignalRelay()
    relay.start()
    clock = Clock(given_now)
    ensure_private_dir(state_dir)
    with runlock.hold(state_dir), Store.in_dir(state_dir) as store:
        service = Service(village, store, state_dir, clock.now, relay.stop)
        reports = service.step(sync=True)
    if any(r.outcome is Outcome.PARKED for r in reports):
        return 2, reports
    if any(r.outcome in (Outcome.RETRY, Outcome.ERROR, Outcome.FAILED) for r in reports):
        return 1, reports
    return 0, reports
