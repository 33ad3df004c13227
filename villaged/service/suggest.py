"""`villaged suggest`: frequent correspondents who are not in the village yet.

It reads the configured mail and calendars once more, in memory, with a matcher
that counts everyone, through the very same sources and contact rules as a sync.
Nothing is written: not the store, not the drafts folder.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from villaged.backends.registry import open_backend, plugin_for
from villaged.core.correspondents import Correspondent, tally
from villaged.domain.addresses import AnyoneMatcher, normalize
from villaged.domain.errors import VillagedError
from villaged.domain.village import Interaction, Village
from villaged.ports.source import Progress, SyncContext, no_progress


def suggestions(village: Village, state_dir: Path, now: dt.datetime,
                progress: Progress = no_progress) -> list[Correspondent]:
    """Everyone the owner corresponds with who is not in the village, most relevant first."""
    kind = village.backend.kind
    if not plugin_for(kind).reads_whole_mailbox:
        raise VillagedError(
            f"suggest reads the whole mailbox, and the {kind} backend only asks the server "
            "about the people already in the village",
            fix="export your mail once (e.g. Google Takeout) and run suggest with a config "
                "whose [backend] is local, or add people with `villaged add`")
    known = {normalize(e) for p in village.people for e in p.emails}
    matcher = AnyoneMatcher(people={}, owner=frozenset(normalize(a) for a in village.owner.addresses))
    ctx = SyncContext(matcher=matcher, limits=village.thresholds, now=now, progress=progress)
    io = open_backend(village, state_dir, read_only=True)
    found: list[Interaction] = []
    try:
        for source in io.sources():
            for batch in source.sync(None, ctx):
                found.extend(batch.interactions)
    finally:
        io.close()
    since = now - dt.timedelta(days=village.thresholds.lookback_days)
    return tally(found, known, since, matcher.display_names())
