"""A TCP proxy that breaks connections on purpose, for the fault tests.

``FaultProxy(port, faults=0.2, seed=1).start()`` listens on 127.0.0.1 (random
port) and forwards to 127.0.0.1:``port``. It reads the IMAP commands the
client sends (plain IMAP: villaged is pointed at it with ``tls = "none"``,
which is allowed to a loopback address) and, for a ``faults`` share of them,
picks a fault that fits the command:

- LOGIN / AUTHENTICATE: answered by the proxy itself with
  ``NO [UNAVAILABLE]`` (the server refuses the login for now);
- FETCH: the answer is cut after a random number of bytes (mid-FETCH);
- APPEND: either the message literal is cut midway (mid-APPEND), or the whole
  APPEND reaches the server, which stores the message, and the connection is
  cut just before the server's tagged OK would reach the client (after
  APPEND, before the OK: the case where a blind retry makes a duplicate);
- anything else (SEARCH, EXAMINE, LIST...): cut before the answer.

With ``protocol="http"`` (CalDAV) it does not read the traffic; a ``faults``
share of connections is cut after a random number of answer bytes, which
lands mid-REPORT or mid-PROPFIND.

``stats`` counts what happened; ``bytes_down`` / ``bytes_up`` count the bytes
forwarded (the benchmark uses a proxy with ``faults=0`` as a byte counter).
"""

from __future__ import annotations

import random
import re
import select
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field

_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")


@dataclass
class _Arm:
    """What to do to the server's answer on this connection."""

    cut_after: int | None = None  # server bytes still to forward before cutting
    reason: str = ""  # what the cut is, for stats
    before_tag: bytes | None = None  # cut just before this tag's completion line


@dataclass
class FaultProxy:
    target_port: int
    faults: float = 0.2
    seed: int = 1
    protocol: str = "imap"
    target_host: str = "127.0.0.1"
    port: int = 0
    stats: Counter[str] = field(default_factory=Counter)
    bytes_down: int = 0
    bytes_up: int = 0
    max_cuts: int | None = None  # stop injecting after this many cut connections

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- life cycle ---------------------------------------------------------------

    def start(self) -> FaultProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        self.port = listener.getsockname()[1]
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def cuts(self) -> int:
        return sum(v for k, v in self.stats.items() if k.startswith("cut"))

    def _roll(self) -> float:
        with self._lock:
            return self._rng.random()

    def _choice(self, options: list[str]) -> str:
        with self._lock:
            return self._rng.choice(options)

    def _randint(self, low: int, high: int) -> int:
        with self._lock:
            return self._rng.randint(low, high)

    def _inject(self) -> bool:
        if self.max_cuts is not None and self.cuts >= self.max_cuts:
            return False
        return self._roll() < self.faults

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    # -- one connection -------------------------------------------------------------

    def _serve(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection((self.target_host, self.target_port), timeout=10)
        except OSError:
            client.close()
            return
        self.stats["connections"] += 1
        arm = _Arm()
        if self.protocol == "http" and self._inject():
            arm.cut_after = self._randint(1, 4000)
            arm.reason = "cut mid-answer (http)"
        pending = b""  # client bytes not yet parsed into commands
        literal = 0  # client literal bytes still to pass through
        cut_literal: int | None = None
        down = b""  # server bytes held back while watching for a tag
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([client, server], [], [], 0.2)
                if client in ready:
                    data = client.recv(65536)
                    if not data:
                        return
                    if self.protocol != "imap":
                        server.sendall(data)
                        self.bytes_up += len(data)
                        continue
                    pending += data
                    while pending:
                        if literal:
                            take = pending[:literal]
                            if cut_literal is not None and cut_literal < len(take):
                                server.sendall(take[:cut_literal])
                                self.stats["cut mid-APPEND"] += 1
                                return
                            if cut_literal is not None:
                                cut_literal -= len(take)
                            server.sendall(take)
                            self.bytes_up += len(take)
                            literal -= len(take)
                            pending = pending[len(take):]
                            continue
                        end = pending.find(b"\r\n")
                        if end < 0:
                            break
                        line, pending = pending[:end + 2], pending[end + 2:]
                        reply, cut_literal_now = self._command(line, arm)
                        if reply is not None:
                            client.sendall(reply)
                            continue
                        if cut_literal_now is not None:
                            cut_literal = cut_literal_now
                        server.sendall(line)
                        self.bytes_up += len(line)
                        found = _LITERAL.search(line)
                        if found:
                            literal = int(found.group(1))
                if server in ready:
                    data = server.recv(65536)
                    if not data:
                        return
                    if arm.cut_after is not None:
                        if len(data) >= arm.cut_after:
                            client.sendall(data[:arm.cut_after])
                            self.bytes_down += arm.cut_after
                            self.stats[arm.reason] += 1
                            return
                        arm.cut_after -= len(data)
                    if arm.before_tag is not None:
                        down += data
                        at = down.find(b"\r\n" + arm.before_tag + b" ")
                        if at >= 0 or down.startswith(arm.before_tag + b" "):
                            keep = down[:at + 2] if at >= 0 else b""
                            client.sendall(keep)
                            self.stats["cut after APPEND, before its OK"] += 1
                            return
                        cut = down.rfind(b"\r\n")
                        if cut >= 0:
                            client.sendall(down[:cut + 2])
                            self.bytes_down += cut + 2
                            down = down[cut + 2:]
                        continue
                    client.sendall(data)
                    self.bytes_down += len(data)
        except OSError:
            return
        finally:
            for s in (client, server):
                try:
                    s.close()
                except OSError:
                    pass

    def _command(self, line: bytes, arm: _Arm) -> tuple[bytes | None, int | None]:
        """(a reply the proxy gives instead of the server, literal cut point)."""
        words = line.split(b" ", 3)
        if len(words) < 2:
            return None, None
        tag = words[0]
        verb = words[1].upper().strip()
        if verb == b"UID" and len(words) > 2:
            verb = words[2].upper().strip()
        if not self._inject():
            return None, None
        if verb in (b"LOGIN", b"AUTHENTICATE"):
            self.stats["refused login"] += 1
            return tag + b" NO [UNAVAILABLE] Temporary authentication failure (proxy)\r\n", None
        if verb == b"APPEND":
            found = _LITERAL.search(line)
            if found and self._roll() < 0.5:
                return None, self._randint(0, max(int(found.group(1)) - 1, 0))
            arm.before_tag = tag
            return None, None
        if verb == b"FETCH":
            arm.cut_after = self._randint(1, 3000)
            arm.reason = "cut mid-FETCH"
            return None, None
        arm.cut_after = self._randint(0, 200)
        arm.reason = f"cut in the answer to {verb.decode(errors='replace')}"
        return None, None
