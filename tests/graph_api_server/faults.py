"""Fault injection and request accounting for the local Graph server."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

KINDS = ("429", "503", "500", "504", "drop", "drop_after")


@dataclass
class Fault:
    kind: str
    retry_after: int | None = None


class FaultInjector:
    """Queued faults (the next N calls to a route) and random ones (a rate, seeded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[tuple[Fault, str | None]] = []
        self.rate = 0.0
        self.kinds: tuple[str, ...] = ()
        self.routes: tuple[str, ...] | None = None
        self.retry_after = 0
        self._rng = random.Random(0)

    def configure(self, rate: float, kinds: tuple[str, ...] = ("429", "503", "500", "drop"),
                  seed: int = 0, routes: tuple[str, ...] | None = None, retry_after: int = 0) -> None:
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}")
        with self._lock:
            self.rate, self.kinds, self.routes = rate, tuple(kinds), routes
            self.retry_after = retry_after
            self._rng = random.Random(seed)

    def queue(self, kind: str, route: str | None = None, count: int = 1,
              retry_after: int | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(kind)
        with self._lock:
            self._queue.extend((Fault(kind, retry_after), route) for _ in range(count))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.rate = 0.0

    def pick(self, route: str) -> Fault | None:
        with self._lock:
            for n, (fault, wanted) in enumerate(self._queue):
                if wanted is None or wanted == route:
                    del self._queue[n]
                    return fault
            if self.rate and (self.routes is None or route in self.routes) \
                    and self._rng.random() < self.rate:
                kind = self._rng.choice(self.kinds)
                return Fault(kind, self.retry_after if kind in ("429", "503") else None)
        return None


@dataclass
class Stats:
    """round_trips: HTTP requests to Graph (a $batch is one); calls: logical requests
    (each part of a $batch too); by_route: calls per route; bytes_out: response bytes."""

    round_trips: int = 0
    calls: int = 0
    bytes_out: int = 0
    faults: int = 0
    by_route: Counter[str] = field(default_factory=Counter)
    token_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        with self.lock:
            self.round_trips = self.calls = self.bytes_out = self.faults = self.token_requests = 0
            self.by_route.clear()
