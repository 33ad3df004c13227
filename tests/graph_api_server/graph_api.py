"""Microsoft Graph v1.0 routes of the local server: mail, calendar, $batch; with schema checks.

``GraphApi.handle(request)`` serves one logical request (a plain HTTP request or
one part of a $batch) and returns (status, headers, body). Around every call:
auth (bearer token and scope), fault injection, path resolution against the
CSDL (an unknown segment is a 400 and a violation), query-option checks, and
a check of the response body against the entity type the path returns.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.policy
import itertools
import json
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from .csdl import Schema, SchemaError, Target, graph_schema
from .faults import Fault, FaultInjector, Stats
from .identity import Identity
from .odata import ODataError, parse_filter, parse_search, parse_select
from .store import MESSAGE_FLAGS, GraphStore, iso

MAX_BATCH = 20
DEFAULT_PAGE = 10
MAX_PAGE = 1000
MAIL_READ = {"Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite"}
MAIL_WRITE = {"Mail.ReadWrite"}
CAL_READ = {"Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite"}
QUERY_OPTIONS = {"$select", "$filter", "$orderby", "$top", "$expand", "$search", "$skiptoken",
                 "$deltatoken", "$count", "startDateTime", "endDateTime", "changeType"}
ANNOTATIONS = {"@odata.context", "@odata.nextLink", "@odata.deltaLink", "@odata.count"}


@dataclass
class Request:
    method: str
    path: str  # after /v1.0/, no leading slash, percent-decoded segments joined
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(s for s in self.path.strip("/").split("/") if s)

    @property
    def mine(self) -> tuple[str, ...]:
        """The segments with ``users/{owner}`` spelt ``me`` (the signed-in user is the only mailbox)."""
        seg = self.segments
        return ("me", *seg[2:]) if len(seg) >= 2 and seg[0] == "users" else seg


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": str(uuid.uuid4()), "client-request-id": str(uuid.uuid4())}}}


@dataclass
class DeltaState:
    kind: str  # messages | events
    collection: str
    path: str
    filter: str | None
    select: list[str] | None
    window: tuple[dt.datetime, dt.datetime] | None
    seq: int


@dataclass
class Page:
    items: Iterator[dict[str, Any]]  # the rest, computed lazily
    path: str
    final: dict[str, Any]  # the annotations of the last page (deltaLink), or {}
    size: int = DEFAULT_PAGE  # $top (or the page size asked for) carries over to the next pages


class GraphApi:
    def __init__(self, store: GraphStore, identity: Identity, faults: FaultInjector, stats: Stats,
                 violate: Callable[[str], None], base: Callable[[], str],
                 clock: Callable[[], dt.datetime]) -> None:
        self.store = store
        self.identity = identity
        self.faults = faults
        self.stats = stats
        self.violate = violate
        self.base = base  # e.g. https://127.0.0.1:PORT/v1.0
        self.clock = clock
        self.schema: Schema = graph_schema()
        self.deltas: dict[str, DeltaState] = {}
        self.expired: set[str] = set()
        self.pages: dict[str, Page] = {}
        self.resync_code = "syncStateNotFound"
        self.dropped_after: list[str] = []
        self._sort_cache: dict[tuple[str, str, bool], tuple[int, list[dict[str, Any]]]] = {}  # routes whose answer was dropped after the work was done

    # -- entry points --------------------------------------------------------------

    def handle(self, request: Request, in_batch: bool = False) -> tuple[Answer, Fault | None]:
        """Serve one logical request; the Fault (if any) tells the HTTP layer to drop."""
        route = "?"
        try:
            target = self._resolve(request)
            route = self._route(request, target)
            with self.stats.lock:
                self.stats.calls += 1
                self.stats.by_route[route] += 1
            self._authorize(request, route)
            fault = self.faults.pick(route)
            if fault is not None:
                with self.stats.lock:
                    self.stats.faults += 1
                if fault.kind in ("429", "503", "500", "504") or (fault.kind == "drop" and in_batch):
                    status = 503 if fault.kind == "drop" else int(fault.kind)
                    headers = {}
                    if fault.retry_after is not None and status in (429, 503):
                        headers["Retry-After"] = str(fault.retry_after)
                    code = {429: "TooManyRequests", 503: "ServiceNotAvailable", 500: "InternalServerError",
                            504: "GatewayTimeout"}[status]
                    return Answer(status, error_body(code, "injected fault"), headers), None
                if fault.kind == "drop":
                    return Answer(0), fault
            answer = self._dispatch(request, target, route)
            self._check_response(request, target, answer)
            if fault is not None and fault.kind == "drop_after":
                self.dropped_after.append(route)
                if in_batch:
                    return Answer(503, error_body("ServiceNotAvailable", "injected fault after the work")), None
                return answer, fault
            return answer, None
        except GraphError as exc:
            if exc.status == 400:
                self.violate(f"{request.method} /{request.path}: 400 {exc.code}: {exc.message}")
            return Answer(exc.status, error_body(exc.code, exc.message), exc.headers), None
        except ODataError as exc:
            self.violate(f"{request.method} /{request.path}: 400 {exc.code}: {exc}")
            return Answer(400, error_body(exc.code, str(exc))), None
        except Exception as exc:  # noqa: BLE001 - a bug in the server: answer 500 and say so
            self.violate(f"{request.method} /{request.path}: the local server failed: {exc!r}")
            return Answer(500, error_body("InternalServerError", repr(exc))), None

    def batch(self, request: Request) -> Answer:
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            raise GraphError(400, "BadRequest", "the $batch body is not JSON") from None
        parts = payload.get("requests") if isinstance(payload, dict) else None
        if not isinstance(parts, list) or not parts:
            raise GraphError(400, "BadRequest", "a $batch needs a non-empty requests array")
        if len(parts) > MAX_BATCH:
            raise GraphError(400, "BadRequest", f"a $batch holds at most {MAX_BATCH} requests, not {len(parts)}")
        ids = [str(p.get("id")) for p in parts if isinstance(p, dict)]
        if len(set(ids)) != len(parts):
            raise GraphError(400, "BadRequest", "every $batch request needs a unique id")
        responses = []
        for part in parts:
            url = str(part.get("url", ""))
            if url.startswith("http"):
                raise GraphError(400, "BadRequest", "a $batch request url must be relative")
            split = urlsplit(url.lstrip("/"))
            body = part.get("body")
            headers = {k.lower(): str(v) for k, v in (part.get("headers") or {}).items()}
            raw = b""
            if body is not None:
                if headers.get("content-type", "").startswith("application/json"):
                    raw = json.dumps(body).encode()
                else:
                    raw = base64.b64decode(body) if headers.get("content-type") == "text/plain" \
                        and isinstance(body, str) else str(body).encode()
            sub = Request(str(part.get("method", "GET")).upper(), split.path,
                          dict(parse_qsl(split.query, keep_blank_values=True)),
                          {"authorization": request.headers.get("authorization", ""), **headers}, raw)
            answer, _ = self.handle(sub, in_batch=True)
            out: dict[str, Any] = {"id": str(part.get("id")), "status": answer.status,
                                   "headers": {"Content-Type": "application/json", **answer.headers}}
            if answer.body is not None:
                out["body"] = answer.body
            responses.append(out)
        return Answer(200, {"responses": responses})

    # -- checks -----------------------------------------------------------------------

    def _resolve(self, request: Request) -> Target:
        for name in request.query:
            if name not in QUERY_OPTIONS:
                raise GraphError(400, "BadRequest", f"Query option '{name}' is not allowed")
        try:
            return self.schema.resolve(request.segments)
        except SchemaError as exc:
            raise GraphError(400, "BadRequest", f"Resource not found for the segment: {exc}") from None

    def _route(self, request: Request, target: Target) -> str:
        element = target.element.removeprefix("graph.")
        if target.operation is not None:
            return f"{element}.{target.operation.name}" if element != "scheduleInformation" \
                else "calendar.getSchedule"
        method = request.method
        if target.is_collection:
            return f"{element}.{'list' if method == 'GET' else 'create' if method == 'POST' else method}"
        verb = {"GET": "get", "PATCH": "update", "DELETE": "delete", "POST": "post"}.get(method, method)
        return f"{element}.{verb}"

    def _authorize(self, request: Request, route: str) -> None:
        auth = request.headers.get("authorization", "")
        scopes = self.identity.scopes_of(auth[7:]) if auth.startswith("Bearer ") else None
        if scopes is None:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.",
                             {"WWW-Authenticate": 'Bearer realm=""'})
        needed = MAIL_READ if route.startswith("mailFolder.") else \
            MAIL_WRITE if route.startswith("message.") and request.method != "GET" else \
            MAIL_READ if route.startswith("message.") else CAL_READ if route.startswith(("event.", "calendar.")) \
            else set()
        if needed and not needed & set(scopes):
            raise GraphError(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")

    def _check_response(self, request: Request, target: Target, answer: Answer) -> None:
        if answer.body is None or answer.status >= 400:
            return
        where = f"{request.method} /{request.path}"
        try:
            if target.is_collection and request.method == "GET":
                for key in answer.body:
                    if key != "value" and key not in ANNOTATIONS:
                        raise SchemaError(f"a collection response has no member {key!r}")
                self.schema.check_value(target.type, answer.body.get("value"), f"{where} value", nullable=False)
            elif target.is_collection and request.method == "POST" and target.operation is None:
                self.schema.check_entity(target.element, answer.body, where)
            elif target.operation is not None:
                self.schema.check_value(target.type, answer.body.get("value"), f"{where} value", nullable=False)
            else:
                self.schema.check_entity(target.element, answer.body, where)
        except SchemaError as exc:
            self.violate(f"response does not match Graph's schema: {exc}")

    def _check_request_body(self, type_name: str, body: Any, where: str) -> None:
        try:
            self.schema.check_entity(type_name, body, where)
        except SchemaError as exc:
            raise GraphError(400, "BadRequest", f"request body: {exc}") from None

    def _select(self, request: Request, type_name: str) -> list[str] | None:
        select = parse_select(request.query.get("$select"))
        props = self.schema.props(type_name)
        for name in select or ():
            if name not in props or props[name].navigation:
                raise GraphError(400, "RequestBroker--ParseUri",
                                 f"Could not find a property named '{name}' on type 'microsoft.{type_name}'.")
        return select

    # -- dispatch ---------------------------------------------------------------------

    def _dispatch(self, request: Request, target: Target, route: str) -> Answer:
        seg = request.mine
        if route == "user.get":
            return Answer(200, {"@odata.context": f"{self.base()}/$metadata#users/$entity",
                                "id": "00000000-0000-0000-66f3-3332eca7ea81",
                                "displayName": self.store.display_name, "mail": self.store.owner,
                                "userPrincipalName": self.store.owner})
        if route == "mailFolder.get":
            folder_id = self._folder(seg[2])
            name = next((f["displayName"] for f in self.store.folders.values() if f["id"] == folder_id), folder_id)
            return Answer(200, {"id": folder_id, **({"displayName": name} if self._select(
                request, "graph.mailFolder") is None or "displayName" in (request.query.get("$select") or "")
                else {})})
        if route == "message.delta":
            return self._delta(request, "messages", self._folder(seg[2]) if seg[1] == "mailFolders" else None)
        if route == "event.delta":
            return self._delta(request, "events", self._calendar(seg))
        if route == "message.list":
            return self._message_list(request)
        if route == "message.get":
            found = self.store.find_message(seg[-1])
            if found is None:
                raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            return Answer(200, self._render(found[1], self._select(request, "graph.message"),
                                            request.query.get("$expand")))
        if route == "message.create":
            return self._create_message(request, self._folder(seg[2]) if seg[1] == "mailFolders" else "drafts")
        if route == "message.update":
            body = self._json(request)
            self._check_request_body("graph.message", body, "PATCH message")
            try:
                message = self.store.update_message(seg[-1], body)
            except KeyError:
                raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.") \
                    from None
            return Answer(200, self._render(message, None, None))
        if route == "message.delete":
            try:
                self.store.remove_message(seg[-1])
            except KeyError:
                raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.") \
                    from None
            return Answer(204)
        if route == "event.list" and "calendarView" in seg:
            return self._calendar_view(request, self._calendar(seg))
        raise GraphError(501, "NotImplemented", f"the local Graph server does not serve {request.method} /{request.path}")

    def _json(self, request: Request) -> Any:
        try:
            return json.loads(request.body or b"null")
        except ValueError:
            raise GraphError(400, "BadRequest", "the body is not JSON") from None

    def _folder(self, ref: str) -> str:
        folder_id = self.store.folder_id(ref)
        if folder_id is None:
            raise GraphError(404, "ErrorItemNotFound", "The specified folder could not be found in the store.")
        return folder_id

    def _calendar(self, seg: tuple[str, ...]) -> str:
        ref = seg[2] if seg[1] == "calendars" else None
        calendar_id = self.store.calendar_id(ref)
        if calendar_id is None:
            raise GraphError(404, "ErrorItemNotFound", "The specified calendar could not be found.")
        return calendar_id

    # -- rendering and paging -------------------------------------------------------------

    def _render(self, item: dict[str, Any], select: list[str] | None, expand: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"@odata.etag": 'W/"' + base64.b64encode(str(hash(item["id"])).encode()).decode() + '"'}
        for key, value in item.items():
            if key in ("singleValueExtendedProperties",):
                continue
            if select is None or key == "id" or key in select:
                out[key] = value
        if expand:
            m = re.fullmatch(r"singleValueExtendedProperties(?:\(\$filter=(.*)\))?", expand.strip())
            if m is None:
                raise ODataError(f"$expand={expand!r} is not supported by this server")
            props = item.get("singleValueExtendedProperties") or []
            if m.group(1):
                pred, _ = parse_filter(m.group(1))
                props = [p for p in props if pred(p)]
            if props:
                out["singleValueExtendedProperties"] = [dict(p) for p in props]
        return out

    def _page_size(self, request: Request, top: str | None = None) -> int:
        if top is not None:
            if not top.isdigit() or not 1 <= int(top) <= MAX_PAGE:
                raise GraphError(400, "BadRequest", f"$top must be 1..{MAX_PAGE}")
            return int(top)
        m = re.search(r"odata\.maxpagesize=(\d+)", request.headers.get("prefer", ""))
        return min(int(m.group(1)), MAX_PAGE) if m else DEFAULT_PAGE

    def _paged(self, items: Iterable[dict[str, Any]], path: str, size: int, final: dict[str, Any],
               context: str) -> Answer:
        """One page of ``items`` (consumed lazily: a $top=10 query over a large mailbox stops
        at the tenth match) and a nextLink to the rest."""
        it = iter(items)
        head = list(itertools.islice(it, size))
        peek = next(it, None)
        body: dict[str, Any] = {"@odata.context": context, "value": head}
        if peek is not None:
            token = secrets.token_urlsafe(18)
            self.pages[token] = Page(itertools.chain([peek], it), path, final, size)
            body["@odata.nextLink"] = f"{self.base()}/{path}?$skiptoken={token}"
        else:
            body.update(final)
        return Answer(200, body)

    def _continue(self, request: Request, context: str) -> Answer:
        page = self.pages.pop(request.query["$skiptoken"], None)
        if page is None:
            raise GraphError(400, "BadRequest", "the $skiptoken is unknown or was used already")
        size = self._page_size(request) if "odata.maxpagesize" in request.headers.get("prefer", "") else page.size
        return self._paged(page.items, page.path, size, page.final, context)

    # -- delta ------------------------------------------------------------------------------

    def _delta(self, request: Request, kind: str, collection: str | None) -> Answer:
        context = f"{self.base()}/$metadata#Collection({'message' if kind == 'messages' else 'event'})"
        if "$skiptoken" in request.query:
            return self._continue(request, context)
        path = request.path
        if "$deltatoken" in request.query:
            token = request.query["$deltatoken"]
            if token in self.expired or token not in self.deltas:
                raise GraphError(410, self.resync_code,
                                 "The sync state generation is invalid or has expired; resync is required.")
            state = self.deltas[token]
            items = self._changes(state)
        else:
            if "$search" in request.query:
                raise GraphError(400, "BadRequest", "$search is not supported on delta queries")
            filt = request.query.get("$filter")
            window = None
            if kind == "messages":
                select = self._select(request, "graph.message")
                if filt and not re.fullmatch(r"receivedDateTime (ge|gt) \S+", filt.strip()):
                    raise GraphError(400, "BadRequest", "delta on messages only supports "
                                     "$filter=receivedDateTime ge|gt {value}")
                order = request.query.get("$orderby")
                if order and order.strip() != "receivedDateTime desc":
                    raise GraphError(400, "BadRequest", "delta on messages only supports $orderby=receivedDateTime desc")
            else:
                if set(request.query) & {"$select", "$filter", "$orderby", "$expand"}:
                    raise GraphError(400, "BadRequest", "calendarView delta does not support "
                                     "$select, $filter, $orderby or $expand")
                select = None
                try:
                    window = (_when(request.query["startDateTime"]), _when(request.query["endDateTime"]))
                except (KeyError, ValueError):
                    raise GraphError(400, "ErrorInvalidParameter", "calendarView delta needs startDateTime "
                                     "and endDateTime (ISO 8601)") from None
            assert collection is not None
            state = DeltaState(kind, collection, path, filt, select, window, 0)
            items = self._changes(state, initial=True)
        new = DeltaState(state.kind, state.collection, state.path, state.filter, state.select, state.window,
                         self.store.seq)
        token = secrets.token_urlsafe(18)
        self.deltas[token] = new
        final = {"@odata.deltaLink": f"{self.base()}/{state.path}?$deltatoken={token}"}
        return self._paged(items, state.path, self._page_size(request, request.query.get("$top")), final, context)

    def _changes(self, state: DeltaState, initial: bool = False) -> list[dict[str, Any]]:
        coll = (self.store.mail if state.kind == "messages" else self.store.events)[state.collection]
        pred = parse_filter(state.filter)[0] if state.filter else (lambda _: True)
        out = []
        for item_id, seq in sorted(coll.changed.items(), key=lambda kv: kv[1]):
            if seq <= state.seq:
                continue
            item = coll.items[item_id]
            if not pred(item) or not self._in_window(item, state.window):
                continue
            out.append(self._render(item, state.select, None))
        if not initial:
            odata_type = "#microsoft.graph.message" if state.kind == "messages" else "#microsoft.graph.event"
            for item_id, seq in sorted(coll.removed.items(), key=lambda kv: kv[1]):
                if seq > state.seq:
                    out.append({"@odata.type": odata_type, "id": item_id, "@removed": {"reason": "deleted"}})
        return out

    @staticmethod
    def _in_window(item: dict[str, Any], window: tuple[dt.datetime, dt.datetime] | None) -> bool:
        if window is None:
            return True
        start = _when((item.get("start") or {}).get("dateTime", ""))
        end = _when((item.get("end") or {}).get("dateTime", ""))
        return start < window[1] and end > window[0]

    def expire(self) -> None:
        """Every delta token handed out so far now answers 410."""
        self.expired.update(self.deltas)

    # -- lists ------------------------------------------------------------------------------

    def _message_list(self, request: Request) -> Answer:
        context = f"{self.base()}/$metadata#Collection(message)"
        if "$skiptoken" in request.query:
            return self._continue(request, context)
        seg = request.mine
        select = self._select(request, "graph.message")
        items = self.store.all_messages() if seg[1] == "messages" else \
            list(self.store.mail[self._folder(seg[2])].items.values())
        search, filt, order = (request.query.get(k) for k in ("$search", "$filter", "$orderby"))
        scope = "all" if seg[1] == "messages" else self._folder(seg[2])
        matches: Iterable[dict[str, Any]]
        if search is not None:
            if filt or order:
                raise GraphError(400, "ErrorInvalidUrlQuery", "$search cannot be combined with $filter or $orderby")
            pred = parse_search(search)
            matches = (m for m in self._sorted(scope, items, "sentDateTime", True) if pred(m))
        else:
            ordered: Iterable[dict[str, Any]] = items
            if order:
                prop, _, direction = order.partition(" ")
                ordered = self._sorted(scope, items, prop, direction.strip() == "desc")
            if filt:
                pred, first = parse_filter(filt)
                if order and (first is None or "/".join(first.path) != order.split()[0]):
                    raise GraphError(400, "InefficientFilter", "The restriction or sort order is too "
                                     "complex for this operation.")
                matches = (m for m in ordered if pred(m))
            else:
                matches = ordered
        expand = request.query.get("$expand")
        rendered = (self._render(m, select, expand) for m in matches)
        return self._paged(rendered, request.path, self._page_size(request, request.query.get("$top")), {}, context)

    def _sorted(self, scope: str, items: list[dict[str, Any]], prop: str, desc: bool) -> list[dict[str, Any]]:
        """``items`` sorted by ``prop``, cached until the store changes."""
        key = (scope, prop, desc)
        cached = self._sort_cache.get(key)
        if cached is None or cached[0] != self.store.seq:
            cached = (self.store.seq, sorted(items, key=lambda m: str(m.get(prop, "")), reverse=desc))
            self._sort_cache[key] = cached
        return cached[1]

    def _calendar_view(self, request: Request, calendar_id: str) -> Answer:
        context = f"{self.base()}/$metadata#Collection(event)"
        if "$skiptoken" in request.query:
            return self._continue(request, context)
        try:
            window = (_when(request.query["startDateTime"]), _when(request.query["endDateTime"]))
        except (KeyError, ValueError):
            raise GraphError(400, "ErrorInvalidParameter", "calendarView needs startDateTime and endDateTime") \
                from None
        select = self._select(request, "graph.event")
        items = sorted((e for e in self.store.events[calendar_id].items.values() if self._in_window(e, window)),
                       key=lambda e: e["start"]["dateTime"])
        rendered = [self._render(e, select, None) for e in items]
        return self._paged(rendered, request.path, self._page_size(request, request.query.get("$top")), {}, context)

    # -- writes ----------------------------------------------------------------------------

    def _create_message(self, request: Request, folder: str) -> Answer:
        now = self.clock()
        ctype = request.headers.get("content-type", "").split(";")[0].strip()
        if ctype == "text/plain":
            try:
                raw = base64.b64decode(request.body, validate=True)
            except (binascii.Error, ValueError):
                raise GraphError(400, "ErrorMimeContentInvalidBase64String",
                                 "Invalid base64 string for MIME content.") from None
            try:
                BytesParser(policy=email.policy.default).parsebytes(raw)
            except Exception:  # noqa: BLE001 - any parse failure is the client's
                raise GraphError(400, "ErrorMimeContentInvalid", "The MIME content is not valid.") from None
            message = self.store.message_from_mime(raw, folder, now)
        elif ctype == "application/json":
            body = self._json(request)
            self._check_request_body("graph.message", body, "POST message")
            props = body.pop("singleValueExtendedProperties", []) or []
            flags = next((p for p in props if p.get("id", "").lower() == MESSAGE_FLAGS.lower()), None)
            unsent = flags is None or int(flags.get("value", "8")) & 0x8
            message = {**body, "isDraft": bool(unsent), "createdDateTime": iso(now),
                       "lastModifiedDateTime": iso(now), "receivedDateTime": iso(now),
                       "internetMessageId": f"<{uuid.uuid4().hex}@graph.local>",
                       "conversationId": self.store.conversation_for([], str(body.get("subject", ""))),
                       "singleValueExtendedProperties": [p for p in props if p is not flags]}
            if not unsent:
                message["sentDateTime"] = iso(now)
            message.setdefault("from", {"emailAddress": {"address": self.store.owner,
                                                         "name": self.store.display_name}})
            message = self.store.put_message(folder, message)
        else:
            raise GraphError(415, "UnsupportedMediaType", f"Content-Type {ctype!r} is not supported")
        return Answer(201, self._render(message, None, None))


def _when(value: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(value.replace("Z", "+00:00")[:26] if "." in value
                                     else value.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def quote_path(path: str) -> str:
    return quote(path, safe="/$(),'=")
