"""Where each relationship stands (pure: ``now`` is an argument).

Last contact is the newest *direct* interaction at or before ``now``: an
email either way or a meeting that has started. Meetings after ``now`` are
scheduled contact, not contact. The temperature compares the days since
last contact with the person's cadence (see Thresholds).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from villaged.domain.village import (
    Interaction,
    Kind,
    Person,
    Role,
    Standing,
    Temperature,
    Thresholds,
    Village,
)


def assess(village: Village, interactions: Iterable[Interaction], now: dt.datetime) -> list[Standing]:
    """One Standing per person, in config order."""
    by_person: dict[str, list[Interaction]] = defaultdict(list)
    for item in interactions:
        by_person[item.person].append(item)
    return [assess_person(village, p, by_person.get(p.key, []), now) for p in village.people]


def assess_person(
    village: Village, person: Person, interactions: list[Interaction], now: dt.datetime
) -> Standing:
    direct = sorted((i for i in interactions if i.direct), key=lambda i: i.at)
    past = [i for i in direct if i.at <= now]
    future_meetings = [i for i in direct if i.kind is Kind.MEETING and i.at > now]
    cadence = village.cadence_for(person)
    last = past[-1] if past else None
    tz = village.owner.timezone
    today = now.astimezone(tz).date()
    due = last.at.astimezone(tz).date() + dt.timedelta(days=cadence) if last else None
    days_since = (today - last.at.astimezone(tz).date()).days if last else None
    return Standing(
        person=person,
        cadence_days=cadence,
        temperature=temperature(days_since, cadence, village.thresholds),
        last_contact=last,
        last_inbound=_newest(past, Kind.EMAIL_IN),
        last_outbound=_newest(past, Kind.EMAIL_OUT),
        last_meeting=_newest(past, Kind.MEETING),
        next_meeting=future_meetings[0] if future_meetings else None,
        last_thread=next((i for i in reversed(past) if i.kind is not Kind.MEETING
                          and i.message_id), None),
        due=due,
        days_overdue=max(0, (today - due).days) if due else 0,
        days_since_contact=days_since,
    )


def temperature(days_since: int | None, cadence: int, limits: Thresholds) -> Temperature:
    """warm ≤ cooling_after·cadence < cooling ≤ cold_after·cadence < cold ≤ lapsed_after·cadence < lapsed."""
    if days_since is None:
        return Temperature.UNKNOWN
    ratio = days_since / cadence
    if ratio <= limits.cooling_after:
        return Temperature.WARM
    if ratio <= limits.cold_after:
        return Temperature.COOLING
    if ratio <= limits.lapsed_after:
        return Temperature.COLD
    return Temperature.LAPSED


def _newest(items: list[Interaction], kind: Kind) -> Interaction | None:
    for item in reversed(items):
        if item.kind is kind:
            return item
    return None


@dataclass(frozen=True)
class RoleSlot:
    role: Role
    people: tuple[Person, ...]

    @property
    def filled(self) -> bool:
        return bool(self.people)


def village_map(village: Village) -> list[RoleSlot]:
    """The seven roles in order, with who fills each (empty roles included).

    Someone with several roles (``roles = ["mentor", "sponsor"]``) fills each of them;
    prospects are not (yet) part of the village.
    """
    return [RoleSlot(role, tuple(p for p in village.people if role in p.roles and not p.prospect))
            for role in Role]


def counts(standings: Iterable[Standing]) -> dict[str, int]:
    """Temperature counts plus the number overdue, for weekly snapshots."""
    result = {t.value: 0 for t in Temperature}
    overdue = 0
    for s in standings:
        result[s.temperature.value] += 1
        overdue += s.days_overdue > 0
    result["overdue"] = overdue
    return result
