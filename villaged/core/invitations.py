"""Recurring meeting invitations for formal mentors (pure).

A person with an ``agreement`` in the config meets the owner on a rhythm.
When there is no upcoming meeting with them within that rhythm and no
recurring series with them in the calendar, the plan proposes an invitation
(a draft email carrying an iCalendar REQUEST; see compose/invite.py), at the
first free slot in the owner's preferred hours over the next two weeks.

Guards, each a Skip with a reason (``guard`` in villaged.domain.vocabulary.INVITE_GUARDS):

* an invitation draft for them still awaits review, or one was already
  drafted this week;
* the owner discarded (or sent) an invitation for the agreement less than
  ``village.invite_cooldown_weeks`` ago;
* a series exists but its recent occurrences keep being declined or
  cancelled: no draft, the digest says so instead ("series-declined");
* a series with upcoming occurrences exists, or a one-off meeting is
  already scheduled within the rhythm;
* no free slot.

* an invitation draft that is still unsent is *stale* when its first
  meeting is less than ``min_notice_days`` working days away: the plan
  replaces it (``replaces`` names the old draft, which the round withdraws)
  with a fresh one, at most once a week; there is never more than one
  invitation draft per person in the folder.

Slot rules (choose_slot): candidates start on the hour or half hour within
the preferred hours, from ``village.invite_min_notice_days`` working days
(Monday to Friday; default 3) after today (so the owner has time to review
the draft and the person time to answer) through ``days`` days after that,
on the preferred weekdays; a candidate is free when the whole meeting
overlaps no busy interval. When the agreement's rule itself pins the days
("monthly on the 2nd Tuesday", "every 2 weeks on Thursday"), only the rule's
dates are candidates, and the window widens to reach at least one of them.

Several invitations planned in one round never overlap each other: every
occurrence of a chosen series across the whole search window is busy time
for the next agreement (``plan_invitations``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from villaged.domain.village import (
    OPEN_DRAFT_STATES,
    Action,
    Agreement,
    DraftRecord,
    DraftState,
    Interaction,
    Kind,
    Person,
    PlanItem,
    Skip,
    Village,
    WorkingHours,
)
from villaged.domain.vocabulary import DraftKind, Guard

Interval = tuple[dt.datetime, dt.datetime]

SLOT_DAYS = 14  # "the first free slot within the preferred hours over the next two weeks"
SLOT_STEP = dt.timedelta(minutes=30)
WORKING_DAYS = frozenset(range(5))  # Monday to Friday: "working days" for the notice period
RECENT_OCCURRENCES = 3  # how many past occurrences "keep being declined" looks at
DECLINED_LIMIT = 2  # this many of them declined or cancelled: the series is failing
FAILED_STATUSES = frozenset({"declined", "cancelled"})
PINNING_PARTS = ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS")

SERIES_DECLINED = Guard.SERIES_DECLINED
CALENDAR_UNREADABLE = Guard.INVITE_CALENDAR_UNREADABLE
_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def invite_key(person: str, week: str) -> str:
    return f"invite:{person}:{week}"


def hours_for(village: Village, agreement: Agreement) -> WorkingHours:
    return agreement.hours or village.owner.working_hours


def add_working_days(day: dt.date, count: int) -> dt.date:
    """The date ``count`` working days (Monday to Friday) after ``day``."""
    while count > 0:
        day += dt.timedelta(days=1)
        count -= day.weekday() in WORKING_DAYS
    return day


def earliest_day(village: Village, now: dt.datetime) -> dt.date:
    """The first day a first meeting may fall on: ``min_notice_days`` working days away
    (never today, even with no notice asked)."""
    today = now.astimezone(village.owner.timezone).date()
    return add_working_days(today, max(1, village.invite_min_notice_days))


# -- the slot ------------------------------------------------------------------


def choose_slot(
    busy: Iterable[Interval],
    hours: WorkingHours,
    tz: ZoneInfo,
    first: dt.date,
    duration: dt.timedelta,
    days: int = SLOT_DAYS,
    allowed: Collection[dt.date] | None = None,
) -> dt.datetime | None:
    """The first free start in the owner's zone on ``first`` or the ``days`` days after, or None.

    ``allowed`` (dates), when given, replaces the preferred weekdays: only
    those dates are candidates.
    """
    intervals = sorted((b[0], b[1]) for b in busy)
    for offset in range(days + 1):
        day = first + dt.timedelta(days=offset)
        if allowed is not None:
            if day not in allowed:
                continue
        elif day.weekday() not in hours.days:
            continue
        for start in _starts(day, hours, tz, duration):
            end = start + duration
            if not any(b0 < end and start < b1 for b0, b1 in intervals):
                return start
    return None


def _starts(day: dt.date, hours: WorkingHours, tz: ZoneInfo,
            duration: dt.timedelta) -> Iterable[dt.datetime]:
    """Candidate local starts on ``day``: every half hour from the start of the hours."""
    cursor = dt.datetime.combine(day, hours.start)
    last = dt.datetime.combine(day, hours.end) - duration
    while cursor <= last:
        local = cursor.replace(tzinfo=tz)
        # skip wall-clock times that do not exist (the spring-forward gap)
        if local.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) == cursor:
            yield local
        cursor += SLOT_STEP


def pins_days(rrule: str) -> bool:
    return any(part.split("=", 1)[0] in PINNING_PARTS for part in rrule.split(";"))


def window_days(agreement: Agreement) -> int:
    """How far ahead the first meeting may go: two weeks, or one rhythm if the rule pins days."""
    if pins_days(agreement.rrule):
        return max(SLOT_DAYS, agreement.interval_days + 7)
    return SLOT_DAYS


def busy_window(village: Village, now: dt.datetime) -> Interval:
    """The span of busy times the plan needs to place every agreement's first meeting."""
    longest = max((window_days(p.agreement) for p in village.people if p.agreement),
                  default=SLOT_DAYS)
    lead = (earliest_day(village, now) - now.astimezone(village.owner.timezone).date()).days
    return now, now + dt.timedelta(days=longest + lead + 2)


