"""The weekly digest to the owner: plain text and HTML (pure).

``digest_model`` turns the week's values into one plain dict that both
templates (``digest/digest.txt.j2`` and the autoescaped
``digest/digest.html.j2``) render, so the two parts always say the same.
Everything from mail, calendar or config reaches the HTML only through
Jinja2's autoescaping; the only markup the code itself computes is numbers
(bar widths, heights, colours from a fixed table).

The message goes to the owner's primary address and nobody else (To only,
no Cc or Bcc); ports.digest.owner_only enforces that at delivery.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import jinja2

from villaged.compose.headers import address, message_id_for, one_line
from villaged.compose.templating import render
from villaged.core.assess import village_map
from villaged.core.giveback import GiveBack
from villaged.core.invitations import SERIES_DECLINED
from villaged.core.plan import unanswered_checkins
from villaged.domain.village import (
    KEY_HEADER,
    OPEN_DRAFT_STATES,
    DraftRecord,
    DraftState,
    Interaction,
    Kind,
    PlanItem,
    Role,
    Skip,
    Standing,
    Temperature,
    Village,
)

TEXT_TEMPLATE = "digest/digest.txt.j2"
HTML_TEMPLATE = "digest/digest.html.j2"
SPARKS = "▁▂▃▄▅▆▇█"
TREND_WEEKS = 8
MEETING_DAYS = 7

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
                     "whose talk or book do you keep coming back to?",
    Role.PEER_MENTOR: "a colleague at your own stage to swap drafts and encouragement with; "
                      "start a monthly writing or accountability pair",
}
COLOURS = {
    Temperature.WARM: "#2e7d32",
    Temperature.COOLING: "#f9a825",
    Temperature.COLD: "#ef6c00",
    Temperature.LAPSED: "#c62828",
    Temperature.UNKNOWN: "#9e9e9e",
}
DRAFT_KINDS = {"checkin": "check-in", "invite": "invitation"}


@dataclass(frozen=True)
class DigestInput:
    """Everything one week's digest shows; run_digest gathers it."""

    week: str
    standings: Sequence[Standing]
    plan: Sequence[PlanItem]
    ledger: Sequence[DraftRecord]
    interactions: Sequence[Interaction]
    snapshots: Sequence[tuple[str, dict[str, Any]]]
    giveback: GiveBack | None
    drafts_link: str


def sparkline(values: Sequence[int]) -> str:
    """▁▂▃▅▇: each value scaled against the largest (zero is the lowest block)."""
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[round(v / top * (len(SPARKS) - 1))] for v in values)


def _via(item: Interaction | None) -> str:
    if item is None:
        return ""
    return item.how


