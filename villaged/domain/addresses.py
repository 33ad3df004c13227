"""Address normalisation and matching addresses to people.

Matching is case-insensitive, strips ``+tags``, and treats gmail.com and
googlemail.com as one domain whose local part ignores dots.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from villaged.domain.village import Person

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


@functools.lru_cache(maxsize=1 << 16)  # the same few thousand addresses come again and again
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



@dataclass(frozen=True)
class AnyoneMatcher(Matcher):
    """Treats every address but the owner's as a person of its own (key: the normalised
    address), for finding correspondents who are not in the village yet. Parsers that
    see display names note them in ``names`` (address -> name -> count)."""

    names: dict[str, Counter[str]] = field(default_factory=dict)

    def hear(self, address: str, name: str) -> None:
        name = " ".join(name.split()).strip("'\" ")
        if name and "@" not in name:
            self.names.setdefault(normalize(address), Counter())[name] += 1

    def display_names(self) -> dict[str, str]:
        """Each address's most frequent display name."""
        return {a: c.most_common(1)[0][0] for a, c in self.names.items()}

    def person_of(self, address: str) -> str | None:
        key = normalize(address)
        if "@" not in key or key in self.owner:
            return None
        return self.people.get(key, key)