def rule_dates(rrule: str, tz: ZoneInfo, first: dt.date, last: dt.date) -> set[dt.date] | None:
    """Dates in [first, last] the rule allows for its first occurrence; None: any date."""
    if not pins_days(rrule):
        return None
    start = dt.datetime.combine(first, dt.time(12, 0), tzinfo=tz)
    end = dt.datetime.combine(last, dt.time(12, 0), tzinfo=tz)
    rule = rrulestr(rrule, dtstart=start)
    return {d.date() for d in islice(rule.between(start, end, inc=True), 400)}


def anchor_rule(rrule: str, start: dt.datetime) -> str:
    """Pin a bare monthly rule to the weekday of ``start`` ("2nd Tuesday").

    FREQ=MONTHLY alone repeats on the same day of the month, which drifts
    across weekdays and weekends; a meeting wants the same weekday instead.
    """
    parts = [p for p in rrule.split(";") if p]
    names = {p.split("=", 1)[0] for p in parts}
    if "FREQ=MONTHLY" not in parts or names & set(PINNING_PARTS):
        return rrule
    nth = (start.day - 1) // 7 + 1
    if nth >= 5:
        nth = -1
    return ";".join([*parts, f"BYDAY={nth}{_WEEKDAY_CODES[start.weekday()]}"])


def first_slot(village: Village, agreement: Agreement, busy: Sequence[Interval],
               now: dt.datetime) -> dt.datetime | None:
    """Where the agreement's first meeting goes, honouring a rule that pins its days."""
    tz = village.owner.timezone
    hours = hours_for(village, agreement)
    days = window_days(agreement)
    duration = dt.timedelta(minutes=agreement.duration_minutes)
    first = earliest_day(village, now)
    dates = rule_dates(agreement.rrule, tz, first, first + dt.timedelta(days=days))
    if dates is not None:
        preferred = {d for d in dates if d.weekday() in hours.days}
        dates = preferred or dates
    return choose_slot(busy, hours, tz, first, duration, days, allowed=dates)


