"""The invitation draft: MIME structure, and the calendar read back by two parsers."""

import dataclasses
import datetime as dt
import email
import email.policy
import io
import mailbox
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import vobject

from tests.conftest import CHICAGO, NOW, person, seen, village
from villaged.backends.local.backend import LocalIO
from villaged.compose.invite import compose_invite, invite_uid
from villaged.compose.templating import environment
from villaged.compose.vtimezone import vtimezone
from villaged.domain.village import KEY_HEADER, Action, Agreement, DraftState, Kind
from villaged.service.round import run_round
from villaged.store import Store

AGREEMENT = Agreement(rrule="FREQ=WEEKLY;INTERVAL=2", rhythm="every 2 weeks",
                      duration_minutes=45, location="https://meet.example/ada-dana",
                      agenda="Promotion packet; grant resubmission", interval_days=14)
ADA = person("ada", name="Ada Lovelace", agreement=AGREEMENT, emails=("ada@example.org",))
# Tuesday 20 October 2026, 10:00 CDT: Chicago leaves DST on 1 November
FIRST = dt.datetime(2026, 10, 20, 10, 0, tzinfo=CHICAGO)


def action(week="2026-W43", variant=0, slot=FIRST):
    return Action(person="ada", action="invite", reason="r", key=f"invite:ada:{week}",
                  week=week, variant=variant, slot=slot)


def draft(act=None, people=(ADA,)) -> EmailMessage:
    msg = compose_invite(village(list(people)), act or action(), environment(None), NOW)
    parsed = email.message_from_bytes(bytes(msg), policy=email.policy.default)
    return parsed  # type: ignore[return-value]


def calendar_part(msg: EmailMessage) -> EmailMessage:
    [part] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    return part  # type: ignore[return-value]


def ics_text(msg: EmailMessage) -> str:
    return calendar_part(msg).get_content()


def test_mime_structure_is_exactly_what_calendar_apps_send():
    msg = draft()
    shape = [(p.get_content_type(), p.get_filename()) for p in msg.walk()]
    assert shape == [
        ("multipart/mixed", None),
        ("multipart/alternative", None),
        ("text/plain", None),
        ("text/calendar", None),
        ("application/ics", "invite.ics"),
    ]
    outer = msg.get_payload()
    assert len(outer) == 2 and [p.get_content_type() for p in outer[0].get_payload()] == \
        ["text/plain", "text/calendar"]
    assert outer[1].get_content_disposition() == "attachment"
    assert outer[1].get_content() == ics_text(msg).encode()
    assert msg[KEY_HEADER] == "invite:ada:2026-W43"
    assert [a.addr_spec for a in msg["To"].addresses] == ["ada@example.org"]
    assert msg["Cc"] is None and msg["Bcc"] is None


def test_method_matches_the_content_type_and_charset_is_utf8():
    part = calendar_part(draft())
    cal = icalendar.Calendar.from_ical(part.get_content())
    assert part.get_param("method") == str(cal["METHOD"]) == "REQUEST"
    assert part.get_content_charset() == "utf-8"
    raw = part.get_payload(decode=True)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line endings


def test_the_vevent_carries_every_property_an_invitation_needs():
    cal = icalendar.Calendar.from_ical(ics_text(draft(action(variant=2))))
    [event] = cal.walk("VEVENT")
    assert str(event["RRULE"].to_ical(), "ascii") == "FREQ=WEEKLY;INTERVAL=2"
    assert event["DTSTART"].params["TZID"] == "America/Chicago"
    assert event.decoded("DTSTART") == FIRST
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(minutes=45)
    assert event.decoded("DTSTAMP") == NOW
    assert str(event["ORGANIZER"]) == "mailto:dana@uni.example"
    assert event["ORGANIZER"].params["CN"] == "Dana Reyes"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:ada@example.org"
    assert {k: attendee.params[k] for k in ("CN", "RSVP", "PARTSTAT", "ROLE")} == {
        "CN": "Ada Lovelace", "RSVP": "TRUE", "PARTSTAT": "NEEDS-ACTION",
        "ROLE": "REQ-PARTICIPANT"}
    assert event["SEQUENCE"] == 2
    assert str(event["SUMMARY"]) == "Mentoring: Ada Lovelace / Dana Reyes"
    assert str(event["DESCRIPTION"]) == "Promotion packet; grant resubmission"
    assert str(event["LOCATION"]) == "https://meet.example/ada-dana"
    [tz] = cal.walk("VTIMEZONE")
    assert str(tz["TZID"]) == "America/Chicago"
    # the form calendar apps write: the current rule as one yearly RRULE per observance (since
    # 2007 in the US), earlier transitions back to 1970 as one RDATE per line
    rules = {c.name: (str(c["RRULE"].to_ical(), "ascii"), c.decoded("DTSTART").year)
             for c in tz.subcomponents if "RRULE" in c}
    assert rules == {"DAYLIGHT": ("FREQ=YEARLY;BYDAY=2SU;BYMONTH=3", 2007),
                     "STANDARD": ("FREQ=YEARLY;BYDAY=1SU;BYMONTH=11", 2007)}
    assert min(c.decoded("DTSTART") for c in tz.subcomponents).year == 1970


