"""Accounting: quota units (Google's published per-method costs), round trips, calls."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

# https://developers.google.com/gmail/api/reference/quota
GMAIL_QUOTA_UNITS: dict[str, int] = {
    "gmail.users.getProfile": 1,
    "gmail.users.messages.list": 5,
    "gmail.users.messages.get": 5,
    "gmail.users.messages.send": 100,
    "gmail.users.messages.insert": 25,
    "gmail.users.messages.modify": 5,
    "gmail.users.messages.delete": 10,
    "gmail.users.messages.trash": 5,
    "gmail.users.history.list": 2,
    "gmail.users.drafts.create": 10,
    "gmail.users.drafts.list": 5,
    "gmail.users.drafts.get": 5,
    "gmail.users.drafts.delete": 10,
    "gmail.users.drafts.update": 15,
    "gmail.users.drafts.send": 100,
    "gmail.users.threads.get": 10,
    "gmail.users.threads.list": 10,
    "gmail.users.labels.list": 1,
    "gmail.users.labels.get": 1,
}


def quota_units(method_id: str) -> int:
    """Units one call to `method_id` costs (Calendar calls cost 1 each)."""
    if method_id.startswith("gmail."):
        return GMAIL_QUOTA_UNITS.get(method_id, 5)
    return 1


@dataclass
class Stats:
    """Counters since the last reset(). Thread-safe through `lock`."""

    round_trips: int = 0  # HTTP requests received (a batch counts once)
    token_requests: int = 0  # of which /token and /tokeninfo
    batches: int = 0
    sub_requests: int = 0
    quota_units: int = 0
    calls: Counter[str] = field(default_factory=Counter)  # method id -> calls served
    quota_by_method: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)  # fault kind -> injected
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def reset(self) -> None:
        """Zero every counter."""
        with self.lock:
            self.round_trips = self.token_requests = self.batches = self.sub_requests = 0
            self.quota_units = 0
            self.calls.clear()
            self.quota_by_method.clear()
            self.faults.clear()

    def count_call(self, method_id: str) -> None:
        """One call to `method_id` reached the service."""
        units = quota_units(method_id)
        with self.lock:
            self.calls[method_id] += 1
            self.quota_units += units
            self.quota_by_method[method_id] += units

    def count_fault(self, kind: str) -> None:
        """One injected fault (or rate-limit refusal) of `kind`."""
        with self.lock:
            self.faults[kind] += 1

    def count(self, name: str, amount: int = 1) -> None:
        """Bump one of the integer counters."""
        with self.lock:
            setattr(self, name, getattr(self, name) + amount)

    def snapshot(self) -> dict[str, object]:
        """A plain-dict copy, handy for benchmark reports."""
        with self.lock:
            return {
                "round_trips": self.round_trips,
                "token_requests": self.token_requests,
                "batches": self.batches,
                "sub_requests": self.sub_requests,
                "quota_units": self.quota_units,
                "calls": dict(self.calls),
                "quota_by_method": dict(self.quota_by_method),
                "faults": dict(self.faults),
            }
