"""Google Calendar source (and free/busy) against the local Google API server."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.google_api_server import GoogleApiServer
from tests.google_fixtures import NOW, OWNER, Setup, server, setup  # noqa: F401  (fixtures)

D = dt.timedelta
ADA, GRACE = "ada@analytical.example", "grace@navy.example"


def stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meeting(server: GoogleApiServer, start: dt.datetime, *guests: tuple[str, str],
            summary: str = "coffee", calendar: str = "primary", **extra: Any) -> str:
    event = {
        "summary": summary,
        "start": {"dateTime": stamp(start)},
        "end": {"dateTime": stamp(start + D(minutes=45))},
        "attendees": [{"email": OWNER, "responseStatus": "accepted"}]
        + [{"email": g, "responseStatus": s} for g, s in guests],
        **extra,
    }
    return server.add_event(calendar, event)


def meetings(setup: Setup) -> dict[str, tuple[str, dt.datetime, bool, str]]:
    """uid → (person, start, direct, status) for every meeting interaction."""
    return {uid: (person, at, direct, status)
            for source, uid, person, at, kind, direct, status, _ in setup.interactions()
            if kind == "meeting"}


def test_full_sync_reads_the_window_with_declines_and_attendee_counts(server, setup):
    past = meeting(server, NOW - D(days=10), (ADA, "accepted"))
    future = meeting(server, NOW + D(days=5), (GRACE, "needsAction"))
    declined = meeting(server, NOW - D(days=3), (ADA, "declined"))
    crowd = meeting(server, NOW - D(days=4), (ADA, "accepted"),
                    *((f"x{n}@crowd.example", "accepted") for n in range(15)))
    meeting(server, NOW - D(days=900), (ADA, "accepted"))  # before the lookback
    meeting(server, NOW + D(days=90), (ADA, "accepted"))  # beyond the horizon
    i_declined = server.add_event("primary", {
        "summary": "talk", "start": {"dateTime": stamp(NOW - D(days=2))},
        "end": {"dateTime": stamp(NOW - D(days=2, minutes=-30))},
        "attendees": [{"email": OWNER, "responseStatus": "declined"},
                      {"email": GRACE, "responseStatus": "accepted"}]})
    setup.sync()
    assert meetings(setup) == {
        past: ("ada-lovelace", NOW - D(days=10), True, "ok"),
        future: ("grace-hopper", NOW + D(days=5), True, "ok"),
        declined: ("ada-lovelace", NOW - D(days=3), False, "declined"),
        crowd: ("ada-lovelace", NOW - D(days=4), False, "too-many-attendees"),
        i_declined: ("grace-hopper", NOW - D(days=2), False, "declined"),
    }


def test_incremental_sync_uses_the_sync_token_alone(server, setup):
    meeting(server, NOW - D(days=10), (ADA, "accepted"))
    setup.sync()
    server.reset_stats()
    setup.sync(NOW + D(minutes=15))
    assert server.stats.calls["calendar.events.list"] == 1
    assert server.violations == []  # a syncToken with timeMin etc. would be a 400 + violation
    new = meeting(server, NOW + D(days=2), (GRACE, "accepted"))
    setup.sync(NOW + D(minutes=30))
    assert meetings(setup)[new] == ("grace-hopper", NOW + D(days=2), True, "ok")


def test_cancelled_deleted_and_declined_events_take_back_the_contact(server, setup):
    cancelled = meeting(server, NOW + D(days=3), (ADA, "accepted"))
    deleted = meeting(server, NOW + D(days=4), (GRACE, "accepted"))
    declined_later = meeting(server, NOW + D(days=6), (ADA, "accepted"))
    moved = meeting(server, NOW + D(days=7), (GRACE, "accepted"))
    dropped_guest = meeting(server, NOW + D(days=8), (ADA, "accepted"), (GRACE, "accepted"))
    setup.sync()
    assert {cancelled, deleted, declined_later, moved, dropped_guest} <= set(meetings(setup))
    server.cancel_event("primary", cancelled)
    server.delete_event("primary", deleted)
    server.update_event("primary", declined_later, {"attendees": [
        {"email": OWNER, "responseStatus": "accepted"}, {"email": ADA, "responseStatus": "declined"}]})
    server.update_event("primary", moved, {"start": {"dateTime": stamp(NOW + D(days=9))},
                                           "end": {"dateTime": stamp(NOW + D(days=9, minutes=30))}})
    server.update_event("primary", dropped_guest, {"attendees": [
        {"email": OWNER, "responseStatus": "accepted"}, {"email": ADA, "responseStatus": "accepted"}]})
    report = setup.sync(NOW + D(hours=1))
    assert not report.sources["gcalendar:primary"].rescanned
    found = meetings(setup)
    assert cancelled not in found and deleted not in found
    assert found[declined_later] == ("ada-lovelace", NOW + D(days=6), False, "declined")
    assert found[moved] == ("grace-hopper", NOW + D(days=9), True, "ok")
    with setup.store() as store:
        people = {i.person for i in store.interactions() if i.uid == dropped_guest}
    assert people == {"ada-lovelace"}


def test_an_expired_sync_token_clears_and_resyncs(server, setup):
    keep = meeting(server, NOW - D(days=5), (ADA, "accepted"))
    gone = meeting(server, NOW - D(days=6), (GRACE, "accepted"))
    setup.sync()
    server.delete_event("primary", gone)
    server.expire_sync_tokens()  # the tombstone is never heard of: only the full list tells
    server.reset_stats()
    report = setup.sync(NOW + D(hours=1))
    assert report.sources["gcalendar:primary"].rescanned
    assert set(meetings(setup)) == {keep}
    assert server.stats.calls["calendar.events.list"] == 2  # the 410, then the full list
    server.reset_stats()
    setup.sync(NOW + D(hours=2))
    assert server.stats.calls["calendar.events.list"] == 1


def test_each_configured_calendar_has_its_own_cursor(server, tmp_path):
    s = Setup(server, tmp_path, calendars=("primary", "team@group.calendar.example"))
    a = meeting(server, NOW - D(days=1), (ADA, "accepted"))
    b = meeting(server, NOW - D(days=2), (GRACE, "accepted"), calendar="team@group.calendar.example")
    s.sync()
    assert {a, b} <= set(meetings(s))
    with s.store() as store:
        assert store.cursor("gcalendar:primary")["sync_token"]
        assert store.cursor("gcalendar:team@group.calendar.example")["sync_token"]


def test_the_window_moves_on_weekly(server, setup):
    meeting(server, NOW - D(days=1), (ADA, "accepted"))
    far = meeting(server, NOW + D(days=65), (GRACE, "accepted"))  # beyond the horizon today
    setup.sync()
    assert far not in meetings(setup)
    setup.sync(NOW + D(days=3))
    assert far not in meetings(setup)  # nothing changed, and the window is fresh
    report = setup.sync(NOW + D(days=8))
    assert report.sources["gcalendar:primary"].rescanned
    assert far in meetings(setup)


def test_busy_intervals_come_from_freebusy(server, setup):
    meeting(server, NOW + D(days=1), (ADA, "accepted"))
    meeting(server, NOW + D(days=1, minutes=30), (GRACE, "accepted"))
    meeting(server, NOW + D(days=20), (GRACE, "accepted"))
    io = setup.io()
    busy = io.busy(NOW, NOW + D(days=7))
    assert busy == [(NOW + D(days=1), NOW + D(days=1, minutes=75))]
    assert server.stats.calls["calendar.freebusy.query"] == 1


def test_a_series_google_expands_endlessly_is_capped_and_the_excess_reported(server, setup):
    """Google expands recurrences itself (singleEvents): villaged keeps at most
    MAX_OCCURRENCES instances of one series and reports the rest as skipped."""
    from villaged.core.recurrence import MAX_OCCURRENCES, OVER_LIMIT

    first = NOW - D(days=30)
    for n in range(MAX_OCCURRENCES + 40):
        meeting(server, first + D(minutes=10 * n), (ADA, "accepted"), summary="every 10 min",
                recurringEventId="spam-series")
    weekly = meeting(server, NOW - D(days=7), (GRACE, "accepted"), recurringEventId="weekly")
    report = setup.sync()
    found = meetings(setup)
    assert weekly in found
    assert sum(1 for person, *_ in found.values() if person == "ada-lovelace") == MAX_OCCURRENCES
    [calendar] = [s for name, s in report.sources.items() if name.startswith("gcalendar:")]
    assert calendar.skipped == {OVER_LIMIT: 40}
