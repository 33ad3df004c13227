"""The domain: who is in the village, what happened, and what to do about it.

Plain frozen values only. Config parsing lives in config.py, I/O elsewhere.
All datetimes are timezone-aware and stored in UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from villaged.domain.names import PersonName, Register, parse_name
from villaged.domain.setting import setting
from villaged.domain.vocabulary import DraftKind, Guard

KEY_HEADER = "X-Villaged-Key"
"""The header that marks a message as villaged's, carrying its natural key."""


def first_name(name: str) -> str:
    """The first given name, never an honorific ("Dr. Ruth Okonkwo" -> "Ruth").

    A name with no given name ("Dr. Okonkwo") gives the whole name.
    """
    parsed = parse_name(name)
    return parsed.first or parsed.address(Register.CASUAL)


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


DEFAULT_REGISTER: dict[Role, Register] = {
    Role.MENTOR: Register.CASUAL,
    Role.SPONSOR: Register.FORMAL,
    Role.ADVOCATE: Register.CASUAL,
    Role.COACH: Register.CASUAL,
    Role.ALLY: Register.CASUAL,
    Role.ROLE_MODEL: Register.FORMAL,
    Role.PEER_MENTOR: Register.CASUAL,
}
"""How the owner writes to someone when their config does not say: by their first role
(and formally to anyone with a mentorship agreement)."""

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
    rhythm: str = setting(  # the phrase as the owner wrote it
        custom=True, required=True, example='"monthly on the 2nd Tuesday"',
        doc='A plain phrase ("weekly", "every 2 weeks", "every other week", "monthly", '
        '"monthly on the 2nd Tuesday", "monthly on the last Friday", "quarterly") '
        'or an RRULE such as "FREQ=WEEKLY;INTERVAL=4"; at least once a year.')
    duration_minutes: int = setting(45, low=5, high=480, doc="How long each meeting is.")
    location: str = setting("", example='"Zoom"', doc="Where you meet.")
    agenda: str = setting("", example='"Aims page, K award timeline"',
                          doc="What the invitation says you will talk about.")
    hours: WorkingHours | None = setting(  # None: the owner's working hours
        None, keys=("days", "hours"), examples=('["tue", "thu"]', '"14:00-17:00"'),
        doc="Meeting days and hours for this agreement (default: your working days and hours).")
    interval_days: int = 28  # approximate spacing, for "within the rhythm"


@dataclass(frozen=True)
class Interest:
    """Something a person cares about: a plain topic, or a topic with the owner's own question."""

    topic: str
    ask: str = ""


