"""The domain: who is in the village, what happened, and what to do about it.

Plain frozen values only. Config parsing lives in config.py, I/O elsewhere.
All datetimes are timezone-aware and stored in UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from villaged.domain.vocabulary import DraftKind, Guard

KEY_HEADER = "X-Villaged-Key"
"""The header that marks a message as villaged's, carrying its natural key."""


def first_name(name: str) -> str:
    """The first word of a name, or the whole (stripped) name if it has none."""
    words = name.split()
    return words[0] if words else name.strip()


class Role(str, Enum):
    """The seven roles of a mentorship village."""

    MENTOR = "mentor"
    SPONSOR = "sponsor"
    ADVOCATE = "advocate"
    COACH = "coach"
    ALLY = "ally"
    ROLE_MODEL = "role_model"
    PEER_MENTOR = "peer_mentor"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @classmethod
    def parse(cls, text: str) -> Role:
        """Accept "role model", "role-model" and "role_model" alike."""
        key = text.strip().lower().replace(" ", "_").replace("-", "_")
        return cls(key)


class Kind(str, Enum):
    EMAIL_IN = "email_in"
    EMAIL_OUT = "email_out"
    MEETING = "meeting"

    @property
    def label(self) -> str:
        """How the contact happened, in words."""
        return {"email_in": "email from them", "email_out": "email to them",
                "meeting": "meeting"}[self.value]


class Temperature(str, Enum):
    WARM = "warm"
    COOLING = "cooling"
    COLD = "cold"
    LAPSED = "lapsed"
    UNKNOWN = "unknown"


DEFAULT_CADENCE_DAYS: dict[Role, int] = {
    Role.MENTOR: 30,
    Role.SPONSOR: 60,
    Role.ADVOCATE: 60,
    Role.COACH: 30,
    Role.ALLY: 90,
    Role.ROLE_MODEL: 120,
    Role.PEER_MENTOR: 30,
}


@dataclass(frozen=True)
class WorkingHours:
    """Preferred meeting days (0=Monday) and local hours [start, end)."""

    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 0)


@dataclass(frozen=True)
class Agreement:
    """A formal mentorship agreement: regular, scheduled meetings."""

    rrule: str  # normalised RRULE text, e.g. "FREQ=WEEKLY;INTERVAL=4"
    rhythm: str  # the phrase as the owner wrote it
    duration_minutes: int = 45
    location: str = ""
    agenda: str = ""
    hours: WorkingHours | None = None  # None: the owner's working hours
    interval_days: int = 28  # approximate spacing, for "within the rhythm"


@dataclass(frozen=True)
class Person:
    key: str  # stable slug, e.g. "ada-lovelace"
    name: str
    emails: tuple[str, ...]
    role: Role
    cadence_days: int | None = None  # per-person override
    interests: tuple[str, ...] = ()
    notes: str = ""
    paused_until: dt.date | None = None
    do_not_draft: bool = False
    agreement: Agreement | None = None
    gives: tuple[str, ...] = ()  # the owner's own give-back ideas

    @property
    def first_name(self) -> str:
        return first_name(self.name)


@dataclass(frozen=True)
class Owner:
    name: str
    addresses: tuple[str, ...]
    timezone: ZoneInfo
    working_hours: WorkingHours = WorkingHours()

    @property
    def address(self) -> str:
        return self.addresses[0]

    @property
    def first_name(self) -> str:
        return first_name(self.name)


@dataclass(frozen=True)
class Thresholds:
    """When a relationship counts as cooling, cold or lapsed.

    Multiples of the person's cadence since last contact: warm up to
    ``cooling_after``, cooling up to ``cold_after``, cold up to
    ``lapsed_after``, lapsed beyond.
    """

    cooling_after: float = 1.0
    cold_after: float = 1.5
    lapsed_after: float = 3.0
    min_gap_days: int = 7  # never draft within this many days of contact
    double_text_days: int = 21  # an unanswered message this recent blocks a draft
    unanswered_checkins: int = 2  # after this many unanswered check-ins, let it rest
    max_recipients: int = 10  # more recipients than this is mass mail
    max_attendees: int = 12  # more attendees than this is not a conversation
    lookback_days: int = 730  # how far back sources read
    horizon_days: int = 60  # how far ahead calendars are read


