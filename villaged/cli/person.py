"""One person at a time: show, snooze, unsnooze."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from typing import Any

import click

from villaged.cli.context import Context, friendly, pass_context
from villaged.cli.dates import until_day
from villaged.core.assess import assess
from villaged.core.contact import not_contact_label
from villaged.core.pauses import with_snoozes
from villaged.core.plan import iso_week, plan_checkins
from villaged.domain.lookup import find_person
from villaged.domain.village import Action, Person, Village
from villaged.store import ManualEntry, Store


@click.command()
@click.argument("person")
@click.option("--json", "as_json", is_flag=True, help="The same, as one JSON object.")
@pass_context
@friendly
def show(c: Context, person: str, as_json: bool) -> None:
    """One person's standing and everything behind it, newest first."""
    village = c.village()
    with c.store() as store:
        snoozes = store.snoozes()
        village = with_snoozes(village, snoozes)
        who = find_person(village, person)
        page = person_page(village, store, who, c.now, snoozed=who.key in snoozes)
    click.echo(json.dumps(page, indent=2) if as_json else page_text(page))


def person_page(village: Village, store: Store, who: Person, now: dt.datetime,
                *, snoozed: bool) -> dict[str, Any]:
    """What `show` says about one person, as plain data (the text and JSON render it)."""
    tz = village.owner.timezone
    mine = store.interactions(who.key)
    (standing,) = assess(dataclasses.replace(village, people=(who,)), mine, now)
    week = iso_week(now, village)
    ledger = store.ledger(who.key)
    guard = next(i for i in plan_checkins(village, [standing], ledger, now, week)
                 if i.person == who.key)
    timeline: list[dict[str, Any]] = []
    manual = {e.ref: e for e in store.manual_notes(who.key)}
    for item in mine:
        if not item.direct:
            continue
        entry = manual.get(item.uid) if item.source == "manual" else None
        timeline.append({"at": _day(item.at, tz), "what": "logged contact" if entry else item.how,
                         "subject": entry.text if entry else item.subject,
                         "thread": item.thread})
    for give in (g for g in store.gives() if g.person == who.key):
        timeline.append({"at": _day(give.at, tz), "what": "you gave", "subject": give.what})
    for record in ledger:
        timeline.append({"at": _day(record.created_at, tz), "what": f"{record.kind} draft",
                         "subject": record.subject, "fate": record.state.value})
    timeline.sort(key=lambda e: e["at"], reverse=True)
    skipped = Counter(i.status for i in mine if not i.direct)
    return {
        "key": who.key, "name": who.name, "roles": [r.label for r in who.roles],
        "emails": list(who.emails), "cadence_days": standing.cadence_days,
        "temperature": standing.temperature.value,
        "last_contact": _day(standing.last_contact.at, tz) if standing.last_contact else None,
        "due": standing.due.isoformat() if standing.due else None,
        "days_overdue": standing.days_overdue,
        "paused_until": who.paused_until.isoformat() if who.paused_until else None,
        "snoozed": snoozed,
        "interests": [i.topic for i in who.interests], "notes": who.notes,
        "now": {"action": guard.action, "reason": guard.reason,
                "guard": None if isinstance(guard, Action) else guard.guard},
        "timeline": timeline,
        "not_counted": {not_contact_label(s, n): n for s, n in sorted(skipped.items())},
    }


def page_text(page: dict[str, Any]) -> str:
    lines = [f"{page['name']} ({page['key']}): {', '.join(page['roles'])}, "
             f"every {page['cadence_days']} days"]
    due = f"due {page['due']}" if page["due"] else "no contact yet"
    if page["days_overdue"] > 0:
        due += f", {page['days_overdue']} days overdue"
    lines.append(f"  {page['temperature']}: last contact {page['last_contact'] or 'never'}; {due}")
    if page["paused_until"]:
        how = "snoozed" if page["snoozed"] else "paused in the config"
        lines.append(f"  {how} until {page['paused_until']}")
    lines.append(f"  addresses: {', '.join(page['emails'])}")
    if page["interests"]:
        lines.append(f"  interests: {'; '.join(page['interests'])}")
    if page["notes"]:
        lines.append(f"  notes: {page['notes']}")
    now = page["now"]
    lines.append(f"  this week: {now['action']}: {now['reason']}")
    lines.append("")
    lines.append("timeline, newest first:")
    for e in page["timeline"]:
        fate = f" ({e['fate']})" if e.get("fate") else ""
        subject = f' "{e["subject"]}"' if e.get("subject") else ""
        lines.append(f"  {e['at']}  {e['what']}{subject}{fate}")
    if not page["timeline"]:
        lines.append("  nothing yet")
    if page["not_counted"]:
        parts = ", ".join(f"{n} {why}" for why, n in sorted(page["not_counted"].items()))
        lines.append(f"\nseen but not counted as contact: {parts}")
    return "\n".join(lines)


def _day(when: dt.datetime, tz: dt.tzinfo) -> str:
    return when.astimezone(tz).date().isoformat()


@click.command()
@click.argument("person")
@click.argument("until")
@pass_context
@friendly
def snooze(c: Context, person: str, until: str) -> None:
    """Leave someone alone for a while: 2w, 10d or a date (no config edit needed)."""
    village = c.village()
    who = find_person(village, person)
    day = until_day(until, c.now.astimezone(village.owner.timezone).date())
    with c.writing_store("snooze") as store:
        store.set_snooze(who.key, day, c.now)
    click.echo(f"snoozed {who.name} until {day}: no drafts to them before then")


@click.command()
@click.argument("person")
@pass_context
@friendly
def unsnooze(c: Context, person: str) -> None:
    """End a snooze set with `villaged snooze`."""
    village = c.village()
    who = find_person(village, person)
    with c.writing_store("unsnooze") as store:
        cleared = store.clear_snooze(who.key)
    click.echo(f"{who.name} is no longer snoozed" if cleared else f"{who.name} was not snoozed")


def describe_entry(entry: ManualEntry, name: str) -> str:
    if entry.what == "give":
        return f"you gave {name} '{entry.text}' on {entry.day}"
    note = f" ('{entry.text}')" if entry.text else ""
    return f"contact with {name} on {entry.day}{note}"

