"""Finding a person from what the owner types: a key, a name, a first name, a prefix, an address.

Matching ignores case and accents ("jose" finds "José"). A unique answer wins at
each step, most exact first; an ambiguous one lists the candidates.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

from villaged.domain.addresses import normalize
from villaged.domain.errors import VillagedError
from villaged.domain.village import Person, Village


def fold(text: str) -> str:
    """Lower case without accents or extra spaces, for comparison only.

    >>> fold("  José  María ")
    'jose maria'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _bare(person: Person) -> str:
    """The folded name without honorifics or post-nominals: "Dr. Sofia Álvarez" -> "sofia alvarez"."""
    return fold(person.plain_name)


def find_person(village: Village, text: str, *, people: Sequence[Person] | None = None) -> Person:
    """The one person ``text`` names; a VillagedError (exit 2) if none or several do."""
    pool = list(village.people if people is None else people)
    needle = fold(text)
    if not needle:
        raise VillagedError("no person given", fix="name someone: a key, a name or an address")
    steps: list[Callable[[Person], bool]] = [
        lambda p: needle == fold(p.key),
        lambda p: "@" in needle and any(normalize(e) == normalize(needle) for e in p.emails),
        lambda p: needle in (fold(p.name), _bare(p)),
        lambda p: needle == fold(p.parsed_name.first),  # a first name
        lambda p: _bare(p).startswith(needle) or fold(p.key).startswith(needle),
        lambda p: any(word.startswith(needle) for word in _bare(p).split()),
    ]
    for matches in steps:
        found = [p for p in pool if matches(p)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            listing = "; ".join(f"{p.name} ({p.key})" for p in found)
            raise VillagedError(f"{text!r} could be {len(found)} people: {listing}",
                                fix="use more of the name, the key or an address")
    names = ", ".join(p.name for p in pool) or "(nobody yet)"
    raise VillagedError(f"no one called {text!r} in the village",
                        fix=f"use a name, key or address from the config: {names}")
