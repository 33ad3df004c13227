"""Doctor checks of the local backend. They only look: nothing is created or written."""

from __future__ import annotations

import os
from pathlib import Path

from villaged.backends.local.maildir_write import OWN_MARK
from villaged.ports.doctor import BackendCheckup, Finding, Level


def checks(c: BackendCheckup) -> list[Finding]:
    """The mail and calendar paths are readable; the drafts and digest folders writable."""
    backend, config = c.settings, c.config_path
    found = []
    for key, paths in (("mail", backend.mail), ("calendars", backend.calendars)):
        for path in paths:
            path = Path(path).expanduser()
            where = f"backend.{key}: {path}"
            if not path.exists():
                fix = f"correct or remove that entry of [backend] {key} in {config}"
                found.append(Finding("local backend", Level.PROBLEM, f"{where} does not exist", fix))
            elif not os.access(path, os.R_OK):
                found.append(Finding("local backend", Level.PROBLEM, f"{where} is not readable",
                                     f"give your account read access to {path}"))
            else:
                found.append(Finding("local backend", Level.OK, where))
    found.append(_writable_folder("drafts folder", Path(backend.drafts).expanduser(),
                                  f"[backend] drafts in {config}"))
    digest = c.village.digest.maildir
    if digest is not None:
        found.append(_writable_folder("digest folder", Path(digest).expanduser(),
                                      f"[digest] maildir in {config}"))
    return found


def _writable_folder(what: str, folder: Path, key: str) -> Finding:
    """A Maildir folder villaged writes into (created when missing)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return Finding("local backend", Level.PROBLEM, f"{what} {folder}: {probe} is not a directory",
                       f"point {key} at a folder, or move {probe} out of the way")
    targets = [folder / sub for sub in ("tmp", "cur", "new") if (folder / sub).is_dir()] or [probe]
    blocked = [t for t in [probe, *targets] if not os.access(t, os.W_OK | os.X_OK)]
    if blocked:
        hint = ("; under systemd also list it in ReadWritePaths= of the unit"
                if os.environ.get("INVOCATION_ID") else "")
        return Finding("local backend", Level.PROBLEM, f"{what} {folder} is not writable ({blocked[0]})",
                       f"give your account write access to {blocked[0]}{hint}")
    try:
        st = os.statvfs(probe)
    except OSError:
        st = None
    if st is not None and st.f_bavail * st.f_frsize < 1024 * 1024:
        return Finding("local backend", Level.PROBLEM, f"the disk holding the {what} {folder} is full",
                       f"free some space (`df -h {probe}`); villaged writes the missing drafts "
                       "at the next round, and nothing twice")
    stale = [n for n in _names(folder / "tmp") if OWN_MARK in n]
    if folder.exists() and not all((folder / sub).is_dir() for sub in ("tmp", "cur", "new")):
        state = " (its cur/, new/ and tmp/ are created at the first draft)"
    elif stale:
        state = f" ({len(stale)} half-written file(s) of villaged in tmp/, removed at the next write)"
    else:
        state = "" if folder.exists() else " (created at the first draft)"
    return Finding("local backend", Level.OK, f"{what} {folder} is writable{state}")


def _names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []
