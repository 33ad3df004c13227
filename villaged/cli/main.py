"""The command line: parse, call, render. No logic of its own.

Every command is registered here, explicitly, so the list of commands is in one place.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from villaged import __version__
from villaged.cli import google, grow, person, service, village, weekly
from villaged.cli.context import Context, parse_now
from villaged.service import logsetup, paths


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



for command in (
    village.init, village.sync, village.status, village.plan, village.draft, village.log_cmd,
    village.demo, weekly.digest, weekly.gives, service.run, service.doctor, google.auth,
    person.show, person.snooze, person.unsnooze, grow.suggest, grow.add,
    grow.import_contacts, grow.prospect,
):
    main.add_command(command)
