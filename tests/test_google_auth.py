"""Google auth: token stores, the installed-app flow, invalid_grant, scopes, doctor's checks."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from tests.google_api_server import GoogleApiServer
from tests.google_api_server.client import CLIENT_ID, CLIENT_SECRET
from tests.google_fixtures import NOW, OWNER, Setup, raw_message, server, setup, token_json  # noqa: F401  (fixtures)

SCOPES = ["https://www.googleapis.com/auth/gmail.readonly",
          "https://www.googleapis.com/auth/gmail.compose",
          "https://www.googleapis.com/auth/calendar.readonly"]


class MemoryKeyring(KeyringBackend):
    """A keyring backend living in memory: keyring's own plugin API."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


def villaged(setup: Setup, *args: str, env: dict[str, str] | None = None,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "villaged", "--now", NOW.isoformat(), *args],
                          env=env or setup.env(), capture_output=True, text=True, timeout=timeout)


# -- scopes ------------------------------------------------------------------------

def test_scopes_are_exactly_readonly_compose_and_calendar_readonly():
    from villaged.backends.google.auth import SCOPES as ASKED

    assert list(ASKED) == SCOPES
    assert not any(s.endswith(("gmail.metadata", "mail.google.com/")) for s in ASKED)


# -- token stores ----------------------------------------------------------------------

@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077, 0o277])
def test_the_token_file_is_0600_whatever_the_umask(tmp_path, umask):
    from villaged.backends.google.token_store import FileStore

    path = tmp_path / "state" / "google-token.json"
    old = os.umask(umask)
    try:
        store = FileStore(path)
        store.save('{"refresh_token": "a"}')
        store.save('{"refresh_token": "b"}')  # replaced atomically, still 0600
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.load() == '{"refresh_token": "b"}'
    assert [p.name for p in path.parent.iterdir()] == ["google-token.json"]  # no temp files left


def test_a_token_file_opened_up_by_hand_is_tightened(tmp_path):
    from villaged.backends.google.token_store import FileStore

    path = tmp_path / "google-token.json"
    path.write_text("{}")
    path.chmod(0o644)
    FileStore(path).load()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_keyring_store_syncs_and_keeps_the_refreshed_token(server, tmp_path, memory_keyring):
    s = Setup(server, tmp_path, token_store="keyring")
    (s.state / "google-token.json").unlink()
    memory_keyring.set_password("villaged", OWNER, token_json(server, token=None))
    server.add_message(raw_message("ada@analytical.example", OWNER, "hi", NOW), internal_date=NOW)
    s.sync()
    assert server.stats.token_requests == 1
    stored = json.loads(memory_keyring.get_password("villaged", OWNER))
    assert stored["token"].startswith("ya29.local-")  # the refreshed access token is kept
    assert stored["refresh_token"] == "1//test-refresh"
    server.reset_stats()
    s.sync()
    assert server.stats.token_requests == 0  # ... so the next run needs no refresh


def test_systemd_credential_is_read_and_never_written(server, tmp_path, monkeypatch):
    s = Setup(server, tmp_path, token_store="systemd-credential")
    (s.state / "google-token.json").unlink()
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "villaged-token").write_text(token_json(server, token=None))
    (creds / "villaged-token").chmod(0o400)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    server.add_message(raw_message("ada@analytical.example", OWNER, "hi", NOW), internal_date=NOW)
    s.sync()
    assert json.loads((creds / "villaged-token").read_text()).get("token") is None
    assert not (s.state / "google-token.json").exists()
    with s.store() as store:
        assert [i.person for i in store.interactions()] == ["ada-lovelace"]


def test_no_grant_yet_says_run_villaged_auth(server, setup):
    (setup.state / "google-token.json").unlink()
    result = villaged(setup, "sync")
    assert result.returncode == 2
    assert "run `villaged auth`" in result.stderr and "Traceback" not in result.stderr


# -- invalid_grant ----------------------------------------------------------------------

def test_a_revoked_grant_gives_one_actionable_message(server, setup):
    (setup.state / "google-token.json").write_text(token_json(server, token=None))
    server.revoke()
    result = villaged(setup, "sync")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("villaged: Google refused villaged's grant")
    assert "run `villaged auth` again" in result.stderr
    assert "every 7 days" in result.stderr and "Testing mode" in result.stderr
    assert len(lines) == 2  # the message and its fix, nothing else


def test_tokens_never_reach_the_log(server, setup):
    (setup.state / "google-token.json").write_text(token_json(server, token=None))
    server.add_message(raw_message("ada@analytical.example", OWNER, "hi", NOW), internal_date=NOW)
    result = villaged(setup, "-vv", "sync")
    assert result.returncode == 0, result.stderr
    assert "DEBUG" in result.stderr  # the log was on
    assert "ya29." not in result.stderr and "1//" not in result.stderr
    assert CLIENT_SECRET not in result.stderr


# -- doctor's checks ---------------------------------------------------------------------

def test_check_auth_reports_store_validity_and_scopes(server, setup):
    from villaged.backends.google.auth import check_auth

    village = setup.village()
    status = check_auth(village, village.backend, setup.state)
    assert (status.store, status.present, status.valid) == ("file", True, True)
    assert list(status.scopes) == SCOPES and status.ok
    assert "google-token.json" in status.where

    server.granted_scopes = SCOPES + ["https://mail.google.com/"]
    status = check_auth(village, village.backend, setup.state)
    assert status.extra_scopes == ("https://mail.google.com/",) and not status.ok

    server.granted_scopes = SCOPES[:2]
    status = check_auth(village, village.backend, setup.state)
    assert status.missing_scopes == (SCOPES[2],) and not status.ok

    server.revoke()
    status = check_auth(village, village.backend, setup.state)
    assert status.valid is False and "revoked" in status.problems[0]

    (setup.state / "google-token.json").unlink()
    status = check_auth(village, village.backend, setup.state, remote=False)
    assert not status.present and status.problems


