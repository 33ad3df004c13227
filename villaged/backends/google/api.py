"""Gmail v1 and Calendar v3 services: endpoints, batches, retries, quota pacing, errors.

- Services are built from the discovery documents bundled with
  google-api-python-client (``static_discovery=True``: no discovery fetch),
  aimed at the configured endpoints.
- Batches hold at most 50 requests and go to ``<gmail endpoint>/batch/gmail/v1``,
  built from the configured endpoint because the client ignores
  ``api_endpoint`` for batches.
- Single reads use ``execute(num_retries=…)``: the client retries 5xx, 429 and
  the rate-limit 403s (it reads the error reason; other 403s are not
  retried). Batch sub-requests that fail with the same retryable errors, and
  whole batches that fail, are retried with jittered exponential backoff up
  to a cap, and the batch size shrinks after each failure (as lieer does).
- Every Gmail call first takes its quota units from the ``Pacer``.
- Errors come out as villaged's own (``villaged.domain.errors``), never as a
  library exception: a network failure is an ``UnreachableError``, exhausted
  retries a ``TransientError`` or ``RateLimitedError`` (the next round
  retries), a revoked grant or missing scope an ``AuthError``, a 403 a
  ``ForbiddenError``, a 404 a ``NotFoundError``, a 410 a ``GoneError``. The
  sources turn the 404 of history.list and the 410 of a sync token into their
  own "start over" signals by catching those types.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from villaged.backends.google.quota import Pacer, units_for
from villaged.domain.errors import (
    AuthError,
    ForbiddenError,
    GoneError,
    NotFoundError,
    Problem,
    RateLimitedError,
    RemoteError,
    TransientError,
    UnreachableError,
)

log = logging.getLogger(__name__)

MAX_BATCH = 50
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})
SCOPE_REASONS = frozenset({"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"})
DISABLED_REASONS = frozenset({"accessNotConfigured", "SERVICE_DISABLED"})
DEFAULT_GMAIL_ENDPOINT = "https://gmail.googleapis.com/"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``num_retries`` goes to the client for single calls;
    batches use ``attempts``, ``base`` and ``cap`` (seconds) themselves."""

    num_retries: int = 5
    attempts: int = 8  # tries per batch sub-request (and per whole batch)
    base: float = 0.5
    cap: float = 32.0

    def delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """Full-jitter exponential backoff: uniform in [cap/2, cap] of base·2^n."""
        ceiling = min(self.cap, self.base * (2 ** max(failures - 1, 0)))
        return ceiling * (0.5 + rand() / 2)


def error_reasons(content: bytes | str | None) -> set[str]:
    """The machine-readable reasons in a Google error body (``errors[].reason``,
    ``status`` and ``details[].reason``)."""
    if not content:
        return set()
    try:
        data = json.loads(content)
        error = data["error"] if isinstance(data, dict) else data[0]["error"]
    except (ValueError, KeyError, IndexError, TypeError):
        return set()
    if not isinstance(error, dict):
        return set()
    reasons = set()
    for item in error.get("errors") or ():
        if isinstance(item, dict) and isinstance(item.get("reason"), str):
            reasons.add(item["reason"])
    if isinstance(error.get("status"), str):
        reasons.add(error["status"])
    for item in error.get("details") or ():
        if isinstance(item, dict) and isinstance(item.get("reason"), str):
            reasons.add(item["reason"])
    return reasons


def is_retryable(status: int, content: bytes | str | None) -> bool:
    """5xx, 429, and a 403 whose reason is a rate limit (never any other 403)."""
    if status >= 500 or status == 429:
        return True
    return status == 403 and bool(error_reasons(content) & RATE_LIMIT_REASONS)


ENDPOINT_FIX = ("check gmail_endpoint, calendar_endpoint and calendars in [backend.google] "
                "(leave the endpoints out to use Google's own; see README § Testing against "
                "another server)")
FORBIDDEN_FIX = ("check that the account villaged signed in as may use Gmail and Calendar "
                 "(a Workspace admin may have turned API access off), then run `villaged auth` "
                 "again; see README § When the grant stops working")
ENABLE_FIX = ("enable the Gmail API and the Google Calendar API in the Google Cloud console "
              "(see README § 1. Create the OAuth client)")
NETWORK_FIX = "villaged retries next round; check the network"


