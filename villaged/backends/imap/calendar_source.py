"""CalDAV calendars (Radicale, Nextcloud, Fastmail, iCloud...) as a source of meetings and busy time.

Through the ``caldav`` library. ``CaldavAccount`` connects (the configured URL,
or discovery from a bare host name through DNS SRV/TXT and
``/.well-known/caldav``, RFC 6764), finds the owner's calendars, and turns
library and network errors into villaged's own at the edge.

**One source for all calendars** (``caldav:<username>@<host>``), so that a
round with no change costs one request per calendar and no discovery: the
calendars' URLs are kept in the cursor and found again only when the window
moves (weekly) or a calendar answers 404.

**Incremental by sync-collection (RFC 6578).** Each calendar keeps its sync
token. A round sends one sync-collection REPORT with the token (the changed
and deleted resources' hrefs come back) and one calendar-multiget REPORT for
the changed resources' data. A token the server rejects (403/409
valid-sync-token) means a full re-read of that calendar, which replaces all
it contributed, so the result is the same. A server without sync-collection
is read with a time-range calendar-query over the window instead; an
unchanged answer (same SHA-256) writes nothing.

**The same expansion and rules as .ics files.** Each calendar resource is
expanded by ``core.icalendar_events.expand_calendar``, the code that reads
.ics files (icalendar + recurring-ical-events: RRULE, RDATE, EXDATE,
RECURRENCE-ID, X-WR-TIMEZONE), and each occurrence goes through
``core.contact.classify_event``: declined, cancelled and too-large meetings do
not count. The cursor remembers, per resource, the interaction uids it gave,
so a changed or deleted resource takes back exactly what it used to say.
Busy time for invitations comes from the same events, by
``core.icalendar_events.event_busy``, as for .ics files.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import socket
import ssl
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import icalendar

from villaged.backends.imap.connection import certificate_problem
from villaged.backends.imap.secrets import Secret
from villaged.backends.imap.settings import CaldavSettings
from villaged.core import recurrence
from villaged.core.icalendar_events import event_busy, expand_calendar
from villaged.domain.addresses import normalize
from villaged.domain.errors import AuthError, Problem, TransientError, VillagedError
from villaged.domain.village import Interaction
from villaged.ports.backend import Interval, merge_intervals
from villaged.ports.cursor import Cursor
from villaged.ports.source import SyncBatch, SyncContext, window_still_fresh

log = logging.getLogger(__name__)

_UTC = dt.UTC


def _find_cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, kind):
            return current
        current = current.__cause__ or current.__context__
        seen += 1
    return None


@contextlib.contextmanager
def caldav_errors(settings: CaldavSettings, doing: str) -> Iterator[None]:
    """Whatever caldav, niquests, ssl or the socket raise, as villaged's errors."""
    from caldav.lib import error as dav

    host = urlsplit(settings.url).netloc or settings.url
    try:
        yield
    except Problem:
        raise
    except dav.AuthorizationError as exc:
        raise AuthError(f"the CalDAV server {host} refused the login of {settings.username}",
                        fix="check username and the password (an app password for iCloud, "
                            "Fastmail or Nextcloud with two-factor sign-in)") from exc
    except dav.NotFoundError as exc:
        raise VillagedError(f"the CalDAV server {host} has no calendar at the address "
                            f"villaged used while {doing}",
                            fix="check url and calendars in [backend.caldav]") from exc
    except dav.RateLimitError as exc:
        raise TransientError(f"the CalDAV server {host} asks villaged to slow down",
                             fix="villaged retries next round") from exc
    except dav.DAVError as exc:
        raise TransientError(f"the CalDAV server {host} failed while {doing}: "
                             f"{str(exc)[:200]}", fix="villaged retries next round") from exc
    except Exception as exc:
        cert = _find_cause(exc, ssl.SSLCertVerificationError)
        if cert is not None:
            assert isinstance(cert, ssl.SSLCertVerificationError)
            raise certificate_problem(cert, host, "CalDAV server", "[backend.caldav]") from exc
        text = f"{type(exc).__name__}: {exc}"
        if _find_cause(exc, socket.gaierror) is not None or "Name or service not known" in text \
                or "NameResolution" in text or "getaddrinfo" in text:
            raise VillagedError(f"cannot find the CalDAV server {host}",
                                fix="check url in [backend.caldav] (and your network's DNS)"
                                ) from exc
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            problem = "has expired" if "expired" in text else "is not trusted"
            raise VillagedError(f"the certificate of the CalDAV server {host} {problem}",
                                fix="ask its administrator to renew it" if "expired" in text
                                else "set ca_file in [backend.caldav] to the server's CA") from exc
        if isinstance(exc, (OSError, EOFError)) or "Connection" in type(exc).__name__ or \
                "Timeout" in type(exc).__name__ or "Protocol" in type(exc).__name__:
            raise TransientError(f"the connection to the CalDAV server {host} broke while "
                                 f"{doing}", fix="villaged retries next round") from exc
        raise


