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
- Errors come out as villaged's own: a network failure or exhausted retries
  is a ``TransientError`` (the next round retries), a revoked grant an
  ``AuthError``. An HttpError the caller must handle (404 history, 410 sync
  token) is passed through unchanged.
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
from villaged.domain.errors import AuthError, TransientError, VillagedError

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


def status_of(exc: Exception) -> int | None:
    resp = getattr(exc, "resp", None)
    return getattr(resp, "status", None)


def translate(exc: Exception, what: str) -> Exception:
    """villaged's error for a failed call, or ``exc`` itself when the caller must decide."""
    from google.auth import exceptions as auth_exc
    from googleapiclient.errors import HttpError

    if isinstance(exc, auth_exc.RefreshError):
        from villaged.backends.google.auth import refresh_problem

        return refresh_problem(exc)
    if isinstance(exc, auth_exc.TransportError):
        return TransientError(f"cannot reach Google's token endpoint ({what})",
                              fix="villaged retries next round; check the network")
    if isinstance(exc, HttpError):
        status = exc.resp.status
        reasons = error_reasons(exc.content)
        if is_retryable(status, exc.content):
            return TransientError(f"Google answered {status} to {what} after retries",
                                  fix="villaged retries next round")
        if status == 401:
            return AuthError("Google no longer accepts villaged's access token",
                             fix="run `villaged auth` again")
        if status == 403 and reasons & SCOPE_REASONS:
            return AuthError(f"the Google grant lacks a scope {what} needs",
                             fix="run `villaged auth` again and tick every box on the consent screen")
        if status == 403 and reasons & DISABLED_REASONS:
            return VillagedError(f"the API behind {what} is not enabled for your OAuth client's project",
                                 fix="enable the Gmail API and the Google Calendar API in the "
                                     "Google Cloud console (see docs/google.md)")
        return exc
    if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
        return TransientError(f"network failure talking to Google ({what}: {type(exc).__name__})",
                              fix="villaged retries next round; check the network")
    try:
        import httplib2

        if isinstance(exc, httplib2.HttpLib2Error):
            return TransientError(f"network failure talking to Google ({what})",
                                  fix="villaged retries next round; check the network")
    except ImportError:  # pragma: no cover
        pass
    return exc


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
        except Exception as exc:
            translated = translate(exc, method)
            if translated is exc:
                raise
            raise translated from exc

    # -- batches -------------------------------------------------------------

    def batch(self, calls: Sequence[tuple[Hashable, Any]]) -> dict[Hashable, Any]:
        """Run read calls in batches of at most 50; key → response dict, or the
        HttpError for a sub-request that failed for good (e.g. 404)."""
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
            except (ConnectionError, TimeoutError, OSError, BatchError) as exc:
                retry_later = list(chunk)
                problem = type(exc).__name__
            except Exception as exc:
                translated = translate(exc, "a batch")
                if translated is exc:
                    raise
                raise translated from exc
            else:
                problem = ""
                for request_id, (key, request) in ids.items():
                    response, error = answers.get(request_id, (None, None))
                    if error is None and request_id in answers:
                        results[key] = response
                    elif isinstance(error, HttpError) and not is_retryable(
                            error.resp.status, error.content):
                        results[key] = error
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
