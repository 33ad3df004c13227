"""The everyday commands: init, sync, status, plan, draft, log, demo."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from villaged.cli import render
from villaged.cli.context import Context, friendly, pass_context, progress_bar
from villaged.domain.addresses import find_person
from villaged.domain.errors import VillagedError


@click.command()
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_context
@friendly
def init(c: Context, force: bool) -> None:
    """Write a starter config to edit."""
    from villaged.config import default_config_path, starter_text

    target = c.config or default_config_path()
    if target.exists() and not force:
        raise VillagedError(f"{target} already exists", fix="edit it, or pass --force")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(starter_text(), encoding="utf-8")
    click.echo(f"wrote {target}; edit it, then run `villaged sync` and `villaged status`")


@click.command()
@pass_context
@friendly
def sync(c: Context) -> None:
    """Read new mail and calendar events."""
    from villaged.backends.registry import open_backend
    from villaged.service.round import sync_sources

    village = c.village()
    with c.store() as store:
        report = sync_sources(village, store, open_backend(village, c.state_dir), c.now,
                              progress_bar("scanning"))
    click.echo(render.sync_text(report))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per person.")
@pass_context
@friendly
def status(c: Context, as_json: bool) -> None:
    """Where each relationship stands."""
    from villaged.cli.service_text import service_text
    from villaged.core.assess import assess

    village = c.village()
    with c.store() as store:
        standings = assess(village, store.interactions(), c.now)
        service = service_text(village, store, c.now, c.state_dir)
    if as_json:
        click.echo(json.dumps([render.standing_json(s) for s in standings], indent=2))
        return
    click.echo(render.status_table(village, standings))
    click.echo("\n" + render.village_map_text(village))
    click.echo("\n" + service)


def _round(c: Context, draft: bool) -> Any:
    from villaged.backends.registry import open_backend
    from villaged.service.round import run_round

    village = c.village()
    with c.store() as store:
        result = run_round(village, store, open_backend(village, c.state_dir), c.now,
                           draft=draft, progress=progress_bar("scanning"))
    return village, result


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Actions and skips as JSON.")
@pass_context
@friendly
def plan(c: Context, as_json: bool) -> None:
    """Dry run: what would be drafted this week, and why not for everyone else."""
    village, result = _round(c, draft=False)
    if as_json:
        click.echo(json.dumps([render.plan_json(i) for i in result.plan], indent=2))
    else:
        click.echo(render.plan_text(village, result.plan))


@click.command()
@pass_context
@friendly
def draft(c: Context) -> None:
    """Write this round's drafts into your drafts folder now (nothing is sent)."""
    village, result = _round(c, draft=True)
    click.echo(render.plan_text(village, result.plan))
    if result.written:
        click.echo(f"\n{len(result.written)} draft(s) written to "
                   f"{result.drafts_link}: review, edit and send them yourself.")
    else:
        click.echo("\nno new drafts this round")


@click.command(name="log")
@click.argument("person")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="Day of the contact (default today).")
@click.option("--note", default="", help="What happened, e.g. 'hallway chat at ASCO'.")
@click.option("--give", default=None, help="Something you did for them (not a contact).")
@pass_context
@friendly
def log_cmd(c: Context, person: str, on: dt.datetime | None, note: str, give: str | None) -> None:
    """Record an offline contact, or with --give something you did for them."""
    from villaged.service.manual import log_contact, log_give

    village = c.village()
    who = find_person(village, person)
    day = on.date() if on else c.now.astimezone(village.owner.timezone).date()
    with c.store() as store:
        if give:
            log_give(store, village, who, day, give)
            click.echo(f"recorded: you gave {who.name} '{give}' on {day}")
        else:
            log_contact(store, village, who, day, note)
            click.echo(f"recorded contact with {who.name} on {day}")


@click.command()
@click.option("--workdir", type=click.Path(path_type=Path), default=None,
              help="Keep the demo's files here instead of a temporary directory.")
@pass_context
@friendly
def demo(c: Context, workdir: Path | None) -> None:
    """Run the real pipeline on the shipped example village."""
    from villaged.cli.demo import run_demo

    click.echo(run_demo(workdir, c.given_now))
