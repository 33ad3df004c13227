"""Shared setup for the Microsoft 365 backend tests: a village.toml aimed at the local
Graph server, a real MSAL device-code sign-in against it (token cache in a 0600 file),
and helpers to seed mail and meetings.

Everything goes through the real config loader, the real MicrosoftIO, MSAL and
requests over HTTPS (the server's own CA in REQUESTS_CA_BUNDLE).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.graph_api_server import GraphServer, assert_no_violations
from tests.village_setup import (  # noqa: F401  (OWNER_ALIAS: re-exported for the tests)
    NOW,
    OWNER,
    OWNER_ALIAS,
    ConfiguredVillage,
    owner_toml,
    people_toml,
)

UTC = dt.timezone.utc
CLIENT_ID = "3f0e6c1a-9d2b-4c7e-8a51-2b6d9e4f7a10"
D = dt.timedelta

PEOPLE: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Ada Lovelace", ("ada@analytical.example",), "mentor"),
    ("Grace Hopper", ("grace@navy.example", "ghopper@gmail.com"), "sponsor"),
    ("Alan Turing", ("alan@bletchley.example",), "peer mentor"),
    ("Katherine Johnson", ("kj@nasa.example",), "ally"),
)


def village_toml(server: GraphServer, people: Sequence[tuple[str, Sequence[str], str]] = PEOPLE, *,
                 extra_backend: str = "", token_store: str = "file", extra: str = "") -> str:
    return owner_toml("microsoft") + f"""
[backend.microsoft]
client_id = "{CLIENT_ID}"
token_store = "{token_store}"
graph_endpoint = "{server.graph_url}"
authority = "{server.authority}"
{extra_backend}
""" + extra + people_toml(people)


class Setup(ConfiguredVillage):
    """A village aimed at ``server``: config file, state dir, MSAL token cache."""

    def __init__(self, server: GraphServer, root: Path,
                 people: Sequence[tuple[str, Sequence[str], str]] = PEOPLE, sign_in: bool = True,
                 **kw: Any) -> None:
        super().__init__(server, root, village_toml(server, people, **kw))
        if sign_in:
            self.sign_in()

    def sign_in(self) -> str:
        from villaged.backends.microsoft.auth import MsalAuth, token_store_for

        village = self.village()
        store = token_store_for(village.backend, village.owner.address, self.state)
        shown: list[str] = []
        return MsalAuth(village.backend, store, village.owner.address).sign_in(shown.append)

    def io(self, village: Any = None) -> Any:
        from villaged.backends.microsoft.api import RetryPolicy
        from villaged.backends.microsoft.backend import MicrosoftIO

        village = village or self.village()
        return MicrosoftIO(village, village.backend, self.state,
                           retry=RetryPolicy(attempts=10, base=0.005, cap=0.02, max_retry_after=0.02))

    def interactions(self, source: str | None = None) -> set[tuple[Any, ...]]:
        with self.store() as store:
            return {(i.source, i.uid, i.person, i.at, i.kind.value, i.direct, i.status)
                    for i in store.interactions() if source is None or i.source == source}

    def env(self) -> dict[str, str]:
        return {**super().env(), "REQUESTS_CA_BUNDLE": str(self.server.ca_file)}


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphServer]:
    """The local Graph server at NOW; its CA trusted by requests (and so by MSAL)."""
    with GraphServer(owner=OWNER, display_name="Dana Reyes", clock=lambda: NOW) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
        yield server
        assert_no_violations(server)


@pytest.fixture
def ms(graph: GraphServer, tmp_path: Path) -> Setup:
    return Setup(graph, tmp_path)
