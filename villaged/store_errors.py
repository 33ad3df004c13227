"""SQLite's errors, translated at the store's edge into one clear VillagedError.

The store is the adapter for SQLite: every statement it runs goes through a
GuardedConnection / GuardedCursor, so a full disk, a read-only or vanished
state directory, or damaged pages surface as a StoreError with a message and
a fix, never as a traceback (and never as SQLite's "cannot rollback - no
transaction is active", which hid the real cause).

The advice never loses what mail cannot rebuild. The state database holds,
besides what sync reads back from mail, the drafts ledger (which drafts
villaged wrote, so it never writes them twice), the contacts logged with
`villaged log` and the gives. So for a full disk, a read-only directory or a
file that cannot be opened the fix is to repair the environment; only for a
damaged file does the advice go further, and then it says first what would
be lost and how to keep it (a copy, SQLite's `.recover`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from villaged.domain.errors import VillagedError

# primary result codes (sqlite3.h)
SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 3, 5, 6, 8
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 10, 11, 13, 14, 26

IRREPLACEABLE = "the drafts ledger, the contacts you logged and your gives"


class StoreError(VillagedError):
    """The state database cannot be used as it is: full disk, read-only, damaged, ..."""

    def __init__(self, message: str, fix: str, kind: str) -> None:
        super().__init__(message, fix)
        self.kind = kind  # full | readonly | cantopen | corrupt | ioerror | busy | other


def translate(exc: sqlite3.Error, path: Path) -> StoreError:
    """The StoreError a user can act on for SQLite's ``exc`` on database ``path``."""
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    text = str(exc)
    where = path.parent
    keep = (f"do not delete or move {path.name}: besides what `villaged sync` reads back "
            f"from your mail, it holds {IRREPLACEABLE}, which mail cannot rebuild")
    if code == SQLITE_FULL or "database or disk is full" in text or (
            code == SQLITE_IOERR and _nearly_full(where)):
        return StoreError(
            f"the disk holding the state directory {where} is full; nothing was written "
            "(the unfinished change was rolled back)",
            fix=f"free some space on that disk (`df -h {where}`), then run the command "
                f"again; {keep}", kind="full")
    if code in (SQLITE_READONLY, SQLITE_PERM) or "readonly" in text:
        return StoreError(
            f"the state database {path} is read-only: {text}",
            fix=f"make the state directory and its files writable by you "
                f"(`chmod u+rwx {where} && chmod u+rw {path}*`), or mount it read-write; "
                f"`villaged doctor` checks it; {keep}", kind="readonly")
    if code == SQLITE_CANTOPEN or "unable to open" in text:
        return StoreError(
            f"the state database {path} cannot be opened: {text}",
            fix=f"check that {where} exists, is a directory you own and can write "
                f"(`ls -ld {where}`), and that the disk is mounted; `villaged doctor` "
                f"checks it; {keep}", kind="cantopen")
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB) or "malformed" in text \
            or "not a database" in text:
        return corrupt_error(path, text)
    if code == SQLITE_IOERR or "disk I/O error" in text:
        return StoreError(
            f"reading or writing the state database {path} failed: {text}",
            fix=f"check the disk (`dmesg`, `df -h {where}`) and that it is still mounted, "
                f"then run the command again; {keep}", kind="ioerror")
    if code in (SQLITE_BUSY, SQLITE_LOCKED) or "locked" in text:
        return StoreError(
            f"the state database {path} stayed locked by another process: {text}",
            fix="run the command again when the other villaged command has finished",
            kind="busy")
    return StoreError(f"the state database {path} failed: {text}",
                      fix=f"run `villaged doctor`; {keep}", kind="other")


def corrupt_error(path: Path, text: str) -> StoreError:
    """A damaged database: keep a copy, try to recover; say what a rebuild would lose."""
    where = path.parent
    return StoreError(
        f"the state database {path} is damaged: {text}",
        fix=f"stop villaged; first keep a copy (`cp {path} {path}.damaged`), then try to "
            f"save it: `sqlite3 {path} .recover | sqlite3 {where}/recovered.sqlite3`, and if "
            "`sqlite3 recovered.sqlite3 'PRAGMA quick_check'` says ok, move it in place of "
            f"{path.name}. Only as a last resort move it aside and run `villaged sync`: mail "
            f"rebuilds the interactions, but {IRREPLACEABLE} would be lost (villaged could "
            "then draft again what it drafted this week)", kind="corrupt")


def free_bytes(where: Path) -> int | None:
    try:
        st = os.statvfs(where)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _nearly_full(where: Path) -> bool:
    """A write that failed as an "I/O error" on a disk with no room left (SQLite says
    so when growing its -shm file fails) is a full disk."""
    free = free_bytes(where)
    return free is not None and free < 1024 * 1024


class GuardedCursor(sqlite3.Cursor):
    """A cursor whose every call raises StoreError instead of sqlite3.Error."""

    db_path: Path = Path("villaged.sqlite3")

    def execute(self, sql: str, parameters: Any = (), /) -> GuardedCursor:
        try:
            super().execute(sql, parameters)
        except sqlite3.Error as exc:
            raise translate(exc, self.db_path) from exc
        return self

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> GuardedCursor:
        try:
            super().executemany(sql, seq_of_parameters)
        except sqlite3.Error as exc:
            raise translate(exc, self.db_path) from exc
        return self

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            raise translate(exc, self.db_path) from exc

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.Error as exc:
            raise translate(exc, self.db_path) from exc

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            raise translate(exc, self.db_path) from exc


class GuardedConnection(sqlite3.Connection):
    """A connection whose statements raise StoreError (see GuardedCursor)."""

    db_path: Path = Path("villaged.sqlite3")

    def cursor(self, factory: Any = None) -> Any:
        cursor = super().cursor(factory or GuardedCursor)
        cursor.db_path = self.db_path
        return cursor

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any:
        return self.cursor().executemany(sql, parameters)


def connect(path: Path, timeout: float) -> GuardedConnection:
    """Open (creating it 0600 first, so that SQLite gives its -wal and -shm files the
    same mode whatever the umask) the database at ``path``."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
    except OSError as exc:
        raise translate(sqlite3.OperationalError(f"unable to open database file ({exc.strerror})"),
                        path) from exc
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=timeout,
                             factory=GuardedConnection)
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc
    db.db_path = path
    return db
