"""Microsoft Graph over HTTP: requests, throttling, JSON $batch, and villaged's typed errors.

- One ``requests.Session``: each request is sent exactly once by the
  transport (no silent replay of a POST; see the Google transport's note),
  and whether to try again is decided here. Reads are retried; a write is
  retried only after a 429 (Graph refuses throttled requests before doing
  them), and otherwise handed back so the caller can check whether it
  happened (drafts.py, backend.py).
- Throttling: 429 and 503 wait ``Retry-After`` seconds (capped), other 5xx
  and network failures back off exponentially with jitter.
- A 401 refreshes the access token once (MSAL, through the refresh token).
- ``batch`` sends reads as JSON ``$batch`` of at most 20, retries the parts
  that were throttled or failed, and hands back each part's answer.
- ``Prefer: IdType="ImmutableId"`` on every call, so a draft keeps its id
  when Outlook moves it (to Sent Items, say).

Errors come out as villaged's own: network trouble or retries exhausted is a
TransientError, a refused grant or a missing permission an AuthError. An
answer the caller must judge itself (404, 410 for an expired delta link, a
400) is a ``GraphError`` with Graph's error code.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from villaged.domain.errors import (
    AuthError,
    RateLimitedError,
    RemoteError,
    TransientError,
    UnreachableError,
)

log = logging.getLogger(__name__)

MAX_BATCH = 20
RETRYABLE = frozenset({429, 500, 502, 503, 504})
IMMUTABLE_IDS = 'IdType="ImmutableId"'
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        ceiling = min(self.cap, self.base * (2 ** max(failures - 1, 0)))
        return ceiling * (0.5 + rand() / 2)


class GraphError(RemoteError):
    """Graph refused a call (404, 410, 400, ...): the caller judges it (a 410 on a delta link
    means start over); one that reaches the round is a RemoteError with Graph's code."""

    def __init__(self, status: int, code: str, message: str, what: str = "") -> None:
        super().__init__(
            f"Microsoft Graph refused {what or 'a call'} (HTTP {status} {code}): {message}",
            fix="check [backend.microsoft] (graph_endpoint, folders, calendars); see "
            "README § Microsoft 365: Outlook mail and calendar",
            status=status,
            what=what,
        )
        self.code = code
        self.graph_message = message

    @property
    def resync(self) -> bool:
        """A delta link the service no longer honours: start over."""
        return self.status == 410 or self.code.lower() in (
            "syncstatenotfound",
            "resyncrequired",
            "syncstateinvalid",
        )


@dataclass
class Call:
    """One request inside a $batch: a read, with a URL relative to the endpoint."""

    id: str
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