@dataclass(frozen=True)
class Person:
    key: str = setting(  # stable slug, e.g. "ada-lovelace"
        custom=True, example='"ada-lovelace"',
        doc="made from the name (\"Tomás Álvarez\" → \"tomas-alvarez\"); renaming someone? "
        'set key = "old-key" to keep their history')
    name: str = setting(required=True, nonempty=True, example='"Ada Lovelace"',
                        doc="required; the person's name")
    emails: tuple[str, ...] = setting(kind="emails", example='["ada@example.org"]',
                                      doc="required; every address they write from")
    role: Role = setting(  # the first role: it sets the default cadence and register
        custom=True, example='"mentor"',
        doc="required (or roles); one of: mentor, sponsor, advocate, coach, ally, "
        "role model, peer mentor")
    cadence_days: int | None = setting(  # per-person override
        None, low=1, high=3650, example="30",
        doc="days between contacts, overriding [cadence] for this person")
    interests: tuple[Interest, ...] = setting(
        (), custom=True,
        example='["health equity research", {topic = "Kubb", ask = "Is Kubb more about skill '
        'or luck?"}]',
        doc="what they care about: plain topics, or {topic, ask} with your own question; "
        "successive check-ins rotate through them")
    notes: str = setting("", example='"Homework: send her the revised aims page."',
                         doc="anything to remember: shown in `villaged plan` and the digest "
                         "next to drafts for them, never in a draft")
    paused_until: dt.date | None = setting(None, example="2026-09-01",
                                           doc="a date (2026-09-01): no drafts before it")
    do_not_draft: bool = setting(False, doc="true: track the relationship, but never draft to them")
    agreement: Agreement | None = setting(
        None, custom=True, doc="a formal mentorship with regular meetings (see Miriam)")
    gives: tuple[str, ...] = setting(  # the owner's own give-back ideas
        (), example='["Send her the preprint"]', doc="your own ideas for giving back to them")
    also: tuple[Role, ...] = setting(  # further roles after the first
        (), key="roles", custom=True, example='["mentor", "sponsor"]',
        doc="several roles instead of role: the first sets the cadence and register; the "
        "village map lists them under each")
    greeting: str = setting(
        "", example='"Dr. Okonkwo"',
        doc="how you address them in a draft (default: from the name and register, never an "
        'honorific alone: "Ruth" or "Dr. Okonkwo")')
    register: str = setting(
        "", choices=("formal", "casual"), example='"formal"',
        doc='"formal" (Dear Dr. Okonkwo, ... Best regards) or "casual" (Hi Ruth, ... Best); '
        "default: formal for sponsors, role models and anyone with an agreement")
    draft_one_way: bool = setting(
        False, doc="true: draft check-ins even though they have never written back")

    prospect: bool = setting(False, doc="true: someone you would like to approach; not in the "
                             "village map, never drafted to except `villaged draft --intro`")
    why: str = setting("", example='"Your 2024 talk on sepsis handoffs changed our unit."',
                       doc="a prospect: why them, in your words (used by `draft --intro`)")

    def __post_init__(self) -> None:
        # plain strings are accepted for interests (a topic with no question of its own)
        fixed = tuple(i if isinstance(i, Interest) else Interest(str(i)) for i in self.interests)
        object.__setattr__(self, "interests", fixed)
        object.__setattr__(self, "also", tuple(r for r in dict.fromkeys(self.also)
                                               if r is not self.role))

    @property
    def roles(self) -> tuple[Role, ...]:
        return (self.role, *self.also)

    @property
    def parsed_name(self) -> PersonName:
        return parse_name(self.name)

    @property
    def tone(self) -> Register:
        """The register drafts to them use."""
        if self.register:
            return Register(self.register)
        if self.agreement is not None:
            return Register.FORMAL
        return DEFAULT_REGISTER[self.role]

    @property
    def address(self) -> str:
        """What the owner calls them in a greeting: "Ruth", "Dr. Okonkwo"."""
        return self.greeting.strip() or self.parsed_name.address(self.tone)

    @property
    def plain_name(self) -> str:
        """Their name without honorifics or post-nominals, for titles and lists."""
        return self.parsed_name.plain

    @property
    def first_name(self) -> str:
        return first_name(self.name)


@dataclass(frozen=True)
class Owner:
    name: str = setting(required=True, nonempty=True, example='"Dana Reyes"')
    addresses: tuple[str, ...] = setting(
        kind="emails", example='["dana@uni.example"]',
        doc="Every address you write from. The first is where the weekly digest goes.")
    timezone: ZoneInfo = setting(
        example='"America/Chicago"',
        doc="An IANA time zone: scheduling, the digest and invitations use it.")
    working_hours: WorkingHours = setting(
        WorkingHours(), keys=("working_days", "working_hours"),
        examples=('["mon", "tue", "wed", "thu", "fri"]', '"09:00-17:00"'),
        doc="When you are free to meet: days (monday..sunday, or mon..sun) and local hours.")

    @property
    def address(self) -> str:
        return self.addresses[0]

    @property
    def first_name(self) -> str:
        return first_name(self.name)

    @property
    def plain_name(self) -> str:
        return parse_name(self.name).plain


@dataclass(frozen=True)
class Thresholds:
    """When a relationship counts as cooling, cold or lapsed.

    Multiples of the person's cadence since last contact: warm up to
    ``cooling_after``, cooling up to ``cold_after``, cold up to
    ``lapsed_after``, lapsed beyond.
    """

    cooling_after: float = setting(1.0, low=0.1, high=100,
                                   doc="Warm up to this many cadences since contact.")
    cold_after: float = setting(1.5, low=0.1, high=100, doc="Cooling up to this many.")
    lapsed_after: float = setting(3.0, low=0.1, high=100,
                                  doc="Cold up to this many; lapsed beyond.")
    min_gap_days: int = setting(7, low=1, high=365,
                                doc="Never draft within this many days of contact.")
    double_text_days: int = setting(21, low=1, high=365,
                                    doc="Your unanswered message this recent blocks a draft.")
    unanswered_checkins: int = setting(
        2, low=1, high=20, doc="After this many unanswered check-ins, let it rest.")
    max_recipients: int = setting(
        10, low=1, high=1000, doc="Mail to more people than this is mass mail, not contact.")
    max_attendees: int = setting(
        12, low=1, high=1000, doc="A meeting bigger than this is not a conversation.")
    lookback_days: int = setting(730, low=1, high=18250,
                                 doc="How far back mail and calendars are read, in days.")
    horizon_days: int = setting(60, low=1, high=730,
                                doc="How far ahead calendars are read, in days.")
    thread_age_days: int = setting(
        90, low=1, high=3650,
        doc="Never reply into a thread whose last message is older than this: start a fresh "
        "subject.")


