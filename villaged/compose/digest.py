"""The weekly digest to the owner: a ten-second action list, text and HTML (pure).

``digest_view`` turns the week's values into one typed ``DigestView`` that
both templates (``digest/digest.txt.j2`` and the autoescaped
``digest/digest.html.j2``) render, so the two parts always say the same, in
the same order: this week's actions first (drafts to review, replies owed,
invitations gone stale, one give-back), then meetings in the next 7 days,
then the village by urgency, and the trend last (only with 4 or more weekly
points). The facts come from the pure core (``villaged.core.attention``);
this module only words and formats them.

Everything from mail, calendar or config reaches the HTML only through
Jinja2's autoescaping; the only markup values the code computes are numbers
and colours from the fixed table below, every one of them at least 4.5:1 on
the white card (WCAG AA). The text part is wrapped at 78 columns.

The message goes to the owner's primary address and nobody else (To only,
no Cc or Bcc); ports.digest.owner_only enforces that at delivery.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import jinja2

from villaged.compose.headers import address, message_id_for, one_line
from villaged.compose.templating import render
from villaged.core.assess import counts, village_map
from villaged.core.attention import (
    NEEDS_ATTENTION,
    by_urgency,
    meetings_ahead,
    open_drafts,
    stale_invitation,
    waiting_on_them,
)
from villaged.core.giveback import GiveBack
from villaged.core.invitations import CALENDAR_UNREADABLE, SERIES_DECLINED
from villaged.core.notes import latest_log_note
from villaged.core.replies import ReplyOwed, replies_owed
from villaged.domain.village import (
    KEY_HEADER,
    DraftRecord,
    Interaction,
    Person,
    PlanItem,
    Role,
    Skip,
    Standing,
    Temperature,
    Village,
)
from villaged.domain.vocabulary import DraftKind, Guard

TEXT_TEMPLATE = "digest/digest.txt.j2"
HTML_TEMPLATE = "digest/digest.html.j2"
SPARKS = "▁▂▃▄▅▆▇█"
TREND_WEEKS = 8
TREND_MIN_POINTS = 4  # fewer weekly points than this are noise, not a trend
MEETING_DAYS = 7
REPLY_WINDOW_DAYS = 60  # replies owed older than this are not this week's business
SHORT_NOTICE_DAYS = 2  # an invitation whose first date is this close says so
TEXT_WIDTH = 78

ROLE_HINTS: dict[Role, str] = {
    Role.MENTOR: "someone a few steps ahead who advises you on your path; ask a senior "
                 "colleague whose career you admire for a coffee",
    Role.SPONSOR: "someone with influence who puts your name forward when you're not in the "
                  "room; think of who has already championed you once, and keep them posted",
    Role.ADVOCATE: "someone who speaks up for you and your work in public; share a recent "
                   "result with a senior colleague who knows it well",
    Role.COACH: "someone who helps you build one specific skill (writing, negotiating, "
                "leading); name the skill first, then who is good at teaching it",
    Role.ALLY: "a colleague who has your back day to day and amplifies your voice; return the "
               "favour for someone and see who does the same",
    Role.ROLE_MODEL: "someone whose way of working you want to learn from, even from afar; "
                     "think of a talk or a book you keep coming back to",
    Role.PEER_MENTOR: "a colleague at your own stage to swap drafts and encouragement with; "
                      "start a monthly writing or accountability pair",
}
# Text colours: each at least 4.5:1 on white (#ffffff) and on the page (#f6f4f0).
COLOURS = {
    Temperature.WARM: "#2e7d32",     # 5.13:1
    Temperature.COOLING: "#8a5300",  # 6.33:1
    Temperature.COLD: "#b34700",     # 5.50:1
    Temperature.LAPSED: "#c62828",   # 5.62:1
    Temperature.UNKNOWN: "#616161",  # 6.19:1
}
DRAFT_KINDS = {DraftKind.CHECKIN: "check-in", DraftKind.INVITE: "invitation",
               DraftKind.REPLY: "reply", DraftKind.INTRO: "introduction"}


@dataclass(frozen=True)
class DigestInput:
    """Everything one week's digest shows; run_digest gathers it."""

    week: str
    standings: Sequence[Standing]
    plan: Sequence[PlanItem]
    ledger: Sequence[DraftRecord]
    interactions: Sequence[Interaction]
    snapshots: Sequence[tuple[str, Mapping[str, Any]]]
    giveback: GiveBack | None
    drafts_link: str


