"""`villaged run` as systemd runs it: a subprocess against a real local village.

Each test injects the clock with --now (the daemon then ticks on from that
moment), listens on a notify socket of its own, and looks at what a user
would see: drafts in the Maildir, job runs in the state database, the log.
"""

from __future__ import annotations

import datetime as dt
import signal
import uuid
from collections import Counter

import pytest

from tests.servicekit import SLOT, TUESDAY, Notify, Village, wait_for
from villaged.domain.village import DraftState


@pytest.fixture
def notify(tmp_path):
    sock = Notify(tmp_path / "notify.sock")
    yield sock
    sock.close()


def test_ready_watchdog_status_and_stopping_reach_the_notify_socket(tmp_path):
    village = Village(tmp_path / "v")
    sock = Notify(abstract=f"villaged-test-{uuid.uuid4().hex}")  # "@name": abstract namespace
    daemon = village.start(TUESDAY, sock, env={"WATCHDOG_USEC": "200000"})
    try:
        sock.wait_field("READY=1")
        sock.wait_field("WATCHDOG=1", times=3, timeout=5)  # every 0.1 s
        status = sock.wait_status("idle")
        assert "next: sync round" in status and "drafting round Mon 2026-11-30 08:00 CST" in status
        code, took = daemon.stop(signal.SIGTERM)
        assert (code, took < 10) == (0, True)
        sock.wait_field("STOPPING=1", timeout=2)
        fields = sock.fields()
        assert fields.index("READY=1") < fields.index("STOPPING=1")
        assert fields.index("STATUS=running the drafting round") > fields.index("READY=1")
    finally:
        daemon.kill()
        sock.close()


def test_no_watchdog_pings_unless_asked_and_no_socket_no_problem(tmp_path, notify):
    village = Village(tmp_path / "v")
    daemon = village.start(TUESDAY, notify)
    try:
        notify.wait_status("idle")
        assert notify.count("WATCHDOG=1") == 0
        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()
    # and without $NOTIFY_SOCKET at all it runs the same
    daemon = village.start(TUESDAY)
    try:
        daemon.wait_log("villaged started")
        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()


def test_a_missed_monday_is_caught_up_exactly_once_across_restarts(tmp_path, notify):
    village = Village(tmp_path / "v", people=3)
    # 1st start, Tuesday: Monday 08:00's drafting round and 07:30's digest were missed
    daemon = village.start(TUESDAY, notify)
    try:
        notify.wait_status("idle")
        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()
    assert "drafting round: catching up the slot of 2026-11-23 (26 h late)" in daemon.log
    drafts = village.draft_keys()
    # each mentor wrote in October and was never answered: one acknowledgement each
    assert sorted(k.rsplit(":", 1)[0] for k in drafts) == \
        [f"reply:mentor-number{n}" for n in range(3)]
    [draft_run] = village.job_runs("draft")
    assert (draft_run.slot, draft_run.outcome) == (SLOT, "ok")
    [digest_run] = village.job_runs("digest")  # the digest job, by its store record
    assert digest_run.slot == SLOT and digest_run.outcome in ("ok", "skipped")

    # 2nd and 3rd start, later that week: nothing runs again
    for n, now in enumerate(("2026-11-24T11:00:00-06:00", "2026-11-29T20:00:00-06:00")):
        mark = len(notify.messages)
        daemon = village.start(now, notify, log_name=f"daemon{n}.log")
        try:
            notify.wait_status("idle", after=mark)
            assert daemon.stop()[0] == 0
        finally:
            daemon.kill()
        assert "catching up" not in daemon.log
        assert "running the drafting round" not in "".join(notify.messages[mark:])
        assert village.draft_keys() == drafts
        assert village.job_runs("draft") == [draft_run]
        assert village.job_runs("digest") == [digest_run]

    # the next Monday's slot fires at 08:00 Chicago time, on the injected clock
    mark = len(notify.messages)
    daemon = village.start("2026-11-30T07:59:58-06:00", notify, log_name="monday.log")
    try:
        wait_for(lambda: any(r.slot == "2026-11-30" and r.outcome
                             for r in village.job_runs("draft")), 15, "the 2026-11-30 slot",
                 lambda: daemon.log)
        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()
    monday = next(r for r in village.job_runs("draft") if r.slot == "2026-11-30")
    assert monday.outcome == "ok"
    assert monday.started_at >= dt.datetime(2026, 11, 30, 14, 0, tzinfo=dt.UTC)
    # the three check-ins still await review, so nobody is drafted twice
    assert sorted(village.draft_keys()) == sorted(drafts)


