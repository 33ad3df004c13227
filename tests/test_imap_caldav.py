"""CalDAV against a real Radicale: sync-collection, a rejected token, expansion as for .ics, busy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.imap_kit import NOW, OWNER, context, imap_village, rows, sync
from villaged.backends.imap.backend import ImapIO
from villaged.backends.imap.calendar_source import CaldavSource
from villaged.backends.local.ics import IcsSource
from villaged.service.sync import sync_source
from villaged.store import Store


def event(uid: str, start: str, attendees: list[tuple[str, str]], *, rrule: str = "",
          extra: str = "", summary: str = "Meeting", minutes: int = 45) -> str:
    begin = dt.datetime.strptime(start, "%Y%m%dT%H%M%SZ")
    end = (begin + dt.timedelta(minutes=minutes)).strftime("%Y%m%dT%H%M%SZ")
    people = "".join(f"ATTENDEE;PARTSTAT={stat}:mailto:{who}\r\n" for who, stat in attendees)
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//villaged tests//EN\r\n"
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{start}\r\n"
            f"DTEND:{end}\r\nSUMMARY:{summary}\r\nORGANIZER:mailto:{OWNER}\r\n{people}"
            f"{rrule}{extra}END:VEVENT\r\nEND:VCALENDAR\r\n")


ME = (OWNER, "ACCEPTED")
EVENTS = [
    event("ada-coffee", "20261110T160000Z", [ME, ("ada@example.org", "ACCEPTED")]),
    event("cyd-weekly", "20261002T150000Z", [ME, ("cyd@dance.example", "ACCEPTED")],
          rrule="RRULE:FREQ=WEEKLY;COUNT=12\r\n", extra="EXDATE:20261016T150000Z\r\n"),
    event("bob-declined", "20261112T160000Z", [ME, ("bob.kahn@gmail.com", "DECLINED")]),
    event("grand-rounds", "20261113T160000Z",
          [ME, ("ada@example.org", "ACCEPTED")] + [(f"p{n}@h.example", "ACCEPTED")
                                                   for n in range(12)]),
]


def put_events(calendar) -> None:
    for ics in EVENTS:
        calendar.put(ics)


@contextmanager
def calendar_source(village, state_dir: Path) -> Iterator[tuple[ImapIO, CaldavSource]]:
    """The backend (closed afterwards) and its CalDAV source."""
    io = ImapIO(village, village.backend, state_dir)
    try:
        yield io, next(s for s in io.sources() if isinstance(s, CaldavSource))
    finally:
        io.close()


def change_the_calendar(calendar) -> None:
    """One meeting deleted, one added."""
    calendar.delete("ada-coffee")
    calendar.put(event("cyd-lunch", "20261118T170000Z", [ME, ("cyd@dance.example", "ACCEPTED")]))


def assert_the_change_was_read(store: Store) -> None:
    uids = {i.uid.split("@")[0] for i in store.interactions()}
    assert "ada-coffee" not in uids and "cyd-lunch" in uids


def test_meetings_match_the_ics_reading_of_the_same_events(caldav_calendar, imap_account,
                                                           tmp_path: Path):
    put_events(caldav_calendar)
    village = imap_village(imap_account, tmp_path / "state", calendar=caldav_calendar)
    store = Store(tmp_path / "a.db")
    with calendar_source(village, tmp_path / "state") as (_, source):
        sync_source(store, source, context(village))
    # the very same events as one .ics file, read by the local backend
    ics_file = tmp_path / "same.ics"
    body = "".join(e.split("PRODID:-//villaged tests//EN\r\n", 1)[1].rsplit("END:VCALENDAR", 1)[0]
                   for e in EVENTS)
    ics_file.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + body + "END:VCALENDAR\r\n")
    local = Store(tmp_path / "b.db")
    sync_source(local, IcsSource(ics_file, village.owner.timezone), context(village))
    assert rows(store) == rows(local)
    by = {(i.uid.split("@")[0], i.person): i for i in store.interactions()}
    assert by[("ada-coffee", "ada")].direct
    assert not by[("bob-declined", "bob")].direct and by[("bob-declined", "bob")].status == "declined"
    assert by[("grand-rounds", "ada")].status == "too-many-attendees"
    weekly = [i for i in store.interactions() if i.person == "cyd"]
    assert len(weekly) == 11  # 12 weeks less the EXDATE


def test_changes_arrive_by_sync_token_and_a_rejected_token_resyncs(caldav_calendar, imap_account,
                                                                  tmp_path: Path):
    put_events(caldav_calendar)
    village = imap_village(imap_account, tmp_path / "state", calendar=caldav_calendar)
    store = Store(tmp_path / "a.db")
    with calendar_source(village, tmp_path / "state") as (io, source):
        ctx = context(village)
        sync_source(store, source, ctx)
        assert io.caldav is not None
        before = io.caldav.requests
        report = sync_source(store, source, ctx)
        assert io.caldav.requests - before == 1 and report.batches == 0  # one REPORT
        change_the_calendar(caldav_calendar)
        sync_source(store, source, ctx)
        assert_the_change_was_read(store)
        # a token the server does not know: a full re-read, with the same result
        cursor = store.cursor(source.name)
        assert cursor is not None
        for state in cursor["calendars"].values():
            state["token"] = "http://radicale.org/ns/sync/" + "0" * 64
        store.apply_sync(source.name, [], cursor)
        expected = rows(store)
        sync_source(store, source, ctx)
        assert rows(store) == expected
    fresh = Store(tmp_path / "b.db")
    sync(imap_village(imap_account, tmp_path / "s2", calendar=caldav_calendar), fresh,
         tmp_path / "s2")
    assert {r for r in rows(fresh) if "@" in r[0] and not r[0].startswith("<")} == expected


def test_busy_times_come_from_the_same_events(caldav_calendar, imap_account, tmp_path: Path):
    caldav_calendar.put(event("ada-next", "20261124T160000Z",
                              [ME, ("ada@example.org", "ACCEPTED")], minutes=60))
    caldav_calendar.put(event("free-thing", "20261124T180000Z", [ME],
                              extra="TRANSP:TRANSPARENT\r\n"))
    caldav_calendar.put(event("i-declined", "20261125T160000Z",
                              [(OWNER, "DECLINED"), ("ada@example.org", "ACCEPTED")]))
    village = imap_village(imap_account, tmp_path / "state", calendar=caldav_calendar)
    io = ImapIO(village, village.backend, tmp_path / "state")
    try:
        busy = io.busy(NOW, NOW + dt.timedelta(days=7))
    finally:
        io.close()
    utc = dt.timezone.utc
    assert busy == [(dt.datetime(2026, 11, 24, 16, tzinfo=utc), dt.datetime(2026, 11, 24, 17, tzinfo=utc))]


def test_a_server_without_sync_collection_is_read_by_time_range(caldav_calendar, imap_account,
                                                                tmp_path: Path):
    from tests.servers.no_sync_proxy import NoSyncCollectionProxy

    put_events(caldav_calendar)
    direct = Store(tmp_path / "direct.db")
    sync(imap_village(imap_account, tmp_path / "s1", calendar=caldav_calendar), direct,
         tmp_path / "s1")
    with NoSyncCollectionProxy(caldav_calendar.server.url, caldav_calendar.ca) as proxy:
        village = imap_village(imap_account, tmp_path / "s2", calendar=caldav_calendar,
                               caldav={"url": proxy.url, "ca_file": None})
        store = Store(tmp_path / "query.db")
        with calendar_source(village, tmp_path / "s2") as (_, source):
            ctx = context(village)
            sync_source(store, source, ctx)
            assert proxy.reports["sync-collection"] >= 1 and proxy.reports["other"] >= 1
            meetings = {r for r in rows(direct) if not r[0].startswith("<")}  # not mail
            assert meetings and rows(store) == meetings  # the same as by sync-collection
            unchanged = sync_source(store, source, ctx)
            assert unchanged.new == 0 and rows(store) == meetings
            # the time-range query sees changes too, and the cursor remembers the mode
            change_the_calendar(caldav_calendar)
            sync_source(store, source, ctx)
            assert_the_change_was_read(store)
            cursor = store.cursor(source.name)
            assert cursor is not None
            assert {s["mode"] for s in cursor["calendars"].values()} == {"query"}
