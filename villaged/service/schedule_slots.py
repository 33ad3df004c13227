"""Weekly slots in the owner's timezone, DST included (pure).

A weekly job (the drafting round, the digest) has a day and a wall-clock
time in the owner's zone, e.g. Monday 08:00 America/Chicago. Its slot in a
given week is that local date and time converted with zoneinfo, so it stays
at 08:00 local across DST changes (14:00 UTC in winter, 13:00 UTC in
summer). Two local times need a rule:

* a time skipped by a spring-forward change (02:30 on the night clocks jump
  from 02:00 to 03:00) is read with the offset in force before the change,
  so the slot fires at 03:30, once;
* a time that happens twice on a fall-back night is the first of the two
  (``fold=0``), so the slot fires once.

A slot's key is its local date (``2026-11-23``): the store's job_runs row
for (job, key) records that the slot ran.

>>> import datetime as dt; from zoneinfo import ZoneInfo
>>> monday_8 = WeeklySlot(day=0, time=dt.time(8, 0), tz=ZoneInfo("America/Chicago"))
>>> tuesday = dt.datetime(2026, 11, 24, 16, 0, tzinfo=dt.timezone.utc)
>>> slot = monday_8.latest(tuesday)
>>> slot.key, slot.at.isoformat()
('2026-11-23', '2026-11-23T14:00:00+00:00')
>>> monday_8.next(tuesday).at.isoformat()
'2026-11-30T14:00:00+00:00'
>>> monday_8.latest(dt.datetime(2026, 3, 9, 13, 0, tzinfo=dt.timezone.utc)).at.isoformat()
'2026-03-09T13:00:00+00:00'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Slot:
    key: str  # the local date, e.g. "2026-11-23"
    at: dt.datetime  # aware, UTC


@dataclass(frozen=True)
class WeeklySlot:
    day: int  # 0 = Monday
    time: dt.time
    tz: ZoneInfo

    def on(self, day: dt.date) -> Slot:
        """The slot on a local date (which must be the right weekday)."""
        local = dt.datetime.combine(day, self.time.replace(tzinfo=None, fold=0), tzinfo=self.tz)
        return Slot(key=day.isoformat(), at=local.astimezone(dt.UTC))

    def latest(self, now: dt.datetime) -> Slot:
        """The most recent slot at or before ``now``."""
        today = now.astimezone(self.tz).date()
        slot = self.on(today - dt.timedelta(days=(today.weekday() - self.day) % 7))
        if slot.at > now:
            slot = self.on(dt.date.fromisoformat(slot.key) - dt.timedelta(days=7))
        return slot

    def next(self, now: dt.datetime) -> Slot:
        """The first slot strictly after ``now``."""
        latest = self.latest(now)
        return self.on(dt.date.fromisoformat(latest.key) + dt.timedelta(days=7))

    def describe(self) -> str:
        return f"{DAY_NAMES[self.day]}s at {self.time:%H:%M} {self.tz.key}"
