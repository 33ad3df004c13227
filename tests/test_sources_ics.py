"""The .ics source against Google and Outlook exports and broken calendars."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from villaged.backends.local.ics import IcsSource
from villaged.domain.addresses import Matcher
from villaged.domain.errors import VillagedError
from villaged.domain.village import Kind, Person, Role, Thresholds
from villaged.ports.cursor import stored_cursor
from villaged.ports.source import SyncContext
from villaged.service.sync import sync_all
from villaged.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "ics"
NOW = dt.datetime(2025, 11, 25, 12, 0, tzinfo=dt.UTC)
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC
OWNER = ("dana@example.org",)
PEOPLE = (
    Person("ada", "Ada Lovelace", ("ada@analytical.org",), Role.MENTOR),
    Person("grace", "Grace Hopper", ("grace.hopper@navy.example.mil",), Role.SPONSOR),
    Person("alan", "Alan Turing", ("alan@bletchley.example.uk",), Role.COACH),
    Person("katherine", "Katherine Johnson", ("kjohnson@nasa.example.gov",), Role.ALLY),
)


def context(now: dt.datetime = NOW) -> SyncContext:
    return SyncContext(matcher=Matcher.build(OWNER, PEOPLE), limits=Thresholds(), now=now)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def snapshot(store: Store) -> tuple[list, dict]:
    rows = sorted((i.source, i.uid, i.person, i.at, i.kind.value, i.direct, i.status,
                   i.subject, i.series) for i in store.interactions())
    return rows, store.skips()


def full_scan(path: Path, tmp: Path, now: dt.datetime = NOW) -> tuple[list, dict]:
    with Store(tmp / f"fresh-{os.urandom(4).hex()}.sqlite3") as fresh:
        sync_all(fresh, [IcsSource(path, NEW_YORK)], context(now))
        return snapshot(fresh)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "state.sqlite3") as s:
        yield s


@pytest.fixture
def google(tmp_path: Path) -> Path:
    path = tmp_path / "dana@example.org.ics"
    shutil.copy(FIXTURES / "google.ics", path)
    return path


def test_google_export_recurrences(google: Path, store: Store) -> None:
    sync_all(store, [IcsSource(google, NEW_YORK)], context())
    ada = store.interactions("ada")
    assert [(i.at, i.direct, i.status) for i in ada] == [
        (at(2025, 10, 6, 14), True, "ok"),  # 10:00 EDT
        # 20 Oct is an EXDATE; the 3 Nov occurrence moved to 4 Nov 14:00 EST
        (at(2025, 11, 4, 19), True, "ok"),
        (at(2025, 11, 10, 15), True, "ok"),  # an RDATE
        (at(2025, 11, 17, 15), True, "ok"),
        (at(2025, 12, 1, 15), False, "cancelled"),  # a cancelled occurrence
        (at(2025, 12, 15, 15), True, "ok"),  # still ahead: assess decides
    ]
    assert all(i.kind == Kind.MEETING and i.series == "ada-one-on-one@google.com" for i in ada)
    assert ada[1].subject == "Ada / Dana 1:1 (moved)"
    assert ada[0].uid == "ada-one-on-one@google.com@2025-10-06T14:00:00Z"
    # Grace declined the grant review.
    assert [(i.direct, i.status, i.series) for i in store.interactions("grace")] == [
        (False, "declined", None)]
    # Alan was one of 40 at grand rounds: not a conversation.
    assert [(i.direct, i.status) for i in store.interactions("alan")] == [
        (False, "too-many-attendees")]
    # An all-day visit starts at midnight in the owner's zone.
    assert [(i.at, i.direct) for i in store.interactions("katherine")] == [
        (at(2025, 11, 21, 5), True)]
    # The 2020 coffee is outside the two-year lookback.
    assert "old-coffee-2020" not in str([i.uid for i in store.interactions()])
    assert store.skips() == {}


def test_outlook_export_with_windows_zone_names(tmp_path: Path, store: Store) -> None:
    sync_all(store, [IcsSource(FIXTURES / "outlook.ics", NEW_YORK)], context())
    # MAILTO: in capitals and a mixed-case owner address still match.
    assert [(i.at, i.direct) for i in store.interactions("katherine")] == [
        (at(2025, 11, 13, 17), True)]  # 09:00 Pacific Standard Time
    alan = store.interactions("alan")
    # The second Tuesday of each month at 08:00 Pacific, across the DST change.
    assert [i.at for i in alan] == [at(2025, 9, 9, 15), at(2025, 10, 14, 15),
                                    at(2025, 11, 11, 16), at(2025, 12, 9, 16),
                                    at(2026, 1, 13, 16)]
    assert all(i.direct and i.series for i in alan)


def test_broken_events_are_skipped_and_counted(store: Store) -> None:
    source = IcsSource(FIXTURES / "broken.ics", NEW_YORK)
    sync_all(store, [source], context())
    assert [i.subject for i in store.interactions()] == ["Coffee with Ada"]
    assert store.skips() == {source.name: {"broken event": 3}}


def test_an_unparseable_file_is_counted_not_raised(store: Store) -> None:
    source = IcsSource(FIXTURES / "unparseable.ics", NEW_YORK)
    sync_all(store, [source], context())
    assert store.skips() == {source.name: {"unparseable calendar": 1}}
    assert store.interactions() == []


def test_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(VillagedError, match="missing"):
        list(IcsSource(tmp_path / "gone.ics", NEW_YORK).sync(None, context()))


def test_x_wr_timezone_gives_floating_times_a_zone(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "berlin.ics"
    path.write_text(
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Google Inc//Google Calendar//EN\n"
        "X-WR-TIMEZONE:Europe/Berlin\nBEGIN:VEVENT\nUID:berlin@google.com\n"
        "DTSTART:20251118T100000\nDTEND:20251118T110000\nSUMMARY:Kaffee\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:ada@analytical.org\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@example.org\nEND:VEVENT\nEND:VCALENDAR\n")
    sync_all(store, [IcsSource(path, NEW_YORK)], context())
    assert [i.at for i in store.interactions("ada")] == [at(2025, 11, 18, 9)]


def test_unchanged_file_and_window_yield_nothing(google: Path, store: Store) -> None:
    source = IcsSource(google, NEW_YORK)
    sync_all(store, [source], context())
    assert list(source.sync(stored_cursor(source, store.cursor(source.name)), context())) == []
    later_today = NOW + dt.timedelta(hours=5)  # same window of whole days
    assert list(source.sync(stored_cursor(source, store.cursor(source.name)), context(later_today))) == []


def test_edits_remove_what_disappeared(google: Path, store: Store, tmp_path: Path) -> None:
    source = IcsSource(google, NEW_YORK)
    sync_all(store, [source], context())
    text = google.read_text()
    # Dana cancels the rest of the series (an EXDATE) and the grant review is
    # deleted; Katherine's visit is cancelled.
    text = text.replace("RDATE;TZID=America/New_York:20251110T100000",
                        "RDATE;TZID=America/New_York:20251110T100000\n"
                        "EXDATE;TZID=America/New_York:20251215T100000")
    start = text.index("BEGIN:VEVENT\nDTSTART:20251112T150000Z")
    text = text[:start] + text[text.index("END:VEVENT\n", start) + len("END:VEVENT\n"):]
    text = text.replace("SUMMARY:Katherine visits the lab",
                        "SUMMARY:Katherine visits the lab\nSTATUS:CANCELLED")
    google.write_text(text)
    (batch,) = source.sync(stored_cursor(source, store.cursor(source.name)), context())
    assert not batch.replace
    assert sorted(batch.removed_uids) == [
        "ada-one-on-one@google.com@2025-12-15T15:00:00Z",
        "grant-review-2025@google.com@2025-11-12T15:00:00Z"]
    sync_all(store, [source], context())
    assert store.interactions("grace") == []
    assert [(i.direct, i.status) for i in store.interactions("katherine")] == [
        (False, "cancelled")]
    assert snapshot(store) == full_scan(google, tmp_path)


def test_a_moving_window_equals_a_full_rescan(google: Path, store: Store,
                                              tmp_path: Path) -> None:
    source = IcsSource(google, NEW_YORK)
    sync_all(store, [source], context())
    # Two years and a bit later, the October meetings fell out of the lookback.
    later = at(2027, 10, 10, 12)
    sync_all(store, [source], context(later))
    assert [i.at for i in store.interactions("ada")][0] == at(2025, 11, 4, 19)
    assert snapshot(store) == full_scan(google, tmp_path, later)


def test_a_broken_rewrite_keeps_what_was_known(google: Path, store: Store,
                                               tmp_path: Path) -> None:
    source = IcsSource(google, NEW_YORK)
    sync_all(store, [source], context())
    before = store.interactions()
    good = google.read_bytes()
    google.write_bytes(good[:200])  # a calendar app is half-way through saving
    sync_all(store, [source], context())
    assert store.interactions() == before
    assert store.skips() == {source.name: {"unparseable calendar": 1}}
    google.write_bytes(good)
    sync_all(store, [source], context())
    assert snapshot(store) == full_scan(google, tmp_path)


def test_one_bad_event_does_not_cost_the_calendar(monkeypatch: pytest.MonkeyPatch,
                                                  store: Store) -> None:
    """If expansion fails on something validation did not catch, events are
    expanded one by one and only the failing one is lost."""
    import recurring_ical_events

    real = recurring_ical_events.of

    def fussy(calendar, *args, **kwargs):
        uids = {str(c.get("UID")) for c in calendar.walk("VEVENT")}
        if "grant-review-2025@google.com" in uids:
            raise ValueError("cannot expand")
        return real(calendar, *args, **kwargs)

    monkeypatch.setattr(recurring_ical_events, "of", fussy)
    source = IcsSource(FIXTURES / "google.ics", NEW_YORK)
    sync_all(store, [source], context())
    assert store.skips() == {source.name: {"broken event": 1}}
    assert store.interactions("grace") == []
    assert len(store.interactions("ada")) == 6
