"""People's names: what to call someone, in a greeting, a title or a list (pure).

A configured name such as "Dr. Ruth Okonkwo", "Prof. Dr. Hans Müller",
"Tomás Álvarez-Ruiz, MD", "Ludwig van Beethoven", "Okonkwo, Ruth" or
"Sir Tim Berners-Lee" is split into honorifics, given names, a family name
(with its particles: van, von der, de la, bin, ...) and post-nominals (MD,
PhD, Jr, III, ...), with or without dots and commas. An honorific or a
post-nominal is never taken for a first name.

What the owner calls a person (``address``):

* their ``greeting`` from the config, verbatim, when set ("Ruth", "Dr. Okonkwo");
* casual register: the first given name ("Ruth");
* formal register: the honorific and family name ("Dr. Okonkwo"); Sir and
  Dame go with the given name ("Sir Tim"); with no honorific, the given name;
* a name that is only an honorific and a family name ("Dr. Okonkwo") is used
  as it is in either register.

Titles and lists use ``plain``: given and family names without honorifics or
post-nominals ("Ruth Okonkwo").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Register(str, Enum):
    FORMAL = "formal"
    CASUAL = "casual"


HONORIFICS = frozenset({
    "dr", "doctor", "prof", "professor", "mr", "mister", "ms", "mrs", "miss", "mx",
    "sir", "dame", "lord", "lady", "rev", "revd", "reverend", "fr", "father", "sr", "sister",
    "rabbi", "imam", "hon", "judge", "justice", "capt", "captain", "col", "gen", "maj",
    "lt", "cdr", "adm", "herr", "frau", "mme", "mlle", "m", "sra", "srta", "don", "doña",
    "dott", "dottssa", "ing", "mag", "assoc", "asst",
})
# "assoc prof": a two-word honorific; "sr" is Sister before a name, Senior after it.
GIVEN_NAME_HONORIFICS = frozenset({"sir", "dame"})
POST_NOMINALS = frozenset({
    "jr", "sr", "snr", "jnr", "ii", "iii", "iv", "v", "vi",
    "md", "phd", "dphil", "mba", "mph", "msc", "ms", "ma", "ba", "bsc", "bs", "jd", "llm",
    "lld", "edd", "psyd", "pharmd", "dds", "dmd", "dvm", "do", "rn", "np", "pa", "pe",
    "cpa", "esq", "frs", "freng", "fmedsci", "facp", "facs", "frcp", "frcs", "mrcp", "obe",
    "mbe", "cbe", "kbe", "dbe", "qc", "kc", "ret", "emeritus", "mbbs", "mbchb", "faan",
})
PARTICLES = frozenset({
    "van", "von", "der", "den", "de", "del", "della", "dei", "degli", "di", "da", "das",
    "do", "dos", "du", "des", "la", "le", "lo", "ten", "ter", "te", "op", "bin", "binti",
    "bint", "ibn", "al", "el", "ben", "y", "zu", "af", "av", "st", "san", "santa",
})


def _bare(word: str) -> str:
    """A word without dots, commas and case: "Ph.D.," -> "phd"."""
    return word.replace(".", "").replace(",", "").strip().casefold()


@dataclass(frozen=True)
class PersonName:
    """A name split into its parts (each part as written, dots kept)."""

    honorifics: tuple[str, ...]
    given: tuple[str, ...]
    family: tuple[str, ...]  # particles included: ("van", "Beethoven")
    suffixes: tuple[str, ...]
    text: str

    @property
    def first(self) -> str:
        """The first given name ("" when the name has none, e.g. "Dr. Okonkwo")."""
        return self.given[0] if self.given else ""

    @property
    def plain(self) -> str:
        """Given and family names, no honorifics or post-nominals: "Ruth Okonkwo"."""
        return " ".join((*self.given, *self.family)) or self.text.strip()

    @property
    def formal(self) -> str:
        """"Dr. Okonkwo", "Sir Tim"; the given name when there is no honorific."""
        if self.honorifics:
            if _bare(self.honorifics[-1]) in GIVEN_NAME_HONORIFICS and self.given:
                return f"{self.honorifics[-1]} {self.given[0]}"
            rest = self.family or self.given[:1]
            if rest:
                return " ".join((*self.honorifics, *rest))
        return self.first or self.plain

    def address(self, register: Register) -> str:
        """What to call them in a greeting, in this register."""
        if not self.given:  # "Dr. Okonkwo": there is nothing else to call them
            return " ".join((*self.honorifics, *self.family)) or self.text.strip()
        if register is Register.FORMAL:
            return self.formal
        return self.first


def parse_name(text: str) -> PersonName:
    """Split a name as people write it in a config or a From header."""
    raw = " ".join(text.split())
    head, suffixes = _split_suffixes(raw)
    if "," in head:  # "Okonkwo, Ruth": family name first
        family_part, _, given_part = head.partition(",")
        words = given_part.split()
        honorifics, given = _leading_honorifics(words)
        family = tuple(family_part.split())
        return PersonName(honorifics, tuple(given), family, suffixes, raw)
    words = head.split()
    honorifics, rest = _leading_honorifics(words)
    if honorifics and len(rest) == 1:  # "Dr. Okonkwo"
        return PersonName(honorifics, (), tuple(rest), suffixes, raw)
    if len(rest) <= 1:
        return PersonName(honorifics, tuple(rest), (), suffixes, raw)
    # the family name starts at its first particle after the first given name
    # ("Ludwig van Beethoven", "Ursula von der Leyen"), else it is the last word
    start = len(rest) - 1
    for index in range(1, len(rest) - 1):
        if _bare(rest[index]) in PARTICLES and rest[index][:1].islower():
            start = index
            break
    return PersonName(honorifics, tuple(rest[:start]), tuple(rest[start:]), suffixes, raw)


def _leading_honorifics(words: list[str]) -> tuple[tuple[str, ...], list[str]]:
    found: list[str] = []
    rest = list(words)
    # keep at least one word that is not an honorific ("Prof. Doctor" stays a name)
    while len(rest) > 1 and _bare(rest[0]) in HONORIFICS:
        found.append(rest.pop(0).rstrip(","))
    return tuple(found), rest


GENERATIONAL = frozenset({"jr", "sr", "snr", "jnr", "ii", "iii", "iv", "v", "vi"})


def _suffix_without_comma(word: str) -> bool:
    """A post-nominal written without a comma: "PhD", "MD", "Jr.", "III", "M.D."; not "Ma" or "Do"
    (family names that look like degrees are Titlecase and undotted)."""
    bare = _bare(word)
    if bare not in POST_NOMINALS:
        return False
    return bare in GENERATIONAL or "." in word or word.rstrip(",") != word.rstrip(",").capitalize()


def _split_suffixes(text: str) -> tuple[str, tuple[str, ...]]:
    """Peel post-nominals off the end.

    "Tomás Álvarez-Ruiz, MD, PhD" -> ("Tomás Álvarez-Ruiz", ("MD", "PhD")).
    """
    suffixes: list[str] = []
    rest = text.rstrip(" ,")
    while True:
        if "," in rest:
            before, _, tail = rest.rpartition(",")
            words = tail.split()
            if words and all(_bare(w) in POST_NOMINALS for w in words):
                suffixes[:0] = [w.rstrip(",") for w in words]
                rest = before.rstrip(" ,")
                continue
        words = rest.split()
        if len(words) > 2 and _suffix_without_comma(words[-1]):
            suffixes.insert(0, words[-1].rstrip(","))
            rest = " ".join(words[:-1]).rstrip(" ,")
            continue
        return rest, tuple(suffixes)
