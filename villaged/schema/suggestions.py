"""Suggested fixes: "did you mean ...?" and where a misplaced key belongs."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

TABLE_ALIASES = {"people": "person", "persons": "person", "cadences": "cadence",
                 "threshold": "thresholds", "invites": "invitations",
                 "invitation": "invitations"}  # fmt: skip


def closest(word: str, options: Iterable[str]) -> str | None:
    """The option most like ``word``, ignoring case, if any is close.

    >>> closest("mentr", ["mentor", "sponsor"])
    'mentor'
    >>> closest("xyz", ["mentor", "sponsor"]) is None
    True
    """
    lowered = {o.lower(): o for o in options}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """The start of a fix, ``did you mean "x"? ``, or "" when nothing is close.

    >>> did_you_mean("tusday", ["monday", "tuesday"])
    'did you mean "tuesday"? '
    """
    guess = closest(word, options)
    return f'did you mean "{guess}"? ' if guess else ""


def unknown_key_fix(
    name: str, allowed: list[str], *, what: str, section: str, top: bool,
    homes: Mapping[str, list[str]],
) -> str:
    """The fix for an unknown ``name`` in ``section`` (``top``: the top level).

    A key known elsewhere is sent home; otherwise a close match is offered.
    """
    listing = ", ".join(allowed)
    guess = (TABLE_ALIASES.get(name.lower()) if top else None) or closest(name, allowed)
    known_homes = homes.get(name, [])
    home = " or ".join(known_homes)
    if known_homes and section not in known_homes and not top:
        return f'"{name}" belongs in {home}: move it there'
    if guess and top:
        written = " (written [[person]])" if guess == "person" else ""
        return f"did you mean [{guess}]{written}? The tables are: {listing}"
    if guess:
        return f'did you mean "{guess}"? The {what}s allowed here are: {listing}'
    if home:
        return f'"{name}" belongs in {home}: move it below that header'
    return f"remove it, or use one of: {listing}"
