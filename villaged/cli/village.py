"""The everyday commands: init, sync, status, plan, draft, log, demo."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from villaged.cli import render
from villaged.cli.context import Context, friendly, pass_context, progress_bar
from villaged.cli.dates import past_day
from villaged.domain.errors import VillagedError
from villaged.domain.lookup import find_person


@click.command()
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--example", is_flag=True,
              help="Write the commented example village (every setting, documented) instead.")
@click.option("--non-interactive", is_flag=True, help="Ask nothing: take the flags below.")
@click.option("--name", help="Your name.")
@click.option("--address", "addresses", multiple=True, help="Your email address (repeat).")
@click.option("--timezone", help="Your time zone, e.g. America/Chicago.")
@click.option("--mail", multiple=True, type=click.Path(path_type=Path),
              help="An mbox file or Maildir of your mail (repeat).")
@click.option("--calendar", "calendars", multiple=True, type=click.Path(path_type=Path),
              help="An .ics export of your calendar (repeat).")
@click.option("--drafts", type=click.Path(path_type=Path), help="The Maildir folder for drafts.")
@click.option("--no-sync", is_flag=True, help="Do not run the first sync now.")
@pass_context
@friendly
def init(c: Context, force: bool, example: bool, non_interactive: bool, name: str | None,
         addresses: tuple[str, ...], timezone: str | None, mail: tuple[Path, ...],
         calendars: tuple[Path, ...], drafts: Path | None, no_sync: bool) -> None:
    """Start from your own mail: write a config with an empty village, sync, suggest people."""
    from villaged.cli.first_run import ask_answers, first_round
    from villaged.config import default_config_path, starter_text
    from villaged.config.starter import starter_config

    target = c.config or default_config_path()
    if target.exists() and not force:
        raise VillagedError(f"{target} already exists", fix="edit it, or pass --force")
    if example:
        text = starter_text()
    else:
        answers = ask_answers(name, addresses, timezone, mail, calendars, drafts,
                              interactive=not non_interactive and sys.stdin.isatty())
        text = starter_config(answers, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    if example:
        click.echo(f"wrote {target}; edit it, then run `villaged sync` and `villaged status`")
        return
    click.echo(f"wrote {target}")
    if not no_sync:
        click.echo(first_round(c, target))


@click.command()
@pass_context
@friendly
def sync(c: Context) -> None:
    """Read new mail and calendar events."""
    from villaged.backends.registry import open_backend
    from villaged.service.round import sync_sources

    village = c.village()
    with c.writing_store("sync") as store:
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
    from villaged.core.attention import answered_intro
    from villaged.core.contact import seen_only_as
    from villaged.core.pauses import with_snoozes

    village = c.village()
    with c.store() as store:
        village = with_snoozes(village, store.snoozes())
        interactions = store.interactions()
        standings = assess(village, interactions, c.now)
        service = service_text(village, store, c.now, c.state_dir)
        ledger = store.ledger()
    answered = [p for p in village.people
                if p.prospect and answered_intro(p, ledger, interactions)]
    if as_json:
        click.echo(json.dumps([render.standing_json(s) for s in standings], indent=2))
        return
    click.echo(render.status_table(village, standings, c.now, seen_only_as(interactions)))
    for p in answered:
        click.echo(f"\n{p.name} answered your introduction: `villaged prospect join "
                   f"{p.key}` makes them part of your village as {p.role.label}")
    click.echo("\n" + render.village_map_text(village))
    click.echo("\n" + service)


def _draft_round(c: Context) -> Any:
    from villaged.backends.registry import open_backend
    from villaged.service.round import run_round

    village = c.village()
    with c.writing_store("draft" if draft else "plan") as store:
        result = run_round(village, store, open_backend(village, c.state_dir), c.now,
                           draft=True, progress=progress_bar("scanning"))
    return village, result


def _preview(c: Context) -> Any:
    """The dry run: plan from what is stored, through a read-only store (or none yet)."""
    from villaged.backends.registry import open_backend
    from villaged.service.round import preview

    village = c.village()
    io = open_backend(village, c.state_dir, read_only=True)
    with c.reading_store() as store:
        return village, preview(village, store, io, c.now)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Actions and skips as JSON.")
@pass_context
@friendly
def plan(c: Context, as_json: bool) -> None:
    """Dry run: what would be drafted this week, and why not for everyone else.

    It plans from what the last sync stored and changes nothing (run `villaged
    sync` first for the newest mail)."""
    village, result = _preview(c)
    if as_json:
        click.echo(json.dumps([render.plan_json(i, result.notes, result.needs_words)
                               for i in result.plan], indent=2))
    else:
        click.echo(render.plan_text(village, result.plan, result.notes, result.needs_words))
        click.echo("\n" + render.planned_from(village, result.synced_at))


@click.command()
@click.option("--intro", "intro", metavar="PERSON",
              help="Instead: draft one introduction to this prospect (only when you ask).")
@click.option("--again", is_flag=True, help="With --intro: draft another one.")
@pass_context
@friendly
def draft(c: Context, intro: str | None, again: bool) -> None:
    """Write this round's drafts into your drafts folder now (nothing is sent)."""
    if intro:
        _draft_intro(c, intro, again)
        return
    village, result = _draft_round(c)
    click.echo(render.plan_text(village, result.plan, result.notes, result.needs_words))
    if result.written:
        click.echo(f"\n{len(result.written)} draft(s) written to "
                   f"{result.drafts_link}: review, edit and send them yourself.")
    else:
        click.echo("\nno new drafts this round")