def digest_model(village: Village, data: DigestInput, now: dt.datetime) -> dict[str, Any]:
    """The plain values both digest templates render."""
    tz = village.owner.timezone
    local = now.astimezone(tz)
    names = {p.key: p.name for p in village.people}

    def day(when: dt.datetime | None) -> str:
        return when.astimezone(tz).date().isoformat() if when else ""

    roles = []
    for slot in village_map(village):
        roles.append({"label": slot.role.label, "people": [p.name for p in slot.people],
                      "hint": "" if slot.filled else ROLE_HINTS[slot.role]})

    limit = village.thresholds.lapsed_after
    rows = []
    for s in data.standings:
        since = s.days_since_contact
        ratio = None if since is None else since / s.cadence_days
        rows.append({
            "name": s.person.name,
            "role": s.person.role.label,
            "temperature": s.temperature.value,
            "colour": COLOURS[s.temperature],
            "last": day(s.last_contact.at) if s.last_contact else "never",
            "via": _via(s.last_contact),
            "days_since": s.days_since_contact,
            "cadence": s.cadence_days,
            "due": s.due.isoformat() if s.due else "",
            "overdue": s.days_overdue,
            # bar: time since contact against the cadence, full at "lapsed"
            "bar": 0 if ratio is None else max(2, min(100, round(ratio / limit * 100))),
            "cadence_mark": min(100, round(village.thresholds.cooling_after / limit * 100)),
        })

    drafts = [{"name": names.get(r.person, r.person), "kind": DRAFT_KINDS.get(r.kind, r.kind),
               "subject": r.subject, "written": day(r.created_at), "this_week": r.week == data.week}
              for r in data.ledger if r.state in OPEN_DRAFT_STATES]
    link = data.drafts_link
    link_is_url = link.startswith(("https://", "http://"))

    unanswered: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    threshold = village.thresholds.unanswered_checkins
    for s in data.standings:
        mine = [r for r in data.ledger if r.person == s.person.key]
        n = unanswered_checkins(s, mine)
        if not n:
            continue
        newest = max((r.created_at for r in mine
                      if r.kind == "checkin" and r.state is DraftState.SENT), default=None)
        item = {"name": s.person.name, "count": n, "since": day(newest)}
        (rest if n >= threshold else unanswered).append(item)

    meetings = _meetings(village, data.interactions, now)
    declined = [{"name": names.get(i.person, i.person),
                 "reason": i.reason.removeprefix("no invitation: ")}
                for i in data.plan if isinstance(i, Skip) and i.guard == SERIES_DECLINED]

    trend = list(data.snapshots)[-TREND_WEEKS:]
    warm = [int(d.get("warm", 0)) for _, d in trend]
    overdue = [int(d.get("overdue", 0)) for _, d in trend]
    top = max([*warm, *overdue, 1])

    def delta(values: list[int]) -> str:
        if len(values) < 2:
            return ""
        change = values[-1] - values[-2]
        return f"{change:+d} on last week" if change else "same as last week"

    give = data.giveback
    cooling = sum(s.temperature in (Temperature.COOLING, Temperature.COLD, Temperature.LAPSED)
                  for s in data.standings)
    return {
        "owner_first_name": village.owner.first_name,
        "week": data.week,
        "date": f"{local:%A} {local.day} {local:%B %Y}",
        "subject": subject_line(cooling, len(drafts)),
        "cooling": cooling,
        "roles": roles,
        "empty_roles": [r for r in roles if not r["people"]],
        "rows": rows,
        "drafts": drafts,
        "drafts_link": link,
        "drafts_link_is_url": link_is_url,
        "unanswered": unanswered,
        "rest": rest,
        "meetings": meetings,
        "giveback": None if give is None else {
            "name": give.person.name, "role": give.person.role.label, "text": give.text,
            "reason": give.reason},
        "trend": {
            "weeks": [w for w, _ in trend],
            "warm": warm, "overdue": overdue,
            "warm_spark": sparkline(warm), "overdue_spark": sparkline(overdue),
            "warm_delta": delta(warm), "overdue_delta": delta(overdue),
            "bars": [{"week": w, "warm": a, "overdue": b,
                      "warm_px": max(2, round(a / top * 40)),
                      "overdue_px": max(2, round(b / top * 40))}
                     for (w, _), a, b in zip(trend, warm, overdue)],
        },
        "declined": declined,
        "colours": {t.value: c for t, c in COLOURS.items()},
    }


def _meetings(village: Village, interactions: Sequence[Interaction],
              now: dt.datetime) -> list[dict[str, str]]:
    """Meetings with village members over the next week, one line per event."""
    tz = village.owner.timezone
    names = {p.key: p.name for p in village.people}
    end = now + dt.timedelta(days=MEETING_DAYS)
    events: dict[tuple[str, str], list[Interaction]] = {}
    for item in interactions:
        if item.kind is Kind.MEETING and item.direct and now < item.at <= end \
                and item.person in names:
            events.setdefault((item.source, item.uid), []).append(item)
    result = []
    for items in sorted(events.values(), key=lambda xs: xs[0].at):
        local = items[0].at.astimezone(tz)
        result.append({
            "when": f"{local:%a} {local.day} {local:%b} {local:%H:%M}",
            "with": ", ".join(sorted({names[i.person] for i in items})),
            "subject": items[0].subject,
        })
    return result


def subject_line(cooling: int, drafts: int) -> str:
    # cooling, cold and lapsed together: the product's "going cold"
    cool = f"{cooling} going cold" if cooling else "nobody going cold"
    review = f"{drafts} draft{'s' if drafts != 1 else ''} to review" if drafts else \
        "no drafts to review"
    return f"Your village this week: {cool}, {review}"


def compose_digest(village: Village, data: DigestInput, env: jinja2.Environment,
                   now: dt.datetime, key: str) -> EmailMessage:
    """multipart/alternative text + HTML, To the owner's primary address only."""
    model = digest_model(village, data, now)
    text = render(env, TEXT_TEMPLATE, model)
    html = render(env, HTML_TEMPLATE, model)
    owner = village.owner
    msg = EmailMessage()
    msg["From"] = address("villaged", owner.address)
    msg["To"] = address(owner.name, owner.address)
    msg["Subject"] = one_line(model["subject"])
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
