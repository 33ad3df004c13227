"""`villaged run` against the local Google API server: the real client over HTTP.

The daemon is a subprocess; the server runs in this process. The tests look
at what a user would see: READY on the notify socket, drafts in Gmail, the
jobs parked (not crash-looping) when the grant is revoked, and what status
and doctor say about it.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.google_api_server import GoogleApiServer
from tests.google_fixtures import NOW, OWNER, Setup, add_old_news
from tests.servicekit import REPO, Daemon, Notify, clean_env, wait_for

TUESDAY = "2026-11-24T10:00:00-06:00"  # the day after the missed Monday drafting slot


@pytest.fixture
def server():
    with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW) as srv:
        add_old_news(srv)
        yield srv


def start(setup: Setup, notify: Notify, name: str = "daemon.log") -> Daemon:
    log = setup.root / name
    env = clean_env({"VILLAGED_CONFIG": str(setup.config),
                     "VILLAGED_STATE_DIR": str(setup.state), "NOTIFY_SOCKET": notify.address})
    proc = subprocess.Popen([sys.executable, "-m", "villaged", "--now", TUESDAY, "run"],
                            stdout=subprocess.DEVNULL, stderr=log.open("w"), cwd=REPO, env=env)
    return Daemon(proc, log)


def cli(setup: Setup, *args: str) -> subprocess.CompletedProcess:
    env = clean_env({"VILLAGED_CONFIG": str(setup.config), "VILLAGED_STATE_DIR": str(setup.state)})
    return subprocess.run([sys.executable, "-m", "villaged", "--now", TUESDAY, *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def test_the_daemon_syncs_gmail_catches_up_drafts_and_stops_cleanly(tmp_path, server):
    setup = Setup(server, tmp_path / "v")
    notify = Notify(tmp_path / "notify.sock")
    daemon = start(setup, notify)
    try:
        notify.wait_field("READY=1", timeout=30)
        # the missed Monday drafting round runs once, against Gmail
        wait_for(lambda: len(server.drafts()) == 3, 30, "three drafts in Gmail",
                 lambda: daemon.log)
        notify.wait_status("idle", timeout=30)
        assert daemon.stop(signal.SIGTERM)[0] == 0
    finally:
        daemon.kill()
        notify.close()
    assert server.violations == []
    # the missed digest also caught up: the one message villaged sends, to the owner only
    [digest] = server.sent_messages()
    assert digest.recipients == (OWNER,) and b"Your village this week" in digest.raw
    # a restart the same week drafts nothing more
    notify = Notify(tmp_path / "notify2.sock")
    daemon = start(setup, notify, "daemon2.log")
    try:
        notify.wait_status("idle", timeout=30)
        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()
        notify.close()
    assert len(server.drafts()) == 3 and len(server.sent_messages()) == 1


def test_a_revoked_grant_parks_the_jobs_instead_of_crash_looping(tmp_path, server):
    setup = Setup(server, tmp_path / "v")
    server.revoke()  # the access token stops working; its refresh is refused
    server.expire_access_tokens()
    notify = Notify(tmp_path / "notify.sock")
    daemon = start(setup, notify)
    try:
        notify.wait_field("READY=1", timeout=30)
        daemon.wait_log("villaged auth", timeout=30)
        assert daemon.proc.poll() is None  # still running: parked, not crashed
        assert "ya29" not in daemon.log and "1//test-refresh" not in daemon.log
        status = cli(setup, "status")
        assert status.returncode == 0
        assert "parked" in status.stdout.lower() and "villaged auth" in status.stdout
        doctor = cli(setup, "doctor")
        assert doctor.returncode == 1 and "villaged auth" in doctor.stdout
        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()
        notify.close()
    assert server.drafts() == []
