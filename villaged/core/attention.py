"""What needs the owner's attention this week (pure).

The facts the weekly digest leads with, computed from plain values: the
replies the owner owes, the people in order of urgency, meetings coming up,
check-ins waiting for an answer, and invitation drafts gone stale. ``now``
is always an argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from villaged.core.plan import unanswered_checkins
from villaged.domain.village import (
    OPEN_DRAFT_STATES,
    DraftRecord,
    DraftState,
    Interaction,
    Kind,
    Person,
    Standing,
    Temperature,
)
from villaged.domain.vocabulary import DraftKind

URGENCY = {Temperature.LAPSED: 0, Temperature.COLD: 1, Temperature.COOLING: 2,
           Temperature.UNKNOWN: 3, Temperature.WARM: 4}
NEEDS_ATTENTION = frozenset({Temperature.LAPSED, Temperature.COLD, Temperature.COOLING})


def by_urgency(standings: Iterable[Standing]) -> list[Standing]:
    """Lapsed, cold, cooling, unknown, warm; the most overdue first within each."""
    return sorted(standings, key=lambda s: (URGENCY[s.temperature], -s.days_overdue,
                                            s.person.name.lower()))


@dataclass(frozen=True)
class Waiting:
    """Sent check-ins that got no answer yet (``rest``: stop writing for now)."""

    person: str
    count: int
    since: dt.datetime | None  # the newest unanswered check-in
    rest: bool


def waiting_on_them(standings: Iterable[Standing], ledger: Sequence[DraftRecord],
                    rest_after: int) -> list[Waiting]:
    result = []
    for s in standings:
        mine = [r for r in ledger if r.person == s.person.key]
        n = unanswered_checkins(s, mine)
        if not n:
            continue
        newest = max((r.created_at for r in mine
                      if r.kind == DraftKind.CHECKIN and r.state is DraftState.SENT), default=None)
        result.append(Waiting(s.person.key, n, newest, n >= rest_after))
    return result


@dataclass(frozen=True)
class Meeting:
    start: dt.datetime
    people: tuple[str, ...]  # Person keys
    subject: str


def meetings_ahead(interactions: Iterable[Interaction], people: Iterable[str],
                   now: dt.datetime, days: int) -> list[Meeting]:
    """Direct meetings with village members in (now, now + days], one per event."""
    known = set(people)
    end = now + dt.timedelta(days=days)
    events: dict[tuple[str, str], list[Interaction]] = {}
    for item in interactions:
        if item.kind is Kind.MEETING and item.direct and now < item.at <= end \
                and item.person in known:
            events.setdefault((item.source, item.uid), []).append(item)
    return [Meeting(items[0].at, tuple(sorted({i.person for i in items})), items[0].subject)
            for items in sorted(events.values(), key=lambda xs: xs[0].at)]


def open_drafts(ledger: Iterable[DraftRecord]) -> list[DraftRecord]:
    """Drafts still in the owner's drafts folder, oldest first."""
    return sorted((r for r in ledger if r.state in OPEN_DRAFT_STATES),
                  key=lambda r: r.created_at)


def stale_invitation(record: DraftRecord, week: str, now: dt.datetime) -> bool:
    """An invitation draft from an earlier week, or whose first date has passed."""
    if record.kind != DraftKind.INVITE or record.state not in OPEN_DRAFT_STATES:
        return False
    return record.week != week or (record.slot is not None and record.slot <= now)


def answered_intro(person: Person, ledger: list[DraftRecord],
                   interactions: list[Interaction]) -> bool:
    """A prospect who wrote back after an introduction was drafted to them."""
    intros = [r.created_at for r in ledger if r.person == person.key and r.kind == DraftKind.INTRO]
    return bool(intros) and any(
        i.person == person.key and i.kind is Kind.EMAIL_IN and i.direct and i.at > min(intros)
        for i in interactions)
