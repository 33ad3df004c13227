"""Request pipeline: route, authenticate, validate against discovery, inject faults,
count, run the handler, check the response, apply `fields`; and batches."""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import contract, fields, multipart
from .auth import Auth
from .call import Call
from .errors import ApiError, bad_request, fault, not_found
from .faults import FaultInjector
from .query import QueryError
from .ratelimit import RateLimiter
from .stats import Stats, quota_units

log = logging.getLogger(__name__)
JSON = "application/json; charset=UTF-8"
BATCH_PATHS = {"/batch": None, "/batch/gmail/v1": "gmail", "/batch/calendar/v3": "calendar"}
BATCH_LIMITS = {"gmail": 100, "calendar": 1000, None: 1000}
TOKEN_PATHS = ("/token", "/o/oauth2/token", "/oauth2/v4/token")
TOKENINFO_PATHS = ("/oauth2/v3/tokeninfo", "/tokeninfo")


@dataclass
class Request:
    """An HTTP request, top-level or unpacked from a batch."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""

    @classmethod
    def from_target(cls, method: str, target: str, headers: dict[str, str], body: bytes) -> Request:
        """Build from a request-target such as `/gmail/v1/users/me/profile?alt=json`."""
        url = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        return cls(method.upper(), url.path, query, {k.lower(): v for k, v in headers.items()}, body)


@dataclass
class Response:
    """What to answer; `drop` closes the connection without answering."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False


def json_response(status: int, body: Any) -> Response:
    """A JSON answer (204 has no body)."""
    if status == 204 or body is None:
        return Response(status, {})
    return Response(status, {"Content-Type": JSON}, json.dumps(body).encode())


def error_response(error: ApiError) -> Response:
    """Google's error body."""
    return json_response(error.code, error.body())


