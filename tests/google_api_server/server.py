"""GoogleApiServer: a faithful local Gmail v1 + Calendar v3 server for tests and benchmarks."""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from .auth import DEFAULT_SCOPES, Auth
from .calendar_api import CalendarApi
from .calendar_store import CalendarStore
from .dispatch import Dispatcher
from .faults import FaultInjector
from .gmail_api import GmailApi
from .http_layer import LoopbackHTTPServer
from .mailbox import DraftView, Mailbox, SentMessage
from .paging import PageCache
from .ratelimit import RateLimiter
from .stats import Stats

log = logging.getLogger(__name__)


class GoogleApiServer:
    """Loopback HTTP server speaking Gmail v1 and Calendar v3 to the real google-api-python-client.

    Use as a context manager (`with GoogleApiServer() as server:`) or start()/stop().
    Point the client at it with `client_options={"api_endpoint": server.url}`, batches at
    `server.batch_uri("gmail")`, and credentials' token_uri at `server.token_uri`.
    """

    def __init__(
        self,
        *,
        profile_email: str = "owner@example.com",
        scopes: tuple[str, ...] | list[str] = DEFAULT_SCOPES,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], datetime] | None = None,
        latency: float = 0.0,
        gmail_time_zone: str = "America/Los_Angeles",
        calendar_time_zone: str = "UTC",
        strict_tokens: bool = False,
    ) -> None:
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.latency = latency
        self.violations: list[str] = []
        self.stats = Stats()
        self.faults = FaultInjector()
        self.auth = Auth(scopes, strict=strict_tokens)
        self.mailbox = Mailbox(profile_email, gmail_time_zone)
        self.calendar = CalendarStore(profile_email, calendar_time_zone)
        self._lock = threading.RLock()
        self._violations_lock = threading.Lock()
        pages = PageCache()
        self.dispatcher = Dispatcher(
            handlers={"gmail": GmailApi(self.mailbox, pages).handle,
                      "calendar": CalendarApi(self.calendar, pages).handle},
            auth=self.auth, faults=self.faults, stats=self.stats, lock=self._lock,
            clock=lambda: self.clock(), violate=self._violate,
        )
        self._address = (host, port)
        self._httpd: LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> GoogleApiServer:
        """Bind and serve in a background thread."""
        if self._httpd is None:
            self._httpd = LoopbackHTTPServer(self._address, self.dispatcher, lambda: self.latency, self._violate)
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name="google-api-server", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.close_connections()
            self._httpd.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._httpd = self._thread = None

    def __enter__(self) -> GoogleApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT/`, the api_endpoint for both services."""
        if self._httpd is None:
            raise RuntimeError("GoogleApiServer is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def token_uri(self) -> str:
        """The OAuth token endpoint (POST, refresh_token / authorization_code grants)."""
        return self.url + "token"

    def batch_uri(self, api: str) -> str:
        """`<url>batch/gmail/v1` or `<url>batch/calendar/v3`."""
        return self.url + {"gmail": "batch/gmail/v1", "calendar": "batch/calendar/v3"}[api]

    # ------------------------------------------------------- contract checks

    def _violate(self, problem: str) -> None:
        log.warning("Google API contract violation: %s", problem)
        with self._violations_lock:
            self.violations.append(problem)

    def clear_violations(self) -> list[str]:
        """Forget (and return) the violations recorded so far."""
        with self._violations_lock:
            found, self.violations[:] = list(self.violations), []
        return found

    @contextlib.contextmanager
    def expect_violations(self) -> Iterator[list[str]]:
        """Block that must provoke violations; they are handed over and not left behind."""
        with self._violations_lock:
            before = len(self.violations)
        found: list[str] = []
        yield found
        with self._violations_lock:
            found.extend(self.violations[before:])
            del self.violations[before:]
        if not found:
            raise AssertionError("expected a Google API contract violation, none was recorded")

    # ------------------------------------------------------ faults and auth

    def configure_faults(self, rate: float = 0.0, kinds: tuple[str, ...] | list[str] = ("429", "500", "503", "drop"),
                         seed: int = 0, methods: tuple[str, ...] | list[str] | None = None) -> None:
        """Fail requests and batch parts at random (see faults.FaultInjector for kinds)."""
        self.faults.configure(rate, kinds, seed, methods)

    def queue_fault(self, kind: str, method: str | None = None, count: int = 1) -> None:
        """Fail the next `count` calls to `method` (discovery id, or "batch"; None = any)."""
        self.faults.queue(kind, method, count)

    def clear_faults(self) -> None:
        """No more injected faults."""
        self.faults.clear()

    def configure_rate_limit(self, units_per_second: float | None = 250, burst: float | None = None,
                             clock: Callable[[], float] = time.monotonic) -> None:
        """Enforce Gmail's per-user limit (250 units/s by default): over it, calls answer 429
        rateLimitExceeded. A batch's parts are charged one by one. None turns it off.
        A frozen ``clock`` makes the bucket never refill (exact counts in a test)."""
        self.dispatcher.rate_limiter = (None if units_per_second is None
                                        else RateLimiter(units_per_second, burst, clock))

    @property
    def validate_responses(self) -> bool:
        """Check every response body against the discovery schema (on by default)."""
        return self.dispatcher.validate_responses

    @validate_responses.setter
    def validate_responses(self, on: bool) -> None:
        self.dispatcher.validate_responses = on

    def reset_stats(self) -> None:
        """Zero quota, round-trip and call counters."""
        self.stats.reset()

    def revoke(self) -> None:
        """The user revoked access: refresh -> invalid_grant, API calls -> 401."""
        self.auth.revoke()

    def expire_access_tokens(self) -> None:
        """Current access tokens answer 401 until the client refreshes."""
        self.auth.expire_access_tokens()

    @property
    def granted_scopes(self) -> list[str]:
        """Scopes the token endpoint grants and API calls are checked against."""
        return self.auth.scopes

    @granted_scopes.setter
    def granted_scopes(self, scopes: list[str]) -> None:
        self.auth.scopes = list(scopes)

    # ---------------------------------------------------------------- Gmail

    @property
    def profile_email(self) -> str:
        """The mailbox owner's address (also the primary calendar's id)."""
        return self.mailbox.profile_email

    @profile_email.setter
    def profile_email(self, email: str) -> None:
        with self._lock:
            old = self.mailbox.profile_email
            self.mailbox.profile_email = email
            if email not in self.calendar.calendars:
                self.calendar.calendars[email] = self.calendar.calendars.pop(old, {})
            self.calendar.owner_email = email

    def _now_ms(self) -> int:
        return int(self.clock().timestamp() * 1000)

    def add_message(self, raw: bytes, labels: tuple[str, ...] | list[str] = ("INBOX",),
                    thread_id: str | None = None, internal_date: int | datetime | None = None) -> str:
        """Deliver a message (records messageAdded); internal_date is epoch ms or a datetime."""
        if isinstance(internal_date, datetime):
            internal_date = int(internal_date.timestamp() * 1000)
        with self._lock:
            return self.mailbox.add_message(raw, tuple(labels), thread_id, internal_date, self._now_ms()).id

    def add_messages(self, items: Iterable[bytes | tuple[Any, ...] | dict[str, Any]]) -> list[str]:
        """Bulk add_message (GC paused meanwhile): items are raw bytes, argument tuples or kwargs dicts."""
        ids: list[str] = []
        paused = gc.isenabled()
        gc.disable()
        try:
            for item in items:
                if isinstance(item, bytes):
                    ids.append(self.add_message(item))
                elif isinstance(item, dict):
                    ids.append(self.add_message(**item))
                else:
                    ids.append(self.add_message(*item))
        finally:
            if paused:
                gc.enable()
        return ids

    def delete_message(self, message_id: str) -> None:
        """Delete permanently (records messageDeleted)."""
        with self._lock:
            self.mailbox.remove_message(message_id)

    def modify_labels(self, message_id: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> None:
        """Change a message's labels (records labelAdded / labelRemoved)."""
        with self._lock:
            self.mailbox.modify_labels(message_id, tuple(add), tuple(remove))

    def message(self, message_id: str) -> Any:
        """The stored message (raw, labels, thread_id, internal_date, headers)."""
        with self._lock:
            return self.mailbox.get(message_id)

    @property
    def history_id(self) -> int:
        """The mailbox's current historyId."""
        return self.mailbox.history_id

    def expire_history(self) -> None:
        """history.list answers 404 for any startHistoryId before now."""
        with self._lock:
            self.mailbox.expire_history()

    def drafts(self) -> list[DraftView]:
        """Every draft with its raw bytes, oldest first."""
        with self._lock:
            return self.mailbox.draft_views()

    def send_draft(self, draft_id: str) -> str:
        """The owner sends a draft from Gmail: draft gone, SENT message (and history) added."""
        with self._lock:
            return self.mailbox.send_draft(draft_id, self.clock(), "owner").id

    def edit_draft(self, draft_id: str, raw: bytes) -> str:
        """The owner edits a draft in Gmail: same draft id, a new message (returned)."""
        with self._lock:
            return self.mailbox.edit_draft(draft_id, raw, self.clock()).id

    def delete_draft(self, draft_id: str) -> None:
        """The owner discards a draft."""
        with self._lock:
            self.mailbox.delete_draft(draft_id)

    def sent_messages(self, include_owner: bool = False) -> list[SentMessage]:
        """Mail sent through the API (and, on request, drafts the owner sent)."""
        with self._lock:
            return [s for s in self.mailbox.sent if include_owner or s.via != "owner"]

    # ------------------------------------------------------------- Calendar

    def add_event(self, calendar_id: str, event: dict[str, Any]) -> str:
        """Store an event or one instance of a series (already expanded); returns its id."""
        with self._lock:
            return self.calendar.add_event(calendar_id, event, self.clock())

    def update_event(self, calendar_id: str, event_id: str, changes: dict[str, Any]) -> None:
        """Merge changes into an event (it shows up in the next incremental sync)."""
        with self._lock:
            self.calendar.update_event(calendar_id, event_id, changes, self.clock())

    def cancel_event(self, calendar_id: str, event_id: str) -> None:
        """status=cancelled (visible with showDeleted and in incremental sync)."""
        with self._lock:
            self.calendar.cancel_event(calendar_id, event_id, self.clock())

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        """Delete: only incremental sync still reports it, as cancelled."""
        with self._lock:
            self.calendar.delete_event(calendar_id, event_id, self.clock())

    def events(self, calendar_id: str = "primary") -> list[dict[str, Any]]:
        """Stored events of a calendar (copies), deleted ones excluded."""
        with self._lock:
            cal = self.calendar.resolve(calendar_id)
            return [dict(ev.data) for ev in self.calendar.events(cal) if not ev.purged]

    def expire_sync_tokens(self) -> None:
        """Every Calendar sync token issued so far answers 410 fullSyncRequired."""
        with self._lock:
            self.calendar.expire_sync_tokens()
