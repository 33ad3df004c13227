"""A village aimed at one of the local API servers: its config file and state directory.

Each backend's test fixtures subclass it with their sign-in and ``io`` (the backend
with test-speed retries): Google in tests/google_fixtures.py, Microsoft in
tests/graph_fixtures.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 in Chicago


OWNER = "dana@uni.example"
OWNER_ALIAS = "dana.reyes@gmail.com"


def owner_toml(backend: str) -> str:
    """The [owner] table and the start of [backend] every server-backed village shares."""
    return f"""
[owner]
name = "Dana Reyes"
addresses = ["{OWNER}", "{OWNER_ALIAS}"]
timezone = "America/Chicago"

[backend]
kind = "{backend}"
"""


def people_toml(people: Sequence[tuple[str, Sequence[str], str]]) -> str:
    """One [[person]] table per (name, emails, role)."""
    return "".join(f"""
[[person]]
name = "{name}"
emails = {json.dumps(list(emails))}
role = "{role}"
""" for name, emails, role in people)


class ConfiguredVillage:
    def __init__(self, server: Any, root: Path, config_text: str) -> None:
        self.server = server
        self.root = root
        self.config = root / "village.toml"
        self.state = root / "state"
        self.state.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.config.write_text(config_text, encoding="utf-8")

    def village(self) -> Any:
        from villaged.config import load_village

        return load_village(self.config)

    def io(self, village: Any = None) -> Any:
        raise NotImplementedError

    def store(self) -> Any:
        from villaged.store import Store

        return Store.in_dir(self.state)

    def sync(self, now: dt.datetime = NOW, village: Any = None) -> Any:
        from villaged.service.round import sync_sources

        village = village or self.village()
        with self.store() as store:
            return sync_sources(village, store, self.io(village), now)

    def run_round(self, now: dt.datetime = NOW, draft: bool = True) -> Any:
        from villaged.service.round import run_round

        village = self.village()
        with self.store() as store:
            return run_round(village, store, self.io(village), now, draft=draft)

    def ledger(self) -> dict[str, tuple[str, str | None]]:
        """The drafts ledger: key -> (state, draft id)."""
        with self.store() as store:
            return {r.key: (r.state.value, r.draft_id) for r in store.ledger()}

    def env(self) -> dict[str, str]:
        """The environment for a `villaged` subprocess on this village."""
        env = dict(os.environ)
        env.update(VILLAGED_CONFIG=str(self.config), VILLAGED_STATE_DIR=str(self.state))
        return env
