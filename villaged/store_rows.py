"""The store's rows: typed values for what the owner logged and the service's state, and
the conversions between domain values and SQLite rows (times as ISO 8601 in UTC)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from villaged.domain.village import DraftRecord, DraftState, Interaction, Kind
from villaged.domain.vocabulary import DraftKind


@dataclass(frozen=True)
class ManualEntry:
    """One thing the owner logged by hand: a contact (ref: its uid) or a give (ref: its id)."""

    id: int
    what: str  # "contact" | "give"
    person: str
    ref: str
    day: dt.date
    text: str
    recorded_at: dt.datetime


@dataclass(frozen=True)
class JobRun:
    """A job's run for one slot (``outcome`` None while it runs, or if its runner died)."""

    job: str
    slot: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str | None
    detail: str = ""


@dataclass(frozen=True)
class Parked:
    """The jobs are parked by an auth problem until a fresh grant."""

    reason: str
    fix: str
    job: str
    at: dt.datetime | None


@dataclass(frozen=True)
class LastRun:
    """The newest job run of a kind (``what``: "round" for any job, "sync" for syncs)."""

    at: dt.datetime
    job: str
    outcome: str
    detail: str = ""
    slot: str | None = None


@dataclass(frozen=True)
class DaemonState:
    """What the running (or last) daemon published about itself."""

    pid: int
    running: bool
    config: str
    started_at: dt.datetime | None
    updated_at: dt.datetime | None
    reloaded_at: dt.datetime | None = None
    reload_error: str | None = None
    next: dict[str, dt.datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """A delivered weekly digest."""

    week: str
    delivered_at: dt.datetime
    location: str | None
    forced: bool = False


def iso(when: dt.datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("naive datetime")
    return when.astimezone(dt.UTC).isoformat()


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def maybe_time(text: str | None) -> dt.datetime | None:
    try:
        return parse_iso(text) if text else None
    except ValueError:
        return None


def interaction_row(i: Interaction, source: str) -> tuple[Any, ...]:
    if i.source != source:
        raise ValueError(f"interaction from {i.source} written as {source}")
    return (i.source, i.uid, i.person, iso(i.at), i.kind.value, int(i.direct), i.thread,
            i.subject, i.message_id, i.series, i.status)


def interaction_of(row: tuple[Any, ...]) -> Interaction:
    source, uid, person, at, kind, direct, thread, subject, message_id, series, status = row
    return Interaction(source=source, uid=uid, person=person, at=parse_iso(at), kind=Kind(kind),
                       direct=bool(direct), thread=thread, subject=subject,
                       message_id=message_id, series=series, status=status)


def draft_of(row: tuple[Any, ...]) -> DraftRecord:
    key, person, kind, week, state, draft_id, subject, variant, created, updated, slot = row
    return DraftRecord(key=key, person=person, kind=DraftKind(kind), week=week,
                       state=DraftState(state),
                       created_at=parse_iso(created), draft_id=draft_id, subject=subject,
                       variant=variant, updated_at=parse_iso(updated),
                       slot=parse_iso(slot) if slot else None)