def library_errors() -> tuple[type[BaseException], ...]:
    """The exceptions the Google libraries raise for a failed call (imported lazily).

    Everything here is translated into villaged's own errors by ``translate``;
    anything else is a bug and keeps its traceback.
    """
    import httplib2
    from google.auth import exceptions as auth_exc
    from googleapiclient.errors import HttpError

    return (HttpError, auth_exc.RefreshError, auth_exc.TransportError, httplib2.HttpLib2Error,
            OSError)


def translate(exc: BaseException, what: str) -> Problem:
    """villaged's own error for a call that failed with one of ``library_errors()``."""
    from google.auth import exceptions as auth_exc
    from googleapiclient.errors import HttpError

    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, auth_exc.RefreshError):
        from villaged.backends.google.auth import refresh_problem

        return refresh_problem(exc)
    if isinstance(exc, auth_exc.TransportError):
        return UnreachableError(f"cannot reach Google's token endpoint ({what})", fix=NETWORK_FIX)
    if isinstance(exc, HttpError):
        return http_problem(exc.resp.status, exc.content, what)
    return UnreachableError(f"network failure talking to Google ({what}: {type(exc).__name__})",
                            fix=NETWORK_FIX)


def http_problem(status: int, content: bytes | str | None, what: str) -> Problem:
    """The typed error for an HTTP error answer (after any retries)."""
    reasons = error_reasons(content)
    if status == 429 or (status == 403 and reasons & RATE_LIMIT_REASONS):
        return RateLimitedError(f"Google kept rate-limiting {what} ({status}) after retries",
                                fix="villaged retries next round; if it keeps happening, lower "
                                    "quota_units_per_minute in [backend.google]")
    if status >= 500:
        return TransientError(f"Google answered {status} to {what} after retries",
                              fix="villaged retries next round")
    if status == 401:
        return AuthError("Google no longer accepts villaged's access token",
                         fix="run `villaged auth` again (see README § When the grant stops working)")
    if status == 403 and reasons & SCOPE_REASONS:
        return AuthError(f"the Google grant lacks a scope {what} needs",
                         fix="run `villaged auth` again and tick every box on the consent screen")
    if status == 403 and reasons & DISABLED_REASONS:
        return ForbiddenError(f"the API behind {what} is not enabled for your OAuth client's "
                              "project", fix=ENABLE_FIX, status=status, what=what)
    if status == 403:
        return ForbiddenError(f"Google refused {what} (403 Forbidden)", fix=FORBIDDEN_FIX,
                              status=status, what=what)
    if status == 404:
        return NotFoundError(f"Google answered 404 Not Found to {what}: the endpoint or the "
                             "calendar does not exist", fix=ENDPOINT_FIX, status=status, what=what)
    if status == 410:
        return GoneError(f"Google answered 410 Gone to {what}", fix="villaged starts over next "
                         "round; if it keeps happening, run `villaged sync` by hand",
                         status=status, what=what)
    return RemoteError(f"Google rejected {what} (HTTP {status})",
                       fix="check [backend.google] in the config; if it looks right, this is a "
                           "villaged bug: run with -v and report it", status=status, what=what)


def answer_problem(answer: Any, what: str) -> Problem | None:
    """The typed error for a failed batch sub-request (``GoogleApi.batch`` results)."""
    from googleapiclient.errors import HttpError

    if isinstance(answer, Problem):
        return answer
    if isinstance(answer, HttpError):
        return http_problem(answer.resp.status, answer.content, what)
    return None


def gmail_batch_uri(endpoint: str | None) -> str:
    root = endpoint or DEFAULT_GMAIL_ENDPOINT
    return urljoin(root if root.endswith("/") else root + "/", "batch/gmail/v1")


