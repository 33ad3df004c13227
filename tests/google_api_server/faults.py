"""Fault and latency injection: random (seeded) or queued for a specific method."""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass

KINDS = ("429", "403", "403rate", "403forbidden", "404", "500", "503", "drop", "drop_after")


@dataclass
class _Queued:
    kind: str
    method: str | None
    remaining: int


class FaultInjector:
    """Decides, per request and per batch sub-request, whether to fail it and how.

    Kinds: "429" (rateLimitExceeded), "403" (userRateLimitExceeded), "403rate"
    (rateLimitExceeded as a 403), "403forbidden" (a plain 403 that is no rate limit),
    "404" (notFound), "500", "503", "drop" (close the connection before
    handling), "drop_after" (handle, then close without answering: the write happened
    but the client never hears). Inside a batch, drops become 503.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rate = 0.0
        self.kinds: tuple[str, ...] = ("429", "500", "503", "drop")
        self.methods: frozenset[str] | None = None
        self._rng = random.Random(0)
        self._queue: deque[_Queued] = deque()

    def configure(self, rate: float = 0.0, kinds: tuple[str, ...] | list[str] = ("429", "500", "503", "drop"),
                  seed: int = 0, methods: tuple[str, ...] | list[str] | None = None) -> None:
        """Fail each request with probability `rate`, picking a kind from `kinds`."""
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {KINDS}")
        with self._lock:
            self.rate = rate
            self.kinds = tuple(kinds)
            self.methods = frozenset(methods) if methods else None
            self._rng = random.Random(seed)

    def queue(self, kind: str, method: str | None = None, count: int = 1) -> None:
        """Fail the next `count` calls (to `method`, a discovery id, or any) with `kind`."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {KINDS}")
        with self._lock:
            self._queue.append(_Queued(kind, method, count))

    def clear(self) -> None:
        """No more faults."""
        with self._lock:
            self.rate = 0.0
            self._queue.clear()

    def pick(self, method_id: str, in_batch: bool) -> str | None:
        """The fault for this call, or None."""
        with self._lock:
            kind = None
            for item in self._queue:
                if item.method is None or item.method == method_id:
                    kind = item.kind
                    item.remaining -= 1
                    if item.remaining <= 0:
                        self._queue.remove(item)
                    break
            if kind is None and self.rate > 0 and (self.methods is None or method_id in self.methods):
                if self._rng.random() < self.rate:
                    kind = self._rng.choice(self.kinds)
        if kind in ("drop", "drop_after") and in_batch:
            return "503"
        return kind