def _error_of(status: int, body: Any) -> tuple[str, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")
    return "", ""


def _retry_after(headers: Any) -> float | None:
    value = None
    if headers:
        for name, v in dict(headers).items():
            if str(name).lower() == "retry-after":
                value = v
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class GraphClient:
    def __init__(
        self,
        token: Callable[[bool], str],
        endpoint: str,
        *,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        import requests

        self._token = token
        self.endpoint = endpoint.rstrip("/")
        self.retry = retry
        self._sleep = sleep
        self._rand = rand
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Prefer"] = IMMUTABLE_IDS
        self.round_trips = 0

    def close(self) -> None:
        self.session.close()

    def relative(self, url: str) -> str:
        """A path relative to the endpoint, from a link Graph handed out (nextLink, deltaLink)."""
        if url.startswith(self.endpoint):
            return url[len(self.endpoint) :]
        marker = url.find("/v1.0/")
        return url[marker + len("/v1.0") :] if marker >= 0 else url

    def pause(self, failures: int, retry_after: float | None = None) -> None:
        if retry_after is not None:
            delay = min(max(retry_after, 0.0), self.retry.max_retry_after)
        else:
            delay = self.retry.delay(failures, self._rand)
        self._sleep(delay)

    # -- single requests -----------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        retry: bool = True,
        what: str = "",
    ) -> Any:
        """The JSON answer (None for 204). ``retry=False`` for writes (see the module doc)."""
        import requests

        what = what or f"{method} {url.split('?', maxsplit=1)[0]}"
        full = url if url.startswith("https://") else self.endpoint + url
        refreshed = False
        failures = 0
        while True:
            token = self._token(False)
            try:
                self.round_trips += 1
                r = self.session.request(
                    method,
                    full,
                    params=params,
                    json=json,
                    data=data,
                    headers={**(headers or {}), "Authorization": f"Bearer {token}"},
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                failures += 1
                if not retry or failures >= self.retry.attempts:
                    raise UnreachableError(
                        f"network failure talking to Microsoft Graph ({what}: {type(exc).__name__})",
                        fix="villaged retries next round; check the network",
                    ) from None
                self.pause(failures)
                continue
            body = _json(r)
            if r.status_code < 300:
                return body
            code, message = _error_of(r.status_code, body)
            if r.status_code == 401 and not refreshed:
                refreshed = True
                self._token(True)
                continue
            if r.status_code in RETRYABLE and (retry or r.status_code == 429):
                failures += 1
                if failures >= self.retry.attempts:
                    kind = RateLimitedError if r.status_code == 429 else TransientError
                    raise kind(
                        f"Microsoft Graph answered {r.status_code} to {what} after {failures} tries",
                        fix="villaged retries next round",
                    )
                wait = _retry_after(r.headers)
                log.info(
                    "graph: %s answered %d%s; waiting %s",
                    what,
                    r.status_code,
                    f" {code}" if code else "",
                    f"{wait:.0f} s (Retry-After)" if wait is not None else "a little",
                )
                self.pause(failures, wait)
                continue
            if r.status_code in RETRYABLE:  # a write that may or may not have happened
                raise TransientError(
                    f"Microsoft Graph answered {r.status_code} to {what}", fix="villaged retries next round"
                )
            raise problem(r.status_code, code, message, what)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    # -- $batch ----------------------------------------------------------------------

    def batch(self, calls: Sequence[Call]) -> dict[str, Any]:
        """Run read calls in $batch requests of at most 20 (one call alone goes as a plain GET).
        Returns id → JSON body, or the GraphError of a part that failed for good."""
        results: dict[str, Any] = {}
        pending = list(calls)
        tries: dict[str, int] = {}
        refreshed = False
        failures = 0
        while pending:
            if len(pending) == 1:
                call = pending.pop()
                try:
                    results[call.id] = self.request(call.method, call.url, headers=call.headers or None)
                except GraphError as exc:
                    results[call.id] = exc
                continue
            chunk, pending = pending[:MAX_BATCH], pending[MAX_BATCH:]
            body = {
                "requests": [
                    {
                        "id": c.id,
                        "method": c.method,
                        "url": c.url,
                        **({"headers": c.headers} if c.headers else {}),
                        **({"body": c.body} if c.body is not None else {}),
                    }
                    for c in chunk
                ]
            }
            answer = self.request("POST", "/$batch", json=body, what=f"a $batch of {len(chunk)}")
            by_id = {
                str(r.get("id")): r for r in (answer or {}).get("responses") or () if isinstance(r, dict)
            }
            again: list[Call] = []
            wait: float | None = None
            for call in chunk:
                part = by_id.get(call.id)
                status = int(part.get("status", 0)) if part else 0
                part_body = part.get("body") if part else None
                if part and status < 300:
                    results[call.id] = part_body
                    continue
                code, message = _error_of(status, part_body)
                if status == 401 and not refreshed:
                    refreshed = True
                    self._token(True)
                    again.append(call)
                    continue
                if not part or status in RETRYABLE:
                    tries[call.id] = tries.get(call.id, 0) + 1
                    if tries[call.id] >= self.retry.attempts:
                        raise TransientError(
                            f"Microsoft Graph kept failing a batched request ({status or 'no answer'})",
                            fix="villaged retries next round",
                        )
                    after = _retry_after(part.get("headers") if part else None)
                    if after is not None:
                        wait = max(wait or 0.0, after)
                    again.append(call)
                    continue
                error = problem(status, code, message, f"{call.method} {call.url.split('?')[0]}")
                if not isinstance(error, GraphError):
                    raise error
                results[call.id] = error
            if again:
                failures += 1
                log.info("graph: %d of %d batched requests to retry", len(again), len(chunk))
                self.pause(failures, wait)
                pending = again + pending
            else:
                failures = 0
        return results


def problem(status: int, code: str, message: str, what: str) -> Exception:
    """villaged's error for a failed call: AuthError for a refused grant or a missing
    permission, GraphError for what the caller must judge."""
    if status == 401:
        return AuthError(
            "Microsoft Graph no longer accepts villaged's access token", fix="run `villaged auth` again"
        )
    if status == 403 and code in (
        "ErrorAccessDenied",
        "Authorization_RequestDenied",
        "AccessDenied",
        "accessDenied",
        "ErrorInsufficientPermissionsInAccessToken",
    ):
        return AuthError(
            f"the Microsoft grant lacks a permission {what} needs ({code})",
            fix="run `villaged auth` again and accept every permission; if your organisation "
            "requires it, ask an administrator to consent for the app registration",
        )
    return GraphError(status, code, message, what)


def _json(r: Any) -> Any:
    if not r.content:
        return None
    try:
        return r.json()
    except ValueError:
        return None
