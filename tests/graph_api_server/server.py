"""GraphServer: a local Microsoft Graph v1.0 (mail, calendar) and identity platform over HTTPS.

HTTPS because MSAL accepts only https authorities: the server makes a
self-signed certificate for 127.0.0.1 at start; point clients at
``server.ca_file`` (``REQUESTS_CA_BUNDLE`` for requests and MSAL).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import logging
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .faults import FaultInjector, Stats
from .graph_api import Answer, GraphApi, GraphError, Request, error_body
from .identity import Identity
from .store import GraphStore, iso, recipient

log = logging.getLogger(__name__)
ALL_SCOPES = ("Mail.ReadWrite", "Calendars.ReadBasic")


def _certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "villaged test Graph")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "graph-ca.pem", directory / "graph-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_HTTPServer"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("graph server: " + format, *args)

    def _serve(self) -> None:
        graph = self.server.graph
        if graph.latency:
            time.sleep(graph.latency)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client died mid-request: like Graph, do nothing with it
            self.close_connection = True
            return
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        if path.startswith("/v1.0/"):
            self._graph(Request(self.command, path[len("/v1.0/"):], query, headers, body))
        else:
            status, answer = graph.identity_route(self.command, path, body)
            self._send(Answer(status, answer))

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    def _graph(self, request: Request) -> None:
        graph = self.server.graph
        with graph.stats.lock:
            graph.stats.round_trips += 1
        with graph.lock:
            if request.path == "$batch" and request.method == "POST":
                fault = graph.faults.pick("batch")
                if fault is not None and fault.kind in ("429", "503", "500", "504"):
                    status = int(fault.kind)
                    self._send(Answer(status, error_body("TooManyRequests" if status == 429 else "ServiceNotAvailable",
                                                         "injected fault"),
                                      {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None
                                      and status in (429, 503) else {}))
                    return
                if fault is not None and fault.kind == "drop":
                    self.close_connection = True
                    return
                try:
                    answer = graph.api.batch(request)
                except GraphError as exc:
                    graph.violate(f"POST /$batch: {exc.status} {exc.code}: {exc.message}")
                    answer = Answer(exc.status, error_body(exc.code, exc.message))
                if fault is not None and fault.kind == "drop_after":
                    self.close_connection = True
                    return
                self._send(answer)
                return
            answer, fault = graph.api.handle(request)
        if fault is not None:
            self.close_connection = True  # no answer at all: the connection just closes
            return
        self._send(answer)

    def _send(self, answer: Answer) -> None:
        try:
            self._write(answer)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True  # the client went away (killed): nobody to answer

    def _write(self, answer: Answer) -> None:
        data = b"" if answer.body is None else json.dumps(answer.body).encode()
        with self.server.graph.stats.lock:
            self.server.graph.stats.bytes_out += len(data)
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if answer.body is not None:
            self.send_header("Content-Type", "application/json; odata.metadata=minimal; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    graph: "GraphServer"


class GraphServer:
    """Use as a context manager. ``graph_url`` (…/v1.0) and ``authority`` go into
    ``[backend.microsoft] graph_endpoint`` / ``authority``; ``ca_file`` into REQUESTS_CA_BUNDLE."""

    def __init__(self, *, owner: str = "owner@uni.example", display_name: str = "Owner",
                 clock: Callable[[], dt.datetime] | None = None, latency: float = 0.0,
                 scopes: tuple[str, ...] = ()) -> None:
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.latency = latency
        self.violations: list[str] = []
        self.lock = threading.RLock()
        self.store = GraphStore(owner, display_name)
        self.identity = Identity(owner, granted=scopes)
        self.faults = FaultInjector()
        self.stats = Stats()
        self.api = GraphApi(self.store, self.identity, self.faults, self.stats, self.violate,
                            lambda: self.graph_url, lambda: self.clock())
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.ca_file = Path()

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> "GraphServer":
        self._tmp = tempfile.TemporaryDirectory(prefix="graph-server-")
        self.ca_file, key_file = _certificate(Path(self._tmp.name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, key_file)
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        httpd.graph = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="graph-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._httpd = self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "GraphServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("GraphServer is not started")
        return f"https://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def graph_url(self) -> str:
        return self.url + "/v1.0"

    @property
    def authority(self) -> str:
        return self.url

    # -- checks ---------------------------------------------------------------------------

    def violate(self, problem: str) -> None:
        log.warning("Graph contract violation: %s", problem)
        self.violations.append(problem)

    @contextlib.contextmanager
    def expect_violations(self) -> Iterator[list[str]]:
        before = len(self.violations)
        found: list[str] = []
        yield found
        found.extend(self.violations[before:])
        del self.violations[before:]
        if not found:
            raise AssertionError("expected a Graph contract violation, none was recorded")

    # -- identity ---------------------------------------------------------------------------

    def identity_route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        with self.stats.lock:
            self.stats.token_requests += 1
        if method == "GET" and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return 200, self.identity.discovery(self.url, parts[0])
        if method == "POST" and parts[1:] == ["oauth2", "v2.0", "devicecode"]:
            return self.identity.device_code(form, self.url)
        if method == "POST" and parts[1:] == ["oauth2", "v2.0", "token"]:
            return self.identity.token(form, self.url)
        return 404, {"error": "not_found", "error_description": f"no identity route {method} {path}"}

    def token(self, scopes: tuple[str, ...] = ALL_SCOPES) -> str:
        """A bearer token for a test client that skips MSAL."""
        return self.identity.issue(scopes)

    def revoke(self) -> None:
        self.identity.revoke()

    # -- faults and accounting ----------------------------------------------------------------

    def queue_fault(self, kind: str, route: str | None = None, count: int = 1, retry_after: int | None = None) -> None:
        """Fail the next ``count`` calls to ``route`` ("message.delta", "message.create", "batch", …)."""
        self.faults.queue(kind, route, count, retry_after)

    def configure_faults(self, rate: float, kinds: tuple[str, ...] = ("429", "503", "500", "drop"),
                         seed: int = 0, routes: tuple[str, ...] | None = None, retry_after: int = 0) -> None:
        self.faults.configure(rate, kinds, seed, routes, retry_after)

    def clear_faults(self) -> None:
        self.faults.clear()

    def expire_delta_tokens(self, code: str = "syncStateNotFound") -> None:
        """Every delta link handed out so far answers 410 Gone with ``code``."""
        with self.lock:
            self.api.resync_code = code
            self.api.expire()

    # -- seeding and inspection ----------------------------------------------------------------

    @property
    def owner(self) -> str:
        return self.store.owner

    def add_message(self, *, folder: str = "inbox", sender: str, to: tuple[str, ...] = (),
                    cc: tuple[str, ...] = (), bcc: tuple[str, ...] = (), subject: str = "",
                    when: dt.datetime, headers: dict[str, str] | None = None,
                    message_id: str | None = None, conversation: str | None = None,
                    received: dt.datetime | None = None) -> str:
        """Deliver (or file) a message sent at ``when`` (arriving at ``received``, by default
        the same moment); ``headers`` become internetMessageHeaders."""
        mid = message_id or f"<{self.store.new_id('m')}@mail.example>"
        all_headers = {"Received": "from mx.example by outlook.example", "Message-ID": mid,
                       "Subject": subject, **(headers or {})}
        message = {
            "subject": subject, "from": recipient(sender), "sender": recipient(sender),
            "toRecipients": [recipient(a) for a in to], "ccRecipients": [recipient(a) for a in cc],
            "bccRecipients": [recipient(a) for a in bcc],
            "receivedDateTime": iso(received or when), "sentDateTime": iso(when), "internetMessageId": mid,
            "conversationId": conversation or self.store.conversation_for([], subject + mid),
            "isDraft": False, "isRead": False,
            "internetMessageHeaders": [{"name": k, "value": v} for k, v in all_headers.items()],
        }
        with self.lock:
            return str(self.store.put_message(folder, message)["id"])

    def add_event(self, *, start: dt.datetime, end: dt.datetime | None = None, subject: str = "",
                  organizer: str | None = None, attendees: tuple[tuple[str, str], ...] = (),
                  response: str = "accepted", cancelled: bool = False, series: str | None = None,
                  show_as: str = "busy", calendar: str | None = None, event_id: str | None = None) -> str:
        """An event (or one occurrence, with ``series``); attendees are (address, response)."""
        end = end or start + dt.timedelta(minutes=30)
        event: dict[str, Any] = {
            "subject": subject, "isCancelled": cancelled, "showAs": show_as,
            "start": {"dateTime": start.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
                      "timeZone": "UTC"},
            "end": {"dateTime": end.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
                    "timeZone": "UTC"},
            "organizer": recipient(organizer or self.owner),
            "isOrganizer": (organizer or self.owner).lower() == self.owner.lower(),
            "responseStatus": {"response": "organizer" if (organizer or self.owner).lower() == self.owner.lower()
                               else response, "time": "0001-01-01T00:00:00Z"},
            "attendees": [{"type": "required", "status": {"response": r, "time": "0001-01-01T00:00:00Z"},
                           "emailAddress": {"address": a, "name": a}} for a, r in attendees],
            "type": "occurrence" if series else "singleInstance",
        }
        if series:
            event["seriesMasterId"] = series
        if event_id:
            event["id"] = event_id
        with self.lock:
            return str(self.store.put_event(calendar, event)["id"])

    def drafts(self) -> list[dict[str, Any]]:
        with self.lock:
            folder = self.store.folder_id("drafts")
            assert folder is not None
            return [dict(m) for m in self.store.mail[folder].items.values()]

    def inbox(self) -> list[dict[str, Any]]:
        with self.lock:
            folder = self.store.folder_id("inbox")
            assert folder is not None
            return [dict(m) for m in self.store.mail[folder].items.values()]

    def mime_of(self, message_id: str) -> bytes:
        return self.store.mime[message_id]

    def send_draft(self, message_id: str, when: dt.datetime) -> None:
        """The owner sends a draft from Outlook: it leaves Drafts for Sent Items."""
        with self.lock:
            self.store.update_message(message_id, {"isDraft": False, "sentDateTime": iso(when),
                                                   "receivedDateTime": iso(when)})
            self.store.move_message(message_id, "sentitems")

    def delete_message(self, message_id: str) -> None:
        with self.lock:
            self.store.remove_message(message_id)
