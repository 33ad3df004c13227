"""The one village every contract suite uses, whatever the backend.

The same owner and people as tests/google_fixtures.py (so a Google backend
configured from TOML matches it key for key), a frozen ``NOW`` (Monday
2026-11-23 08:00 in Chicago), and the sync driver the service uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from zoneinfo import ZoneInfo

from villaged.backends.local.settings import LocalBackend
from villaged.domain.addresses import Matcher
from villaged.domain.village import Interaction, Owner, Person, Role, Thresholds, Village
from villaged.ports.source import Source, SyncContext
from villaged.service.sync import SourceReport, sync_source
from villaged.store import Store

NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
OWNER = "dana@uni.example"
OWNER_ALIAS = "dana.reyes@gmail.com"
CHICAGO = ZoneInfo("America/Chicago")
ADA = "ada@analytical.example"
GRACE = "grace@navy.example"
ALAN = "alan@bletchley.example"
KJ = "kj@nasa.example"
PEOPLE = (
    Person("ada-lovelace", "Ada Lovelace", (ADA,), Role.MENTOR),
    Person("grace-hopper", "Grace Hopper", (GRACE, "ghopper@gmail.com"), Role.SPONSOR),
    Person("alan-turing", "Alan Turing", (ALAN,), Role.PEER_MENTOR),
    Person("katherine-johnson", "Katherine Johnson", (KJ,), Role.ALLY),
)
KEYS = {ADA: "ada-lovelace", GRACE: "grace-hopper", ALAN: "alan-turing", KJ: "katherine-johnson"}


def contract_village(root: Path | None = None) -> Village:
    drafts = (root or Path("/nonexistent")) / "Maildir" / ".Drafts"
    return Village(
        owner=Owner(name="Dana Reyes", addresses=(OWNER, OWNER_ALIAS), timezone=CHICAGO),
        people=PEOPLE,
        backend=LocalBackend(mail=(), calendars=(), drafts=drafts),
    )


def context(now: dt.datetime = NOW) -> SyncContext:
    return SyncContext(matcher=Matcher.build((OWNER, OWNER_ALIAS), PEOPLE),
                       limits=Thresholds(), now=now)


def sync(store: Store, source: Source, now: dt.datetime = NOW) -> SourceReport:
    """One sync, exactly as the service runs it."""
    return sync_source(store, source, context(now))


def sync_until_killed(store: Store, source: Source, batches: int, now: dt.datetime = NOW) -> int:
    """Commit the first ``batches`` batches, then stop as a kill -9 would; return how many."""
    done = 0
    stream = source.sync(store.cursor(source.name), context(now))
    try:
        for batch in stream:
            if done == batches:
                break
            store.apply_sync(source.name, batch.interactions, batch.cursor, batch.removed_uids,
                             batch.skipped, batch.replace)
            done += 1
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    return done


Row = tuple[str, str, str, dt.datetime, bool, str]


def rows(interactions: Iterable[Interaction]) -> set[Row]:
    """What the store knows, in a form two stores can be compared by."""
    return {(i.uid, i.person, i.kind.value, i.at, i.direct, i.status) for i in interactions}


def newest(interactions: Iterable[Interaction]) -> set[tuple[str, str, bool, dt.datetime]]:
    """The newest contact per (person, kind, direct): all that a standing depends on."""
    best: dict[tuple[str, str, bool], dt.datetime] = {}
    for i in interactions:
        key = (i.person, i.kind.value, i.direct)
        best[key] = max(best.get(key, i.at), i.at)
    return {(p, k, d, at) for (p, k, d), at in best.items()}
