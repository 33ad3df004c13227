"""`villaged init` for a new owner: the questions, and the first sync with suggestions."""

from __future__ import annotations

import os
from pathlib import Path

import click

from villaged.cli import render
from villaged.cli.context import Context, progress_bar
from villaged.config.starter import Answers
from villaged.domain.errors import VillagedError


def local_timezone() -> str:
    """The machine's zone name (TZ, /etc/timezone, or the /etc/localtime link), else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz:
        return tz
    try:
        return Path("/etc/timezone").read_text(encoding="utf-8").strip() or "UTC"
    except OSError:
        pass
    link = Path("/etc/localtime")
    if link.is_symlink():
        parts = os.readlink(link).split("zoneinfo/", 1)
        if len(parts) == 2:
            return parts[1]
    return "UTC"


def ask_answers(name: str | None, addresses: tuple[str, ...], timezone: str | None,
                mail: tuple[Path, ...], calendars: tuple[Path, ...], drafts: Path | None,
                *, interactive: bool) -> Answers:
    """The answers from the flags, asking on a terminal for whatever is missing."""
    if not interactive:
        missing = [flag for flag, value in (("--name", name), ("--address", addresses),
                                            ("--mail", mail)) if not value]
        if missing:
            raise VillagedError(f"init needs {', '.join(missing)} when it cannot ask",
                                fix="e.g. villaged init --non-interactive --name 'Dana Reyes' "
                                    "--address dana@uni.example --mail ~/Maildir")
    else:
        name = name or click.prompt("Your name")
        if not addresses:
            typed = click.prompt("Your email addresses (comma-separated)")
            addresses = tuple(a.strip() for a in typed.split(",") if a.strip())
        timezone = timezone or click.prompt("Your time zone", default=local_timezone())
        if not mail:
            default = Path("~/Maildir").expanduser()
            typed = click.prompt("Where is your mail? (mbox files or Maildirs, comma-separated)",
                                 default=str(default) if default.exists() else None)
            mail = tuple(Path(p.strip()).expanduser() for p in typed.split(",") if p.strip())
        if not calendars:
            typed = click.prompt("Calendar .ics exports (comma-separated, empty for none)",
                                 default="", show_default=False)
            calendars = tuple(Path(p.strip()).expanduser() for p in typed.split(",") if p.strip())
    assert name is not None
    first = mail[0].expanduser()
    default_drafts = (first if first.is_dir() else first.parent / "Maildir") / ".Drafts"
    if drafts is None and interactive:
        drafts = Path(click.prompt("Drafts folder (a Maildir folder)",
                                   default=str(default_drafts))).expanduser()
    return Answers(name=name, addresses=addresses, timezone=timezone or local_timezone(),
                   mail=tuple(p.expanduser().absolute() for p in mail),
                   calendars=tuple(p.expanduser().absolute() for p in calendars),
                   drafts=(drafts or default_drafts).expanduser().absolute())


def first_round(c: Context, config: Path) -> str:
    """Sync the new config once and list who to add; what `init` prints after writing."""
    from villaged.backends.registry import open_backend
    from villaged.config import load_village
    from villaged.service.round import sync_sources
    from villaged.service.suggest import suggestions

    village = load_village(config)
    with c.writing_store("sync") as store:
        io = open_backend(village, c.state_dir)
        try:
            report = sync_sources(village, store, io, c.now, progress_bar("first sync"))
        finally:
            io.close()
    lines = ["", "first sync:", render.sync_text(report), ""]
    from villaged.core.correspondents import worth_suggesting

    found = [s for s in suggestions(village, c.state_dir, c.now) if worth_suggesting(s)][:10]
    if found:
        lines.append("people you write with most (add them with `villaged add EMAIL --role ROLE`):")
        lines += [f"  {s.name} <{s.addresses[0]}>: {s.received} from them, {s.sent} to them"
                  for s in found]
    else:
        lines.append("no frequent two-way correspondents found yet; add people with "
                     "`villaged add EMAIL --role ROLE` or `villaged import contacts.vcf`")
    return "\n".join(lines)
