"""Growing the village without an editor: suggest, add, import."""

from __future__ import annotations

import json
from typing import Any

import click

from villaged.cli.context import Context, friendly, pass_context, progress_bar
from villaged.cli.render import table
from villaged.config.edit import NewPerson, add_people
from villaged.core.correspondents import Correspondent, guess_name, worth_suggesting
from villaged.domain.errors import VillagedError
from villaged.domain.village import Role


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

    path = c.config or default_config_path()
    for email in emails:
        if "@" not in email:
            raise VillagedError(f"{email!r} is not an email address", fix="e.g. ruth@uni.example")
    person = NewPerson(name=name or guess_name(emails[0]), emails=emails, role=parse_role(role),
                       interests=interests)
    add_people(path, [person])
    click.echo(f"added {person.name} ({', '.join(emails)}) as {person.role.label} to {path}")
