"""One runner per state directory: the daemon or ``run --once``, never both.

The runner holds an exclusive flock on ``<state>/run.lock`` for its whole
life and writes its pid there. The lock dies with the process (kill -9
included), so a job claim left unfinished in the store while we hold the
lock can only belong to a runner that died mid-job: the job runs again.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from villaged.domain.errors import VillagedError

LOCK_NAME = "run.lock"


@contextlib.contextmanager
def hold(state_dir: Path, wait: float = 1.0) -> Iterator[None]:
    fd = _open_lock(state_dir / LOCK_NAME)
    try:
        if not _take(fd, wait, poll=0.1):
            other = _read_pid(fd)
            raise VillagedError(
                f"another villaged runner{f' (pid {other})' if other else ''} "
                f"is already using {state_dir}",
                fix="run either the service (`villaged run`) or the timer "
                    "(`villaged run --once`), not both; stop the other with "
                    "`systemctl --user stop villaged` or `systemctl --user stop "
                    "villaged.timer`")
        _write_pid(fd, f"{os.getpid()}\n")
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


def _take(fd: int, wait: float, poll: float) -> bool:
    """Take the exclusive lock on ``fd``, trying every ``poll`` seconds for up to
    ``wait`` seconds; False if it is still held by someone else then."""
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)


def _open_lock(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        from villaged.store import DB_NAME
        from villaged.store_errors import translate

        # the same clear message (and harmless fix) the database would give
        raise translate(sqlite3.OperationalError(
            "attempt to write a readonly database" if exc.errno in (errno.EROFS, errno.EACCES,
                                                                     errno.EPERM)
            else f"unable to open database file ({exc.strerror})"),
            path.parent / DB_NAME) from exc


def _write_pid(fd: int, text: str) -> None:
    """Say who holds the lock (a courtesy for the loser's message: the flock is what
    counts, so a full disk that cannot take these bytes changes nothing)."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode(), 0)
    except OSError:
        pass


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None


# -- one writer at a time ------------------------------------------------------------
#
# Every command that writes (sync, plan's reconcile, draft, digest, log, run
# --once, each step of the daemon) holds an exclusive flock on
# ``<state>/write.lock`` for as long as it writes, so two of them never
# interleave: no second draft of the same check-in, no digest delivered twice,
# no ledger row reconciled away under a round that is still writing it.
# The run lock above says who *runs the schedule*; this one says who is
# *writing right now*, so `villaged log` works while the daemon idles.

WRITE_LOCK_NAME = "write.lock"
WAIT_ENV = "VILLAGED_LOCK_WAIT"
DEFAULT_WAIT = 60.0


class Busy(VillagedError):
    """Another villaged process is writing to the state directory."""


def default_wait() -> float:
    text = os.environ.get(WAIT_ENV, "")
    try:
        return max(0.0, float(text)) if text else DEFAULT_WAIT
    except ValueError:
        return DEFAULT_WAIT


@contextlib.contextmanager
def writer(state_dir: Path, what: str, wait: float | None = None) -> Iterator[None]:
    """Hold the write lock while the body runs; wait up to ``wait`` seconds for it.

    Raises Busy (exit 2: the holder's pid and what it is doing) if it stays taken.
    """
    wait = default_wait() if wait is None else wait
    fd = _open_lock(state_dir / WRITE_LOCK_NAME)
    try:
        if not _take(fd, wait, poll=0.05):
            pid, doing = _read_holder(fd)
            who = f"`villaged {doing}` (pid {pid})" if pid else "another villaged command"
            raise Busy(
                f"{who} is writing to {state_dir}; waited {wait:.0f} s for it",
                fix="let it finish, then run this again (nothing was written); "
                    f"to wait longer, set {WAIT_ENV}=<seconds>; "
                    "if that pid is not a villaged process, `villaged doctor` "
                    "says who holds the lock")
        _write_pid(fd, f"{os.getpid()} {what}\n")
        yield
    finally:
        os.close(fd)  # releases the lock


def writing_now(state_dir: Path) -> tuple[int, str] | None:
    """(pid, command) of the process writing right now, or None."""
    try:
        fd = os.open(state_dir / WRITE_LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, doing = _read_holder(fd)
            return (pid or -1, doing)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_holder(fd: int) -> tuple[int | None, str]:
    text = os.pread(fd, 200, 0).decode(errors="replace").strip()
    pid, _, doing = text.partition(" ")
    return (int(pid) if pid.isdigit() else None), doing or "?"
