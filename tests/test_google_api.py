"""Batches, retries, quota pacing and error translation, against the local server."""

from __future__ import annotations

import json

import pytest

from tests.google_api_server import GoogleApiServer
from tests.google_api_server.client import credentials
from tests.google_fixtures import NOW, OWNER, raw_message


def make_api(server: GoogleApiServer, **kw):
    from villaged.backends.google.api import GoogleApi, RetryPolicy

    kw.setdefault("retry", RetryPolicy(num_retries=3, attempts=8, base=0.001, cap=0.01))
    return GoogleApi(credentials(server), gmail_endpoint=server.url,
                     calendar_endpoint=server.url + "calendar/v3/", **kw)


@pytest.fixture
def server():
    with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW) as srv:
        yield srv


def gets(api, ids):
    messages = api.gmail.users().messages()
    return [(i, messages.get(userId="me", id=i, format="metadata", metadataHeaders=["From"],
                             fields="id,payload/headers")) for i in ids]


def add(server: GoogleApiServer, n: int) -> list[str]:
    return server.add_messages(raw_message(f"p{k}@x.example", OWNER, f"m{k}", NOW) for k in range(n))


def test_the_batch_uri_is_built_from_the_configured_endpoint():
    from villaged.backends.google.api import gmail_batch_uri

    assert gmail_batch_uri(None) == "https://gmail.googleapis.com/batch/gmail/v1"
    assert gmail_batch_uri("http://127.0.0.1:9/") == "http://127.0.0.1:9/batch/gmail/v1"
    assert gmail_batch_uri("http://127.0.0.1:9") == "http://127.0.0.1:9/batch/gmail/v1"


def test_batches_hold_at_most_50_and_go_to_the_configured_endpoint(server):
    ids = add(server, 120)
    api = make_api(server)
    server.reset_stats()
    answers = api.batch(gets(api, ids))
    assert sorted(answers) == sorted(ids)
    assert server.stats.batches == 3 and server.stats.round_trips == 3
    assert server.stats.quota_units == 120 * 5


def test_retryable_sub_requests_are_retried_and_the_batch_shrinks(server):
    ids = add(server, 100)
    api = make_api(server)
    server.configure_faults(0.3, kinds=("429", "500", "503", "403rate", "drop"), seed=5,
                            methods=["gmail.users.messages.get"])
    server.reset_stats()
    answers = api.batch(gets(api, ids))
    assert sorted(answers) == sorted(ids)
    assert all(isinstance(a, dict) for a in answers.values())
    assert server.stats.batches > 2  # smaller batches after failures


def test_a_missing_message_is_answered_not_retried(server):
    from villaged.domain.errors import NotFoundError

    ids = add(server, 3)
    api = make_api(server)
    server.reset_stats()
    answers = api.batch(gets(api, [*ids, "0000000000000bad"]))
    assert isinstance(answers["0000000000000bad"], NotFoundError)  # villaged's own, typed
    assert answers["0000000000000bad"].status == 404
    assert server.stats.sub_requests == 4


def test_a_failed_whole_batch_is_retried(server):
    ids = add(server, 10)
    api = make_api(server)
    server.queue_fault("503", "batch", count=2)
    server.reset_stats()
    assert sorted(api.batch(gets(api, ids))) == sorted(ids)
    assert server.stats.batches >= 3


def test_a_batch_that_keeps_failing_becomes_a_transient_error(server):
    from villaged.domain.errors import TransientError

    ids = add(server, 4)
    api = make_api(server)
    server.configure_faults(1.0, kinds=("503",), methods=["gmail.users.messages.get"])
    with pytest.raises(TransientError):
        api.batch(gets(api, ids))


def test_the_network_being_down_is_a_transient_error(server):
    from villaged.backends.google.api import RetryPolicy
    from villaged.domain.errors import TransientError

    api = make_api(server, retry=RetryPolicy(num_retries=1, attempts=2, base=0.001, cap=0.01))
    server.stop()
    with pytest.raises(TransientError) as err:
        api.execute(api.gmail.users().getProfile(userId="me"))
    assert "retries next round" in str(err.value)
    with pytest.raises(TransientError):
        api.batch(gets(api, ["1"]))


@pytest.mark.parametrize(("status", "body", "retry"), [
    (500, {"error": {"code": 500, "message": "x"}}, True),
    (429, {"error": {"code": 429, "message": "x"}}, True),
    (403, {"error": {"errors": [{"reason": "rateLimitExceeded"}], "code": 403}}, True),
    (403, {"error": {"errors": [{"reason": "userRateLimitExceeded"}], "code": 403}}, True),
    (403, {"error": {"status": "PERMISSION_DENIED",
                     "details": [{"reason": "RATE_LIMIT_EXCEEDED"}]}}, True),
    (403, {"error": {"errors": [{"reason": "insufficientPermissions"}],
                     "message": "not a rateLimitExceeded"}}, False),
    (403, {"error": {"errors": [{"reason": "forbidden"}]}}, False),
    (403, None, False),
    (404, {"error": {"code": 404}}, False),
])
def test_which_errors_are_retried(status, body, retry):
    from villaged.backends.google.api import is_retryable

    assert is_retryable(status, json.dumps(body).encode() if body else b"") is retry


def test_the_pacer_holds_gmail_below_the_configured_rate():
    from villaged.backends.google.quota import Pacer, units_for

    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    pacer = Pacer(600, burst=100, clock=lambda: now[0], sleep=sleep)  # 10 units/s
    for _ in range(20):
        pacer.acquire(units_for("gmail.users.messages.get"))  # 5 units each: 100 in all
    assert slept == []  # the burst
    pacer.acquire(50)
    assert sum(slept) == pytest.approx(5.0)
    assert units_for("calendar.events.list") == 0
    assert units_for("gmail.users.history.list") == 2


def test_units_spent_are_paced_through_the_api(server):
    from villaged.backends.google.quota import Pacer

    ids = add(server, 60)
    pacer = Pacer(6000)
    api = make_api(server, pacer=pacer)
    api.batch(gets(api, ids))
    api.execute(api.gmail.users().getProfile(userId="me"))
    assert pacer.spent == 60 * 5 + 1
