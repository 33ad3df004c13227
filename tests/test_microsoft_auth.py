"""Signing in to Microsoft 365 (MSAL device code against the local identity endpoint), and the
one clear message, with its fix, for admin consent, a revoked grant and a conditional-access
block; the daemon parks its jobs instead of crash-looping."""

from __future__ import annotations

import stat
import subprocess
import sys

import pytest

from tests.graph_api_server import GraphServer
from tests.graph_fixtures import NOW, OWNER, PEOPLE, D, Setup, graph  # noqa: F401  (fixture)
from tests.servicekit import REPO, Daemon, Notify, clean_env

TUESDAY = "2026-11-24T10:00:00-06:00"


def cli(setup: Setup, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env({"VILLAGED_CONFIG": str(setup.config), "VILLAGED_STATE_DIR": str(setup.state),
                     "REQUESTS_CA_BUNDLE": str(setup.server.ca_file)})
    return subprocess.run([sys.executable, "-m", "villaged", "--now", TUESDAY, *args], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=120)


def test_villaged_auth_signs_in_by_device_code_and_doctor_agrees(graph, tmp_path):
    setup = Setup(graph, tmp_path, sign_in=False)
    done = cli(setup, "auth")
    assert done.returncode == 0, done.stderr
    assert "enter the code VILLAGE1" in done.stdout and "Mail.ReadWrite, Calendars.ReadBasic" in done.stdout
    cache = setup.state / "microsoft-token.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    secret = next(iter(graph.identity.refresh_tokens))
    doctor = cli(setup, "doctor")
    assert f"signed in as {OWNER}" in doctor.stdout, doctor.stdout + doctor.stderr
    assert "permissions work: Mail.ReadWrite, Calendars.ReadBasic" in doctor.stdout
    assert secret not in doctor.stdout + doctor.stderr + done.stdout + done.stderr


@pytest.mark.parametrize("mode, words", [
    ("admin_consent", ["administrator", "adminconsent?client_id=", "AADSTS65001"]),
    ("conditional_access", ["Conditional Access", "AADSTS53003"]),
])
def test_a_tenant_that_blocks_the_sign_in_gets_one_clear_message(graph, tmp_path, mode, words):
    setup = Setup(graph, tmp_path, sign_in=False)
    graph.identity.mode = mode
    done = cli(setup, "auth")
    assert done.returncode == 2
    for word in words:
        assert word in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "fix:" in done.stderr


def test_an_unticked_permission_is_named(graph, tmp_path):
    setup = Setup(graph, tmp_path, sign_in=False)
    graph.identity.granted = ("Mail.ReadWrite",)
    done = cli(setup, "auth")
    assert done.returncode == 2 and "did not grant Calendars.ReadBasic" in done.stderr


@pytest.mark.parametrize("mode", ["revoked", "conditional_access", "admin_consent"])
def test_a_refused_grant_parks_the_daemon_instead_of_crash_looping(tmp_path, mode):
    with GraphServer(owner=OWNER, clock=lambda: NOW) as graph:
        import os

        os.environ["REQUESTS_CA_BUNDLE_SAVED"] = os.environ.get("REQUESTS_CA_BUNDLE", "")
        os.environ["REQUESTS_CA_BUNDLE"] = str(graph.ca_file)
        try:
            setup = Setup(graph, tmp_path / "v")
        finally:
            os.environ["REQUESTS_CA_BUNDLE"] = os.environ.pop("REQUESTS_CA_BUNDLE_SAVED")
        graph.revoke()
        graph.identity.mode = mode
        notify = Notify(tmp_path / "notify.sock")
        log = tmp_path / "daemon.log"
        env = clean_env({"VILLAGED_CONFIG": str(setup.config), "VILLAGED_STATE_DIR": str(setup.state),
                         "NOTIFY_SOCKET": notify.address, "REQUESTS_CA_BUNDLE": str(graph.ca_file)})
        proc = subprocess.Popen([sys.executable, "-m", "villaged", "--now", TUESDAY, "run"],
                                stdout=subprocess.DEVNULL, stderr=log.open("w"), cwd=REPO, env=env)
        daemon = Daemon(proc, log)
        try:
            notify.wait_field("READY=1", timeout=30)
            daemon.wait_log("villaged auth", timeout=30)
            assert daemon.proc.poll() is None  # parked, not crashed
            status = cli(setup, "status")
            assert "parked" in status.stdout.lower() and "villaged auth" in status.stdout
            doctor = cli(setup, "doctor")
            assert doctor.returncode == 1 and "villaged auth" in doctor.stdout
            assert daemon.stop()[0] == 0
        finally:
            daemon.kill()
            notify.close()
        assert graph.drafts() == []
        assert graph.violations == []
