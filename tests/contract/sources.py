"""The Source contract: what every source (mail or calendar) guarantees.

A subclass provides one fixture, ``harness``, returning a ``SourceHarness``
for its implementation (see README.md). The tests add and remove contact
through the harness, as a mail client or a calendar would, and sync with
the service's own driver into a real SQLite store.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar, Literal, Protocol

import pytest

from tests.contract.faults import Killed, KilledSource
from tests.contract.village import ADA, ALAN, GRACE, KEYS, NOW, newest, rows, sync
from villaged.domain.village import Kind
from villaged.ports.source import Source
from villaged.store import Store

D = dt.timedelta
Removal = Literal["forget", "keep"]


class SourceHarness(Protocol):
    """How the suite drives one source implementation."""

    # A calendar gives meetings; a mailbox gives mail in and out.
    calendar: bool
    # What a removed message or event does once synced: "forget" takes the contact
    # back (a deleted or cancelled event; an mbox rewritten); "keep" leaves it counted
    # (mail that happened still happened, the owner only tidied up).
    removal: Removal
    # True when a full rescan stores exactly what incremental syncs do; False when a
    # full rescan keeps only the newest contact per person and kind (Gmail's search).
    exact: bool

    def source(self) -> Source:
        """A new source instance, as after a restart (state only in the store)."""

    def add(self, who: str, at: dt.datetime, outbound: bool = False) -> str:
        """Contact with ``who`` at ``at`` (mail from them, or to them if ``outbound``;
        a meeting both attend for a calendar); returns a handle for ``remove``."""

    def remove(self, handle: str) -> None:
        """Delete that message or event, as the owner would."""


class SourceContract:
    """Subclass as ``TestXxxSource(SourceContract)`` with a ``harness`` fixture."""

    # kill the sync after 0, 1, ... committed batches (as many as a full sync has, at most)
    KILLS: ClassVar[int] = 3

    @pytest.fixture
    def harness(self, tmp_path: Path) -> SourceHarness:
        raise NotImplementedError("a contract subclass provides the harness fixture")

    @pytest.fixture
    def stores(self, tmp_path: Path):
        opened: list[Store] = []

        def make(name: str) -> Store:
            store = Store(tmp_path / f"{name}.sqlite3")
            opened.append(store)
            return store

        yield make
        for store in opened:
            store.close()

    def full(self, harness: SourceHarness, store: Store) -> None:
        sync(store, harness.source())

    def view(self, harness: SourceHarness, store: Store) -> set:
        return rows(store.interactions()) if harness.exact else newest(store.interactions())

    # -- the contract ------------------------------------------------------------------

    def test_contact_is_found_in_utc_under_the_sources_name(self, harness, stores):
        harness.add(ADA, NOW - D(days=10))
        harness.add(GRACE, NOW - D(days=4), outbound=True)
        store = stores("a")
        source = harness.source()
        report = sync(store, source)
        assert report.rescanned and report.new >= 2
        found = store.interactions()
        assert {i.source for i in found} == {source.name}
        assert all(i.at.utcoffset() == D(0) for i in found)
        direct = {(i.person, i.kind, i.at) for i in found if i.direct}
        if harness.calendar:
            assert direct == {(KEYS[ADA], Kind.MEETING, NOW - D(days=10)),
                              (KEYS[GRACE], Kind.MEETING, NOW - D(days=4))}
        else:
            assert direct == {(KEYS[ADA], Kind.EMAIL_IN, NOW - D(days=10)),
                              (KEYS[GRACE], Kind.EMAIL_OUT, NOW - D(days=4))}

    def test_syncing_again_changes_nothing(self, harness, stores):
        harness.add(ADA, NOW - D(days=10))
        harness.add(ALAN, NOW - D(days=3), outbound=True)
        store = stores("a")
        sync(store, harness.source())
        before = rows(store.interactions())
        again = sync(store, harness.source())  # a new instance: as after a restart
        assert not again.rescanned and again.new == 0
        assert rows(store.interactions()) == before

    def test_resuming_from_a_cursor_equals_a_full_rescan(self, harness, stores):
        harness.add(ADA, NOW - D(days=30))
        harness.add(GRACE, NOW - D(days=20), outbound=True)
        incremental = stores("incremental")
        sync(incremental, harness.source())
        harness.add(ADA, NOW - D(days=2))
        harness.add(ALAN, NOW - D(days=1), outbound=True)  # somebody new
        report = sync(incremental, harness.source())
        assert not report.rescanned
        full = stores("full")
        self.full(harness, full)
        assert self.view(harness, incremental) == self.view(harness, full)
        assert {KEYS[ALAN], KEYS[ADA]} <= {i.person for i in incremental.interactions()}

    def test_a_sync_killed_between_batches_resumes_to_a_full_rescans_result(self, harness,
                                                                             stores):
        for n in range(5):
            harness.add((ADA, GRACE, ALAN)[n % 3], NOW - D(days=40 - 7 * n), outbound=n == 3)
        full = stores("full")
        report = sync(full, harness.source())
        expected = self.view(harness, full)
        for kills in range(min(report.batches, self.KILLS)):
            store = stores(f"killed-{kills}")
            with pytest.raises(Killed):
                sync(store, KilledSource(harness.source(), kills))
            sync(store, harness.source())
            assert self.view(harness, store) == expected, f"killed after {kills} batches"

    def test_a_removal_is_forgotten_or_kept_as_the_source_promises(self, harness, stores):
        gone = harness.add(ADA, NOW - D(days=10))
        harness.add(GRACE, NOW - D(days=5))
        store = stores("a")
        sync(store, harness.source())
        before = self.view(harness, store)
        harness.remove(gone)
        sync(store, harness.source())
        if harness.removal == "forget":
            full = stores("full")
            self.full(harness, full)
            assert self.view(harness, store) == self.view(harness, full)
            assert KEYS[ADA] not in {i.person for i in store.interactions() if i.direct}
        else:
            assert self.view(harness, store) == before

    def test_incremental_rounds_equal_one_full_rescan(self, harness, stores):
        store = stores("incremental")
        sync(store, harness.source())  # an empty mailbox or calendar to start from
        for n, who in enumerate((ADA, GRACE, ALAN, ADA, GRACE)):
            harness.add(who, NOW - D(days=50 - 9 * n), outbound=n % 2 == 1)
            sync(store, harness.source(), NOW + D(minutes=n))
        full = stores("full")
        self.full(harness, full)
        assert self.view(harness, store) == self.view(harness, full)

    def test_a_stored_cursor_of_another_version_or_shape_means_a_clean_full_rescan(self, harness,
                                                                                   stores):
        harness.add(ADA, NOW - D(days=10))
        harness.add(GRACE, NOW - D(days=4), outbound=True)
        store = stores("a")
        source = harness.source()
        sync(store, source)
        expected = self.view(harness, store)
        stored = store.cursor(source.name)
        assert stored is not None and isinstance(stored.get("version"), int)
        # written before cursors were typed (no "kind"): still read, no rescan
        legacy = {k: v for k, v in stored.items() if k != "kind"}
        store.apply_sync(source.name, [], legacy)
        assert not sync(store, harness.source()).rescanned
        assert self.view(harness, store) == expected
        broken = [{**stored, "version": stored["version"] + 1}, {**stored, "version": 0},
                  {"version": stored["version"], "kind": stored.get("kind")},
                  {**stored, "kind": "another-source"}, {"garbage": True}]
        for cursor in broken:
            store.apply_sync(source.name, [], cursor)
            report = sync(store, harness.source())
            assert report.rescanned, cursor
            assert self.view(harness, store) == expected, cursor
