"""Failing a test on any contract violation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .server import GoogleApiServer


def assert_no_violations(server: GoogleApiServer) -> None:
    """Raise AssertionError listing every recorded contract violation."""
    if server.violations:
        listing = "\n  - ".join(server.violations)
        raise AssertionError(f"{len(server.violations)} Google API contract violation(s):\n  - {listing}")


@contextlib.contextmanager
def running_server(check: bool = True, **options: Any) -> Iterator[GoogleApiServer]:
    """A started GoogleApiServer; on a clean exit, fail if any violation was recorded."""
    server = GoogleApiServer(**options).start()
    try:
        yield server
        if check:
            assert_no_violations(server)
    finally:
        server.stop()
