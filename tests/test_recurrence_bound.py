"""An endless RRULE must not be a denial of service (issue 9, item 5).

A calendar with an event repeating every minute (and one every 10 minutes)
next to a real weekly meeting: `villaged sync` and `villaged draft` finish
quickly, in bounded memory (peak RSS measured on the real subprocess), keep
the weekly meeting, and report the left-out events as skipped.
"""

from __future__ import annotations

import datetime as dt
import subprocess

import icalendar

from tests.servicekit import REPO, TUESDAY, Village, clean_env
from villaged.core import recurrence

HOSTILE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//hostile//EN
BEGIN:VEVENT
UID:every-minute@hostile
DTSTART:20240101T000000Z
DTEND:20240101T000100Z
RRULE:FREQ=MINUTELY
SUMMARY:spam
ORGANIZER:mailto:mentor0@example.org
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@uni.example
END:VEVENT
BEGIN:VEVENT
UID:every-ten-minutes@hostile
DTSTART:20261001T000000Z
DTEND:20261001T000500Z
RRULE:FREQ=MINUTELY;INTERVAL=10
SUMMARY:more spam
ORGANIZER:mailto:mentor1@example.org
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@uni.example
END:VEVENT
BEGIN:VEVENT
UID:daily-by-the-second@hostile
DTSTART:20261101T000000Z
DTEND:20261101T000001Z
RRULE:FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,30
SUMMARY:dense
ORGANIZER:mailto:mentor1@example.org
END:VEVENT
BEGIN:VEVENT
UID:weekly@real
DTSTART:20260901T150000Z
DTEND:20260901T160000Z
RRULE:FREQ=WEEKLY
SUMMARY:Weekly one-on-one
ORGANIZER:mailto:mentor2@example.org
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@uni.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:mentor2@example.org
END:VEVENT
END:VCALENDAR
"""


PEAK = "peak-rss-kb:"
# VmHWM is the peak of this process image alone. ru_maxrss is not: Linux carries the
# parent's high-water mark across fork and exec, so a child of a large pytest process
# (Chromium, the Graph SDK and servers loaded earlier in the suite) would report the
# parent's peak instead of its own.
MEASURED = ("import re, runpy, sys\n"
            "sys.argv = ['villaged'] + sys.argv[1:]\n"
            "try:\n    runpy.run_module('villaged', run_name='__main__')\n"
            "finally:\n"
            "    status = open('/proc/self/status').read()\n"
            "    print('%s', re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1),"
            " file=sys.stderr)\n" % PEAK)


def run_measured(argv: list[str]) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, peak RSS in MB) of a real `villaged` subprocess."""
    assert argv[1:3] == ["-m", "villaged"]
    proc = subprocess.run([argv[0], "-c", MEASURED, *argv[3:]], capture_output=True, text=True,
                          cwd=REPO, env=clean_env({"PYTHONDONTWRITEBYTECODE": ""}), timeout=300)
    peak = int(proc.stderr.rsplit(PEAK, 1)[1].split()[0])
    return proc.returncode, proc.stdout, proc.stderr, peak // 1024


def test_an_endless_rrule_is_left_out_reported_and_cheap(tmp_path):
    village = Village(tmp_path / "v", people=3)
    (village.root / "cal.ics").write_text(HOSTILE)
    text = village.config.read_text().replace(
        'drafts = "Maildir/.Drafts"', 'drafts = "Maildir/.Drafts"\ncalendars = ["cal.ics"]')
    village.config.write_text(text)
    code, out, err, peak_mb = run_measured(village.argv(TUESDAY, "sync"))
    assert code == 0, err
    assert "Traceback" not in err
    print(f"villaged sync, endless RRULEs: peak RSS {peak_mb} MB")
    # the weekly meeting is read; the three hostile events are reported, not expanded
    assert "3 recurring event too frequent to expand" in out, out
    assert peak_mb < 250, f"peak RSS {peak_mb} MB"  # main: GBs for the every-minute event
    from villaged.store import Store

    with Store.in_dir(village.state) as store:
        meetings = [i for i in store.interactions() if i.source.startswith("ics:")]
    assert meetings and {i.person for i in meetings} == {"mentor-number2"}, meetings
    assert all(i.series == "weekly@real" for i in meetings)
    # and the drafting round (which reads busy times from the same file) is fine too
    code, out, err, peak_mb = run_measured(village.argv(TUESDAY, "draft"))
    assert code == 0 and "Traceback" not in err, err


def test_the_bound_is_per_event_and_counts_what_it_leaves_out():
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    calendar = icalendar.Calendar.from_ical(HOSTILE)
    expansion = recurrence.expand(calendar, start, end)
    assert expansion.skipped == {recurrence.TOO_FREQUENT: 3}
    uids = {str(o["UID"]) for o in expansion.occurrences}
    assert uids == {"weekly@real"}
    # a daily meeting over a year is well inside the limit
    steps, inside = recurrence.estimate(
        {"FREQ": ["DAILY"]}, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), start, end)
    assert inside <= 367 and steps < recurrence.MAX_STEPS
    # a server-side expansion (Google) is capped per series, and the excess counted
    cap = recurrence.SeriesCap(limit=5)
    kept = [cap.take("series-a") for _ in range(8)] + [cap.take("series-b")]
    assert kept.count(True) == 6 and cap.skipped == {recurrence.OVER_LIMIT: 3}
