"""Where villaged keeps its state (XDG state directory, overridable)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def state_dir(override: Path | None = None) -> Path:
    """--state-dir, else $VILLAGED_STATE_DIR, else the XDG state dir (~/.local/state/villaged)."""
    if override is not None:
        return override.expanduser()
    env = os.environ.get("VILLAGED_STATE_DIR")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_state_dir("villaged"))


def ensure_private_dir(path: Path) -> Path:
    """Create the directory readable by the owner only (a clear error if it cannot be)."""
    from villaged.store import ensure_state_dir

    return ensure_state_dir(path)
