"""The command line: parse, call, render. No logic of its own."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from villaged import __version__, logsetup, paths, render
from villaged.errors import VillagedError
from villaged.sources.base import Progress, no_progress
from villaged.village import Village

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Context:
    config: Path | None
    state_dir: Path
    given_now: dt.datetime | None

    @property
    def now(self) -> dt.datetime:
        return self.given_now or dt.datetime.now(dt.timezone.utc)

    def village(self) -> Village:
        from villaged.config import default_config_path, load_village

        return load_village(self.config or default_config_path())

    @contextmanager
    def store(self) -> Iterator[Any]:
        from villaged.store import Store

        with Store.in_dir(paths.ensure_private_dir(self.state_dir)) as store:
            yield store


def parse_now(_: click.Context, __: click.Parameter, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use ISO 8601, e.g. 2026-11-23T08:00:00-06:00") from exc
    if when.tzinfo is None:
        raise click.BadParameter("include a UTC offset, e.g. 2026-11-23T08:00:00-06:00")
    return when.astimezone(dt.timezone.utc)


def friendly(func: F) -> F:
    """Print a VillagedError as one message (no traceback) and exit 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except VillagedError as exc:
            click.echo(f"villaged: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def progress_bar(label: str) -> Progress:
    """A progress bar on a terminal; silence when stderr is not one."""
    if not sys.stderr.isatty():
        return no_progress
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
            bar.__enter__()
            state["bar"] = bar
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)
            state.pop("bar")

    return update


@click.group()
@click.version_option(__version__)
@click.option("--config", type=click.Path(path_type=Path), envvar="VILLAGED_CONFIG",
              help="Village config (default: ~/.config/villaged/village.toml).")
@click.option("--state-dir", type=click.Path(path_type=Path), envvar="VILLAGED_STATE_DIR",
              help="State directory (default: ~/.local/state/villaged).")
@click.option("--now", callback=parse_now, help="Act as if it were this moment (ISO 8601).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def main(ctx: click.Context, config: Path | None, state_dir: Path | None,
         now: dt.datetime | None, verbose: int) -> None:
    """villaged keeps your mentorship village warm. It drafts, it never sends."""
    logsetup.configure(verbose)
    ctx.obj = Context(config=config, state_dir=paths.state_dir(state_dir), given_now=now)


pass_context = click.make_pass_decorator(Context)


@main.command()
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


@main.command()
@pass_context
@friendly
def sync(c: Context) -> None:
    """Read new mail and calendar events."""
    from villaged.backends import open_backend
    from villaged.round import sync_sources

    village = c.village()
    with c.store() as store:
        report = sync_sources(village, store, open_backend(village, c.state_dir), c.now,
                              progress_bar("scanning"))
    click.echo(render.sync_text(report))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per person.")
@pass_context
@friendly
def status(c: Context, as_json: bool) -> None:
    """Where each relationship stands."""
    from villaged.assess import assess
    from villaged.service_status import service_text

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
    from villaged.backends import open_backend
    from villaged.round import run_round

    village = c.village()
    with c.store() as store:
        result = run_round(village, store, open_backend(village, c.state_dir), c.now,
                           draft=draft, progress=progress_bar("scanning"))
    return village, result


@main.command()
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


@main.command()
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


@main.command(name="log")
@click.argument("person")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), help="Day of the contact (default today).")
@click.option("--note", default="", help="What happened, e.g. 'hallway chat at ASCO'.")
@click.option("--give", default=None, help="Something you did for them (not a contact).")
@pass_context
@friendly
def log_cmd(c: Context, person: str, on: dt.datetime | None, note: str, give: str | None) -> None:
    """Record an offline contact, or with --give something you did for them."""
    from villaged.manual import log_contact, log_give

    village = c.village()
    who = village.find(person)
    day = on.date() if on else c.now.astimezone(village.owner.timezone).date()
    with c.store() as store:
        if give:
            log_give(store, village, who, day, give)
            click.echo(f"recorded: you gave {who.name} '{give}' on {day}")
        else:
            log_contact(store, village, who, day, note)
            click.echo(f"recorded contact with {who.name} on {day}")


@main.command()
@click.option("--workdir", type=click.Path(path_type=Path), default=None,
              help="Keep the demo's files here instead of a temporary directory.")
@pass_context
@friendly
def demo(c: Context, workdir: Path | None) -> None:
    """Run the real pipeline on the shipped example village."""
    from villaged.demo import run_demo

    click.echo(run_demo(workdir, c.given_now))


from villaged import commands_weekly  # noqa: E402,F401  (registers digest and gives)
from villaged import commands_service  # noqa: E402,F401  (registers run and doctor)
from villaged import commands_google  # noqa: E402,F401  (registers auth)
