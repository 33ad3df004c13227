"""Client-side pacing below the per-user Gmail quota.

Gmail charges "quota units" per method (Google's published table below) and
limits each user per minute. villaged paces itself with a token bucket that
refills at ``units_per_minute`` (default 6,000, well below Google's limit)
and holds a quarter-minute's worth, so an initial sync runs at full speed
and only a runaway loop is ever slowed down. Batch sub-requests count
individually, as Google counts them. Calendar calls are not paced: villaged
makes a handful per round.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# https://developers.google.com/gmail/api/reference/quota
GMAIL_UNITS: dict[str, int] = {
    "gmail.users.getProfile": 1,
    "gmail.users.messages.list": 5,
    "gmail.users.messages.get": 5,
    "gmail.users.messages.send": 100,
    "gmail.users.history.list": 2,
    "gmail.users.drafts.create": 10,
    "gmail.users.drafts.list": 5,
    "gmail.users.drafts.get": 5,
    "gmail.users.drafts.delete": 10,
    "gmail.users.threads.get": 10,
}
DEFAULT_UNITS = 5  # a Gmail method missing from the table


def units_for(method_id: str) -> int:
    """Quota units one call costs; 0 for non-Gmail (Calendar) calls."""
    if not method_id.startswith("gmail."):
        return 0
    return GMAIL_UNITS.get(method_id, DEFAULT_UNITS)


class Pacer:
    """A thread-safe token bucket of quota units."""

    def __init__(self, units_per_minute: int = 6000, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if units_per_minute <= 0:
            raise ValueError("units_per_minute must be positive")
        self.rate = units_per_minute / 60.0
        self.capacity = float(burst if burst is not None else max(units_per_minute / 4, 250))
        self._clock = clock
        self._sleep = sleep
        self._level = self.capacity
        self._stamp = clock()
        self._lock = threading.Lock()
        self.spent = 0
        self.waited = 0.0

    def acquire(self, units: int) -> None:
        """Take ``units`` from the bucket, sleeping until they are there."""
        if units <= 0:
            return
        need = min(float(units), self.capacity)  # a batch bigger than the bucket still goes
        with self._lock:
            while True:
                now = self._clock()
                self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._level >= need:
                    self._level -= need
                    self.spent += units
                    return
                wait = (need - self._level) / self.rate
                self.waited += wait
                self._sleep(wait)
