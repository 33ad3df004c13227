"""pytest fixtures. Enable with `pytest_plugins = ["tests.google_api_server.pytest_plugin"]`
in the root conftest.py, or import the fixtures into a test module.

- `google_api_server`: a started server; the test fails on any contract violation.
- `google_api_server_factory`: call with GoogleApiServer options for more servers
  (each is stopped and checked for violations at teardown).
- `google_credentials`, `gmail_service`, `calendar_service`: clients wired to `google_api_server`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .client import build_service, credentials
from .server import GoogleApiServer
from .verify import assert_no_violations


@pytest.fixture
def google_api_server_factory() -> Iterator[Callable[..., GoogleApiServer]]:
    """Make started servers; stop them and fail on violations at teardown."""
    made: list[GoogleApiServer] = []

    def make(**options: Any) -> GoogleApiServer:
        server = GoogleApiServer(**options).start()
        made.append(server)
        return server

    yield make
    for server in made:
        server.stop()
    for server in made:
        assert_no_violations(server)


@pytest.fixture
def google_api_server(google_api_server_factory: Callable[..., GoogleApiServer]) -> GoogleApiServer:
    """A started server with default options."""
    return google_api_server_factory()


@pytest.fixture
def google_credentials(google_api_server: GoogleApiServer) -> Any:
    """Credentials that refresh against the server."""
    return credentials(google_api_server)


@pytest.fixture
def gmail_service(google_api_server: GoogleApiServer, google_credentials: Any) -> Any:
    """googleapiclient Gmail v1 service talking to the server over HTTP."""
    return build_service(google_api_server, "gmail", google_credentials)


@pytest.fixture
def calendar_service(google_api_server: GoogleApiServer, google_credentials: Any) -> Any:
    """googleapiclient Calendar v3 service talking to the server over HTTP."""
    return build_service(google_api_server, "calendar", google_credentials)