class CaldavAccount:
    """A connected caldav.DAVClient and the owner's calendars (lazily)."""

    def __init__(self, settings: CaldavSettings, secret: Callable[[], Secret]) -> None:
        self.settings = settings
        self._secret = secret
        self._client: Any = None
        self.requests = 0

    @property
    def client(self) -> Any:
        if self._client is None:
            import caldav

            secret = self._secret()
            kwargs: dict[str, Any] = {
                "ssl_verify_cert": str(self.settings.ca_file) if self.settings.ca_file else True,
                "timeout": 60,
            }
            if secret.oauth2:
                kwargs["headers"] = {"Authorization": f"Bearer {secret.value}"}
            else:
                kwargs.update(username=self.settings.username, password=secret.value,
                              auth_type="basic")
            url = self.settings.url
            client: Any
            with caldav_errors(self.settings, "connecting"):
                client = caldav.DAVClient(url=url, **kwargs)  # type: ignore[operator]
            original = client.request

            def counted(*args: Any, **kw: Any) -> Any:
                self.requests += 1
                return original(*args, **kw)

            client.request = counted
            self._client = client
        return self._client

    def reset(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
        self._client = None

    def calendars(self) -> list[tuple[str, str]]:
        """(url, display name) of the calendars to read: ``calendars`` by name or URL,
        default all of the owner's."""
        with caldav_errors(self.settings, "finding your calendars"):
            principal = self.client.principal()
            found = []
            for calendar in principal.calendars():
                name = ""
                with contextlib.suppress(Exception):
                    name = str(calendar.get_display_name() or "")
                found.append((str(calendar.url), name))
        wanted = self.settings.calendars
        if not wanted:
            return found
        chosen: list[tuple[str, str]] = []
        for want in wanted:
            hit = [c for c in found if want in (c[0], c[1]) or c[0].rstrip("/").endswith(
                "/" + want.strip("/"))]
            if not hit:
                names = ", ".join(repr(n or u) for u, n in found) or "(none)"
                raise VillagedError(f"no calendar called {want!r} on the CalDAV server",
                                    fix=f"correct [backend.caldav] calendars; the server has: "
                                        f"{names}")
            chosen.extend(h for h in hit if h not in chosen)
        return chosen

    def calendar(self, url: str) -> Any:
        import caldav

        return caldav.Calendar(client=self.client, url=url)  # type: ignore[operator]

    # -- busy -----------------------------------------------------------------------

    def busy(self, owner_addresses: Sequence[str], tz: Any, start: dt.datetime,
             end: dt.datetime) -> list[Interval]:
        """Busy intervals from the same events (time-range query, expanded here)."""
        owner = {normalize(a) for a in owner_addresses}
        found: list[Interval] = []
        for url, _ in self.calendars():
            with caldav_errors(self.settings, "reading busy times"):
                objects = self.calendar(url).search(start=start, end=end, event=True,
                                                    expand=False)
                datas = [str(o.data) for o in objects if o.data]
            for data in datas:
                try:
                    calendars = icalendar.Calendar.from_ical(data, multiple=True)
                    events = [e for c in calendars  # bounded per event: see recurrence.py
                              for e in recurrence.expand(c, start, end, url).occurrences]
                except Exception as exc:  # noqa: BLE001 - a broken resource costs only itself
                    log.warning("busy: skipping a calendar resource (%s)", type(exc).__name__)
                    continue
                for event in events:
                    interval = event_busy(event, owner, tz)
                    if interval and interval[0] < end and start < interval[1]:
                        found.append((max(interval[0], start), min(interval[1], end)))
        return merge_intervals(found)


@dataclass(frozen=True)
class CaldavCursor(Cursor):
    """The window last read in full, and per calendar URL its state: how it is read
    ("sync" with its token, or "query" with the answer's digest) and, per resource
    href, the interaction uids it gave."""

    KIND = "caldav"
    VERSION = 1

    signature: str  # the settings the cursor holds for, hashed
    full_at: str  # when the calendars were last read in full (ISO, aware)
    window: tuple[str, ...]  # first and last UTC day read (ISO)
    calendars: dict[str, dict[str, Any]]


class TokenRejected(Exception):
    """The server refused the stored sync token."""


class CaldavSource:
    """All of the owner's CalDAV calendars. ``name`` is ``caldav:<username>@<host>``."""

    cursor_type = CaldavCursor

    def __init__(self, account: CaldavAccount, owner_tz: Any) -> None:
        self.account = account
        self.settings = account.settings
        self.owner_tz = owner_tz

    @property
    def name(self) -> str:
        return f"caldav:{self.settings.username}@{self.settings.host}"

    def __repr__(self) -> str:
        return f"CaldavSource({self.name!r})"

    # -- window and cursor ----------------------------------------------------------

    def window(self, anchor: dt.datetime, ctx: SyncContext) -> tuple[dt.date, dt.date]:
        now = anchor.astimezone(_UTC)
        return ((now - dt.timedelta(days=ctx.limits.lookback_days)).date(),
                (now + dt.timedelta(days=ctx.limits.horizon_days + 7)).date())

    def _usable(self, cursor: CaldavCursor | None, ctx: SyncContext) -> bool:
        if cursor is None or cursor.signature != self._signature(ctx) or len(cursor.window) != 2:
            return False
        try:
            dt.date.fromisoformat(cursor.window[0])
            dt.date.fromisoformat(cursor.window[1])
        except (TypeError, ValueError):
            return False
        return window_still_fresh(cursor.full_at, ctx.now)

    def _signature(self, ctx: SyncContext) -> str:
        settings = {"lookback_days": ctx.limits.lookback_days,
                    "horizon_days": ctx.limits.horizon_days,
                    "calendars": list(self.settings.calendars),
                    "max_attendees": ctx.limits.max_attendees}
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()

    # -- the protocol -------------------------------------------------------------------

    def sync(self, cursor: CaldavCursor | None, ctx: SyncContext) -> Iterator[SyncBatch]:
        if self._usable(cursor, ctx):
            assert cursor is not None
            try:
                yield from self._incremental(cursor, ctx)
                return
            except _Rediscover:
                log.info("%s: a calendar moved; finding the calendars again", self.name)
        yield from self._full(ctx)

    def _full(self, ctx: SyncContext) -> Iterator[SyncBatch]:
        first, last = self.window(ctx.now, ctx)
        calendars: dict[str, dict[str, Any]] = {}
        interactions: list[Interaction] = []
        skipped: Counter[str] = Counter()
        for url, _ in self.account.calendars():
            state, found, skips = self._read_calendar(url, None, {}, first, last, ctx)
            calendars[url] = state
            interactions.extend(found)
            skipped.update(skips)
        cursor = CaldavCursor(signature=self._signature(ctx), full_at=ctx.now.isoformat(),
                              window=(first.isoformat(), last.isoformat()), calendars=calendars)
        log.info("%s: %d calendars, %d meeting interactions (full)", self.name, len(calendars),
                 len(interactions))
        yield SyncBatch(interactions=interactions, cursor=cursor, skipped=skipped, replace=True)

    def _incremental(self, cursor: CaldavCursor, ctx: SyncContext) -> Iterator[SyncBatch]:
        first, last = (dt.date.fromisoformat(d) for d in cursor.window)
        calendars = dict(cursor.calendars)
        interactions: list[Interaction] = []
        removed: set[str] = set()
        skipped: Counter[str] = Counter()
        changed = False
        for url, state in sorted(calendars.items()):
            before = {u for uids in (state.get("items") or {}).values() for u in uids}
            new_state, found, skips = self._read_calendar(url, state.get("token"),
                                                          state, first, last, ctx)
            if new_state == state and not found:
                continue
            changed = True
            after = {u for uids in (new_state.get("items") or {}).values() for u in uids}
            removed |= before - after
            calendars[url] = new_state
            interactions.extend(found)
            skipped.update(skips)
        if not changed:
            return
        still = {u for s in calendars.values() for uids in (s.get("items") or {}).values()
                 for u in uids}
        new_cursor = dataclasses.replace(cursor, calendars=calendars)
        yield SyncBatch(interactions=interactions, cursor=new_cursor,
                        removed_uids=sorted((removed - still) | {i.uid for i in interactions}),
                        skipped=skipped)

    # -- one calendar ---------------------------------------------------------------

    def _read_calendar(self, url: str, token: str | None, state: dict[str, Any],
                       first: dt.date, last: dt.date, ctx: SyncContext,
                       ) -> tuple[dict[str, Any], list[Interaction], Counter[str]]:
        """(new state, interactions of changed resources, skips) for one calendar.

        With a token: only what changed since. Without: everything (the state's
        items are replaced)."""
        calendar = self.account.calendar(url)
        mode = state.get("mode", "sync")
        if mode == "sync":
            try:
                return self._sync_collection(calendar, url, token, state, first, last, ctx)
            except TokenRejected:
                log.info("%s: the server rejected the sync token of %s; reading it again",
                         self.name, url)
                return self._sync_collection(calendar, url, None, {}, first, last, ctx)
            except _NoSyncCollection:
                log.info("%s: %s has no sync-collection; using a time-range query",
                         self.name, url)
        return self._query(calendar, state, first, last, ctx)

    def _sync_collection(self, calendar: Any, url: str, token: str | None,
                         state: dict[str, Any], first: dt.date, last: dt.date,
                         ctx: SyncContext,
                         ) -> tuple[dict[str, Any], list[Interaction], Counter[str]]:
        from caldav.lib import error as dav

        try:
            with caldav_errors(self.settings, "reading a calendar's changes"):
                try:
                    collection = calendar.objects_by_sync_token(
                        sync_token=token, load_objects=False, disable_fallback=True)
                except dav.NotFoundError as exc:
                    raise _Rediscover() from exc
                except (dav.ReportError, dav.AuthorizationError, dav.DAVError) as exc:
                    # 401 is the login. A 403 here is the REPORT refused (the login
                    # just worked for discovery): a stale token (DAV:valid-sync-token),
                    # or a server without sync-collection (DAV:supported-report).
                    if isinstance(exc, dav.AuthorizationError) and exc.status != 403:
                        raise
                    if token is not None:
                        raise TokenRejected() from exc
                    raise _NoSyncCollection() from exc
        except TransientError as exc:
            if token is not None and "403" in str(exc.__cause__) + str(exc):
                raise TokenRejected() from exc
            raise
        deleted = {str(u) for u in collection.deleted_urls}
        changed = [o for o in collection.objects if str(o.url.canonical()) not in deleted
                   and str(o.url) not in deleted]
        items: dict[str, tuple[str, ...]] = dict(state.get("items") or {}) if token else {}
        for url_gone in deleted:
            items.pop(_href(url_gone), None)
        interactions: list[Interaction] = []
        skipped: Counter[str] = Counter()
        if changed:
            with caldav_errors(self.settings, "reading changed events"):
                loaded = calendar.multiget([o.url for o in changed])
                datas = [(str(o.url), o.data) for o in loaded]
            for href, data in datas:
                found, skips = self._expand(data, first, last, ctx)
                items[_href(href)] = tuple(sorted({i.uid for i in found}))
                interactions.extend(found)
                skipped.update(skips)
        token_now = str(collection.sync_token or "") or None
        new_state: dict[str, Any] = {"mode": "sync", "token": token_now, "items": items}
        return new_state, interactions, skipped

    def _query(self, calendar: Any, state: dict[str, Any], first: dt.date, last: dt.date,
               ctx: SyncContext,
               ) -> tuple[dict[str, Any], list[Interaction], Counter[str]]:
        start = dt.datetime.combine(first, dt.time(0), tzinfo=_UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=_UTC)
        with caldav_errors(self.settings, "reading a calendar"):
            objects = calendar.search(start=start, end=end, event=True, expand=False)
            datas = sorted((str(o.url), str(o.data or "")) for o in objects)
        digest = hashlib.sha256(repr(datas).encode()).hexdigest()
        if state.get("mode") == "query" and state.get("sha256") == digest:
            return state, [], Counter()
        items: dict[str, tuple[str, ...]] = {}
        interactions: list[Interaction] = []
        skipped: Counter[str] = Counter()
        for href, data in datas:
            found, skips = self._expand(data, first, last, ctx)
            items[_href(href)] = tuple(sorted({i.uid for i in found}))
            interactions.extend(found)
            skipped.update(skips)
        return {"mode": "query", "sha256": digest, "items": items}, interactions, skipped

    def _expand(self, data: Any, first: dt.date, last: dt.date, ctx: SyncContext,
                ) -> tuple[list[Interaction], Counter[str]]:
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data or b"")
        found, skipped, _ = expand_calendar(raw, first, last, ctx.matcher, ctx.limits, self.name,
                                            self.owner_tz)
        return found, skipped


class _NoSyncCollection(Exception):
    """The server does not do sync-collection on this calendar."""


class _Rediscover(Exception):
    """A stored calendar URL is gone."""


def _href(url: str) -> str:
    return urlsplit(url).path
