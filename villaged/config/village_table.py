"""The whole config, table by table, into one ``Village``.

``Village``'s declared fields are the top level's schema: which tables exist,
which are required, which keys each allows.
"""

from __future__ import annotations

from typing import Any

from villaged.config.backend import read_backend
from villaged.config.people import read_people
from villaged.config.settings import read_cadences, read_thresholds
from villaged.domain.village import DigestSettings, Owner, Roulette, Village
from villaged.schema import declared
from villaged.schema.source import Source
from villaged.schema.typed_table import TypedTable

_TABLE_EXAMPLES = {"owner": "[owner]", "backend": '[backend] with kind = "local"'}


def read_village(src: Source, data: dict[str, Any]) -> Village:
    """``data`` (parsed from ``src``) checked key by key into a ``Village``."""
    top = TypedTable(src, data, (), "", "the top level")
    top.check_keys(declared.allowed(Village))

    owner = declared.read_settings(Owner, _required_table(top, "owner"))
    backend = read_backend(_required_table(top, "backend"))
    flattened: dict[str, Any] = {}
    for table in dict.fromkeys(k.setting.table for k in declared.keys_of(Village)):
        if not table:
            continue
        t = top.table(table)  # a table whose keys are fields of Village itself
        if t is not None:
            t.check_keys(declared.allowed(Village, table))
            flattened.update(declared.read_values(Village, t, table=table))
    return Village(
        owner=owner,
        people=read_people(top, owner),
        backend=backend,
        cadences=read_cadences(top.table("cadence")),
        thresholds=read_thresholds(top.table("thresholds")),
        roulette=declared.read_settings(Roulette, top.table("roulette")),
        digest=declared.read_settings(DigestSettings, top.table("digest")),
        config_path=src.path.absolute(),
        **flattened,
    )


def _required_table(top: TypedTable, name: str) -> TypedTable:
    """The table ``name`` of ``top``, which must be there."""
    table = top.table(name, required=True, example=_TABLE_EXAMPLES[name])
    assert table is not None  # a missing required table fails in table()
    return table
