"""Run every source once and write what it found into the store.

Each batch a source yields is written together with its cursor in one
transaction (``Store.apply_sync``), so a crash mid-sync loses nothing and
duplicates nothing: the next run resumes from the last committed cursor.
Cursors are typed per source and (de)serialised here, through ``ports.cursor``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from villaged.ports.cursor import storable, stored_cursor
from villaged.ports.source import Source, SyncContext
from villaged.store import Store

log = logging.getLogger(__name__)


@dataclass
class SourceReport:
    """What one source's sync did."""

    new: int = 0  # interactions written (re-read ones included)
    not_contact: Counter[str] = field(default_factory=Counter)  # seen, did not count: by status
    removed: int = 0  # uids the source reported gone
    batches: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    rescanned: bool = False  # a full rescan replaced what was stored

    @property
    def interactions(self) -> int:
        """The same as ``new``, under the name the renderers use."""
        return self.new

    @property
    def contacts(self) -> int:
        """Interactions that count as contact."""
        return self.new - sum(self.not_contact.values())


@dataclass
class SyncReport:
    """Per source name, what the sync did."""

    sources: dict[str, SourceReport] = field(default_factory=dict)

    @property
    def new(self) -> int:
        return sum(r.new for r in self.sources.values())

    @property
    def skipped(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for r in self.sources.values():
            total.update(r.skipped)
        return total


def sync_source(store: Store, source: Source, ctx: SyncContext) -> SourceReport:
    """Sync one source into ``store``; returns what it did."""
    name = source.name
    report = SourceReport()
    started = time.perf_counter()
    for batch in source.sync(stored_cursor(source, store.cursor(name)), ctx):
        store.apply_sync(name, batch.interactions, storable(batch.cursor), batch.removed_uids,
                         batch.skipped, batch.replace)
        report.batches += 1
        report.new += len(batch.interactions)
        report.not_contact.update(i.status for i in batch.interactions if not i.direct)
        report.removed += len(batch.removed_uids)
        report.skipped.update(batch.skipped)
        report.rescanned = report.rescanned or batch.replace
    report.seconds = time.perf_counter() - started
    report.skipped = Counter({k: v for k, v in report.skipped.items() if v})
    if report.batches:
        log.info("%s: %d interactions in %d batches, %d removed, skipped %s (%.2f s)",
                 name, report.new, report.batches, report.removed,
                 dict(report.skipped) or "nothing", report.seconds)
    else:
        log.debug("%s: unchanged (%.3f s)", name, report.seconds)
    return report


def sync_all(store: Store, sources: Iterable[Source], ctx: SyncContext) -> SyncReport:
    """Sync every source in turn. A source's VillagedError (a missing file,
    say) propagates: the caller reports it and the next round retries."""
    report = SyncReport()
    for source in sources:
        report.sources[source.name] = sync_source(store, source, ctx)
    return report