@dataclass(frozen=True)
class Roulette:
    """Contact List Roulette: each week, a few light check-ins."""

    day: int = setting(0, kind="weekday", doc="monday..sunday, or mon..sun")  # 0 = Monday
    time: dt.time = setting(  # before the digest (07:30), so it lists this week's drafts
        dt.time(7, 0), doc="24-hour, your time zone; before the digest, so it lists the new drafts")
    size: int = setting(3, low=0, high=20, doc="Check-ins per week; 0 turns roulette off.")


@dataclass(frozen=True)
class DigestSettings:
    day: int = setting(0, kind="weekday")
    time: dt.time = setting(dt.time(7, 30))
    maildir: Path | None = setting(  # local backend: where the digest is delivered
        None, example='"~/Maildir"',
        doc="Local backend: the Maildir the digest is delivered to. By default, the Maildir "
        'that holds the drafts folder (for "~/Maildir/.Drafts", "~/Maildir").')


class BackendSettings(Protocol):
    """What the domain knows of a backend's settings: its kind. Each backend
    package defines its own frozen settings type (see villaged.backends.registry)."""

    @property
    def kind(self) -> str: ...


@dataclass(frozen=True)
class Village:
    owner: Owner = setting(required=True, doc="You.")
    people: tuple[Person, ...] = setting(key="person", required=True)
    backend: BackendSettings = setting(
        custom=True, required=True,
        doc="Where villaged reads your mail and calendar, and where it writes drafts. "
        "villaged only ever writes DRAFTS: it never sends mail to anyone.")
    cadences: dict[Role, int] = setting(
        key="cadence", custom=True, low=1, high=3650, factory=lambda: dict(DEFAULT_CADENCE_DAYS),
        doc="How often, in days, you want real contact with each role. "
        "A person's own cadence_days overrides this.")
    thresholds: Thresholds = setting(
        Thresholds(),
        doc="When a relationship counts as cooling, cold or lapsed, in multiples of the "
        "person's cadence since your last real contact (0 < cooling < cold < lapsed).")
    roulette: Roulette = setting(
        Roulette(),
        doc="Contact List Roulette: each week, a few light check-ins with people you haven't "
        "spoken with in a while: cold and cooling first, weighted by how overdue they are. "
        "Nobody the ick guard protects is ever picked.")
    digest: DigestSettings = setting(
        DigestSettings(),
        doc="The weekly digest: who is warm, who is cooling, what was drafted. It is the one "
        "message villaged sends, and only ever to you.")
    invite_cooldown_weeks: int = setting(
        8, table="invitations", key="cooldown_weeks", low=0, high=104,
        doc="Weeks to wait before proposing a meeting to the same person again.")
    invite_min_notice_days: int = setting(
        3, table="invitations", key="min_notice_days", low=0, high=30,
        doc="The first meeting of an invitation is at least this many working days (Mon-Fri) "
        "away; an unsent invitation whose first meeting gets closer is re-planned (at most "
        "weekly).")
    sync_minutes: int = setting(
        15, table="daemon", low=1, high=1440,
        doc="How often `villaged run` syncs mail and calendars, in minutes.")
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
        """Their own cadence, else that of their first role."""
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
    REPLACED = "replaced"  # an unsent invitation villaged withdrew for a fresh one


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
    slot: dt.datetime | None = None  # invite: the first meeting it proposes (aware)


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
    reply_to: Interaction | None = None  # the message to answer in-thread (young threads only)
    slot: dt.datetime | None = None  # invite: first meeting start (aware)
    about: Interaction | None = None  # reply: their unanswered message, in-thread or not
    replaces: str | None = None  # invite: the key of a stale unsent draft this one replaces


@dataclass(frozen=True)
class Skip:
    """Someone the plan leaves alone, and why."""

    person: str
    action: str  # "skip"
    reason: str
    guard: Guard


PlanItem = Action | Skip