# -- the typed view both templates render ---------------------------------------

@dataclass(frozen=True)
class DraftItem:
    name: str
    kind: str  # "check-in" | "invitation"
    subject: str
    written: str  # "Mon 23 Nov"
    waiting: bool  # written in an earlier week, still in the drafts folder
    homework: str  # the homework line, or ""
    note: str  # the config's notes for the person, or ""
    logged: str  # the latest `villaged log --note` for them ("2026-10-19: coffee"), or ""
    needs_words: bool  # a reply acknowledgement: the owner fills in the [your reply] blank
    reply_to: str  # "1 Jul (145 days ago)": they wrote last, then, and got no answer
    meeting: str  # invitation: "Tue 24 Nov, 09:00", or ""
    rhythm: str  # invitation: "every 4 weeks", or ""
    notice: str  # invitation: "tomorrow: short notice", "in 9 days", or ""
    short_notice: bool


@dataclass(frozen=True)
class ReplyItem:
    name: str
    subject: str
    received: str  # "Thu 12 Nov"
    age: str  # "11 days ago"


@dataclass(frozen=True)
class StaleItem:
    name: str
    text: str


@dataclass(frozen=True)
class GiveItem:
    name: str
    role: str
    text: str
    reason: str


@dataclass(frozen=True)
class MeetingItem:
    when: str  # "Thu 26 Nov, 10:00"
    people: str
    subject: str


@dataclass(frozen=True)
class PersonCard:
    name: str
    role: str
    temperature: str
    colour: str
    last: str  # "1 Jul" (with the year when not this year), or "never"
    last_iso: str  # 2026-07-01, or "never"
    via: str
    due: str  # "19 Nov", or ""
    due_iso: str
    overdue: int
    days_since: int | None
    cadence: int
    bar: int  # percent of the way to "lapsed", 0..100
    waiting: str  # "Your check-in of 13 Nov: no reply yet...", "Let it rest: ...", or ""
    paused: str  # "15 Jan 2027" while paused (config or `villaged snooze`), else ""
    paused_iso: str


@dataclass(frozen=True)
class TrendBar:
    week: str
    warm: int
    overdue: int
    warm_px: int
    overdue_px: int


@dataclass(frozen=True)
class Trend:
    weeks: tuple[str, ...]
    warm: tuple[int, ...]
    overdue: tuple[int, ...]
    warm_spark: str
    overdue_spark: str
    warm_delta: str
    overdue_delta: str
    bars: tuple[TrendBar, ...]
    height: int  # px of the tallest bar


@dataclass(frozen=True)
class DigestView:
    subject: str
    preheader: str
    greeting: str  # "Good morning Dana"
    date: str  # "Monday 23 November 2026"
    week: str
    drafts: tuple[DraftItem, ...]
    drafts_link: str
    drafts_link_is_url: bool
    replies: tuple[ReplyItem, ...]
    stale: tuple[StaleItem, ...]
    giveback: GiveItem | None
    meetings: tuple[MeetingItem, ...]
    empty_roles: tuple[str, ...]
    empty_tip: str  # one tip, for the first empty role
    attention: tuple[PersonCard, ...]  # lapsed, cold, cooling (most urgent first)
    others: tuple[PersonCard, ...]  # paused, unknown, warm
    trend: Trend | None  # None below TREND_MIN_POINTS weekly points
    snapshot: Mapping[str, int]  # this week's counts: what the trend stores for the week

    @property
    def nothing_to_do(self) -> bool:
        return not (self.drafts or self.replies or self.stale)

    def context(self) -> dict[str, Any]:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {**fields, "nothing_to_do": self.nothing_to_do}


# -- formatting -----------------------------------------------------------------

def sparkline(values: Sequence[int]) -> str:
    """▁▂▃▅▇: each value scaled against the largest (zero is the lowest block)."""
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[round(v / top * (len(SPARKS) - 1))] for v in values)


def greeting(local: dt.datetime) -> str:
    """By the owner's local hour: morning before 12, afternoon before 18, else evening."""
    if 4 <= local.hour < 12:
        return "Good morning"
    if 12 <= local.hour < 18:
        return "Good afternoon"
    return "Good evening"


