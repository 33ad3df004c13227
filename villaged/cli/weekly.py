"""`villaged digest` and `villaged gives`: the weekly summary and the reciprocity ledger.

Registered on the main group in cli/main.py.
"""

from __future__ import annotations

from pathlib import Path

import click

from villaged.cli import render
from villaged.cli.context import Context, friendly, pass_context, progress_bar


@click.command()
@click.option("--force", is_flag=True, help="Deliver even if this week's digest already went out.")
@click.option("--html", "html_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the HTML part to this file (a preview: delivers nothing without "
                   "--deliver).")
@click.option("--stdout", "to_stdout", is_flag=True,
              help="Print the text part (a preview: delivers nothing without --deliver).")
@click.option("--deliver/--no-deliver", default=None,
              help="Deliver the digest (the default, except with --html or --stdout).")
@click.option("--sync/--no-sync", default=None,
              help="Read new mail and calendar events first (the default when delivering; "
                   "a preview shows what the last sync stored and writes nothing).")
@pass_context
@friendly
def digest(c: Context, force: bool, html_file: Path | None, to_stdout: bool,
           deliver: bool | None, sync: bool | None) -> None:
    """Build the weekly digest and deliver it to you (once a week unless --force).

    With --stdout or --html it is only a preview, unless --deliver is given too:
    built from what the last sync stored, it delivers nothing, writes nothing
    and does not use up the week's digest.
    """
    from villaged.backends.registry import open_backend
    from villaged.service.digest import preview_digest, run_digest

    if deliver is None:
        deliver = html_file is None and not to_stdout
    if sync is None:
        sync = deliver
    village = c.village()
    if deliver or sync:
        with c.writing_store("digest") as store:
            io = open_backend(village, c.state_dir)
            if sync:
                from villaged.service.round import sync_sources

                sync_sources(village, store, io, c.now, progress_bar("scanning"))
            result = run_digest(village, store, io, c.now, force=force, deliver=deliver)
    else:
        io = open_backend(village, c.state_dir, read_only=True)
        with c.reading_store() as reading:
            result = preview_digest(village, reading, io, c.now)
    if html_file is not None:
        html_file.write_text(result.html, encoding="utf-8")
    if to_stdout:
        click.echo(result.text, nl=False)
    status = (f"delivered \"{result.subject}\" to {village.owner.address} ({result.location})"
              if result.delivered else f"digest {result.week}: {result.note}")
    if html_file is not None:
        status += f"; HTML written to {html_file}"
    click.echo(status, err=to_stdout)


@click.command()
@pass_context
@friendly
def gives(c: Context) -> None:
    """What you have given each person, and how long since the last give."""
    from villaged.core.giveback import gives_summary

    village = c.village()
    with c.store() as store:
        rows = gives_summary(village, store.gives(), c.now)
    tz = village.owner.timezone
    table = [[r.person.name, r.person.role.label, str(r.count),
              r.last.at.astimezone(tz).date().isoformat() if r.last else "never",
              _ago(r.days_since), r.last.what if r.last else "-"] for r in rows]
    click.echo(render.table(table, ["person", "role", "gives", "last give", "since", "what"]))


def _ago(days: int | None) -> str:
    if days is None:
        return "-"
    if days == 0:
        return "today"
    return f"{days} day{'s' if days != 1 else ''} ago"