def _draft_intro(c: Context, person: str, again: bool) -> None:
    from villaged.backends.registry import open_backend
    from villaged.service.intro import draft_intro

    village = c.village()
    who = find_person(village, person)
    with c.writing_store("intro") as store:
        io = open_backend(village, c.state_dir)
        try:
            done = draft_intro(village, store, io, who, c.now, again=again)
        finally:
            io.close()
    click.echo(f'introduction to {who.name} ("{done.subject}") written to {done.drafts_link}: '
               "review, edit and send it yourself")
    if done.needs_words:
        click.echo("needs your words: replace the [bracketed] line with why you are writing to "
                   "them (or record it: --why in `villaged prospect add`)")


@click.command(name="log")
@click.argument("person", required=False)
@click.option("--date", "on", default="today", show_default=True,
              help="Day of the contact: 2026-11-20, today, yesterday, a weekday name or -3d.")
@click.option("--note", default="", help="What happened, e.g. 'hallway chat at ASCO'.")
@click.option("--give", default=None, help="Something you did for them (not a contact).")
@click.option("--undo", is_flag=True, help="Remove the last entry logged by hand.")
@click.option("--yes", is_flag=True, help="With --undo: do not ask for confirmation.")
@pass_context
@friendly
def log_cmd(c: Context, person: str | None, on: str, note: str, give: str | None, undo: bool,
            yes: bool) -> None:
    """Record an offline contact, or with --give something you did for them."""
    from villaged.cli.person import describe_entry
    from villaged.service.manual import log_contact, log_give

    village = c.village()
    if undo:
        with c.writing_store("log") as store:
            entry = store.last_manual()
            if entry is None:
                raise VillagedError("nothing has been logged by hand yet", fix="nothing to undo")
            name = next((p.name for p in village.people if p.key == entry.person), entry.person)
            what = describe_entry(entry, name)
            if not yes:
                if not sys.stdin.isatty():
                    raise VillagedError(f"--undo would remove: {what}",
                                        fix="add --yes to confirm when not on a terminal")
                click.confirm(f"remove {what}?", abort=True)
            store.undo_manual(entry)
        click.echo(f"removed: {what}")
        return
    if person is None:
        raise VillagedError("whom did you meet?", fix="villaged log NAME [--date yesterday]")
    who = find_person(village, person)
    day = past_day(on, c.now.astimezone(village.owner.timezone).date())
    with c.writing_store("log") as store:
        if give:
            log_give(store, village, who, day, give, c.now)
            click.echo(f"recorded: you gave {who.name} '{give}' on {day}")
        else:
            log_contact(store, village, who, day, note, c.now)
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
