"""The whole config, table by table, into one ``Village``."""

from __future__ import annotations

from typing import Any

from villaged.config import allowed_keys
from villaged.config.backend import read_backend
from villaged.config.owner import read_owner
from villaged.config.people import read_people
from villaged.config.settings import (
    read_cadences,
    read_digest,
    read_invite_cooldown_weeks,
    read_roulette,
    read_sync_minutes,
    read_thresholds,
)
from villaged.domain.village import Village
from villaged.schema.source import Source
from villaged.schema.typed_table import TypedTable


def read_village(src: Source, data: dict[str, Any]) -> Village:
    """``data`` (parsed from ``src``) checked key by key into a ``Village``."""
    top = TypedTable(src, data, (), "", "the top level")
    top.check_keys(allowed_keys.TOP)

    owner = read_owner(_required_table(top, "owner", example="[owner]"))
    backend = read_backend(
        _required_table(top, "backend", example='[backend] with kind = "local"')
    )
    cadences = read_cadences(top.table("cadence"))
    thresholds = read_thresholds(top.table("thresholds"))
    roulette = read_roulette(top.table("roulette"))
    digest = read_digest(top.table("digest"))
    cooldown = read_invite_cooldown_weeks(top.table("invitations"))
    sync_minutes = read_sync_minutes(top.table("daemon"))

    return Village(
        owner=owner,
        people=read_people(top, owner),
        backend=backend,
        cadences=cadences,
        thresholds=thresholds,
        roulette=roulette,
        digest=digest,
        invite_cooldown_weeks=cooldown,
        sync_minutes=sync_minutes,
        config_path=src.path.absolute(),
    )


def _required_table(top: TypedTable, name: str, *, example: str) -> TypedTable:
    """The table ``name`` of ``top``, which must be there."""
    table = top.table(name, required=True, example=example)
    assert table is not None  # a missing required table fails in table()
    return table
