"""Invitations that every reader places at the same instant, across DST changes.

The VTIMEZONE villaged writes is read by three independent parsers, each
from the block itself (the TZID is renamed so no reader can fall back on its
own zone database): icalendar (``Timezone.to_tz``), vobject (which Radicale
and dateutil's tzical use) and ``ical`` (allenporter/ical). Then the
unmodified invitation is PUT into a real Radicale server started by the test,
and a CalDAV time-range REPORT must find each occurrence at the right UTC
instant, and nothing an hour off.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from itertools import islice
from zoneinfo import ZoneInfo

import icalendar
import pytest
import requests
import vobject
from ical.calendar_stream import IcsCalendarStream

from tests.conftest import NOW, person, village
from villaged.compose.invite import invite_calendar
from villaged.compose.vtimezone import vtimezone
from villaged.domain.village import Agreement, Role

WEEKLY = Agreement(rrule="FREQ=WEEKLY", rhythm="every week", interval_days=7,
                   duration_minutes=45)
OCCURRENCES = 6
FAKE_TZID = "Villaged-Test/Only-The-Block"

# (zone, local wall-clock start): each weekly series crosses a DST change in its first weeks
CASES = [
    ("America/New_York", dt.datetime(2026, 2, 26, 9, 0)),   # spring forward 8 March
    ("America/New_York", dt.datetime(2026, 10, 22, 16, 30)),  # fall back 1 November
    ("Europe/London", dt.datetime(2026, 3, 12, 9, 0)),       # BST from 29 March
    ("Europe/London", dt.datetime(2026, 10, 15, 13, 0)),     # GMT from 25 October
    ("Europe/London", dt.datetime(2027, 3, 11, 10, 0)),      # the year after: 28 March
    ("Australia/Sydney", dt.datetime(2026, 3, 19, 9, 0)),    # AEDT ends 5 April
    ("Australia/Sydney", dt.datetime(2026, 9, 17, 15, 0)),   # AEDT starts 4 October
]
IDS = [f"{zone}-{start:%Y-%m-%d}" for zone, start in CASES]


def invitation(zone: str, start: dt.datetime) -> str:
    tz = ZoneInfo(zone)
    v = village([person("ruth", Role.MENTOR, name="Dr. Ruth Okonkwo", agreement=WEEKLY)])
    v = dataclasses.replace(v, owner=dataclasses.replace(v.owner, timezone=tz))
    cal = invite_calendar(v, v.person("ruth"), WEEKLY, start.replace(tzinfo=tz), 0, NOW)
    return cal.to_ical().decode()


def expected(zone: str, start: dt.datetime) -> list[dt.datetime]:
    """Each occurrence at the same local wall-clock time, as zoneinfo puts it in UTC."""
    tz = ZoneInfo(zone)
    return [(start + dt.timedelta(weeks=n)).replace(tzinfo=tz).astimezone(dt.UTC)
            for n in range(OCCURRENCES)]


def block_only(text: str, zone: str, start: dt.datetime) -> str:
    """The invitation with its TZID renamed, uniquely per case (readers cache zones by TZID)."""
    fake = f"{FAKE_TZID}/{zone}/{start:%Y%m%d}".replace("/", "-")
    return text.replace(f"TZID={zone}", f"TZID={fake}").replace(f"TZID:{zone}", f"TZID:{fake}")


@pytest.mark.parametrize(("zone", "start"), CASES, ids=IDS)
def test_three_independent_parsers_agree_with_zoneinfo(zone, start):
    text = block_only(invitation(zone, start), zone, start)
    assert FAKE_TZID.replace("/", "-") in text and zone not in text
    want = expected(zone, start)
    assert len({w.utcoffset() for w in want}) == 1  # (all UTC)
    assert len({(w.astimezone(ZoneInfo(zone)).utcoffset()) for w in want}) == 2  # a DST change

    # icalendar: the VTIMEZONE block as a tzinfo
    cal = icalendar.Calendar.from_ical(text)
    tz = cal.walk("VTIMEZONE")[0].to_tz()
    got = [(start + dt.timedelta(weeks=n)).replace(tzinfo=tz).astimezone(dt.UTC)
           for n in range(OCCURRENCES)]
    assert got == want, "icalendar"

    # vobject (as Radicale and dateutil's tzical read it)
    event = vobject.readOne(text).vevent
    got = [d.astimezone(dt.UTC) for d in islice(event.getrruleset(addRDate=True), OCCURRENCES)]
    assert got == want, "vobject"

    # ical (allenporter/ical), its own parser and recurrence engine
    parsed = IcsCalendarStream.calendar_from_ics(text)
    got = [e.dtstart.astimezone(dt.UTC) for e in islice(parsed.timeline, OCCURRENCES)]
    assert got == want, "ical"


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Sydney",
                                  "America/Chicago", "Asia/Kolkata", "Africa/Casablanca"])
def test_the_block_starts_in_1970_with_one_rdate_per_line(zone):
    block = vtimezone(ZoneInfo(zone), dt.datetime(2026, 11, 26, tzinfo=dt.UTC)).to_ical().decode()
    starts = re.findall(r"DTSTART:(\d{8})T", block)
    assert min(starts) == "19700101"
    assert not re.search(r"RDATE[^\r\n]*,", block)  # never a comma-separated list
    # every offset change since 1970 agrees with zoneinfo, read back by vobject
    tz = vobject.readOne("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + block
                         + "END:VCALENDAR\r\n").vtimezone.gettzinfo()
    zi = ZoneInfo(zone)
    probe = dt.datetime(1970, 1, 15, 12, 0)
    while probe.year < 2040:
        assert probe.replace(tzinfo=tz).utcoffset() == probe.replace(tzinfo=zi).utcoffset(), \
            (zone, probe)
        probe += dt.timedelta(days=13)


REPORT = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="{start:%Y%m%dT%H%M%SZ}" end="{end:%Y%m%dT%H%M%SZ}"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""


def found(cal, start: dt.datetime, end: dt.datetime) -> int:
    answer = requests.request(
        "REPORT", cal.url, data=REPORT.format(start=start, end=end).encode(),
        headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        auth=(cal.username, cal.password), verify=str(cal.ca), timeout=10)
    assert answer.status_code == 207, answer.text
    return len(re.findall(r"<(?:\w+:)?href>[^<]*\.ics</", answer.text))


@pytest.mark.parametrize(("zone", "start"), CASES, ids=IDS)
def test_radicale_finds_each_occurrence_at_the_right_utc_instant(caldav_calendar, zone, start):
    # the real Radicale of tests/servers (TLS, a fresh calendar per test)
    cal = caldav_calendar
    text = invitation(zone, start)
    put = requests.put(f"{cal.url.rstrip('/')}/invite.ics", data=text.encode(),
                       headers={"Content-Type": "text/calendar; charset=utf-8"},
                       auth=(cal.username, cal.password), verify=str(cal.ca), timeout=10)
    assert put.status_code in (201, 204), put.text
    minute = dt.timedelta(minutes=1)
    for instant in expected(zone, start):
        assert found(cal, instant, instant + minute) == 1, instant
        # an hour off either way (the meeting lasts 45 minutes): nothing there
        assert found(cal, instant - dt.timedelta(minutes=60),
                     instant - dt.timedelta(minutes=59)) == 0, instant
        assert found(cal, instant + dt.timedelta(minutes=59),
                     instant + dt.timedelta(minutes=60)) == 0, instant