class Dispatcher:
    """Turns Requests into Responses; shared by top-level requests and batch parts."""

    def __init__(self, *, handlers: dict[str, Callable[[Call], Any]], auth: Auth, faults: FaultInjector,
                 stats: Stats, lock: threading.RLock, clock: Callable[[], datetime],
                 violate: Callable[[str], None]) -> None:
        self.handlers = handlers  # api name -> handle(call) returning (status, body) or None
        self.auth = auth
        self.faults = faults
        self.stats = stats
        self.lock = lock
        self.clock = clock
        self.violate = violate
        self.validate_responses = True
        self.rate_limiter: RateLimiter | None = None  # Gmail per-user quota units per second

    # ------------------------------------------------------------ top level

    def handle(self, req: Request) -> Response:
        """Answer one HTTP request received on the socket."""
        self.stats.count("round_trips")
        if req.path in TOKEN_PATHS and req.method == "POST":
            self.stats.count("token_requests")
            return json_response(*self.auth.token(_form(req)))
        if req.path in TOKENINFO_PATHS:
            self.stats.count("token_requests")
            form = urllib.parse.parse_qs(req.body.decode("utf-8", "replace")) if req.body else {}
            token = (req.query.get("access_token") or form.get("access_token") or [None])[-1]
            return json_response(*self.auth.tokeninfo(token))
        if req.path in BATCH_PATHS:
            return self._batch(req, BATCH_PATHS[req.path])
        return self.call(req, in_batch=False)

    # ---------------------------------------------------------------- batch

    def _batch(self, req: Request, api: str | None) -> Response:
        self.stats.count("batches")
        if req.method != "POST":
            self.violate(f"batch: {req.method} {req.path} (batches are POSTed)")
            return error_response(not_found())
        try:
            subs = multipart.parse_batch(req.body, req.headers.get("content-type"))
        except multipart.MultipartError as exc:
            self.violate(f"batch: malformed multipart/mixed body: {exc}")
            return error_response(bad_request(f"Failed to parse batch request: {exc}"))
        if len(subs) > BATCH_LIMITS[api]:
            self.violate(f"batch: {len(subs)} requests exceed the {api} limit of {BATCH_LIMITS[api]}")
            return error_response(bad_request(f"Too many requests in batch ({len(subs)})."))
        kind = self.faults.pick("batch", in_batch=False)
        if kind is not None:
            self.stats.count_fault(kind)
            return Response(0, drop=True) if kind.startswith("drop") else error_response(fault(kind))
        answers = []
        for sub in subs:
            self.stats.count("sub_requests")
            if sub.content_id is None:
                self.violate("batch: part without a Content-ID (the client cannot match its answer)")
            headers = dict(sub.headers)
            if "authorization" not in headers and "authorization" in req.headers:
                headers["authorization"] = req.headers["authorization"]
            inner = Request.from_target(sub.method, sub.target, headers, sub.body)
            if api is not None and _api_of(inner.path)[0] != api:
                self.violate(f"batch: {sub.method} {inner.path} sent to the {api} batch endpoint")
            answer = self.call(inner, in_batch=True)
            answers.append((multipart.response_content_id(sub.content_id), answer.status, answer.headers, answer.body))
        content_type, body = multipart.build_batch_response(answers)
        return Response(200, {"Content-Type": content_type}, body)

    # ------------------------------------------------------------- one call

    def call(self, req: Request, in_batch: bool) -> Response:
        """Route, check and run one API call."""
        api, path = _api_of(req.path)
        doc = contract.discovery(api)
        matched = doc.match(req.method, path)
        if matched is None:
            self.violate(f"no {api} method serves {req.method} {req.path}")
            return error_response(not_found("Not Found"))
        spec, path_params, upload = matched
        try:
            call = self._checked_call(spec, path_params, upload, req)
            selection = self._selection(spec, call.params.get("fields"))
        except ApiError as exc:
            return error_response(exc)
        kind = self.faults.pick(spec.id, in_batch)
        if kind is not None and kind != "drop_after":
            self.stats.count_fault(kind)
            return Response(0, drop=True) if kind == "drop" else error_response(fault(kind))
        limiter = self.rate_limiter
        if api == "gmail" and limiter is not None and not limiter.take(quota_units(spec.id)):
            self.stats.count_fault("rate_limit")
            return error_response(fault("429"))
        handler = self.handlers[api]
        self.stats.count_call(spec.id)
        try:
            with self.lock:
                result = handler(call)
        except QueryError as exc:
            self.violate(f"{spec.id}: q={call.params.get('q')!r}: {exc}")
            return error_response(bad_request(f"Invalid query: {exc}", "invalidArgument"))
        except ApiError as exc:
            if exc.code == 400:
                self.violate(f"{spec.id}: answered 400: {exc.message}")
            return error_response(exc)
        except Exception as exc:  # a bug in the local server: visible, and a 500 like Google's
            log.exception("local Google API server failed in %s", spec.id)
            self.violate(f"{spec.id}: local server error {exc!r}")
            return error_response(ApiError(500, "Internal error encountered.", "backendError"))
        if result is None:
            self.violate(f"{spec.id}: not implemented by the local server")
            return error_response(ApiError(501, f"{spec.id} is not implemented locally.", "notImplemented"))
        status, body = result
        if body is not None and spec.response_ref and self.validate_responses:
            for problem in contract.check_schema(doc, body, spec.response_ref, f"{spec.id} response"):
                self.violate(problem)
        if body is not None and selection is not None:
            body = fields.apply(body, selection)
        if kind == "drop_after":
            self.stats.count_fault(kind)
            return Response(0, drop=True)
        return json_response(status, body)

    def _checked_call(self, spec: contract.MethodSpec, path_params: dict[str, str], upload: bool,
                      req: Request) -> Call:
        """Authenticate and validate; raise ApiError (recording violations) on failure."""
        if "authorization" not in req.headers:
            self.violate(f"{spec.id}: request without an Authorization header")
        self.auth.check_bearer(req.headers.get("authorization"))
        if not self.auth.allows(spec.scopes):
            self.violate(f"{spec.id}: needs one of the scopes {list(spec.scopes)}; granted {self.auth.scopes}")
            raise ApiError(403, "Request had insufficient authentication scopes.", "insufficientPermissions")
        problems = contract.check_query(spec, req.query)
        if req.query.get("alt", ["json"])[-1] != "json":
            problems.append(f"{spec.id}: alt={req.query['alt'][-1]} is not supported locally")
        body, media = self._body(spec, upload, req, problems)
        if problems:
            for problem in problems:
                self.violate(problem)
            raise bad_request(problems[0])
        params = contract.coerce_params(spec, req.query, path_params)
        return Call(spec, params, body, media, self.clock())

    def _body(self, spec: contract.MethodSpec, upload: bool, req: Request,
              problems: list[str]) -> tuple[Any, bytes | None]:
        doc = spec.doc
        content_type = req.headers.get("content-type", "")
        media: bytes | None = None
        raw_json: bytes = req.body
        if upload:
            kind = req.query.get("uploadType", [""])[-1]
            if kind == "multipart":
                try:
                    raw_json, media, media_type = multipart.parse_related(req.body, content_type)
                except multipart.MultipartError as exc:
                    problems.append(f"{spec.id}: bad multipart/related upload: {exc}")
                    return None, None
            elif kind == "media":
                raw_json, media, media_type = b"", req.body, content_type
            else:
                problems.append(f"{spec.id}: uploadType={kind!r} is not supported locally (use multipart or media)")
                return None, None
            if not media_type.lower().startswith("message/"):
                problems.append(f"{spec.id}: uploaded media type {media_type!r} is not message/*")
        elif "uploadType" in req.query:
            problems.append(f"{spec.id}: uploadType sent to the non-upload path")
        if not raw_json.strip():
            return None, media
        if spec.request_ref is None:
            problems.append(f"{spec.id}: request body sent to a method that declares none")
            return None, media
        try:
            body = json.loads(raw_json)
        except ValueError:
            problems.append(f"{spec.id}: request body is not JSON")
            return None, media
        problems.extend(contract.check_schema(doc, body, spec.request_ref, f"{spec.id} request"))
        return body, media

    def _selection(self, spec: contract.MethodSpec, text: str | None) -> fields.Selection | None:
        if not text:
            return None
        try:
            tree = fields.parse(text)
        except fields.FieldsError as exc:
            self.violate(f"{spec.id}: {exc}")
            raise bad_request(str(exc), "invalidParameter") from None
        problems = fields.check(spec.doc, tree, spec.response_ref) if spec.response_ref else []
        if problems:
            for problem in problems:
                self.violate(f"{spec.id}: {problem}")
            raise bad_request(problems[0], "invalidParameter")
        return tree


def _api_of(path: str) -> tuple[str, str]:
    """(api, path relative to the discovery paths) for a request path."""
    rel = path.lstrip("/")
    if rel.startswith(("gmail/v1/", "upload/gmail/v1/", "resumable/upload/gmail/v1/")):
        return "gmail", rel
    if rel.startswith("calendar/v3/"):
        return "calendar", rel[len("calendar/v3/") :]
    # build(..., client_options={"api_endpoint": url}) drops Calendar's servicePath.
    return "calendar", rel


def _form(req: Request) -> dict[str, str]:
    """A token request's parameters (google-auth posts urlencoded forms, or JSON)."""
    text = req.body.decode("utf-8", "replace")
    if req.headers.get("content-type", "").startswith("application/json"):
        try:
            return {k: str(v) for k, v in json.loads(text).items()}
        except (ValueError, AttributeError):
            return {}
    return {k: v[-1] for k, v in urllib.parse.parse_qs(text).items()}
