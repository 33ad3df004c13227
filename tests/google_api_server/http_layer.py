"""The loopback HTTP/1.1 server (stdlib ThreadingHTTPServer) feeding the Dispatcher."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .dispatch import Dispatcher, Request, Response, json_response
from .errors import ApiError

log = logging.getLogger(__name__)


class LoopbackHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its dispatcher and can cut open keep-alive connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher, latency: Callable[[], float],
                 violate: Callable[[str], None]) -> None:
        self.dispatcher = dispatcher
        self.latency = latency
        self.violate = violate
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        with self._open_lock:
            self._open.add(sock)
        return sock, addr

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away mid-request (killed, timed out) is not news."""
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            log.debug("client %s went away", client_address)
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def close_connections(self) -> None:
        """Shut down every open client connection (idle keep-alives included)."""
        with self._open_lock:
            socks = list(self._open)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ESF"
    sys_version = ""
    server: LoopbackHTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:  # the client died mid-request: nothing arrived to answer
            self.close_connection = True
            return
        req = Request.from_target(self.command, self.path, dict(self.headers.items()), body)
        try:
            resp = self.server.dispatcher.handle(req)
        except Exception as exc:  # a bug in the local server: answer 500 and make it visible
            log.exception("local Google API server failed on %s %s", self.command, self.path)
            self.server.violate(f"server error on {self.command} {self.path}: {exc!r}")
            resp = json_response(500, ApiError(500, "Internal error encountered.", "backendError").body())
        delay = self.server.latency()
        if delay > 0:
            time.sleep(delay)
        self._write(resp)

    def _read_body(self) -> bytes | None:
        """The request body, or None if the connection closed before all of it came."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline()
                if not line:
                    return None
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunk = self.rfile.read(size)
                if len(chunk) < size:
                    return None
                chunks.append(chunk)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        return body if len(body) == length else None

    def _write(self, resp: Response) -> None:
        if resp.drop:
            self.close_connection = True
            return
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        # One write for head and body: separate small segments meet delayed ACKs (~40 ms).
        self._headers_buffer.append(b"\r\n" + (resp.body if self.command != "HEAD" else b""))
        self.flush_headers()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug("%s - %s", self.address_string(), format % args)
