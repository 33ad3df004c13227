"""What the owner sees when Google refuses or cannot be reached: one message, a fix,
exit 1 (retry later) or 2 (fix something), never a traceback or a raw HttpError.

Each case is a real `villaged` subprocess talking through the real
google-api-python-client to the local Google API server.
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys

import pytest

from tests.google_api_server import GoogleApiServer
from tests.google_fixtures import NOW, OWNER, PEOPLE, Setup, raw_message
from tests.servicekit import REPO, clean_env

WHEN = "2026-11-24T10:00:00-06:00"


@pytest.fixture
def server():
    with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW) as srv:
        for n, (_, emails, _) in enumerate(PEOPLE):
            when = NOW - dt.timedelta(days=20 + n)
            srv.add_message(raw_message(emails[0], OWNER, f"news {n}", when), internal_date=when)
        yield srv


def villaged(setup: Setup, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env({"VILLAGED_CONFIG": str(setup.config), "VILLAGED_STATE_DIR": str(setup.state)})
    return subprocess.run([sys.executable, "-m", "villaged", "--now", WHEN, *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def one_clear_message(result: subprocess.CompletedProcess[str], status: int) -> str:
    """The run ended with ``status`` and one villaged message with a fix, nothing raw."""
    err = result.stderr
    assert result.returncode == status, (result.returncode, err)
    assert "Traceback" not in err and "HttpError" not in err and "googleapiclient" not in err, err
    assert err.startswith("villaged: "), err
    assert err.count("villaged: ") == 1 and "\n  fix: " in err, err
    assert "ya29" not in err and "1//test-refresh" not in err  # no secret in the message
    return err


def aim_gmail_at(setup: Setup, endpoint: str) -> None:
    text = setup.config.read_text(encoding="utf-8")
    lines = [f'gmail_endpoint = "{endpoint}"' if line.startswith("gmail_endpoint") else line
             for line in text.splitlines()]
    setup.config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_wrong_gmail_endpoint_answering_404_is_one_message_with_a_fix(tmp_path, server):
    setup = Setup(server, tmp_path)
    aim_gmail_at(setup, server.url + "not-gmail/")
    with server.expect_violations():  # the server notes the unknown path
        result = villaged(setup, "sync")
    err = one_clear_message(result, 2)
    assert "404" in err and "gmail_endpoint" in err


def test_a_404_on_the_profile_is_one_message_with_a_fix(tmp_path, server):
    setup = Setup(server, tmp_path)
    server.queue_fault("404", "gmail.users.getProfile")
    err = one_clear_message(villaged(setup, "sync"), 2)
    assert "404" in err and "gmail.users.getProfile" in err and "gmail_endpoint" in err


def test_a_403_that_is_no_rate_limit_is_one_message_with_a_fix(tmp_path, server):
    setup = Setup(server, tmp_path)
    server.queue_fault("403forbidden", "gmail.users.getProfile")
    err = one_clear_message(villaged(setup, "sync"), 2)
    assert "403" in err and "villaged auth" in err
    assert server.stats.calls.get("gmail.users.getProfile", 0) == 0  # refused, not retried into


def test_an_unreachable_endpoint_says_so_and_asks_for_a_retry(tmp_path, server):
    setup = Setup(server, tmp_path)
    aim_gmail_at(setup, f"http://127.0.0.1:{closed_port()}/")
    result = villaged(setup, "sync")
    err = one_clear_message(result, 1)  # nothing to fix in villaged: exit 1, retry later
    assert "cannot reach 127.0.0.1" in err and "connection refused" in err


def test_a_revoked_grant_asks_for_villaged_auth(tmp_path, server):
    setup = Setup(server, tmp_path)
    server.revoke()
    server.expire_access_tokens()
    for command in ("sync", "draft"):
        err = one_clear_message(villaged(setup, command), 2)
        assert "revoked" in err and "villaged auth" in err
    assert server.drafts() == []


def test_rate_limits_past_the_retries_are_retry_later(tmp_path, server):
    from villaged.backends.google.api import RetryPolicy
    from villaged.backends.google.backend import GoogleIO
    from villaged.domain.errors import RateLimitedError
    from villaged.service.round import sync_sources

    setup = Setup(server, tmp_path)
    server.queue_fault("429", "gmail.users.getProfile", count=50)
    village = setup.village()
    # a short patience, so that the retries run out within the test
    io = GoogleIO(village, village.backend, setup.state,
                  retry=RetryPolicy(num_retries=1, attempts=2, base=0.01, cap=0.02))
    with setup.store() as store, pytest.raises(RateLimitedError) as caught:
        sync_sources(village, store, io, NOW)
    assert caught.value.exit_status == 1 and "quota_units_per_minute" in (caught.value.fix or "")