@dataclass(frozen=True)
class Roulette:
    """Contact List Roulette: each week, a few light check-ins."""

    day: int = 0  # 0 = Monday
    time: dt.time = dt.time(7, 0)  # before the digest (07:30), so it lists this week's drafts
    size: int = 3


@dataclass(frozen=True)
class DigestSettings:
    day: int = 0
    time: dt.time = dt.time(7, 30)
    maildir: Path | None = None  # local backend: where the digest is delivered


class BackendSettings(Protocol):
    """What the domain knows of a backend's settings: its kind. Each backend
    package defines its own frozen settings type (see villaged.backends.registry)."""

    @property
    def kind(self) -> str: ...


@dataclass(frozen=True)
class Village:
    owner: Owner
    people: tuple[Person, ...]
    backend: BackendSettings
    cadences: dict[Role, int] = field(default_factory=lambda: dict(DEFAULT_CADENCE_DAYS))
    thresholds: Thresholds = Thresholds()
    roulette: Roulette = Roulette()
    digest: DigestSettings = DigestSettings()
    invite_cooldown_weeks: int = 8
    sync_minutes: int = 15
    config_path: Path | None = None

    @property
    def config_dir(self) -> Path | None:
        return self.config_path.parent if self.config_path else None

    def person(self, key: str) -> Person:
        for p in self.people:
            if p.key == key:
                return p
        raise KeyError(key)

    def cadence_for(self, person: Person) -> int:
        return person.cadence_days or self.cadences[person.role]



@dataclass(frozen=True)
class Interaction:
    """One piece of evidence about contact with one person.

    ``direct`` is False for evidence that does not count as contact (mass
    mail, declined or cancelled meetings); ``status`` then says why.
    """

    source: str  # e.g. "mbox:/home/dana/mail/takeout.mbox"
    uid: str  # unique within the source (Message-ID, event UID + start)
    person: str  # Person.key
    at: dt.datetime  # aware, UTC
    kind: Kind
    direct: bool = True
    thread: str | None = None
    subject: str = ""
    message_id: str | None = None
    series: str | None = None  # recurring-event UID for meetings
    status: str = "ok"  # ok | bulk | too-many | declined | cancelled | ...

    @property
    def how(self) -> str:
        """How the contact happened, in words ("logged" for `villaged log`)."""
        return "logged" if self.source == "manual" else self.kind.label


@dataclass(frozen=True)
class Standing:
    """Where one relationship stands at ``now``."""

    person: Person
    cadence_days: int
    temperature: Temperature
    last_contact: Interaction | None
    last_inbound: Interaction | None
    last_outbound: Interaction | None
    last_meeting: Interaction | None
    next_meeting: Interaction | None
    last_thread: Interaction | None  # newest direct email, for replying in-thread
    due: dt.date | None
    days_overdue: int
    days_since_contact: int | None


class DraftState(str, Enum):
    CREATING = "creating"
    CREATED = "created"
    PENDING = "pending"
    SENT = "sent"
    DISCARDED = "discarded"


OPEN_DRAFT_STATES = (DraftState.CREATING, DraftState.CREATED, DraftState.PENDING)


@dataclass(frozen=True)
class DraftRecord:
    """A row of the drafts ledger."""

    key: str  # natural key, e.g. "checkin:ada-lovelace:2026-W48"
    person: str
    kind: DraftKind
    week: str
    state: DraftState
    created_at: dt.datetime
    draft_id: str | None = None
    subject: str = ""
    variant: int = 0
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class Give:
    person: str
    at: dt.datetime
    what: str


@dataclass(frozen=True)
class Action:
    """Something the plan wants done, and why."""

    person: str
    action: DraftKind
    reason: str
    key: str
    week: str
    variant: int = 0
    reply_to: Interaction | None = None
    slot: dt.datetime | None = None  # invite: first meeting start (aware)


@dataclass(frozen=True)
class Skip:
    """Someone the plan leaves alone, and why."""

    person: str
    action: str  # "skip"
    reason: str
    guard: Guard


PlanItem = Action | Skip
