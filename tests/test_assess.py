import datetime as dt

from tests.conftest import NOW, person, seen, village
from villaged.core.assess import assess, counts, village_map
from villaged.domain.village import Kind, Role, Temperature


def standing(people, items, now=NOW):
    return {s.person.key: s for s in assess(village(people), items, now)}


def test_temperature_follows_days_since_contact_against_the_cadence():
    people = [person(k, Role.MENTOR) for k in ("warm", "cooling", "cold", "lapsed", "never")]
    items = [seen("warm", 10), seen("cooling", 40), seen("cold", 80), seen("lapsed", 200)]
    s = standing(people, items)
    assert [s[k].temperature for k in ("warm", "cooling", "cold", "lapsed", "never")] == [
        Temperature.WARM, Temperature.COOLING, Temperature.COLD, Temperature.LAPSED,
        Temperature.UNKNOWN]
    assert s["never"].last_contact is None and s["never"].due is None


def test_due_and_overdue_use_the_owners_calendar_days():
    s = standing([person("ada", Role.MENTOR)], [seen("ada", 40)])["ada"]
    assert s.cadence_days == 30
    assert s.due == (NOW - dt.timedelta(days=40)).astimezone(
        village([]).owner.timezone).date() + dt.timedelta(days=30)
    assert s.days_overdue == 10


def test_per_person_cadence_overrides_the_role_default():
    s = standing([person("ada", Role.MENTOR, cadence_days=90)], [seen("ada", 40)])["ada"]
    assert s.cadence_days == 90 and s.temperature is Temperature.WARM


def test_non_direct_evidence_never_warms_a_relationship():
    s = standing([person("list")], [seen("list", 1, direct=False)])["list"]
    assert s.temperature is Temperature.UNKNOWN


def test_future_meetings_are_scheduled_contact_not_contact():
    items = [seen("ada", 50), seen("ada", -5, Kind.MEETING), seen("ada", -12, Kind.MEETING)]
    s = standing([person("ada")], items)["ada"]
    assert s.last_contact.at == NOW - dt.timedelta(days=50)
    assert s.next_meeting.at == NOW + dt.timedelta(days=5)
    assert s.last_meeting is None


def test_last_inbound_outbound_meeting_and_thread_are_each_the_newest():
    items = [seen("ada", 30, Kind.EMAIL_IN), seen("ada", 20, Kind.EMAIL_OUT),
             seen("ada", 10, Kind.MEETING), seen("ada", 40, Kind.EMAIL_OUT)]
    s = standing([person("ada")], items)["ada"]
    assert s.last_inbound.at == NOW - dt.timedelta(days=30)
    assert s.last_outbound.at == NOW - dt.timedelta(days=20)
    assert s.last_meeting.at == NOW - dt.timedelta(days=10)
    assert s.last_contact is s.last_meeting
    assert s.last_thread.kind is Kind.EMAIL_OUT and s.last_thread.at == NOW - dt.timedelta(days=20)


def test_replaying_an_archive_ignores_what_happened_after_now():
    items = [seen("ada", 40), seen("ada", 2)]
    earlier = NOW - dt.timedelta(days=10)
    s = standing([person("ada")], items, now=earlier)["ada"]
    assert s.days_since_contact == 30


def test_village_map_lists_all_seven_roles_and_calls_out_empty_ones():
    slots = village_map(village([person("ada", Role.MENTOR), person("bo", Role.MENTOR)]))
    assert [s.role for s in slots] == list(Role)
    assert [p.key for p in slots[0].people] == ["ada", "bo"]
    assert [s.role for s in slots if not s.filled] == list(Role)[1:]


def test_counts_for_snapshots():
    s = assess(village([person("a"), person("b")]), [seen("a", 5), seen("b", 45)], NOW)
    c = counts(s)
    assert c["warm"] == 1 and c["cooling"] == 1 and c["overdue"] == 1
