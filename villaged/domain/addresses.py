"""Address normalisation and matching addresses to people.

Matching is case-insensitive, strips ``+tags``, and treats gmail.com and
googlemail.com as one domain whose local part ignores dots.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from villaged.domain.errors import VillagedError
from villaged.domain.village import Person, Village

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def normalize(address: str) -> str:
    """Canonical form of an email address, for comparison only."""
    addr = address.strip().strip("<>").lower()
    local, sep, domain = addr.rpartition("@")
    if not sep:
        return addr
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        domain = "gmail.com"
        local = local.replace(".", "")
    return f"{local}@{domain}"


@dataclass(frozen=True)
class Matcher:
    """Maps normalised addresses to person keys and knows the owner's aliases."""

    people: dict[str, str]
    owner: frozenset[str]

    @classmethod
    def build(cls, owner_addresses: Iterable[str], people: Iterable[Person]) -> Matcher:
        index: dict[str, str] = {}
        for person in people:
            for email in person.emails:
                index[normalize(email)] = person.key
        return cls(people=index, owner=frozenset(normalize(a) for a in owner_addresses))

    def person_of(self, address: str) -> str | None:
        return self.people.get(normalize(address))

    def is_owner(self, address: str) -> bool:
        return normalize(address) in self.owner

    def people_in(self, addresses: Iterable[str]) -> list[str]:
        """Person keys among ``addresses``, in order, without repeats."""
        seen: list[str] = []
        for a in addresses:
            key = self.person_of(a)
            if key and key not in seen:
                seen.append(key)
        return seen


def find_person(village: Village, text: str) -> Person:
    """A person by key, name (any case) or one of their addresses."""
    needle = text.strip().lower()
    for p in village.people:
        if needle in (p.key, p.name.lower()) or any(
                normalize(e) == normalize(needle) for e in p.emails):
            return p
    names = ", ".join(p.name for p in village.people) or "(nobody yet)"
    raise VillagedError(f"no one called {text!r} in the village",
                        fix=f"use a name, key or address from the config: {names}")
