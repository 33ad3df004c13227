"""What the owner tells villaged by hand: offline contacts and gives."""

from __future__ import annotations

import datetime as dt
import hashlib

from villaged.core.notes import MANUAL_SOURCE, UNNAMED_LOG
from villaged.domain.village import Give, Interaction, Kind, Person, Village
from villaged.store import Store

__all__ = ["MANUAL_SOURCE", "log_contact", "log_give"]


def _noon(village: Village, day: dt.date) -> dt.datetime:
    """A logged day counts from local noon (the hour is rarely known)."""
    local = dt.datetime.combine(day, dt.time(12, 0), tzinfo=village.owner.timezone)
    return local.astimezone(dt.UTC)


def log_contact(store: Store, village: Village, person: Person, day: dt.date, note: str,
                now: dt.datetime) -> None:
    """An offline contact (a hallway chat, a call) counts like a meeting."""
    digest = hashlib.sha256(note.encode()).hexdigest()[:12]
    item = Interaction(source=MANUAL_SOURCE, uid=f"log:{day.isoformat()}:{digest}",
                       person=person.key, at=_noon(village, day), kind=Kind.MEETING,
                       subject=note or UNNAMED_LOG)
    store.log_contact(item, note, now)


def log_give(store: Store, village: Village, person: Person, day: dt.date, what: str,
             now: dt.datetime) -> None:
    store.log_give(Give(person=person.key, at=_noon(village, day), what=what), now)
