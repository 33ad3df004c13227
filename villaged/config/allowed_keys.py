"""The keys each table of the config allows, and where each key lives.

``config/village.example.toml`` documents every one of them.
"""

from __future__ import annotations

import dataclasses

from villaged.backends.registry import PLUGINS
from villaged.config.backend import ALLOWED
from villaged.domain.village import Thresholds

TOP = ("owner", "backend", "cadence", "thresholds", "roulette", "digest",
       "invitations", "daemon", "person")  # fmt: skip
OWNER = ("name", "addresses", "timezone", "working_days", "working_hours")
THRESHOLDS = tuple(f.name for f in dataclasses.fields(Thresholds))
ROULETTE = ("day", "time", "size")
DIGEST = ("day", "time", "maildir")
INVITATIONS = ("cooldown_weeks",)
DAEMON = ("sync_minutes",)
PERSON = ("name", "key", "emails", "role", "cadence_days", "interests", "notes",
          "paused_until", "do_not_draft", "gives", "agreement")  # fmt: skip
AGREEMENT = ("rhythm", "duration_minutes", "location", "agenda", "days", "hours")


def _homes() -> dict[str, list[str]]:
    homes: dict[str, list[str]] = {}
    for section, keys in (
        ("[owner]", OWNER),
        ("[backend]", ALLOWED),
        *((section, keys) for plugin in PLUGINS for section, keys in plugin.sections.items()),
        ("[thresholds]", THRESHOLDS),
        ("[roulette]", ROULETTE),
        ("[digest]", DIGEST),
        ("[invitations]", INVITATIONS),
        ("[daemon]", DAEMON),
        ("[[person]]", PERSON),
        ("[person.agreement]", AGREEMENT),
    ):
        for key in keys:
            homes.setdefault(key, []).append(section)
    return homes


HOMES = _homes()
"""The table headers each key belongs under, to say "move it to [owner]"."""
