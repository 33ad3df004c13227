"""Test-only launcher: `python -m tests.slow_drafts SECONDS <villaged args...>`.

Runs the real villaged CLI with every draft write delayed by SECONDS, so a test
can deliver a signal in the middle of a drafting round. The delay is injected
at the port: each registered backend's factory is wrapped (through the
registry) so that its outbox's ``put`` sleeps first. Nothing of this ships in
villaged.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from villaged.backends import registry
from villaged.ports.backend import BackendIO
from villaged.ports.outbox import Outbox


class SlowOutbox:
    """An outbox whose every ``put`` waits ``delay`` seconds first."""

    def __init__(self, outbox: Outbox, delay: float) -> None:
        self._outbox, self._delay = outbox, delay

    def __getattr__(self, name: str) -> Any:
        return getattr(self._outbox, name)

    def put(self, key: str, message: EmailMessage, thread: str | None) -> str:
        time.sleep(self._delay)
        return self._outbox.put(key, message, thread)


class SlowDrafts:
    """A backend whose outbox is a SlowOutbox; everything else is the backend itself."""

    def __init__(self, io: BackendIO, delay: float) -> None:
        self._io = io
        self.outbox = SlowOutbox(io.outbox, delay)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._io, name)


def slow_registry(delay: float) -> None:
    """Wrap every registered backend's factory (in this process)."""

    def wrap(open_io: Any) -> Any:
        def opened(village: Any, settings: Any, state_dir: Path, read_only: bool) -> Any:
            return SlowDrafts(open_io(village, settings, state_dir, read_only), delay)

        return opened

    registry.PLUGINS = tuple(dataclasses.replace(p, open=wrap(p.open)) for p in registry.PLUGINS)


if __name__ == "__main__":
    slow_registry(float(sys.argv[1]))
    from villaged.cli.main import main

    main(sys.argv[2:], prog_name="villaged")
