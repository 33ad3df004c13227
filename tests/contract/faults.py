"""Crash and fault injection at the ports, in tests only.

``Killed`` stands in for kill -9: a BaseException, so no ``except Exception``
in villaged can swallow it, raised at a chosen point of a port call. The
wrappers below put it there; everything else passes through untouched.

- ``KilledSource``: the sync driver commits the first N batches, then the
  process dies (before the next batch is committed).
- ``FaultyOutbox``: dies at the Nth ``put``, before the draft is written
  (``BEFORE_WRITE``) or after it is written but before ``put`` returns
  (``AFTER_WRITE``: the answer is lost, the ledger still says ``creating``),
  or dies in ``existing()`` (``IN_EXISTING``).
- ``with_outbox``: a BackendIO whose outbox is replaced (by a faulty one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

from villaged.ports.backend import BackendIO, Interval
from villaged.ports.outbox import Outbox
from villaged.ports.source import Source, SyncBatch, SyncContext

BEFORE_WRITE = "before write"
AFTER_WRITE = "after write, before return"
IN_EXISTING = "in existing()"
KILL_POINTS = (BEFORE_WRITE, AFTER_WRITE)


class Killed(BaseException):
    """The process died here (kill -9)."""


class KilledSource:
    """A source whose process dies once ``batches`` batches have been handed out."""

    def __init__(self, inner: Source, batches: int) -> None:
        self.inner = inner
        self.batches = batches

    @property
    def name(self) -> str:
        return self.inner.name

    def sync(self, cursor: Any, ctx: SyncContext) -> Iterator[SyncBatch]:
        stream = self.inner.sync(cursor, ctx)
        try:
            for done, batch in enumerate(stream):
                if done == self.batches:
                    raise Killed(f"killed after {done} batches of {self.name}")
                yield batch
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class FaultyOutbox:
    """Wraps an outbox; dies at the ``at``-th call of ``point`` (1-based)."""

    def __init__(self, inner: Outbox, point: str, at: int = 1) -> None:
        self.inner = inner
        self.point = point
        self.at = at
        self.puts = 0
        self.scans = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def drafts_link(self) -> str:
        return self.inner.drafts_link

    def put(self, key: str, message: EmailMessage, thread: str | None) -> str:
        self.puts += 1
        due = self.puts == self.at
        if due and self.point == BEFORE_WRITE:
            raise Killed(f"killed before writing {key}")
        draft_id = self.inner.put(key, message, thread)
        if due and self.point == AFTER_WRITE:
            raise Killed(f"killed after writing {key} as {draft_id}")
        return draft_id

    def existing(self) -> dict[str, str]:
        self.scans += 1
        if self.point == IN_EXISTING and self.scans == self.at:
            raise Killed("killed while listing the drafts")
        return self.inner.existing()

    def seen(self) -> list[Any]:
        self.scans += 1
        if self.point == IN_EXISTING and self.scans == self.at:
            raise Killed("killed while listing the drafts")
        from villaged.ports.outbox import drafts_seen

        return drafts_seen(self.inner)


class _WithOutbox:
    def __init__(self, inner: BackendIO, outbox: Outbox) -> None:
        self.inner = inner
        self._outbox = outbox

    @property
    def outbox(self) -> Outbox:
        return self._outbox

    def sources(self) -> list[Source]:
        return self.inner.sources()

    def busy(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        return self.inner.busy(start, end)

    def deliver_digest(self, message: EmailMessage) -> str:
        return self.inner.deliver_digest(message)

    def close(self) -> None:
        self.inner.close()


def with_outbox(io: BackendIO, outbox: Outbox) -> BackendIO:
    """``io`` with its outbox replaced."""
    return _WithOutbox(io, outbox)