def test_sigterm_in_the_middle_of_a_drafting_round(tmp_path, notify):
    people = 8
    village = Village(tmp_path / "v", people=people)
    # test-only hook: every draft write waits 0.4 s, so the round takes ~3 s
    daemon = village.start(TUESDAY, notify, draft_delay=0.4)
    try:
        wait_for(lambda: len(village.draft_keys()) >= 2, 15, "two drafts", lambda: daemon.log)
        code, took = daemon.stop(signal.SIGTERM)
    finally:
        daemon.kill()
    assert code == 0 and took < 10
    assert "stopped at a safe point" in daemon.log
    written = village.draft_keys()
    assert 2 <= len(written) < people
    ledger = village.ledger()
    # no half-written row: every ledger row is a draft that exists, and vice versa
    assert all(r.state is DraftState.CREATED for r in ledger)
    assert sorted(r.key for r in ledger) == sorted(written)
    [run] = village.job_runs("draft")
    assert run.outcome == "interrupted"

    # a restart finishes the round: the rest of the drafts, none twice
    daemon = village.start("2026-11-24T10:05:00-06:00", notify, log_name="restart.log")
    try:
        wait_for(lambda: village.job_runs("draft")[0].outcome == "ok", 15,
                 "the drafting round to finish", lambda: daemon.log)
        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()
    keys = village.draft_keys()
    assert len(keys) == people and max(Counter(keys).values()) == 1
    assert len(village.job_runs("draft")) == 1


def test_sighup_reloads_a_valid_config_and_keeps_the_old_one_when_invalid(tmp_path, notify):
    village = Village(tmp_path / "v", people=2)
    daemon = village.start(TUESDAY, notify)
    try:
        notify.wait_status("idle")
        # a valid change: sync every 30 minutes, one more person
        village.people = 3
        village.write_config(sync_minutes=30)
        daemon.signal(signal.SIGHUP)
        daemon.wait_log("config reloaded: 3 people, sync every 30 min")
        notify.wait_status("reloaded")
        assert notify.count("RELOADING=1") == 1

        # an invalid one: logged, the previous config stays in use
        village.config.write_text(village.config.read_text() + "\n[owner]\nname = 'again'\n")
        daemon.signal(signal.SIGHUP)
        daemon.wait_log("config reload failed; keeping the previous config")
        notify.wait_status("reload failed, previous config kept")
        assert daemon.proc.poll() is None

        # `villaged status` shows it, once the file is readable again
        village.write_config(sync_minutes=30)
        status = village.cli(TUESDAY, "status")
        assert status.returncode == 0, status.stderr
        assert "service:    running (pid" in status.stdout
        assert "last config reload failed, previous config in use" in status.stdout

        # and a second runner on the same state is refused while the daemon runs
        once = village.cli(TUESDAY, "run", "--once")
        assert once.returncode == 2
        assert "another villaged runner" in once.stderr and "fix:" in once.stderr

        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()
    assert "Traceback" not in daemon.log


def test_a_kill_9_mid_round_does_not_lose_the_slot(tmp_path, notify):
    people = 5
    village = Village(tmp_path / "v", people=people)
    daemon = village.start(TUESDAY, notify, draft_delay=0.3)
    try:
        wait_for(lambda: len(village.draft_keys()) >= 1, 15, "a draft", lambda: daemon.log)
        code, _ = daemon.stop(signal.SIGKILL)
    finally:
        daemon.kill()
    assert code == -signal.SIGKILL
    [run] = village.job_runs("draft")
    assert run.finished_at is None  # claimed, never finished

    daemon = village.start(TUESDAY, notify, log_name="restart.log")
    try:
        wait_for(lambda: village.job_runs("draft")[0].outcome == "ok", 15,
                 "the drafting round to finish", lambda: daemon.log)
        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()
    assert "did not finish last time" in daemon.log
    keys = village.draft_keys()
    assert len(keys) == people and max(Counter(keys).values()) == 1
