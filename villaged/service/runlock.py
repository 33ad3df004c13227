"""One runner per state directory: the daemon or ``run --once``, never both.

The runner holds an exclusive flock on ``<state>/run.lock`` for its whole
life and writes its pid there. The lock dies with the process (kill -9
included), so a job claim left unfinished in the store while we hold the
lock can only belong to a runner that died mid-job: the job runs again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from villaged.domain.errors import VillagedError

LOCK_NAME = "run.lock"


@contextlib.contextmanager
def hold(state_dir: Path, wait: float = 1.0) -> Iterator[None]:
    path = state_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    other = _read_pid(fd)
                    raise VillagedError(
                        f"another villaged runner{f' (pid {other})' if other else ''} "
                        f"is already using {state_dir}",
                        fix="run either the service (`villaged run`) or the timer "
                            "(`villaged run --once`), not both; stop the other with "
                            "`systemctl --user stop villaged` or `systemctl --user stop "
                            "villaged.timer`") from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def holder(state_dir: Path) -> int | None:
    """The pid of the runner holding the lock, or None if nobody runs."""
    path = state_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None
