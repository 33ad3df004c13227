"""Gmail's per-user rate limit: quota units per second, as a token bucket (off by default)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Allows `units_per_second` on average and bursts up to `burst` units."""

    def __init__(self, units_per_second: float, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = units_per_second
        self.burst = burst if burst is not None else units_per_second
        self._clock = clock
        self._level = self.burst
        self._at = clock()
        self._lock = threading.Lock()

    def take(self, units: float) -> bool:
        """Spend `units` if available now; False means the call is over the limit."""
        with self._lock:
            now = self._clock()
            self._level = min(self.burst, self._level + (now - self._at) * self.rate)
            self._at = now
            if units > self._level:
                return False
            self._level -= units
            return True
