"""`villaged demo`: the real round on the shipped example village.

The example folder is copied to a working directory (temporary unless
given), so the demo never writes inside the installed package, and the
round runs at a fixed moment so the example's dates stay meaningful.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from villaged.backends.registry import open_backend
from villaged.cli import render
from villaged.config import load_village
from villaged.service.digest import run_digest
from villaged.service.round import run_round
from villaged.store import Store

DEMO_NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 in Chicago


def example_dir() -> Path:
    """The shipped example village (installed package, or a source checkout)."""
    try:
        installed = Path(str(resources.files("villaged.example"))) / "example"
        if (installed / "village.toml").is_file():
            return installed
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / "config" / "example"


def prepare(workdir: Path | None) -> Path:
    target = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="villaged-demo-"))
    shutil.copytree(example_dir(), target, dirs_exist_ok=True)
    for sub in ("cur", "new", "tmp"):
        (target / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
    return target


def run_demo(workdir: Path | None, now: dt.datetime | None) -> str:
    """Run one drafting round on a copy of the example; return the report text."""
    root = prepare(workdir)
    now = now or DEMO_NOW
    village = load_village(root / "village.toml")
    state = root / "state"
    with Store.in_dir(state) as store:
        io = open_backend(village, state)
        result = run_round(village, store, io, now, draft=True)
        digest = run_digest(village, store, io, now)
    digest_html = root / "digest.html"
    digest_html.write_text(digest.html, encoding="utf-8")
    local = now.astimezone(village.owner.timezone)
    parts = [
        f"villaged demo: {village.owner.name}'s village as of {local:%A %Y-%m-%d %H:%M %Z}",
        f"(working copy: {root})",
        "",
        "== sync ==",
        render.sync_text(result.sync) if result.sync else "",
        "",
        "== status ==",
        render.status_table(village, result.standings, now),
        "",
        "== village map ==",
        render.village_map_text(village),
        "",
        "== plan ==",
        render.plan_text(village, result.plan, result.notes, result.needs_words),
        "",
        "== drafts ==",
    ]
    if result.written:
        parts.append(f"{len(result.written)} draft(s) written to {result.drafts_link} "
                     "(flagged D: open them with mutt -f, neomutt or Thunderbird):")
        names = {p.key: p.name for p in village.people}
        parts += [f"  {action.action} for {names[action.person]}: {draft_id}"
                  for action, draft_id in result.written]
    else:
        parts.append("no drafts this round")
    rule = "-" * 78
    parts += ["", "== digest ==", f"{digest.subject}: "
              + (f"delivered to {village.owner.address}'s inbox ({digest.location})"
                 if digest.delivered else digest.note),
              "", rule, digest.text.rstrip("\n"), rule, "",
              f"HTML version (open it in a browser): {digest_html}"]
    parts.append("Nothing was sent. Review, edit and send the drafts yourself.")
    return "\n".join(parts)
