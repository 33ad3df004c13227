"""The HTTP transport under google-api-python-client: requests, never replaying a request.

googleapiclient talks to an httplib2-shaped object (``request(uri, method,
body, headers) -> (response, content)``). Its default, httplib2, silently
re-sends a request once when the connection drops before the answer (it
assumes a stale keep-alive), POSTs included. For ``drafts.create`` and
``messages.send`` that turns one dropped answer into a duplicate draft or a
second digest, behind the caller's back. This adapter over
``google.auth.transport.requests.AuthorizedSession`` sends each request
exactly once; whether to try again is decided above it (``api.py``), by
method: reads are retried, writes are first checked for.

It also refreshes the access token on a 401 (AuthorizedSession does that)
and reports a refreshed token through ``on_refresh`` so the token store can
keep it and the next process need not refresh again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httplib2
import requests
from google.auth.transport.requests import AuthorizedSession
from urllib3.exceptions import NewConnectionError

from villaged.domain.errors import UnreachableError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
_DROP_HEADERS = ("content-encoding", "transfer-encoding", "content-length")


class SessionHttp:
    """httplib2-compatible ``request()`` over a requests session with credentials."""

    def __init__(self, credentials: Any, timeout: float = DEFAULT_TIMEOUT,
                 on_refresh: Callable[[Any], None] | None = None) -> None:
        self.credentials = credentials  # googleapiclient looks for this attribute
        self.session = AuthorizedSession(credentials)
        self.timeout = timeout
        self.on_refresh = on_refresh

    def request(self, uri: str, method: str = "GET", body: Any = None,
                headers: dict[str, str] | None = None, redirections: int = 5,
                connection_type: Any = None) -> tuple[httplib2.Response, bytes]:
        if isinstance(body, str):
            body = body.encode("utf-8")
        # a refresh may hand back the same token text with a new expiry: keep it then too,
        # or every later run would refresh again
        token_before = (self.credentials.token, self.credentials.expiry)
        try:
            r = self.session.request(method, uri, data=body, headers=headers,
                                     timeout=self.timeout, allow_redirects=False)
        except requests.exceptions.Timeout as exc:
            raise TimeoutError(f"{method} timed out") from exc
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                # refused, or the name does not resolve: retrying at once will not help
                # (and the client would sleep ~30 s doing so); the next round retries
                raise UnreachableError(
                    f"cannot reach {urlsplit(uri).netloc or uri} ({_reason(exc)})",
                    fix="check the network, and gmail_endpoint / calendar_endpoint / token_uri "
                        "in [backend.google] (see README § Testing against another server); "
                        "villaged retries next round") from exc
            raise ConnectionError(f"{method} failed: {type(exc).__name__}") from exc
        except (requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            raise ConnectionError(f"{method} failed: {type(exc).__name__}") from exc
        finally:
            if self.on_refresh is not None and \
                    (self.credentials.token, self.credentials.expiry) != token_before:
                self.on_refresh(self.credentials)
        info = {k.lower(): v for k, v in r.headers.items() if k.lower() not in _DROP_HEADERS}
        info["status"] = str(r.status_code)
        response = httplib2.Response(info)
        response.reason = r.reason or ""
        return response, r.content

    def close(self) -> None:
        self.session.close()


def _never_connected(exc: BaseException) -> bool:
    """True when the connection was never made (refused, no such host), as opposed
    to one dropped mid-answer (which the caller retries)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, NewConnectionError):
            return True
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None)]
        todo += [a for a in item.args if isinstance(a, BaseException)]
    return False


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host",
                   "Temporary failure in name resolution", "Network is unreachable"):
        if marker in text:
            return marker.lower()
    return "no connection"
