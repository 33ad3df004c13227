"""Run `villaged` on a pseudo-terminal, as a person at a shell would."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path


def run_on_a_terminal(args: list[str], cwd: Path,
                      answers: Iterable[str] | None = None) -> tuple[int, str]:
    """Run with stdout and stderr (and, with ``answers``, stdin) on a pseudo-terminal;
    each prompt (a line ending in ":") gets the next answer. Returns the exit status
    and what it showed."""
    leader, follower = pty.openpty()
    replies = iter(answers) if answers is not None else None
    proc = subprocess.Popen([sys.executable, "-m", "villaged", *args], cwd=cwd,
                            stdin=follower if replies is not None else subprocess.DEVNULL,
                            stdout=follower, stderr=follower)
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
        if replies is not None and chunk.rstrip().endswith(b":"):
            os.write(leader, (next(replies, "") + "\n").encode())
    code = proc.wait(timeout=60)
    os.close(leader)
    return code, shown.decode(errors="replace")
