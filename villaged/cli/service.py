"""`villaged run` (the daemon, or one round with --once) and `villaged doctor`.

Registered on the main group by the import at the bottom of cli.py.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from villaged.cli.context import Context, friendly, pass_context


def _config_path(c: Context) -> Path:
    from villaged.config import default_config_path

    return (c.config or default_config_path()).expanduser()


@click.command()
@click.option("--once", is_flag=True,
              help="One full round (sync, then the drafting round and the digest if due), "
                   "then exit: for a systemd timer or cron.")
@pass_context
@friendly
def run(c: Context, once: bool) -> None:
    """Run the service: sync, weekly drafts and the digest, on schedule.

    Runs in the foreground (systemd's Type=notify service runs it this way).
    SIGTERM or Ctrl-C stops it at a safe point; SIGHUP re-reads the config.
    """
    root = logging.getLogger()
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)  # a service says what it did, at info level
    if once:
        from villaged.service.daemon import run_once

        code, reports = run_once(_config_path(c), c.state_dir, c.given_now)
        for report in reports:
            click.echo(report.line())
        if not reports:
            click.echo("nothing to do")
        sys.exit(code)
    from villaged.service.daemon import run_daemon

    sys.exit(run_daemon(_config_path(c), c.state_dir, c.given_now))


@click.command()
@pass_context
@friendly
def doctor(c: Context) -> None:
    """Check the config, the state, the backend and the jobs; print a fix for each problem."""
    from villaged.cli.doctor import PROBLEM, render, run_checks

    findings = list(run_checks(_config_path(c), c.state_dir, c.now))
    click.echo(render(findings))
    sys.exit(1 if any(f.level == PROBLEM for f in findings) else 0)
