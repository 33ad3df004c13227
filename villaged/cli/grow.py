"""Growing the village without an editor: suggest, add, import."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from villaged.cli.context import Context, friendly, pass_context, progress_bar
from villaged.cli.render import table
from villaged.domain.errors import VillagedError
from villaged.domain.village import Role

if TYPE_CHECKING:
    from villaged.core.correspondents import Correspondent


def parse_role(text: str) -> Role:
    try:
        return Role.parse(text)
    except ValueError:
        raise VillagedError(f"{text!r} is not a role",
                            fix="use one of: " + ", ".join(r.label for r in Role)) from None


@click.command()
@click.option("--all", "show_all", is_flag=True,
              help="Also one-way addresses: feeds, no-reply senders, lists you post to.")
@click.option("--limit", default=15, show_default=True, help="How many to list.")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@pass_context
@friendly
def suggest(c: Context, show_all: bool, limit: int, as_json: bool) -> None:
    """People you often write with who are not in the village yet (reads, writes nothing)."""
    from villaged.core.correspondents import worth_suggesting
    from villaged.service.suggest import suggestions

    village = c.village()
    found = suggestions(village, c.state_dir, c.now, progress_bar("reading"))
    shown = [s for s in found if show_all or worth_suggesting(s)][:limit]
    if as_json:
        click.echo(json.dumps([_json(s) for s in shown], indent=2))
        return
    if not shown:
        click.echo("no one to suggest: everyone you correspond with both ways is in the village"
                   + ("" if show_all else " (try --all for one-way addresses)"))
        return
    tz = village.owner.timezone
    rows = [[s.name, ", ".join(s.addresses), str(s.received), str(s.sent), str(s.meetings),
             s.last.astimezone(tz).date().isoformat() if s.last else "-"] for s in shown]
    click.echo(table(rows, ["name (guessed)", "address", "from them", "to them", "meetings",
                            "last"]))
    first = shown[0]
    click.echo(f"\nadd someone with: villaged add {first.addresses[0]} --role peer_mentor "
               f"--name \"{first.name}\"")


def _json(s: Correspondent) -> dict[str, Any]:
    return {"name": s.name, "addresses": s.addresses, "from_them": s.received,
            "to_them": s.sent, "meetings": s.meetings, "two_way": s.two_way,
            "last": s.last.isoformat() if s.last else None}


@click.command()
@click.argument("emails", nargs=-1, required=True)
@click.option("--role", required=True, help="mentor, sponsor, advocate, coach, ally, role model "
              "or peer mentor.")
@click.option("--name", default=None, help="Their name (default: guessed from the address).")
@click.option("--interest", "interests", multiple=True, help="Something they care about (repeat).")
@pass_context
@friendly
def add(c: Context, emails: tuple[str, ...], role: str, name: str | None,
        interests: tuple[str, ...]) -> None:
    """Add a person (one or more addresses) to the village config, keeping its comments."""
    from villaged.config import default_config_path
    from villaged.config.edit import NewPerson, add_people
    from villaged.core.correspondents import guess_name

    path = c.config or default_config_path()
    for email in emails:
        if "@" not in email:
            raise VillagedError(f"{email!r} is not an email address", fix="e.g. ruth@uni.example")
    person = NewPerson(name=name or guess_name(emails[0]), emails=emails, role=parse_role(role),
                       interests=interests)
    add_people(path, [person])
    click.echo(f"added {person.name} ({', '.join(emails)}) as {person.role.label} to {path}")


@click.command(name="import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--role", required=True, help="The role of the people you import.")
@click.option("--all", "take_all", is_flag=True, help="Every contact not yet in the village.")
@click.option("--match", "matching", multiple=True,
              help="Contacts whose name or address contains this (repeat).")
@click.option("--yes", is_flag=True, help="Write them into the config without asking.")
@pass_context
@friendly
def import_contacts(c: Context, file: Path, role: str, take_all: bool, matching: tuple[str, ...],
                    yes: bool) -> None:
    """Propose [[person]] blocks from a .vcf (vCard 3/4) or .csv export, and add the chosen."""
    from villaged.config import default_config_path
    from villaged.config.edit import NewPerson, add_people
    from villaged.core.contacts import read_contacts
    from villaged.domain.addresses import normalize
    from villaged.domain.lookup import fold

    chosen_role = parse_role(role)
    village = c.village()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise VillagedError(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}",
                            fix="check the path; the export must be UTF-8 text") from None
    taken = {normalize(e) for p in village.people for e in p.emails}
    fresh = []
    for contact in read_contacts(text, str(file)):
        emails = tuple(e for e in contact.emails if normalize(e) not in taken)
        if emails:
            fresh.append(NewPerson(name=contact.name, emails=emails, role=chosen_role))
            taken.update(normalize(e) for e in emails)
    if not fresh:
        click.echo(f"nothing to import: every contact in {file} with an address is in the village")
        return
    if matching:
        needles = [fold(m) for m in matching]
        fresh = [p for p in fresh if any(n in fold(p.name) or any(n in e.lower() for e in p.emails)
                                         for n in needles)]
    elif not take_all:
        if not sys.stdin.isatty():
            raise VillagedError(f"{len(fresh)} contacts could be imported; which ones?",
                                fix="pass --all, or --match NAME (repeatable)")
        for number, p in enumerate(fresh, 1):
            click.echo(f"{number:3}. {p.name} <{', '.join(p.emails)}>")
        picks = click.prompt("which ones (e.g. 1,3-5; empty for none)", default="",
                             show_default=False)
        fresh = [fresh[i] for i in _numbers(picks, len(fresh))]
    if not fresh:
        click.echo("no contacts chosen; nothing written")
        return
    for p in fresh:
        click.echo(f'[[person]]\nname = "{p.name}"\nemails = {list(p.emails)}\n'
                   f'role = "{p.role.label}"\n')
    path = c.config or default_config_path()
    if not yes and not (sys.stdin.isatty() and click.confirm(f"add these {len(fresh)} to {path}?")):
        click.echo("nothing written (pass --yes to write them)")
        return
    add_people(path, fresh)
    click.echo(f"added {len(fresh)} people to {path}")


def _numbers(text: str, count: int) -> list[int]:
    """ "1,3-5" -> [0, 2, 3, 4] (indexes), refusing numbers out of range."""
    found: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise VillagedError(f"{part!r} is not a number or range", fix="e.g. 1,3-5") from None
        if not 1 <= low <= high <= count:
            raise VillagedError(f"{part} is out of range", fix=f"choose between 1 and {count}")
        found.extend(i - 1 for i in range(low, high + 1) if i - 1 not in found)
    return found


@click.group()
def prospect() -> None:
    """People you would like in your village: recorded, never written to unasked."""


@prospect.command(name="add")
@click.argument("name")
@click.argument("email")
@click.option("--role", required=True, help="The role you hope they could play.")
@click.option("--why", default="", help="Why them, in your words (used by `draft --intro`).")
@click.option("--interest", "interests", multiple=True, help="Their work or interests (repeat).")
@pass_context
@friendly
def prospect_add(c: Context, name: str, email: str, role: str, why: str,
                 interests: tuple[str, ...]) -> None:
    """Record someone to approach; `villaged draft --intro NAME` drafts an introduction."""
    from villaged.config import default_config_path
    from villaged.config.edit import NewPerson, add_people

    path = c.config or default_config_path()
    if "@" not in email:
        raise VillagedError(f"{email!r} is not an email address", fix="e.g. ruth@uni.example")
    extra: dict[str, object] = {"prospect": True}
    if why:
        extra["why"] = why
    add_people(path, [NewPerson(name=name, emails=(email,), role=parse_role(role),
                                interests=interests, extra=extra)])
    click.echo(f"recorded {name} as a prospective {parse_role(role).label}; when you are ready, "
               f"`villaged draft --intro \"{name}\"` drafts an introduction for you to review")


@prospect.command(name="join")
@click.argument("person")
@pass_context
@friendly
def prospect_join(c: Context, person: str) -> None:
    """They answered: make a prospect a member of your village."""
    from villaged.config import default_config_path
    from villaged.config.edit import join_village
    from villaged.domain.lookup import find_person

    path = c.config or default_config_path()
    who = find_person(c.village(), person)
    join_village(path, who.key)
    click.echo(f"{who.name} is now part of your village as {who.role.label}")
