"""Shared setup for the Google backend tests: a village.toml aimed at the local
Google API server, a token file whose token_uri is the server's, and mail.

Everything goes through the real config loader, the real GoogleIO and the
real google-api-python-client over HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from tests.google_api_server import GoogleApiServer, assert_no_violations
from tests.google_api_server.client import CLIENT_ID, CLIENT_SECRET
from tests.village_setup import (  # noqa: F401  (OWNER_ALIAS: re-exported for the tests)
    NOW,
    OWNER,
    OWNER_ALIAS,
    ConfiguredVillage,
    owner_toml,
    people_toml,
)

UTC = dt.UTC

PEOPLE: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Ada Lovelace", ("ada@analytical.example",), "mentor"),
    ("Grace Hopper", ("grace@navy.example", "ghopper@gmail.com"), "sponsor"),
    ("Alan Turing", ("alan@bletchley.example",), "peer mentor"),
    ("Katherine Johnson", ("kj@nasa.example",), "ally"),
)


def raw_message(sender: str, to: Sequence[str] | str, subject: str, when: dt.datetime, *,
                cc: Sequence[str] = (), msgid: str | None = None, list_id: str | None = None,
                headers: Sequence[tuple[str, str]] = (), in_reply_to: str | None = None,
                date_header: str | None = None) -> bytes:
    to = [to] if isinstance(to, str) else list(to)
    lines = [f"From: {sender}", f"To: {', '.join(to)}"]
    if cc:
        lines.append(f"Cc: {', '.join(cc)}")
    lines.append(f"Subject: {subject}")
    lines.append(f"Date: {date_header if date_header is not None else format_datetime(when)}")
    digest = abs(hash((sender, tuple(to), subject, when))) % 10**12
    lines.append(f"Message-ID: {msgid or f'<m{digest}@test.example>'}")
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    if list_id:
        lines.append(f"List-Id: <{list_id}>")
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\nHello.\r\n").encode("utf-8")


def village_toml(server: GoogleApiServer, people: Sequence[tuple[str, Sequence[str], str]] = PEOPLE,
                 *, calendars: Sequence[str] = ("primary",), extra: str = "",
                 token_store: str = "file", client_secrets: Path | None = None) -> str:
    secrets = f'client_secrets = "{client_secrets}"\n' if client_secrets is not None else ""
    return owner_toml("google") + f"""
[backend.google]
token_store = "{token_store}"
gmail_endpoint = "{server.url}"
calendar_endpoint = "{server.url}calendar/v3/"
calendars = {json.dumps(list(calendars))}
""" + secrets + extra + people_toml(people)


def add_old_news(server: GoogleApiServer,
                 people: Sequence[tuple[str, Sequence[str], str]] = PEOPLE) -> None:
    """One message from each person, 200 days (and a day more each) before NOW:
    everyone in the village is cold and due a check-in."""
    for n, (_, emails, _) in enumerate(people):
        when = NOW - dt.timedelta(days=200 + n)
        server.add_message(raw_message(emails[0], OWNER, f"old news {n}", when),
                           internal_date=when)


def token_json(server: GoogleApiServer, token: str | None = "ya29.test-start") -> str:
    info: dict[str, Any] = {
        "refresh_token": "1//test-refresh",
        "token_uri": server.token_uri,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scopes": list(server.granted_scopes),
    }
    if token:
        info["token"] = token
        info["expiry"] = "2999-01-01T00:00:00Z"
    return json.dumps(info)


class Setup(ConfiguredVillage):
    """A village aimed at ``server``: config file, state dir, token file."""

    def __init__(self, server: GoogleApiServer, root: Path,
                 people: Sequence[tuple[str, Sequence[str], str]] = PEOPLE, **kw: Any) -> None:
        super().__init__(server, root, village_toml(server, people, **kw))
        from villaged.backends.google.token_store import TOKEN_FILE, write_private

        write_private(self.state / TOKEN_FILE, token_json(server).encode())

    def io(self, village: Any = None) -> Any:
        from villaged.backends.google.api import RetryPolicy
        from villaged.backends.google.backend import GoogleIO

        village = village or self.village()
        return GoogleIO(village, village.backend, self.state,
                        retry=RetryPolicy(num_retries=6, attempts=10, base=0.01, cap=0.05))

    def interactions(self, source: str | None = None) -> set[tuple[Any, ...]]:
        with self.store() as store:
            return {(i.source, i.uid, i.person, i.at, i.kind.value, i.direct, i.status, i.thread)
                    for i in store.interactions() if source is None or i.source == source}


@pytest.fixture
def server() -> Iterator[GoogleApiServer]:
    with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW) as srv:
        yield srv
        assert_no_violations(srv)


@pytest.fixture
def setup(server: GoogleApiServer, tmp_path: Path) -> Setup:
    return Setup(server, tmp_path)