def _short_day(day: dt.date, today: dt.date) -> str:
    text = f"{day.day} {day:%b}"
    return text if day.year == today.year else f"{text} {day.year}"


def _weekday(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _ago(days: int) -> str:
    return "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"


def notice(first: dt.date, today: dt.date) -> tuple[str, bool]:
    """How far off an invitation's first meeting is, and whether that is short notice."""
    days = (first - today).days
    short = days <= SHORT_NOTICE_DAYS
    if days < 0:
        return "already past: change the date before sending", True
    word = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    return (f"{word}: short notice" if short else word), short


def digest_view(village: Village, data: DigestInput, now: dt.datetime) -> DigestView:
    """The typed view both digest templates render."""
    tz = village.owner.timezone
    local = now.astimezone(tz)
    today = local.date()
    people = {p.key: p for p in village.people}

    def name(key: str) -> str:
        return people[key].name if key in people else key

    def day(when: dt.datetime) -> str:
        return _short_day(when.astimezone(tz).date(), today)

    owed = replies_owed(data.interactions, now, dt.timedelta(days=REPLY_WINDOW_DAYS))
    all_owed = replies_owed(data.interactions, now)

    drafts: list[DraftItem] = []  # invitations first: their dates are the most pressing
    stale: list[StaleItem] = []
    drafted: set[str] = set()
    for record in open_drafts(data.ledger):
        person = people.get(record.person)
        drafted.add(record.person)
        if stale_invitation(record, data.week, now):
            stale.append(StaleItem(name(record.person), _stale_text(record, tz, today)))
            continue
        draft = _draft_item(record, person, name(record.person), all_owed.get(record.person),
                            data.week, tz, now)
        logged = latest_log_note(record.person, data.interactions)
        if logged is not None:
            day_text = logged.at.astimezone(tz).date().isoformat()
            draft = dataclasses.replace(draft, logged=f"{day_text}: {logged.subject.strip()}")
        drafts.append(draft)
    for item in data.plan:
        # a series that keeps falling through, or an invitation held back because a
        # calendar cannot be read: both need the owner, not another draft
        if isinstance(item, Skip) and item.guard in (SERIES_DECLINED, CALENDAR_UNREADABLE):
            stale.append(StaleItem(name(item.person), item.reason.removeprefix("no invitation: ")))

    drafts.sort(key=lambda d: d.kind != "invitation")
    replies = tuple(
        ReplyItem(name(r.person), r.message.subject or "(no subject)",
                  _weekday(r.message.at.astimezone(tz).date()), _ago(r.days(now)))
        for r in sorted(owed.values(), key=lambda r: r.message.at)
        if r.person not in drafted and r.person in people)

    waiting = {w.person: w for w in waiting_on_them(data.standings, data.ledger,
                                                    village.thresholds.unanswered_checkins)}
    limit = village.thresholds.lapsed_after
    one_way = {i.person for i in data.plan if isinstance(i, Skip) and i.guard == Guard.ONE_WAY}
    cards = []
    for s in by_urgency(data.standings):
        ratio = None if s.days_since_contact is None else s.days_since_contact / s.cadence_days
        w = waiting.get(s.person.key)
        until = s.person.paused_until
        paused = until if until is not None and until >= today else None
        note = ""
        if w is not None and w.rest:
            note = f"Let it rest: your last {w.count} check-ins went unanswered"
        elif w is not None and w.since is not None:
            note = f"Your check-in of {day(w.since)}: no reply yet, no need to chase"
        if s.person.key in one_way:
            note = "One-way: they have never written back; villaged leaves it to you"
        cards.append(PersonCard(
            name=s.person.name, role=s.person.role.label, temperature=s.temperature.value,
            colour=COLOURS[s.temperature],
            last=day(s.last_contact.at) if s.last_contact else "never",
            last_iso=s.last_contact.at.astimezone(tz).date().isoformat() if s.last_contact
            else "never",
            via=s.last_contact.how if s.last_contact else "",
            due=_short_day(s.due, today) if s.due else "", due_iso=s.due.isoformat() if s.due else "",
            overdue=s.days_overdue, days_since=s.days_since_contact, cadence=s.cadence_days,
            bar=0 if ratio is None else max(3, min(100, round(ratio / limit * 100))),
            waiting=note,
            paused=_short_day(paused, today) if paused else "",
            paused_iso=paused.isoformat() if paused else "",
        ))
    # someone paused (on sabbatical, snoozed) needs no attention until the pause ends
    attention = tuple(c for c in cards
                      if Temperature(c.temperature) in NEEDS_ATTENTION and not c.paused)
    others = tuple(c for c in cards if c not in attention)

    empty = [slot.role for slot in village_map(village) if not slot.filled]
    meetings = tuple(
        MeetingItem(f"{_weekday(m.start.astimezone(tz).date())}, {m.start.astimezone(tz):%H:%M}",
                    ", ".join(name(k) for k in m.people), m.subject)
        for m in meetings_ahead(data.interactions, people, now, MEETING_DAYS))

    give = data.giveback
    snapshot = counts(data.standings)
    going_cold = sum(s.temperature in NEEDS_ATTENTION for s in data.standings)
    subject = subject_line(going_cold, len(drafts) + sum(1 for r in data.ledger
                                                        if stale_invitation(r, data.week, now)))
    return DigestView(
        subject=subject,
        preheader=_preheader(drafts, replies, stale, going_cold),
        greeting=f"{greeting(local)} {village.owner.first_name}",
        date=f"{local:%A} {local.day} {local:%B %Y}",
        week=data.week,
        drafts=tuple(drafts),
        drafts_link=data.drafts_link,
        drafts_link_is_url=data.drafts_link.startswith(("https://", "http://")),
        replies=replies,
        stale=tuple(stale),
        giveback=None if give is None else GiveItem(give.person.name, give.person.role.label,
                                                    give.text, give.reason),
        meetings=meetings,
        empty_roles=tuple(r.label for r in empty),
        empty_tip=empty_role_tip(village, empty[0]) if empty else "",
        attention=attention,
        others=others,
        trend=_trend(data.week, data.snapshots, snapshot),
        snapshot=snapshot,
    )


def _draft_item(record: DraftRecord, person: Person | None, name: str, owed: ReplyOwed | None,
                week: str, tz: dt.tzinfo, now: dt.datetime) -> DraftItem:
    today = now.astimezone(tz).date()
    interests = person.interests if person is not None else ()
    meeting = rhythm = ""
    notice_text, short = "", False
    slot = record.slot
    if record.kind == DraftKind.INVITE and slot is not None:
        start = slot.astimezone(tz)
        rhythm = person.agreement.rhythm if person is not None and person.agreement else ""
        meeting = f"{_weekday(start.date())}, {start:%H:%M}"
        notice_text, short = notice(start.date(), today)
    reply_to = ""
    if owed is not None and record.kind in (DraftKind.CHECKIN, DraftKind.REPLY):
        at = owed.message.at.astimezone(tz).date()
        reply_to = f"{_short_day(at, today)} ({_ago(owed.days(now))})"
    return DraftItem(
        name=name, kind=DRAFT_KINDS.get(record.kind, record.kind), subject=record.subject,
        written=_weekday(record.created_at.astimezone(tz).date()), waiting=record.week != week,
        homework=_homework(interests),
        note=person.notes if person is not None else "",
        logged="", needs_words=record.kind == DraftKind.REPLY,
        reply_to=reply_to, meeting=meeting, rhythm=rhythm, notice=notice_text,
        short_notice=short,
    )


def _homework(interests: Sequence[Any]) -> str:
    """The homework line: the first interest's topic (a plain string or an Interest)."""
    if not interests:
        return ""
    topic = getattr(interests[0], "topic", interests[0])
    return f"look up what's new in {topic}"


def _stale_text(record: DraftRecord, tz: dt.tzinfo, today: dt.date) -> str:
    written = record.created_at.astimezone(tz).date()
    slot = record.slot
    text = f"the invitation you have had in your drafts since {_short_day(written, today)}"
    if slot is not None and slot.astimezone(tz).date() <= today:
        return (f"{text} proposes {_weekday(slot.astimezone(tz).date())}, which has passed: "
                "delete it and villaged proposes a fresh date next week")
    return f"{text} is still unsent: send it, or delete it"


def empty_role_tip(village: Village, role: Role) -> str:
    """What to do about the first empty role: approach a prospect, or record one."""
    prospects = [p for p in village.people if p.prospect and p.role is role]
    if prospects:
        who = prospects[0]
        return (f"You noted {who.name} as a prospective {role.label}: "
                f"`villaged draft --intro {who.key}` drafts an introduction when you are ready")
    return (f"A {role.label} is {ROLE_HINTS[role]}; `villaged prospect add NAME EMAIL --role "
            f"{role.value}` records someone to approach")


def _preheader(drafts: Sequence[DraftItem], replies: Sequence[ReplyItem],
               stale: Sequence[StaleItem], going_cold: int) -> str:
    parts = []
    if drafts:
        parts.append(f"review {len(drafts)} draft{'s' if len(drafts) != 1 else ''} "
                     f"({', '.join(d.name for d in drafts[:3])}{', ...' if len(drafts) > 3 else ''})")
    if replies:
        parts.append(f"{len(replies)} repl{'ies' if len(replies) != 1 else 'y'} owed")
    if stale:
        parts.append(f"{len(stale)} invitation{'s' if len(stale) != 1 else ''} gone stale")
    if not parts:
        parts.append(f"{going_cold} going cold, nothing to review")
    text = "This week: " + "; ".join(parts) + "."
    return text


def _trend(week: str, snapshots: Sequence[tuple[str, Mapping[str, Any]]],
           current: Mapping[str, int]) -> Trend | None:
    """The last weeks' warm and overdue counts, this week as shown here included."""
    points = dict(snapshots)
    points[week] = current
    trend = sorted(points.items())[-TREND_WEEKS:]
    if len(trend) < TREND_MIN_POINTS:
        return None
    warm = [int(d.get("warm", 0)) for _, d in trend]
    overdue = [int(d.get("overdue", 0)) for _, d in trend]
    top = max([*warm, *overdue, 1])
    height = 32

    def delta(values: list[int]) -> str:
        change = values[-1] - values[-2]
        return f"{change:+d} on last week" if change else "same as last week"

    return Trend(
        weeks=tuple(w for w, _ in trend), warm=tuple(warm), overdue=tuple(overdue),
        warm_spark=sparkline(warm), overdue_spark=sparkline(overdue),
        warm_delta=delta(warm), overdue_delta=delta(overdue),
        bars=tuple(TrendBar(w, a, b, max(2, round(a / top * height)),
                            max(2, round(b / top * height)))
                   for (w, _), a, b in zip(trend, warm, overdue)),
        height=height,
    )


def subject_line(cooling: int, drafts: int) -> str:
    # cooling, cold and lapsed together: the product's "going cold"
    cool = f"{cooling} going cold" if cooling else "nobody going cold"
    review = f"{drafts} draft{'s' if drafts != 1 else ''} to review" if drafts else \
        "no drafts to review"
    return f"Your village this week: {cool}, {review}"


def wrap_text(text: str, width: int = TEXT_WIDTH) -> str:
    """Wrap each long line at ``width``, list items with a hanging indent.

    Words longer than a line (a path, a URL) are kept whole on a line of
    their own rather than broken.
    """
    out = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        stripped = line.lstrip(" ")
        lead = line[: len(line) - len(stripped)]
        hang = lead + ("  " if stripped.startswith(("- ", "* ")) else "")
        out.extend(textwrap.wrap(line, width, initial_indent="", subsequent_indent=hang,
                                 break_long_words=False, break_on_hyphens=False)
                   or [""])
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def compose_digest(village: Village, data: DigestInput, env: jinja2.Environment,
                   now: dt.datetime, key: str) -> EmailMessage:
    """multipart/alternative text + HTML, To the owner's primary address only."""
    return compose_view(village, digest_view(village, data, now), env, now, key)


def compose_view(village: Village, view: DigestView, env: jinja2.Environment,
                 now: dt.datetime, key: str) -> EmailMessage:
    context = view.context()
    text = wrap_text(render(env, TEXT_TEMPLATE, context))
    html = render(env, HTML_TEMPLATE, context)
    owner = village.owner
    msg = EmailMessage()
    msg["From"] = address("villaged", owner.address)
    msg["To"] = address(owner.name, owner.address)
    msg["Subject"] = one_line(view.subject)
    msg["Date"] = format_datetime(now.astimezone(owner.timezone))
    msg["Message-ID"] = message_id_for(key, owner.address)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    msg[KEY_HEADER] = one_line(key)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def digest_parts(message: EmailMessage) -> tuple[str, str]:
    """(text, html) of a digest message."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return (str(text.get_content()) if text else "", str(html.get_content()) if html else "")