class GoogleApi:
    """The two services plus the machinery every call goes through."""

    def __init__(self, credentials: Any, *, gmail_endpoint: str | None = None,
                 calendar_endpoint: str | None = None, pacer: Pacer | None = None,
                 retry: RetryPolicy = RetryPolicy(), batch_size: int = MAX_BATCH,
                 on_refresh: Callable[[Any], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 rand: Callable[[], float] = random.random) -> None:
        from googleapiclient.discovery import build

        from villaged.backends.google.transport import SessionHttp

        self.http = SessionHttp(credentials, on_refresh=on_refresh)
        self.gmail = build("gmail", "v1", http=self.http, static_discovery=True,
                           cache_discovery=False,
                           client_options={"api_endpoint": gmail_endpoint} if gmail_endpoint else None)
        self.calendar = build("calendar", "v3", http=self.http, static_discovery=True,
                              cache_discovery=False,
                              client_options={"api_endpoint": calendar_endpoint}
                              if calendar_endpoint else None)
        self.batch_uri = gmail_batch_uri(gmail_endpoint)
        self.pacer = pacer or Pacer()
        self.retry = retry
        self.batch_size = max(1, min(batch_size, MAX_BATCH))
        self._sleep = sleep
        self._rand = rand

    def close(self) -> None:
        self.http.close()

    def pause(self, failures: int) -> None:
        """Back off before trying again after ``failures`` failures."""
        self._sleep(self.retry.delay(failures, self._rand))

    # -- single calls ---------------------------------------------------------

    def execute(self, request: Any, *, retry: bool = True) -> Any:
        """Run one call. ``retry=False`` for writes: one attempt, the caller
        checks whether it happened before trying again."""
        method = getattr(request, "methodId", None) or "request"
        self.pacer.acquire(units_for(method))
        try:
            return request.execute(num_retries=self.retry.num_retries if retry else 0)
        except library_errors() as exc:
            raise translate(exc, method) from exc

    # -- batches -------------------------------------------------------------

    def batch(self, calls: Sequence[tuple[Hashable, Any]]) -> dict[Hashable, Any]:
        """Run read calls in batches of at most 50; key → response dict, or
        villaged's typed error (e.g. ``NotFoundError``) for a sub-request that
        failed for good."""
        from googleapiclient.errors import BatchError, HttpError
        from googleapiclient.http import BatchHttpRequest

        pending = list(calls)
        tries: dict[Hashable, int] = {}
        results: dict[Hashable, Any] = {}
        size = self.batch_size
        failures = 0  # consecutive batches with any failure
        while pending:
            chunk, pending = pending[:size], pending[size:]
            answers: dict[str, tuple[Any, Exception | None]] = {}

            def collect(request_id: str, response: Any, exception: Exception | None,
                        answers: dict[str, tuple[Any, Exception | None]] = answers) -> None:
                answers[request_id] = (response, exception)

            batch = BatchHttpRequest(callback=collect, batch_uri=self.batch_uri)
            ids = {}
            for n, (key, request) in enumerate(chunk):
                ids[str(n)] = (key, request)
                batch.add(request, request_id=str(n))
            self.pacer.acquire(sum(units_for(getattr(r, "methodId", "")) for _, r in chunk))
            retry_later: list[tuple[Hashable, Any]] = []
            try:
                batch.execute(http=self.http)
            except HttpError as exc:
                if not is_retryable(exc.resp.status, exc.content):
                    raise translate(exc, "a batch") from exc
                retry_later = list(chunk)
                problem: str = f"HTTP {exc.resp.status}"
            except (ConnectionError, TimeoutError, BatchError) as exc:
                retry_later = list(chunk)
                problem = type(exc).__name__
            except library_errors() as exc:
                raise translate(exc, "a batch") from exc
            else:
                problem = ""
                for request_id, (key, request) in ids.items():
                    response, error = answers.get(request_id, (None, None))
                    if error is None and request_id in answers:
                        results[key] = response
                    elif isinstance(error, HttpError) and not is_retryable(
                            error.resp.status, error.content):
                        results[key] = http_problem(error.resp.status, error.content,
                                                    getattr(request, "methodId", None) or "request")
                    else:
                        retry_later.append((key, request))
                        problem = problem or (f"HTTP {error.resp.status}" if isinstance(
                            error, HttpError) else "no answer")
            if not retry_later:
                failures = 0
                continue
            for key, _ in retry_later:
                tries[key] = tries.get(key, 1) + 1
                if tries[key] > self.retry.attempts:
                    raise TransientError(
                        f"Gmail kept failing a batched request ({problem}) after "
                        f"{self.retry.attempts} tries", fix="villaged retries next round")
            failures += 1
            size = max(1, size // 2)
            delay = self.retry.delay(failures, self._rand)
            log.info("%d of %d batched requests failed (%s); retrying in %.2f s with batches of %d",
                     len(retry_later), len(chunk), problem, delay, size)
            self._sleep(delay)
            pending = retry_later + pending
        return results
