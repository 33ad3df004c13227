"""What the owner told villaged about a person, for the owner's eyes only (pure).

``notes`` from the config and the newest ``villaged log --note`` appear in
``villaged plan`` next to each draft and are offered to the digest; they are
never put in a draft.
"""

from __future__ import annotations

from collections.abc import Iterable

from villaged.domain.village import Interaction, Person

MANUAL_SOURCE = "manual"
UNNAMED_LOG = "logged contact"


def latest_log_note(person: str, interactions: Iterable[Interaction]) -> Interaction | None:
    """The newest contact logged by hand for ``person`` that carries a note."""
    logged = [i for i in interactions if i.person == person and i.source == MANUAL_SOURCE
              and i.subject.strip() and i.subject != UNNAMED_LOG]
    return max(logged, key=lambda i: i.at, default=None)


def owner_notes(person: Person, interactions: Iterable[Interaction]) -> list[str]:
    """The config's notes, then the latest logged note with its day (UTC date)."""
    lines = [person.notes.strip()] if person.notes.strip() else []
    logged = latest_log_note(person.key, interactions)
    if logged is not None:
        lines.append(f"logged {logged.at.date().isoformat()}: {logged.subject.strip()}")
    return lines
