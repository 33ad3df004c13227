"""Invitations: slot choice against a real busy calendar, the guards, and the combined plan."""

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from tests.conftest import CHICAGO, NOW, convo, person, seen, village
from villaged.backends.local.backend import LocalIO
from villaged.backends.local.ics_busy import busy_intervals
from villaged.core.assess import assess
from villaged.core.invitations import (
    SERIES_DECLINED,
    anchor_rule,
    busy_window,
    choose_slot,
    first_slot,
    invite_key,
    plan_invitations,
)
from villaged.core.plan import iso_week, plan
from villaged.domain.village import (
    Action,
    Agreement,
    DraftRecord,
    DraftState,
    Kind,
    Skip,
    WorkingHours,
)

WEEK = "2026-W48"  # NOW is Monday 2026-11-23 08:00 in Chicago
AGREEMENT = Agreement(rrule="FREQ=WEEKLY;INTERVAL=4", rhythm="every 4 weeks",
                      duration_minutes=45, location="https://meet.example/ada",
                      agenda="Promotion packet", interval_days=28)
HOURS = WorkingHours()
TOMORROW = dt.date(2026, 11, 24)  # the first candidate day when no notice is asked
OWNER = "dana@uni.example"

BUSY_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//busy//EN
BEGIN:VEVENT
UID:standup@t
SUMMARY:Daily standup
DTSTART;TZID=America/Chicago:20261102T090000
DTEND;TZID=America/Chicago:20261102T093000
RRULE:FREQ=DAILY
DTSTAMP:20261101T000000Z
END:VEVENT
BEGIN:VEVENT
UID:clinic@t
SUMMARY:Clinic
DTSTART;TZID=America/Chicago:20261124T093000
DTEND;TZID=America/Chicago:20261124T120000
DTSTAMP:20261101T000000Z
END:VEVENT
BEGIN:VEVENT
UID:free@t
SUMMARY:Focus time (shown as free)
DTSTART;TZID=America/Chicago:20261124T120000
DTEND;TZID=America/Chicago:20261124T170000
TRANSP:TRANSPARENT
DTSTAMP:20261101T000000Z
END:VEVENT
BEGIN:VEVENT
UID:cancelled@t
SUMMARY:Cancelled review
STATUS:CANCELLED
DTSTART;TZID=America/Chicago:20261124T120000
DTEND;TZID=America/Chicago:20261124T130000
DTSTAMP:20261101T000000Z
END:VEVENT
BEGIN:VEVENT
UID:declined@t
SUMMARY:Committee I declined
DTSTART;TZID=America/Chicago:20261124T120000
DTEND;TZID=America/Chicago:20261124T130000
ORGANIZER:mailto:chair@uni.example
ATTENDEE;PARTSTAT=DECLINED:mailto:Dana@Uni.Example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:chair@uni.example
DTSTAMP:20261101T000000Z
END:VEVENT
BEGIN:VEVENT
UID:birthday@t
SUMMARY:A birthday (all day)
DTSTART;VALUE=DATE:20261124
DTEND;VALUE=DATE:20261125
DTSTAMP:20261101T000000Z
END:VEVENT
BEGIN:VEVENT
UID:lunch@t
SUMMARY:Lunch seminar
DTSTART;TZID=America/Chicago:20261124T121500
DTEND;TZID=America/Chicago:20261124T124500
DTSTAMP:20261101T000000Z
END:VEVENT
END:VCALENDAR
"""


def local(y, m, d, h, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=CHICAGO)


@pytest.fixture
def calendar(tmp_path: Path) -> Path:
    path = tmp_path / "cal.ics"
    path.write_text(BUSY_ICS.replace("\n", "\r\n"), encoding="utf-8")
    return path


def busy_from(path: Path, now=NOW):
    return busy_intervals([path], [OWNER], CHICAGO, now, now + dt.timedelta(days=16))


# -- slot choice ----------------------------------------------------------------


def test_busy_times_come_from_the_ics_file_with_recurrences_expanded(calendar: Path):
    busy = [(a.astimezone(CHICAGO), b.astimezone(CHICAGO)) for a, b in busy_from(calendar)]
    tuesday = [(a.time(), b.time()) for a, b in busy if a.date() == dt.date(2026, 11, 24)]
    # standup + clinic merge; the lunch seminar stays; transparent, cancelled, declined
    # and all-day events do not make the owner busy
    assert tuesday == [(dt.time(9), dt.time(12)), (dt.time(12, 15), dt.time(12, 45))]
    standups = [a for a, b in busy if a.time() == dt.time(9) and b.time() == dt.time(9, 30)]
    assert len(standups) >= 10  # the daily RRULE, expanded


def test_first_free_slot_skips_busy_and_fits_the_whole_meeting(calendar: Path):
    slot = choose_slot(busy_from(calendar), HOURS, CHICAGO, TOMORROW, dt.timedelta(minutes=45))
    # Tuesday: busy 9-12, 12:15-12:45; 12:00 would overlap the seminar; 12:45 is not on the
    # half-hour grid, so 13:00 is the first free start
    assert slot == local(2026, 11, 24, 13, 0)
    assert slot.tzinfo == CHICAGO


def test_a_full_day_moves_to_the_next_preferred_day(calendar: Path, tmp_path: Path):
    full = tmp_path / "full.ics"
    full.write_text(BUSY_ICS.replace("DTEND;TZID=America/Chicago:20261124T120000\nDTSTAMP"
                                     ":20261101T000000Z\nEND:VEVENT\nBEGIN:VEVENT\nUID:free",
                                     "DTEND;TZID=America/Chicago:20261124T170000\nDTSTAMP"
                                     ":20261101T000000Z\nEND:VEVENT\nBEGIN:VEVENT\nUID:free"))
    slot = choose_slot(busy_from(full), HOURS, CHICAGO, TOMORROW, dt.timedelta(minutes=45))
    assert slot == local(2026, 11, 25, 9, 30)  # Wednesday, after the standup


def test_only_preferred_days_and_hours_and_never_today():
    hours = WorkingHours(days=(3,), start=dt.time(14), end=dt.time(16))  # Thursdays 2-4 pm
    slot = choose_slot([], hours, CHICAGO, TOMORROW, dt.timedelta(minutes=60))
    assert slot == local(2026, 11, 26, 14, 0)
    busy = [(local(2026, 11, 26, 14, 30), local(2026, 11, 26, 16))]
    assert choose_slot(busy, hours, CHICAGO, TOMORROW, dt.timedelta(minutes=60)) == \
        local(2026, 12, 3, 14, 0)


def test_no_slot_within_two_weeks_is_none():
    busy = [(NOW, NOW + dt.timedelta(days=30))]
    assert choose_slot(busy, HOURS, CHICAGO, TOMORROW, dt.timedelta(minutes=45)) is None


def test_slot_uses_the_owners_zone_across_the_dst_change():
    slot = choose_slot([], HOURS, CHICAGO, dt.date(2026, 10, 31),  # Saturday, CDT
                       dt.timedelta(minutes=45))
    assert slot == local(2026, 11, 2, 9, 0)  # Monday, now CST
    assert slot.utcoffset() == dt.timedelta(hours=-6)


def test_a_rule_that_pins_the_day_is_honoured():
    second_tuesday = dataclasses.replace(AGREEMENT, rrule="FREQ=MONTHLY;BYDAY=2TU",
                                         rhythm="monthly on the 2nd Tuesday", interval_days=30)
    v = village([person("ada", agreement=second_tuesday)])
    assert first_slot(v, second_tuesday, [], NOW) == local(2026, 12, 8, 9, 0)
    assert busy_window(v, NOW)[1] >= NOW + dt.timedelta(days=37)


def test_a_bare_monthly_rule_is_anchored_to_the_weekday():
    assert anchor_rule("FREQ=MONTHLY", local(2026, 12, 3, 9)) == "FREQ=MONTHLY;BYDAY=1TH"
    assert anchor_rule("FREQ=MONTHLY;INTERVAL=3", local(2026, 12, 31, 9)) == \
        "FREQ=MONTHLY;INTERVAL=3;BYDAY=-1TH"
    assert anchor_rule("FREQ=MONTHLY;BYDAY=2TU", local(2026, 12, 8, 9)) == "FREQ=MONTHLY;BYDAY=2TU"
    assert anchor_rule("FREQ=WEEKLY;INTERVAL=2", local(2026, 12, 8, 9)) == "FREQ=WEEKLY;INTERVAL=2"


def test_local_backend_reads_busy_times_from_its_calendars(calendar: Path, tmp_path: Path):
    v = village([], tmp_path)
    v = dataclasses.replace(v, backend=dataclasses.replace(v.backend, calendars=(calendar,)))
    io = LocalIO(v, v.backend)
    assert io.busy(NOW, NOW + dt.timedelta(days=2)) == busy_from(calendar, NOW)[:3]


# -- guards ----------------------------------------------------------------------------


def invites(people, items, ledger=(), busy=(), now=NOW, **kw):
    v = village(people, **kw)
    return {i.person: i for i in plan_invitations(v, items, list(ledger), list(busy), now,
                                                  iso_week(now, v))}


def ada(**kw):
    return person("ada", name="Ada Lovelace", agreement=AGREEMENT, **kw)


def invite_row(state, days_ago, week="2026-W40"):
    when = NOW - dt.timedelta(days=days_ago)
    return DraftRecord(key=invite_key("ada", week), person="ada", kind="invite", week=week,
                       state=state, created_at=when, updated_at=when)


def occurrence(days_ago, status="ok", series="ada-series@uni.example"):
    return seen("ada", days_ago, Kind.MEETING, direct=status == "ok", status=status,
                series=series, uid=f"{series}:{days_ago}", subject="Mentoring: Ada / Dana")


def test_no_meeting_and_no_series_proposes_an_invitation_with_a_slot():
    item = invites([ada()], [seen("ada", 35, Kind.MEETING)])["ada"]
    assert isinstance(item, Action) and item.action == "invite"
    assert item.key == f"invite:ada:{WEEK}"
    # drafted Monday 23rd: three working days' notice makes Thursday the first day
    assert item.slot == local(2026, 11, 26, 9, 0)
    assert "every 4 weeks" in item.reason and "no recurring series" in item.reason
    assert item.variant == 0


def test_people_without_an_agreement_get_no_invitation():
    assert invites([person("bob")], [*convo("bob", 90)]) == {}


def test_an_upcoming_meeting_within_the_rhythm_means_no_invitation():
    item = invites([ada()], [seen("ada", -10, Kind.MEETING)])["ada"]
    assert isinstance(item, Skip) and item.guard == "invite-meeting-scheduled"
    assert "2026-12-03" in item.reason


def test_an_existing_series_means_no_invitation():
    items = [occurrence(d) for d in (56, 28, 0.5, -27)]
    item = invites([ada()], items)["ada"]
    assert isinstance(item, Skip) and item.guard == "series-exists"
    assert "Mentoring: Ada / Dana" in item.reason


def test_a_series_that_keeps_being_declined_is_a_digest_note_not_a_draft():
    items = [occurrence(84), occurrence(56, "declined"), occurrence(28, "cancelled"),
             occurrence(0.5, "declined"), occurrence(-27)]
    item = invites([ada()], items)["ada"]
    assert isinstance(item, Skip) and item.guard == SERIES_DECLINED
    assert "keeps being declined or cancelled (3 of the last 3)" in item.reason


def test_one_declined_occurrence_is_not_a_pattern():
    items = [occurrence(56), occurrence(28, "declined"), occurrence(0.5), occurrence(-27)]
    assert invites([ada()], items)["ada"].guard == "series-exists"


def test_an_ended_series_does_not_block_a_new_invitation():
    items = [occurrence(200), occurrence(172)]
    assert isinstance(invites([ada()], items)["ada"], Action)


def test_a_discarded_invitation_blocks_another_for_the_cooldown():
    item = invites([ada()], [seen("ada", 35, Kind.MEETING)],
                   [invite_row(DraftState.DISCARDED, 21)])["ada"]
    assert isinstance(item, Skip) and item.guard == "invite-cooldown"
    assert "8 weeks" in item.reason and "until 2026-12-28" in item.reason
    # after the cooldown it proposes again, with the next SEQUENCE
    item = invites([ada()], [seen("ada", 35, Kind.MEETING)],
                   [invite_row(DraftState.DISCARDED, 60)])["ada"]
    assert isinstance(item, Action) and item.variant == 1


def test_the_cooldown_is_configurable():
    ledger = [invite_row(DraftState.DISCARDED, 21)]
    item = invites([ada()], [seen("ada", 35, Kind.MEETING)], ledger, invite_cooldown_weeks=2)
    assert isinstance(item["ada"], Action)


def test_a_pending_invitation_draft_is_not_doubled():
    item = invites([ada()], [], [invite_row(DraftState.PENDING, 7)])["ada"]
    assert isinstance(item, Skip) and item.guard == "invite-pending"


def test_a_sent_invitation_waits_for_the_series_to_appear():
    item = invites([ada()], [seen("ada", 35, Kind.MEETING)], [invite_row(DraftState.SENT, 7)])
    assert item["ada"].guard == "invite-sent"


def test_no_free_slot_is_a_skip_with_a_reason():
    busy = [(NOW, NOW + dt.timedelta(days=40))]
    item = invites([ada()], [], busy=busy)["ada"]
    assert isinstance(item, Skip) and item.guard == "invite-no-slot"


def test_paused_and_do_not_draft_people_get_no_invitation():
    assert invites([ada(do_not_draft=True)], []) == {}
    assert invites([ada(paused_until=dt.date(2027, 1, 1))], []) == {}


# -- the combined plan ---------------------------------------------------------------


def whole_plan(people, items, ledger=(), busy=()):
    v = village(people)
    return plan(v, assess(v, items, NOW), items, list(ledger), list(busy), NOW, WEEK)


def test_someone_invited_this_week_gets_no_checkin_and_the_roulette_moves_on():
    people = [ada(), person("bob"), person("cy")]
    items = [seen("ada", 60, Kind.MEETING), *convo("bob", 60), *convo("cy", 60)]
    result = whole_plan(people, items)
    actions = [(i.person, i.action) for i in result if isinstance(i, Action)]
    assert actions == [("ada", "invite"), ("bob", "checkin"), ("cy", "checkin")]
    assert [i for i in result if i.person == "ada"] == [result[0]]


def test_a_declined_series_gets_neither_draft():
    items = [occurrence(56, "declined"), occurrence(28, "declined"), *convo("ada", 80)]
    result = whole_plan([ada()], items)
    assert not [i for i in result if isinstance(i, Action)]
    assert [i.guard for i in result] == [SERIES_DECLINED]


def test_a_cooldown_still_allows_the_light_checkin():
    result = whole_plan([ada()], [*convo("ada", 60)], [invite_row(DraftState.DISCARDED, 21)])
    assert [(type(i).__name__, i.action) for i in result] == [("Action", "checkin"),
                                                             ("Skip", "skip")]
