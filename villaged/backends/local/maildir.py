"""A Maildir (with Maildir++ or plainly nested folders) as a source of contact.

Every message file in ``cur/`` and ``new/`` of every folder is read up to the
end of its header block, never further; ``tmp/`` is never read. The owner's
drafts folder (where villaged itself writes) is passed in as ``exclude``.

Incremental sync: the cursor remembers, per folder, the unique part of every
file name already read (the part before ``:2,``), so a flag change (a rename)
or a move from ``new/`` to ``cur/`` is not new mail; the next run reads only
files whose unique part it has not seen. Names of files that are gone are
dropped from the cursor. Interactions of deleted messages stay in the store:
the contact still happened.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from villaged.core.mailparse import classify_block, header_end
from villaged.domain.errors import VillagedError
from villaged.ports.cursor import Cursor
from villaged.ports.source import SyncBatch, SyncContext

log = logging.getLogger(__name__)

HEADER_CAP = 256 * 1024
FIRST_READ = 16 * 1024
BATCH_FILES = 2000
MAX_DEPTH = 12
PROGRESS_EVERY = 200  # files between progress reports (also the daemon's stop points)
SUBDIRS = ("cur", "new", "tmp")


def unique_part(filename: str) -> str:
    """The stable part of a Maildir file name: what comes before the info."""
    for sep in (":2,", "!2,"):  # "!" where ":" is not allowed in file names
        at = filename.find(sep)
        if at >= 0:
            return filename[:at]
    return filename


def read_header(path: str, cap: int = HEADER_CAP) -> bytes:
    """The header block of the message file at ``path`` (at most ``cap`` bytes)."""
    with open(path, "rb") as f:
        data = f.read(FIRST_READ)
        end = header_end(data, 0, len(data))
        while end < 0 and len(data) < cap:
            more = f.read(min(4 * len(data), cap - len(data)))
            if not more:
                break
            searched = max(len(data) - 2, 0)
            data += more
            end = header_end(data, searched, len(data))
    return data[:end] if end >= 0 else data[:cap]


def is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


@dataclass(frozen=True)
class MaildirCursor(Cursor):
    """Per folder ("" for the top one), the unique part of every message file read."""

    KIND = "maildir"
    VERSION = 1

    folders: dict[str, tuple[str, ...]]


class MaildirSource:
    """One Maildir tree. ``name`` is "maildir:" + its absolute path."""

    def __init__(self, path: Path, exclude: Iterable[Path] = (),
                 batch_files: int = BATCH_FILES) -> None:
        self.path = Path(os.path.abspath(path))
        self.exclude = tuple(Path(os.path.realpath(p)) for p in exclude)
        self.batch_files = batch_files

    @property
    def name(self) -> str:
        return f"maildir:{self.path}"

    def __repr__(self) -> str:
        return f"MaildirSource({str(self.path)!r})"

    def _excluded(self, folder: Path) -> bool:
        real = Path(os.path.realpath(folder))
        return any(real == ex or ex in real.parents for ex in self.exclude)

    def folders(self) -> list[tuple[str, Path]]:
        """(key, path) of every mail folder: the root if it is one, Maildir++
        ``.Sub.Folder`` directories, and nested directories with cur/ or new/.
        The key is the folder's path relative to the root ("" for the root)."""
        if not self.path.is_dir():
            raise VillagedError(
                f"the Maildir {self.path} is missing",
                fix="restore it, or remove it from backend.mail in your village config")
        found: list[tuple[str, Path]] = []

        def walk(folder: Path, depth: int) -> None:
            if self._excluded(folder):
                log.debug("%s: skipping excluded folder %s", self.name, folder)
                return
            maildir = is_maildir(folder)
            if maildir:
                key = "" if folder == self.path else folder.relative_to(self.path).as_posix()
                found.append((key, folder))
            if depth >= MAX_DEPTH:
                return
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                log.warning("%s: cannot list %s: %s", self.name, folder, exc.strerror)
                return
            for entry in entries:
                if maildir and entry.name in SUBDIRS:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    walk(Path(entry.path), depth + 1)

        walk(self.path, 0)
        return found

    cursor_type = MaildirCursor

    def sync(self, cursor: MaildirCursor | None, ctx: SyncContext) -> Iterator[SyncBatch]:
        folders = self.folders()
        previous = cursor.folders if cursor is not None else None
        replace = previous is None
        state: dict[str, tuple[str, ...]] = dict(previous or {})
        batch = SyncBatch(replace=replace)
        read = 0
        listings = []
        for key, folder in folders:
            seen = set((previous or {}).get(key, ()))
            current = self._listing(folder)
            listings.append((key, folder, current, [u for u in current if u in seen],
                             sorted(u for u in current if u not in seen)))
        total = sum(len(fresh) for *_, fresh in listings)
        for key, folder, current, kept, fresh in listings:
            done: list[str] = []
            for unique in fresh:
                if read % PROGRESS_EVERY == 0:
                    ctx.progress(read, total)
                block = self._read(folder, unique, current[unique])
                if block is None:  # vanished between listing and reading
                    continue
                interactions, reason = classify_block(
                    block, ctx.matcher, ctx.limits, ctx.now, self.name)
                batch.interactions.extend(interactions)
                if reason:
                    batch.skipped[reason] += 1
                done.append(unique)
                read += 1
                if read % self.batch_files == 0:
                    state[key] = tuple(sorted(kept + done))
                    batch.cursor = MaildirCursor(folders=dict(state))
                    yield batch
                    batch = SyncBatch()
            state[key] = tuple(sorted(kept + done))
        ctx.progress(total, total)
        final = {key: state[key] for key, _ in folders if key in state}
        batch.cursor = MaildirCursor(folders=final)
        if read or replace or final != previous:
            log.info("%s: read %d new messages in %d folders", self.name, read, len(folders))
            yield batch

    def _listing(self, folder: Path) -> dict[str, str]:
        """unique part → path of each message file in new/ and cur/."""
        files: dict[str, str] = {}
        for sub in ("new", "cur"):
            try:
                entries = os.scandir(folder / sub)
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("%s: cannot list %s: %s", self.name, folder / sub, exc.strerror)
                continue
            with entries:
                for entry in entries:
                    if entry.name.startswith(".") or not entry.is_file():
                        continue
                    files.setdefault(unique_part(entry.name), entry.path)
        return files

    def _read(self, folder: Path, unique: str, path: str) -> bytes | None:
        try:
            return read_header(path)
        except FileNotFoundError:
            # A mail client renamed it (flags) or moved it from new/ to cur/.
            moved = self._listing(folder).get(unique)
            if moved and moved != path:
                try:
                    return read_header(moved)
                except OSError:
                    return None
            return None
        except OSError as exc:
            log.warning("%s: cannot read %s: %s", self.name, path, exc.strerror)
            return None
