"""Where each key of the config lives, derived from the settings types.

A key written under the wrong header is sent home ("belongs in [owner]: move
it there"); the headers come from ``Village``'s declared fields and from every
registered backend's settings types.
"""

from __future__ import annotations

from villaged.config import backend
from villaged.domain.village import Village
from villaged.schema import declared


def _homes() -> dict[str, list[str]]:
    tables = declared.sections(Village, "")
    ordered = {"[owner]": tables.pop("[owner]"), **backend.sections(), **tables}
    homes: dict[str, list[str]] = {}
    for section, keys in ordered.items():
        for key in keys:
            homes.setdefault(key, []).append(section)
    return homes


HOMES = _homes()
"""The table headers each key belongs under."""