# -- the installed-app flow ------------------------------------------------------------------

def client_secrets(tmp_path: Path, server: GoogleApiServer) -> Path:
    path = tmp_path / "client_secret.json"
    path.write_text(json.dumps({"installed": {
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "auth_uri": server.url + "o/oauth2/auth", "token_uri": server.token_uri,
        "redirect_uris": ["http://localhost"]}}))
    return path


def sign_in(setup: Setup, secrets: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run `villaged auth --no-browser`, play the browser, return (result, printed text)."""
    env = setup.env()
    env.update(PYTHONUNBUFFERED="1", OAUTHLIB_INSECURE_TRANSPORT="1")  # the test server is http
    proc = subprocess.Popen(
        [sys.executable, "-m", "villaged", "auth", "--no-browser", "--client-secrets", str(secrets)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            printed.append(line)
            if "then open the URL there" in line:
                break
        text = "".join(printed)
        url = re.search(r"(http://\S+/o/oauth2/auth\?\S+)", text).group(1)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        redirect = query["redirect_uri"][0]
        answer = urllib.parse.urlencode({"code": "4/local-code", "state": query["state"][0],
                                         "scope": " ".join(SCOPES)})
        with urllib.request.urlopen(f"{redirect}?{answer}", timeout=30) as page:
            assert b"villaged is authorised" in page.read()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, text + out, err), url


def test_villaged_auth_runs_the_loopback_flow_and_stores_the_grant(server, setup, tmp_path):
    (setup.state / "google-token.json").unlink()
    result, url = sign_in(setup, client_secrets(tmp_path, server))
    assert result.returncode == 0, result.stderr
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["scope"][0].split() == SCOPES
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    port = urllib.parse.urlsplit(query["redirect_uri"][0]).port
    assert f"ssh -L {port}:localhost:{port} " in result.stdout
    token_file = setup.state / "google-token.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert json.loads(token_file.read_text())["refresh_token"].startswith("1//local-refresh-")
    assert "stored the grant" in result.stdout and OWNER in result.stdout
    # the grant works
    server.add_message(raw_message("ada@analytical.example", OWNER, "hi", NOW), internal_date=NOW)
    assert villaged(setup, "sync").returncode == 0


def test_villaged_auth_refuses_a_partial_grant(server, setup, tmp_path):
    (setup.state / "google-token.json").unlink()
    server.granted_scopes = SCOPES[:2]  # the owner unticked the calendar box
    result, _ = sign_in(setup, client_secrets(tmp_path, server))
    assert result.returncode == 2
    assert "lacks calendar.readonly" in result.stderr and "Traceback" not in result.stderr
    assert not (setup.state / "google-token.json").exists()


def test_a_web_client_is_refused_with_a_fix(server, setup, tmp_path):
    secrets = tmp_path / "web.json"
    secrets.write_text(json.dumps({"web": {"client_id": "x", "client_secret": "y"}}))
    result = villaged(setup, "auth", "--no-browser", "--client-secrets", str(secrets))
    assert result.returncode == 2 and "Desktop app" in result.stderr


def test_an_expired_access_token_is_refreshed_and_kept(server, setup):
    server.add_message(raw_message("ada@analytical.example", OWNER, "hi", NOW), internal_date=NOW)
    setup.sync()
    server.expire_access_tokens()
    server.reset_stats()
    setup.sync(NOW.replace(hour=15))
    assert server.stats.token_requests == 1
    token_file = setup.state / "google-token.json"
    assert json.loads(token_file.read_text())["token"].startswith("ya29.local-")
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_a_refresh_that_returns_the_same_token_is_kept_for_its_new_expiry(server, setup):
    """A server may answer a refresh with the same access token and a new lifetime:
    saving only when the token text changes made every later run refresh again."""
    token_file = setup.state / "google-token.json"
    info = json.loads(token_file.read_text())
    info.update(token="ya29.same-every-time", expiry="2000-01-01T00:00:00Z")
    token_file.write_text(json.dumps(info))
    server.auth.same_token = "ya29.same-every-time"
    server.add_message(raw_message("ada@analytical.example", OWNER, "hi", NOW), internal_date=NOW)
    server.reset_stats()
    setup.sync()
    assert server.stats.token_requests == 1
    kept = json.loads(token_file.read_text())
    assert kept["token"] == "ya29.same-every-time" and not kept["expiry"].startswith("2000")
    setup.sync(NOW.replace(hour=15))
    setup.sync(NOW.replace(hour=16))
    assert server.stats.token_requests == 1  # the next runs use the kept token


def test_a_grant_revoked_mid_run_is_an_auth_error(server, setup):
    from villaged.domain.errors import AuthError

    server.add_message(raw_message("ada@analytical.example", OWNER, "hi", NOW), internal_date=NOW)
    setup.sync()
    server.revoke()
    with pytest.raises(AuthError) as err:
        setup.sync(NOW.replace(hour=15))  # history.list: 401, refresh: invalid_grant
    assert "revoked" in err.value.message and "villaged auth" in (err.value.fix or "")
    api = setup.io().api
    with pytest.raises(AuthError):  # and the same from a batch
        api.batch([("x", api.gmail.users().messages().list(userId="me", q="from:x@y.example"))])