def series_busy(agreement: Agreement, start: dt.datetime, until: dt.datetime) -> list[Interval]:
    """Every occurrence of a proposed series up to ``until``, as busy intervals."""
    duration = dt.timedelta(minutes=agreement.duration_minutes)
    rule = rrulestr(anchor_rule(agreement.rrule, start), dtstart=start.replace(tzinfo=None))
    tz = start.tzinfo
    found = []
    for naive in islice(rule, 400):
        local = naive.replace(tzinfo=tz)
        if local > until:
            break
        found.append((local, local + duration))
    return found


# -- the guards ----------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One recurring event with a person, as the calendar shows it."""

    uid: str
    summary: str
    occurrences: tuple[Interaction, ...]  # oldest first

    def past(self, now: dt.datetime) -> list[Interaction]:
        return [i for i in self.occurrences if i.at <= now]

    def upcoming(self, now: dt.datetime) -> list[Interaction]:
        return [i for i in self.occurrences if i.at > now and i.status not in FAILED_STATUSES]

    def failing(self, now: dt.datetime) -> tuple[int, int]:
        """(declined or cancelled, looked at) among the newest past occurrences."""
        recent = self.past(now)[-RECENT_OCCURRENCES:]
        return sum(i.status in FAILED_STATUSES for i in recent), len(recent)


def series_with(person: str, interactions: Iterable[Interaction]) -> list[Series]:
    found: dict[str, list[Interaction]] = defaultdict(list)
    for item in interactions:
        if item.person == person and item.kind is Kind.MEETING and item.series:
            found[item.series].append(item)
    result = []
    for uid, items in found.items():
        items.sort(key=lambda i: i.at)
        result.append(Series(uid=uid, summary=items[-1].subject, occurrences=tuple(items)))
    return sorted(result, key=lambda s: s.occurrences[-1].at)


def plan_invitations(
    village: Village,
    interactions: Sequence[Interaction],
    ledger: Sequence[DraftRecord],
    busy: Sequence[Interval],
    now: dt.datetime,
    week: str,
    busy_problem: str | None = None,
) -> list[PlanItem]:
    """An invite Action or a Skip for each person with an agreement, in config order.

    ``busy_problem`` says why the busy times are unknown (an unreadable
    calendar): an invitation that needs a free slot is then skipped with it.

    People with ``do_not_draft`` or a pause are left out entirely: the
    check-in guard already says why they get nothing.
    """
    today = now.astimezone(village.owner.timezone).date()
    items: list[PlanItem] = []
    taken: list[Interval] = list(busy)
    _, until = busy_window(village, now)
    for person in village.people:
        if person.agreement is None or person.do_not_draft:
            continue
        if person.paused_until and person.paused_until >= today:
            continue
        item = invitation_for(village, person, person.agreement, interactions,
                              ledger, taken, now, week, busy_problem)
        if isinstance(item, Action) and item.slot is not None:
            # the next agreement must not land on any meeting of this series
            taken += series_busy(person.agreement, item.slot.astimezone(village.owner.timezone),
                                 until)
        items.append(item)
    return items


