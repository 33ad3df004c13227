"""Who the owner really corresponds with, among people not in the village (pure).

The interactions come from the very same contact rules as everything else
(mass and list mail never count); this module only tallies and ranks them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from villaged.domain.village import Interaction, Kind

_ROBOT = re.compile(r"(^|[._+-])(no-?reply|do-?not-?reply|notifications?|mailer-daemon|bounce|alerts?)"
                    r"([._+-]|@|$)", re.IGNORECASE)


@dataclass
class Correspondent:
    """One suggested person: their addresses and how often mail went each way."""

    name: str
    addresses: list[str] = field(default_factory=list)
    received: int = 0  # direct mail from them to the owner
    sent: int = 0  # direct mail from the owner to them
    meetings: int = 0
    last: dt.datetime | None = None

    @property
    def two_way(self) -> bool:
        return (self.received > 0 and self.sent > 0) or self.meetings > 0

    @property
    def total(self) -> int:
        return self.received + self.sent + self.meetings


def guess_name(address: str) -> str:
    """A display name from an address: "ruth.okonkwo@x" -> "Ruth Okonkwo".

    >>> guess_name("jean-luc_picard@starfleet.example")
    'Jean Luc Picard'
    """
    local = address.partition("@")[0]
    words = [w for w in re.split(r"[._+\-]+", local) if w and not w.isdigit()]
    return " ".join(w.capitalize() for w in words) or address


def tally(interactions: Iterable[Interaction], known: Iterable[str], since: dt.datetime,
          names: dict[str, str] | None = None) -> list[Correspondent]:
    """Rank everyone the interactions concern who is not ``known`` (normalised addresses).

    Two-way relationships first, then by how much mail there was; addresses that
    share a display name are one person.
    """
    skip = set(known)
    names = names or {}
    by_name: dict[str, Correspondent] = {}
    for item in interactions:
        address = item.person
        if not item.direct or item.at < since or address in skip:
            continue
        name = names.get(address) or guess_name(address)
        who = by_name.setdefault(name.casefold(), Correspondent(name=name))
        if address not in who.addresses:
            who.addresses.append(address)
        if item.kind is Kind.EMAIL_IN:
            who.received += 1
        elif item.kind is Kind.EMAIL_OUT:
            who.sent += 1
        else:
            who.meetings += 1
        if who.last is None or item.at > who.last:
            who.last = item.at
    return sorted(by_name.values(), key=lambda c: (not c.two_way, -c.total, c.name))


def worth_suggesting(c: Correspondent) -> bool:
    """A relationship: two-way, and not a robot. `suggest --all` shows the rest too."""
    return c.two_way and not any(_ROBOT.search(a) for a in c.addresses)
