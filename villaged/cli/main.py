"""The command line: parse, call, render. No logic of its own.

Every command is registered here, explicitly, so the list of commands is in one place.
A command's module is imported when that command runs (or for --help), so that
`villaged status` does not pay for importing the Google sign-in, the config editor
or the daemon.
"""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import click

from villaged import __version__
from villaged.cli.context import Context, parse_now
from villaged.service import logsetup, paths

# command name -> "module:function" in villaged.cli
COMMANDS: dict[str, str] = {
    "init": "village:init", "sync": "village:sync", "status": "village:status",
    "plan": "village:plan", "draft": "village:draft", "log": "village:log_cmd",
    "demo": "village:demo", "digest": "weekly:digest", "gives": "weekly:gives",
    "run": "service:run", "doctor": "service:doctor", "auth": "google:auth",
    "show": "person:show", "snooze": "person:snooze", "unsnooze": "person:unsnooze",
    "suggest": "grow:suggest", "add": "grow:add", "import": "grow:import_contacts",
    "prospect": "grow:prospect",
}


class Commands(click.Group):
    """The commands of COMMANDS, each imported only when it is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, name = target.split(":")
        command = getattr(importlib.import_module(f"villaged.cli.{module}"), name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=Commands)
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
