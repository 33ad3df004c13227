"""Writing one message into a Maildir folder, safely, and cleaning up after ourselves.

The Maildir way: write the whole file under ``tmp/``, fsync it, then link it
into ``cur/`` or ``new/`` (one atomic step a reader can never see half of).
Files are created 0600 whatever the umask: drafts and the digest hold mail.

A folder that exists but lacks ``cur/ new/ tmp/`` (a plain ``mkdir``) gets
them. A folder that is read-only, full or otherwise unwritable raises one
VillagedError with a fix, and leaves no half-written file behind.

Our own temporary files carry ``.villaged-`` in their name. One left in
``tmp/`` by a kill or a full disk mid-write is removed by the next write
(``clean_stale_tmp``), under the state directory's write lock, so no other
villaged process can be writing it; files of other programs are never touched.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import time
from pathlib import Path

from villaged.domain.errors import VillagedError

log = logging.getLogger(__name__)

SUBDIRS = ("cur", "new", "tmp")
OWN_MARK = ".villaged-"
STALE_AFTER = 60.0  # seconds: a write takes milliseconds; older is a leftover

_counter = 0


class MaildirWriteError(VillagedError):
    """A Maildir folder villaged must write to cannot be written."""


def ensure_folder(folder: Path, what: str) -> None:
    """Make ``folder`` a Maildir folder (cur/ new/ tmp/), private when we create it."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for sub in SUBDIRS:
            (folder / sub).mkdir(exist_ok=True, mode=0o700)
    except OSError as exc:
        raise _error(exc, folder, what) from exc


def write_message(folder: Path, data: bytes, subdir: str, info: str, what: str) -> str:
    """Write ``data`` as a new message in ``folder/subdir``; return its Maildir key.

    ``info`` is the flag suffix for cur/ (e.g. ``"2,D"``), empty for new/.
    """
    global _counter  # noqa: PLW0603 - unique names within this process
    ensure_folder(folder, what)
    clean_stale_tmp(folder)
    _counter += 1
    host = socket.gethostname().replace("/", r"\057").replace(":", r"\072")
    key = f"{int(time.time())}.M{time.time_ns() % 1_000_000_000}P{os.getpid()}Q{_counter}" \
          f"{OWN_MARK}{os.urandom(4).hex()}.{host}"
    tmp = folder / "tmp" / key
    name = f"{key}:{info}" if info else key
    final = folder / subdir / name
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, final)  # unique name: nothing is ever replaced
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise _error(exc, folder, what) from exc
    return key


def clean_stale_tmp(folder: Path, now: float | None = None) -> list[str]:
    """Remove villaged's own half-written files from ``folder/tmp``; return their names."""
    now = time.time() if now is None else now
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder / "tmp"))
    except OSError:
        return removed
    for entry in entries:
        if OWN_MARK not in entry.name:
            continue  # another program's: never ours to judge
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < STALE_AFTER:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(entry.name)
    if removed:
        log.info("removed %d half-written file(s) villaged left in %s", len(removed),
                 folder / "tmp")
    return removed


def _error(exc: OSError, folder: Path, what: str) -> MaildirWriteError:
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return MaildirWriteError(
            f"the disk holding the {what} {folder} is full; nothing was written there",
            fix=f"free some space (`df -h {folder}`), then run the command again: villaged "
                "writes what is missing and nothing twice")
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return MaildirWriteError(
            f"the {what} {folder} cannot be written: {exc.strerror}",
            fix=f"make it (and its cur/, new/ and tmp/) writable by you (`ls -ld {folder} "
                f"{folder}/*`; `chmod u+rwx ...`), or mount it read-write; `villaged doctor` "
                "checks it")
    if code in (errno.ENOTDIR, errno.EEXIST):
        return MaildirWriteError(
            f"the {what} {folder} is not a Maildir folder: {exc.strerror} ({exc.filename})",
            fix="point the setting at a Maildir folder (a directory holding cur/, new/ "
                "and tmp/), or at a path that does not exist yet")
    return MaildirWriteError(f"writing to the {what} {folder} failed: {exc.strerror or exc}",
                             fix="check the disk and the folder's permissions; "
                                 "`villaged doctor` checks them")