def invitation_for(
    village: Village,
    person: Person,
    agreement: Agreement,
    interactions: Sequence[Interaction],
    ledger: Sequence[DraftRecord],
    busy: Sequence[Interval],
    now: dt.datetime,
    week: str,
    busy_problem: str | None = None,
) -> PlanItem:
    tz = village.owner.timezone

    def day(when: dt.datetime) -> str:
        return when.astimezone(tz).date().isoformat()

    def skip(reason: str, guard: Guard) -> Skip:
        return Skip(person.key, "skip", f"no invitation: {reason}", guard)

    mine = sorted((r for r in ledger if r.person == person.key and r.kind == DraftKind.INVITE),
                  key=lambda r: r.created_at)
    open_rows = [r for r in mine if r.state in OPEN_DRAFT_STATES]
    replaces: DraftRecord | None = None
    if open_rows:
        row = open_rows[-1]
        if row.slot is None or row.slot.astimezone(tz).date() >= earliest_day(village, now):
            return skip(f"your invitation draft of {day(row.created_at)} still awaits "
                        "your review", Guard.INVITE_PENDING)
        # stale: its first meeting is now too close (or past) to be sent as it is
        if row.week == week or any(r.week == week for r in mine):
            return skip(f"your invitation draft of {day(row.created_at)} proposes "
                        f"{day(row.slot)}, under {village.invite_min_notice_days} working "
                        "days away; villaged re-plans an invitation at most once a week",
                        Guard.INVITE_REPLANNED_THIS_WEEK)
        replaces = row
    elif any(r.key == invite_key(person.key, week) for r in mine):
        return skip("already drafted one this week", Guard.INVITE_DRAFTED_THIS_WEEK)

    lookback = dt.timedelta(days=2 * agreement.interval_days + 7)
    for series in reversed(series_with(person.key, interactions)):
        if series.occurrences[-1].at < now - lookback:
            continue  # an old series that has ended
        failed, seen = series.failing(now)
        if failed >= DECLINED_LIMIT:
            return skip(f"your recurring meeting \"{series.summary}\" keeps being declined or "
                        f"cancelled ({failed} of the last {seen}); talk with {person.address} "
                        "about the rhythm instead of sending another invitation",
                        SERIES_DECLINED)
        upcoming = series.upcoming(now)
        if upcoming:
            return skip(f"the recurring meeting \"{series.summary}\" is already in your calendar "
                        f"(next on {day(upcoming[0].at)})", Guard.SERIES_EXISTS)

    horizon = now + dt.timedelta(days=agreement.interval_days)
    scheduled = [i for i in interactions if i.person == person.key and i.kind is Kind.MEETING
                 and i.direct and now < i.at <= horizon]
    if scheduled:
        first = min(scheduled, key=lambda i: i.at)
        return skip(f"a meeting is already scheduled on {day(first.at)}, within the rhythm "
                    f"({agreement.rhythm})", Guard.INVITE_MEETING_SCHEDULED)

    cooldown = dt.timedelta(weeks=village.invite_cooldown_weeks)
    for row in reversed(mine if replaces is None else []):
        when = row.updated_at or row.created_at
        if row.state is DraftState.DISCARDED and now - when < cooldown:
            return skip(f"you discarded the invitation drafted {day(row.created_at)}; villaged "
                        f"waits {village.invite_cooldown_weeks} weeks before proposing another "
                        f"(until {day(when + cooldown)})", Guard.INVITE_COOLDOWN)
        if row.state is DraftState.SENT and now - when < cooldown:
            return skip(f"you sent an invitation around {day(when)} and no series is in your "
                        "calendar yet (import the invite.ics into your calendar once they "
                        f"accept); villaged asks again after {day(when + cooldown)}",
                        Guard.INVITE_SENT)

    if busy_problem is not None:
        return skip(f"villaged cannot tell when you are free: {busy_problem}; the invitation "
                    "waits until the calendar can be read", CALENDAR_UNREADABLE)
    slot = first_slot(village, agreement, busy, now)
    if slot is None:
        return skip(f"no free {agreement.duration_minutes}-minute slot within your preferred "
                    f"hours in the next {window_days(agreement)} days", Guard.INVITE_NO_SLOT)
    local = slot.astimezone(tz)
    if replaces is not None:
        assert replaces.slot is not None
        reason = (f"agreement ({agreement.rhythm}): your unsent invitation of "
                  f"{day(replaces.created_at)} proposed {day(replaces.slot)}, now under "
                  f"{village.invite_min_notice_days} working days away; replacing it with "
                  f"{local:%a %Y-%m-%d %H:%M %Z}, {agreement.rhythm}")
    else:
        reason = (f"agreement ({agreement.rhythm}): no meeting within the next "
                  f"{agreement.interval_days} days and no recurring series; proposing "
                  f"{local:%a %Y-%m-%d %H:%M %Z} (at least {village.invite_min_notice_days} "
                  f"working days away), {agreement.rhythm}")
    return Action(
        person=person.key, action=DraftKind.INVITE, key=invite_key(person.key, week), week=week,
        reason=reason, variant=len(mine), slot=slot,
        replaces=replaces.key if replaces is not None else None,
    )
