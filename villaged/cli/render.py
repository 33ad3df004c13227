"""Text and JSON views of standings, plans and sync reports for the CLI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from villaged.core.assess import village_map
from villaged.core.contact import not_contact_label
from villaged.domain.village import Action, Interaction, PlanItem, Standing, Village
from villaged.service.sync import SyncReport


def via(item: Interaction | None) -> str:
    if item is None:
        return "-"
    return item.how


def _iso(item: Interaction | None) -> str | None:
    return item.at.isoformat() if item else None


def standing_json(s: Standing) -> dict[str, Any]:
    return {
        "key": s.person.key,
        "name": s.person.name,
        "role": s.person.role.label,
        "roles": [r.label for r in s.person.roles],
        "emails": list(s.person.emails),
        "temperature": s.temperature.value,
        "cadence_days": s.cadence_days,
        "last_contact": _iso(s.last_contact),
        "via": via(s.last_contact) if s.last_contact else None,
        "last_inbound": _iso(s.last_inbound),
        "last_outbound": _iso(s.last_outbound),
        "last_meeting": _iso(s.last_meeting),
        "next_meeting": _iso(s.next_meeting),
        "due": s.due.isoformat() if s.due else None,
        "days_overdue": s.days_overdue,
    }


def plan_json(item: PlanItem, notes: Mapping[str, Sequence[str]] | None = None,
              needs_words: Collection[str] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {"person": item.person, "action": item.action, "reason": item.reason}
    if isinstance(item, Action):
        data["key"] = item.key
        data["needs_words"] = item.key in needs_words
        data["notes"] = list((notes or {}).get(item.person, ()))
        data["in_thread"] = bool(item.reply_to)
        if item.about is not None:
            data["answers"] = {"subject": item.about.subject, "at": item.about.at.isoformat()}
        if item.slot is not None:
            data["slot"] = item.slot.isoformat()
    else:
        data["guard"] = item.guard
    return data


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
             for r in [headers, ["-" * w for w in widths], *rows]]
    return "\n".join(lines)


def status_table(village: Village, standings: Sequence[Standing], now: dt.datetime,
                 seen_only: Mapping[str, str] | None = None) -> str:
    """One row a person; ``seen_only``: person key -> why mail about them never counted."""
    tz = village.owner.timezone

    def day(when: dt.datetime | None) -> str:
        return when.astimezone(tz).date().isoformat() if when else "never"

    today = now.astimezone(tz).date()

    def temperature(s: Standing) -> str:
        if s.person.prospect:
            return "prospect"
        paused = s.person.paused_until
        if paused and paused >= today:
            return f"{s.temperature.value}, paused to {paused.isoformat()}"
        return s.temperature.value

    rows = [[s.person.name, ", ".join(r.label for r in s.person.roles),
             day(s.last_contact.at if s.last_contact else None),
             via(s.last_contact) if s.last_contact or not seen_only or s.person.key not in seen_only
             else f"seen only in {seen_only[s.person.key]}",
             s.due.isoformat() if s.due else "-", temperature(s)]
            for s in standings]
    return table(rows, ["person", "role", "last contact", "via", "due", "temperature"])


def village_map_text(village: Village) -> str:
    lines = []
    for slot in village_map(village):
        who = ", ".join(p.name for p in slot.people) if slot.filled else "(empty)"
        lines.append(f"{slot.role.label:<12} {who}")
    return "\n".join(lines)


def plan_text(village: Village, items: Sequence[PlanItem],
              notes: Mapping[str, Sequence[str]] | None = None,
              needs_words: Collection[str] = ()) -> str:
    """One line per person; under each draft, "needs your words" and the owner's notes."""
    names = {p.key: p.name for p in village.people}
    lines = []
    for item in items:
        verb = "DRAFT " + item.action if isinstance(item, Action) else "skip"
        lines.append(f"{verb:<14} {names.get(item.person, item.person):<22} {item.reason}")
        if isinstance(item, Action):
            if item.key in needs_words:
                lines.append(f"{'':<37} ! needs your words: fill in the [your ...] blank")
            for note in (notes or {}).get(item.person, ()):
                lines.append(f"{'':<37} note: {note}")
    return "\n".join(lines)


def sync_text(report: SyncReport) -> str:
    lines = []
    for name, source in report.sources.items():
        line = f"{name}: {source.contacts} contacts"
        if source.not_contact:
            why = ", ".join(f"{n} {not_contact_label(status, n)}"
                            for status, n in sorted(source.not_contact.items()))
            line += f"; {sum(source.not_contact.values())} not counted as contact ({why})"
        if source.skipped:
            why = ", ".join(f"{n} {reason}" for reason, n in sorted(source.skipped.items()))
            line += f"; skipped {sum(source.skipped.values())} ({why})"
        lines.append(line)
    if any(name.startswith(("mbox:", "maildir:")) and source.skipped
           for name, source in report.sources.items()):
        lines.append("(mbox and Maildir skips count only mail from someone in your village, "
                     "or from you to one of them: other mail is not looked at)")
    return "\n".join(lines) or "no sources configured"


def planned_from(village: Village, synced_at: dt.datetime | None) -> str:
    """The dry run's note on the data it planned from."""
    if synced_at is None:
        return ("planned from nothing synced yet: run `villaged sync` first "
                "(a plan changes nothing, so it never syncs)")
    when = synced_at.astimezone(village.owner.timezone)
    return (f"planned from what the last sync stored ({when:%Y-%m-%d %H:%M %Z}); run "
            "`villaged sync` first for the newest mail (a plan changes nothing, so it never syncs)")