def test_recurrences_keep_the_local_wall_clock_time_across_dst_icalendar():
    cal = icalendar.Calendar.from_ical(ics_text(draft()))
    events = recurring_ical_events.of(cal).between(FIRST, FIRST + dt.timedelta(weeks=11))
    starts = [e.decoded("DTSTART") for e in events][:6]
    assert [s.date() for s in starts] == [dt.date(2026, 10, 20), dt.date(2026, 11, 3),
                                          dt.date(2026, 11, 17), dt.date(2026, 12, 1),
                                          dt.date(2026, 12, 15), dt.date(2026, 12, 29)]
    local = [s.astimezone(CHICAGO) for s in starts]
    assert {(t.hour, t.minute) for t in local} == {(10, 0)}
    # and the change really was crossed: 15:00 UTC before, 16:00 UTC after
    assert [s.astimezone(dt.UTC).hour for s in starts] == [15, 16, 16, 16, 16, 16]


def test_recurrences_keep_the_local_wall_clock_time_across_dst_vobject():
    parsed = vobject.readOne(ics_text(draft()))
    assert parsed.method.value == "REQUEST"
    event = parsed.vevent
    assert event.uid.value == invite_uid(village([ADA]), ADA)
    starts = list(event.getrruleset(addRDate=True))[:6]
    assert [s.astimezone(CHICAGO).strftime("%Y-%m-%d %H:%M") for s in starts] == [
        "2026-10-20 10:00", "2026-11-03 10:00", "2026-11-17 10:00",
        "2026-12-01 10:00", "2026-12-15 10:00", "2026-12-29 10:00"]
    assert [s.utcoffset() for s in starts[:2]] == [dt.timedelta(hours=-5), dt.timedelta(hours=-6)]
    assert event.attendee.params["PARTSTAT"] == ["NEEDS-ACTION"]
    assert event.organizer.value == "mailto:dana@uni.example"


def test_uid_is_stable_across_reproposals_and_sequence_increments():
    first = icalendar.Calendar.from_ical(ics_text(draft(action("2026-W43", 0))))
    again = icalendar.Calendar.from_ical(ics_text(draft(action(
        "2026-W52", 1, slot=dt.datetime(2027, 1, 5, 14, 0, tzinfo=CHICAGO)))))
    [e1], [e2] = first.walk("VEVENT"), again.walk("VEVENT")
    assert str(e1["UID"]) == str(e2["UID"])
    assert (e1["SEQUENCE"], e2["SEQUENCE"]) == (0, 1)
    other = person("bob", agreement=AGREEMENT)
    assert invite_uid(village([ADA, other]), other) != str(e1["UID"])


def test_the_note_is_plain_text_from_an_overridable_template(tmp_path: Path):
    body = draft().get_body(("plain",)).get_content()
    assert body.startswith("Dear Ada,")
    assert "every 2 weeks, starting Tuesday 20 October 2026 at 10:00 (CDT)" in body
    assert "Promotion packet; grant resubmission" in body
    folder = tmp_path / "templates" / "invite"
    folder.mkdir(parents=True)
    (folder / "invite.txt.j2").write_text(
        "Subject: Meet {{ first_name }}?\n\nHow about {{ rhythm }}?\n")
    v = dataclasses.replace(village([ADA]), config_path=tmp_path / "village.toml")
    msg = compose_invite(v, action(), environment(v.config_dir), NOW)
    assert msg["Subject"] == "Meet Ada?"
    assert msg.get_body(("plain",)).get_content().strip() == "How about every 2 weeks?"


def test_the_round_writes_the_invitation_draft_into_the_maildir(tmp_path: Path):
    v = village([ADA], tmp_path)
    io = LocalIO(v, v.backend)
    with Store(tmp_path / "state.sqlite3") as store:
        store.apply_sync("test", [seen("ada", 40, Kind.MEETING), seen("ada", 41)], {})
        result = run_round(v, store, io, NOW, sync=False, draft=True)
        again = run_round(v, store, io, NOW, sync=False, draft=True)
        ledger = store.ledger()
    assert [(a.action, a.person) for a, _ in result.written] == [("invite", "ada")]
    assert again.written == []  # idempotent: one invitation, no check-in on top
    assert [(r.kind, r.state, r.variant) for r in ledger] == [("invite", DraftState.PENDING, 0)]
    box = mailbox.Maildir(v.backend.drafts, create=False)
    [stored] = list(box)
    assert "D" in stored.get_flags()
    parsed = email.message_from_bytes(bytes(stored), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    assert parsed[KEY_HEADER] == "invite:ada:2026-W48"
    cal = icalendar.Calendar.from_ical(calendar_part(parsed).get_content())
    [event] = cal.walk("VEVENT")
    assert event.decoded("DTSTART") == dt.datetime(2026, 11, 26, 9, 0, tzinfo=CHICAGO)  # 3 working days


@pytest.mark.parametrize("key", ["America/Chicago", "Europe/Berlin", "Australia/Sydney",
                                 "Asia/Kolkata", "America/Santiago"])
def test_the_vtimezone_agrees_with_zoneinfo_when_read_by_dateutil(key: str):
    from dateutil import tz as dateutil_tz

    zone = ZoneInfo(key)
    text = vtimezone(zone, dt.datetime(2026, 10, 20, tzinfo=dt.UTC)).to_ical().decode()
    read = dateutil_tz.tzical(io.StringIO(text.replace("\r\n", "\n"))).get()
    for day in range(0, 3 * 365, 5):
        noon = dt.datetime(2026, 1, 1, 12) + dt.timedelta(days=day)
        assert read.utcoffset(noon) == noon.replace(tzinfo=zone).utcoffset(), (key, noon)
