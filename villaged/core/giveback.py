"""Mutual benefit: give-back suggestions and the reciprocity ledger (pure).

Mentoring is not a one-way street: even a junior person can nominate a
mentor for an award, recognise their achievements in public, introduce them
to useful colleagues, help with their professional social-media presence, or
sponsor them in turn. villaged ships role-aware ideas, and the owner adds
their own per person (``gives = [...]`` in the config; those come first).

Each week the digest proposes ONE give-back:

* among **warm, important** relationships. Important means: the role is
  mentor, sponsor, advocate or coach (the people investing most in the
  owner's career), or the person has a mentorship agreement, or the owner
  listed their own give-back ideas for them. Warm, because a give-back to
  someone gone cold reads as a favour being called in; warm them up first.
* for the person whose last give is oldest (never given counts as oldest);
  ties go by role (mentor, sponsor, advocate, coach, ...) then config order.
* never the same suggestion twice in a row: the last one shown is
  remembered (``Memory``) and skipped, and ideas the owner already logged
  for that person with ``villaged log --give`` are used last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from villaged.domain.village import Give, Person, Role, Standing, Temperature, Village

IMPORTANT_ROLES = (Role.MENTOR, Role.SPONSOR, Role.ADVOCATE, Role.COACH)
ROLE_ORDER = {role: n for n, role in enumerate(
    (*IMPORTANT_ROLES, Role.PEER_MENTOR, Role.ALLY, Role.ROLE_MODEL))}

SUGGESTIONS: dict[Role, tuple[str, ...]] = {
    Role.MENTOR: (
        "Thank {first} publicly for their mentoring: in a talk's acknowledgements, "
        "a post or your department newsletter",
        "Share {first}'s latest work with your network, with a line on why it matters",
        "Tell {first} concretely how one piece of their advice changed what you did",
        "Nominate {first} for a mentoring award",
    ),
    Role.SPONSOR: (
        "Nominate {first} for an award or honour in their field",
        "Publicly recognise one of {first}'s recent achievements",
        "Let {first}'s chair or leadership know what their sponsorship made possible for you",
        "Put {first}'s name forward for a keynote, a panel or an editorial board",
    ),
    Role.ADVOCATE: (
        "Publicly recognise {first}'s latest achievement (a post, a talk slide, a newsletter)",
        "Nominate {first} for an award or an invited talk",
        "Recommend {first} as a speaker, reviewer or committee member",
    ),
    Role.COACH: (
        "Send {first} a note on the progress you made on what you worked on together",
        "Write {first} a testimonial or recommendation they can use",
        "Refer someone who would benefit from {first}'s coaching",
    ),
    Role.ALLY: (
        "Amplify one of {first}'s ideas in a meeting and credit it by name",
        "Share an opportunity (a grant, a call for papers, a role) that fits {first}",
        "Invite {first} to join a project, a panel or a paper",
    ),
    Role.ROLE_MODEL: (
        "Cite or share {first}'s work and say how it shaped yours",
        "Write {first} a short note on what their example has meant to you",
        "Invite {first} to give a talk to your group",
    ),
    Role.PEER_MENTOR: (
        "Introduce {first} to a colleague who could help with what they're working on",
        "Help {first} with their professional social-media presence: share, endorse, recommend",
        "Offer to read a draft, a grant or an application for {first}",
        "Sponsor {first} in turn: put their name forward for an opportunity",
    ),
}


def is_important(person: Person) -> bool:
    return (any(r in IMPORTANT_ROLES for r in person.roles) or person.agreement is not None
            or bool(person.gives))


def suggestions_for(person: Person) -> list[str]:
    """The owner's own ideas for this person first, then the shipped ones for each of their
    roles, first role first. Suggestions name them as the owner addresses them."""
    shipped = [s.format(first=person.address) for role in person.roles
               for s in SUGGESTIONS[role]]
    return [*person.gives, *(s for s in dict.fromkeys(shipped) if s not in person.gives)]


@dataclass(frozen=True)
class GiveBack:
    """This week's give-back suggestion."""

    person: Person
    text: str
    last_give: Give | None
    reason: str


@dataclass(frozen=True)
class Memory:
    """The last suggestion shown (week, text), and the one before it."""

    week: str = ""
    person: str = ""
    text: str = ""
    prior: str = ""

    def avoid(self, week: str) -> str | None:
        """The suggestion this week's must differ from (a rerun in the same week keeps its own)."""
        return (self.prior if self.week == week else self.text) or None

    def after(self, week: str, choice: GiveBack) -> Memory:
        prior = self.prior if self.week == week else self.text
        return Memory(week=week, person=choice.person.key, text=choice.text, prior=prior)


def last_gives(gives: Sequence[Give]) -> dict[str, Give]:
    latest: dict[str, Give] = {}
    for give in sorted(gives, key=lambda g: g.at):
        latest[give.person] = give
    return latest


def choose_giveback(
    village: Village, standings: Sequence[Standing], gives: Sequence[Give],
    avoid: str | None,
) -> GiveBack | None:
    """One suggestion for this week, or None when no important relationship is warm."""
    latest = last_gives(gives)
    order = {p.key: n for n, p in enumerate(village.people)}
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    candidates = sorted(
        (s.person for s in standings
         if s.temperature is Temperature.WARM and is_important(s.person)),
        key=lambda p: (latest[p.key].at if p.key in latest else never,
                       min(ROLE_ORDER[r] for r in p.roles), order.get(p.key, 0)))
    for person in candidates:
        done = {g.what.strip().casefold() for g in gives if g.person == person.key}
        pool = suggestions_for(person)
        fresh = [s for s in pool if s.strip().casefold() not in done]
        for text in fresh + [s for s in pool if s not in fresh]:
            if text != avoid:
                last = latest.get(person.key)
                since = (f"your last give to them was "
                         f"{last.at.astimezone(village.owner.timezone).date().isoformat()} "
                         f"({last.what})" if last else "you haven't logged a give to them yet")
                return GiveBack(person=person, text=text, last_give=last,
                                reason=f"warm {person.role.label}; {since}")
    return None


@dataclass(frozen=True)
class GivesRow:
    person: Person
    count: int
    last: Give | None
    days_since: int | None


def gives_summary(village: Village, gives: Sequence[Give], now: dt.datetime) -> list[GivesRow]:
    """Per person in config order: how many gives, the last one, and how long ago."""
    tz = village.owner.timezone
    today = now.astimezone(tz).date()
    latest = last_gives(gives)
    rows = []
    for person in village.people:
        last = latest.get(person.key)
        rows.append(GivesRow(
            person=person,
            count=sum(1 for g in gives if g.person == person.key),
            last=last,
            days_since=(today - last.at.astimezone(tz).date()).days if last else None,
        ))
    return rows
