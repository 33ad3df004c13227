"""An HTTP proxy in front of Radicale that answers like a CalDAV server without
sync-collection (RFC 6578): every other request is passed through unchanged.

Plain HTTP on 127.0.0.1 towards villaged (allowed to a loopback address), TLS
to Radicale with the tests' CA. Counts the REPORTs it saw, by kind.
"""

from __future__ import annotations

import http.client
import ssl
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

UNSUPPORTED = (b'<?xml version="1.0" encoding="utf-8"?>\n'
               b'<D:error xmlns:D="DAV:"><D:supported-report/></D:error>\n')
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class NoSyncCollectionProxy:
    def __init__(self, upstream: str, ca_file: Path) -> None:
        self.upstream = urlsplit(upstream)
        self.context = ssl.create_default_context(cafile=str(ca_file))
        self.reports: Counter[str] = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "REPORT":
                    kind = "sync-collection" if b"sync-collection" in body else "other"
                    proxy.reports[kind] += 1
                    if kind == "sync-collection":
                        self.send_response(403)
                        self.send_header("Content-Type", "application/xml; charset=utf-8")
                        self.send_header("Content-Length", str(len(UNSUPPORTED)))
                        self.end_headers()
                        self.wfile.write(UNSUPPORTED)
                        return
                conn = http.client.HTTPSConnection(proxy.upstream.hostname or "127.0.0.1",
                                                   proxy.upstream.port, context=proxy.context,
                                                   timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in HOP_BY_HOP}
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                    self.send_response(answer.status, answer.reason)
                    for key, value in answer.getheaders():
                        if key.lower() not in HOP_BY_HOP:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    conn.close()

            do_GET = do_PUT = do_DELETE = do_OPTIONS = do_PROPFIND = do_REPORT = _forward
            do_HEAD = do_POST = do_MKCALENDAR = do_PROPPATCH = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> NoSyncCollectionProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
