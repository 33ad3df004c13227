"""systemd's notify protocol: READY=1, STATUS=..., WATCHDOG=1, STOPPING=1.

Datagrams go to ``$NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract
namespace) when it is set; otherwise every call is a no-op, so the daemon
runs the same in a terminal. A failed send is logged at debug level and
never stops the daemon.

The watchdog pings from a thread of its own every ``WATCHDOG_USEC / 2``, but
only while the main loop shows signs of life (a heartbeat timestamp the loop
and the round's progress callback refresh). A long round does not trip the
watchdog; a main thread stuck for longer than ``stall_limit`` stops the
pings, and systemd then kills and restarts the service.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

log = logging.getLogger(__name__)

STALL_LIMIT = 15 * 60.0  # seconds without a heartbeat before pings stop


class Notifier:
    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]
        self.address = address or None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *fields: str) -> None:
        if not self.address:
            return
        payload = "\n".join(fields).encode("utf-8", "replace")
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX,
                                               socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.sendto(payload, self.address)
            except OSError as exc:
                log.debug("sd_notify %s failed: %s", fields[0].split("=")[0], exc)

    def ready(self, status: str) -> None:
        self.notify("READY=1", f"STATUS={status}")

    def status(self, status: str) -> None:
        self.notify(f"STATUS={status}")

    def reloading(self) -> None:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.notify("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> None:
        self.notify("STOPPING=1", "STATUS=stopping")

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def watchdog_interval() -> float | None:
    """Half of ``$WATCHDOG_USEC`` in seconds, if the watchdog is on for this process."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) <= 0:
        return None
    if pid and pid != str(os.getpid()):
        return None
    return int(usec) / 1e6 / 2


class Heartbeat:
    """The main loop's sign of life, read by the watchdog thread."""

    def __init__(self) -> None:
        self._at = time.monotonic()

    def beat(self, *_: object) -> None:  # usable as a progress callback
        self._at = time.monotonic()

    def age(self) -> float:
        return time.monotonic() - self._at


class Watchdog(threading.Thread):
    def __init__(self, notifier: Notifier, interval: float, heartbeat: Heartbeat,
                 stall_limit: float = STALL_LIMIT) -> None:
        super().__init__(name="villaged-watchdog", daemon=True)
        self.notifier = notifier
        self.interval = interval
        self.heartbeat = heartbeat
        self.stall_limit = stall_limit
        self._done = threading.Event()
        self._warned = False

    def run(self) -> None:
        while True:
            if self.heartbeat.age() <= self.stall_limit:
                self.notifier.notify("WATCHDOG=1")
                self._warned = False
            elif not self._warned:
                log.error("the main loop has shown no sign of life for %.0f s; "
                          "no more watchdog pings", self.heartbeat.age())
                self._warned = True
            if self._done.wait(self.interval):
                return

    def stop(self) -> None:
        self._done.set()
