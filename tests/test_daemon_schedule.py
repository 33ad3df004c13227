"""The daemon's clockwork, in-process: weekly slots across DST, the catch-up and
claim rules against a real SQLite store, backoff, parking, the notify protocol."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import person, village
from tests.fakes.memory_backend import MemoryBackend
from villaged.domain.errors import AuthError, TransientError
from villaged.service.clock import Clock
from villaged.service.jobs import (
    DRAFT,
    MAX_CRASHES,
    Backoff,
    Service,
    WeeklyJob,
    claim,
    finish,
    next_slot,
    parked,
    pending_slot,
)
from villaged.service.schedule_slots import WeeklySlot
from villaged.service.sdnotify import Heartbeat, Notifier, Watchdog, watchdog_interval
from villaged.store import Store

CHICAGO = ZoneInfo("America/Chicago")
UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHICAGO)


# -- slots in the owner's zone ---------------------------------------------------

def test_a_weekly_slot_keeps_its_local_time_across_dst():
    monday_8 = WeeklySlot(0, dt.time(8, 0), CHICAGO)
    # 2026-03-08: clocks spring forward; 2026-11-01: they fall back
    assert monday_8.latest(utc(2026, 3, 6)).at == utc(2026, 3, 2, 14, 0)  # CST
    assert monday_8.next(utc(2026, 3, 6)).at == utc(2026, 3, 9, 13, 0)  # CDT
    assert monday_8.next(utc(2026, 10, 30)).at == utc(2026, 11, 2, 14, 0)  # CST again
    for when in (utc(2026, 3, 9, 13, 0), utc(2026, 11, 2, 14, 0)):
        assert when.astimezone(CHICAGO).hour == 8


def test_the_owners_zone_counts_not_the_hosts():
    tokyo = WeeklySlot(0, dt.time(8, 0), ZoneInfo("Asia/Tokyo"))
    # Sunday 23:30 UTC is already Monday 08:30 in Tokyo: the slot has passed
    slot = tokyo.latest(utc(2026, 11, 22, 23, 30))
    assert (slot.key, slot.at) == ("2026-11-23", utc(2026, 11, 22, 23, 0))


def test_times_skipped_or_repeated_by_dst_fire_once():
    sunday_0230 = WeeklySlot(6, dt.time(2, 30), CHICAGO)
    # 02:30 does not exist on 2026-03-08: the slot fires at 03:30 CDT, once
    slot = sunday_0230.latest(utc(2026, 3, 8, 12, 0))
    assert slot.key == "2026-03-08" and slot.at.astimezone(CHICAGO).strftime("%H:%M") == "03:30"
    sunday_0130 = WeeklySlot(6, dt.time(1, 30), CHICAGO)
    # 01:30 happens twice on 2026-11-01: the first one (CDT) is the slot
    slot = sunday_0130.latest(utc(2026, 11, 1, 12, 0))
    assert slot.at == utc(2026, 11, 1, 6, 30)
    assert sunday_0130.latest(utc(2026, 11, 1, 7, 45)).key == "2026-11-01"


def test_the_injected_clock_ticks_on_from_now():
    ticks = iter([100.0, 100.0, 107.5])
    clock = Clock(utc(2026, 11, 23, 13, 59, 55), monotonic=lambda: next(ticks))
    assert clock.now() == utc(2026, 11, 23, 13, 59, 55)
    assert clock.now() == utc(2026, 11, 23, 14, 0, 2, 500000)


# -- catch-up and claims -------------------------------------------------------------

JOB = WeeklyJob(DRAFT, WeeklySlot(0, dt.time(8, 0), CHICAGO))


@pytest.fixture
def store(tmp_path):
    with Store.in_dir(tmp_path) as s:
        yield s


def test_a_missed_slot_is_pending_until_done_and_only_the_latest(store):
    tuesday = local(2026, 11, 24, 10, 0)
    slot = pending_slot(store, JOB, tuesday)
    assert slot is not None and slot.key == "2026-11-23"
    # three weeks off: still only the latest slot, never a backlog
    assert pending_slot(store, JOB, local(2026, 12, 16, 9, 0)).key == "2026-12-14"
    assert claim(store, DRAFT, slot.key, tuesday)
    finish(store, DRAFT, slot.key, tuesday, "ok", "")
    assert not claim(store, DRAFT, slot.key, tuesday)  # never twice
    assert pending_slot(store, JOB, tuesday) is None
    assert pending_slot(store, JOB, local(2026, 11, 29, 23, 59)) is None
    assert pending_slot(store, JOB, local(2026, 11, 30, 8, 0)).key == "2026-11-30"


def test_a_catch_up_covers_the_rest_of_its_week(store):
    # Monday 07:59: last Monday's slot was missed; catching it up drafts for
    # this week, so this Monday's 08:00 slot must not draft a second batch
    early = local(2026, 11, 30, 7, 59)
    slot = pending_slot(store, JOB, early)
    assert slot.key == "2026-11-23"
    assert claim(store, DRAFT, slot.key, early)
    finish(store, DRAFT, slot.key, early, "ok", "")
    assert pending_slot(store, JOB, local(2026, 11, 30, 8, 1)) is None
    assert next_slot(store, JOB, early).key == "2026-12-07"


def test_an_unfinished_claim_after_a_crash_runs_again_but_not_forever(store):
    now = local(2026, 11, 24, 10, 0)
    assert claim(store, DRAFT, "2026-11-23", now)  # ... and then the process died
    for _ in range(MAX_CRASHES):
        assert pending_slot(store, JOB, now) is not None
        assert claim(store, DRAFT, "2026-11-23", now)  # reclaimed: the round is idempotent
    assert not claim(store, DRAFT, "2026-11-23", now)  # died every time: give up
    [run] = store.job_runs(DRAFT)
    assert run.outcome == "failed" and "died" in run.detail
    assert pending_slot(store, JOB, now) is None


def test_interrupted_or_failed_runs_are_retried(store):
    now = local(2026, 11, 24, 10, 0)
    for outcome in ("interrupted", "retry", "error", "parked"):
        assert claim(store, DRAFT, "2026-11-23", now)
        finish(store, DRAFT, "2026-11-23", now, outcome, "")
        assert pending_slot(store, JOB, now) is not None
    assert claim(store, DRAFT, "2026-11-23", now)
    finish(store, DRAFT, "2026-11-23", now, "ok", "")
    assert not claim(store, DRAFT, "2026-11-23", now)


def test_backoff_doubles_up_to_an_hour():
    b, now = Backoff(), utc(2026, 1, 1)
    assert [b.fail(now) for _ in range(8)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert not b.ready(now + dt.timedelta(minutes=59)) and b.ready(now + dt.timedelta(hours=1))
    b.succeed()
    assert b.ready(now)


def service(store, tmp_path, exc):
    ada = village([person("ada")], tmp_path)
    svc = Service(ada, store, tmp_path, lambda: local(2026, 11, 24, 10, 0), threading.Event())
    svc._io = MemoryBackend(ada, failure=exc)  # a network that is down, a revoked grant
    return svc


def test_transient_failures_back_off_and_auth_errors_park(store, tmp_path):
    svc = service(store, tmp_path, TransientError("Gmail answered 503"))
    reports = svc.step(sync=True)
    assert [(r.job, r.outcome) for r in reports] == [("draft", "retry"), ("digest", "retry")]
    assert store.job_runs(DRAFT)[0].outcome == "retry"
    assert svc.step(sync=False) == []  # backing off: nothing, and no busy loop
    assert svc.wake_at(local(2026, 11, 24, 10, 0)) == local(2026, 11, 24, 10, 1)

    svc = service(store, tmp_path, AuthError("the Google grant was revoked",
                                             fix="run `villaged auth`"))
    [report] = svc.step(sync=True)  # the digest waits too
    assert (report.job, report.outcome) == ("draft", "parked")
    why = parked(store)
    assert why is not None and why.reason == "the Google grant was revoked"
    assert svc.step(sync=True) == []  # parked: no crash loop, no retry storm
    assert svc.wake_at(local(2026, 11, 24, 10, 0)) is None
    svc.set_village(svc.village)  # SIGHUP: one more try
    svc._io = MemoryBackend(svc.village, failure=OSError(101, "Network is unreachable"))
    report = svc.step(sync=True)[0]
    assert report.outcome == "retry" and "Network is unreachable" in report.detail


# -- the notify protocol ------------------------------------------------------------------

def test_notifier_speaks_to_abstract_and_path_sockets(tmp_path, monkeypatch):
    path = tmp_path / "n.sock"
    for address, bind in (("@villaged-unit-test", "\0villaged-unit-test"), (str(path), str(path))):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(bind)
        sock.settimeout(2)
        try:
            Notifier(address).ready("started")
            assert sock.recv(1024) == b"READY=1\nSTATUS=started"
        finally:
            sock.close()
    Notifier("").ready("nobody listens")  # no socket: a no-op
    Notifier(str(tmp_path / "gone.sock")).ready("nobody listens")  # a dead socket: no error

    monkeypatch.setenv("WATCHDOG_USEC", "3000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval() == 1.5
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert watchdog_interval() is None


def test_the_watchdog_stops_pinging_when_the_main_loop_stalls(tmp_path):
    path = tmp_path / "w.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.5)
    heartbeat = Heartbeat()
    dog = Watchdog(Notifier(str(path)), 0.02, heartbeat, stall_limit=0.2)
    dog.start()
    try:
        assert sock.recv(64) == b"WATCHDOG=1"
        time.sleep(0.3)  # no heartbeat for longer than the stall limit
        while True:  # drain what was sent before the stall
            try:
                sock.settimeout(0.1)
                sock.recv(64)
            except TimeoutError:
                break
        heartbeat.beat()
        sock.settimeout(1)
        assert sock.recv(64) == b"WATCHDOG=1"  # alive again
    finally:
        dog.stop()
        sock.close()


def test_the_documented_examples_hold():
    import doctest

    from villaged.service import redact, schedule_slots

    for module in (schedule_slots, redact):
        result = doctest.testmod(module)
        assert result.attempted and not result.failed, module.__name__
