"""The busy calendar contract: the owner's busy time overlapping a window, merged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol

import pytest

from tests.contract.village import NOW
from villaged.ports.backend import BusyCalendar

D = dt.timedelta
START = NOW + D(days=1)  # Tuesday 2026-11-24 14:00 UTC
END = START + D(days=7)


class BusyHarness(Protocol):
    def meeting(self, start: dt.datetime, end: dt.datetime) -> None:
        """An accepted meeting that makes the owner busy."""

    def calendar(self) -> BusyCalendar:
        """The port under test (a fresh instance)."""


class BusyContract:
    """Subclass as ``TestXxxBusy(BusyContract)`` with a ``harness`` fixture."""

    @pytest.fixture
    def harness(self, tmp_path: Path) -> BusyHarness:
        raise NotImplementedError("a contract subclass provides the harness fixture")

    def test_an_empty_calendar_is_free(self, harness):
        assert harness.calendar().busy(START, END) == []

    def test_busy_time_is_merged_clipped_sorted_and_aware(self, harness):
        harness.meeting(START + D(days=2), START + D(days=2, hours=1))
        harness.meeting(START + D(hours=1), START + D(hours=2))
        harness.meeting(START + D(hours=1, minutes=30), START + D(hours=3))  # overlaps
        harness.meeting(START + D(hours=3), START + D(hours=4))  # touches
        harness.meeting(START - D(hours=1), START + D(minutes=30))  # starts before the window
        harness.meeting(END - D(minutes=30), END + D(hours=1))  # ends after it
        harness.meeting(END + D(days=1), END + D(days=1, hours=1))  # outside
        harness.meeting(START - D(days=2), START - D(days=2, hours=-1))  # outside
        busy = harness.calendar().busy(START, END)
        assert all(a < END and b > START for a, b in busy)  # each overlaps the window
        # (whole intervals or clipped to the window: the port allows either)
        assert [(max(a, START), min(b, END)) for a, b in busy] == [
            (START, START + D(minutes=30)),
            (START + D(hours=1), START + D(hours=4)),
            (START + D(days=2), START + D(days=2, hours=1)),
            (END - D(minutes=30), END),
        ]
        assert all(a.utcoffset() is not None and b.utcoffset() is not None for a, b in busy)
