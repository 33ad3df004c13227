"""The backend registry: the one place that lists villaged's backends.

Adding a backend means adding its package (with a ``plugin.py`` exposing ``PLUGIN``)
and its entry here.
"""

from __future__ import annotations

from pathlib import Path

from villaged.backends.google.plugin import PLUGIN as GOOGLE
from villaged.backends.imap.plugin import PLUGIN as IMAP
from villaged.backends.local.plugin import PLUGIN as LOCAL
from villaged.backends.microsoft.plugin import PLUGIN as MICROSOFT
from villaged.domain.village import Village
from villaged.ports.backend import BackendIO
from villaged.ports.plugin import BackendPlugin

PLUGINS: tuple[BackendPlugin, ...] = (LOCAL, GOOGLE, IMAP, MICROSOFT)


def plugin_for(kind: str) -> BackendPlugin:
    for plugin in PLUGINS:
        if plugin.kind == kind:
            return plugin
    raise LookupError(f"no backend of kind {kind!r}")  # config validation makes this a bug


def open_backend(village: Village, state_dir: Path, *, read_only: bool = False) -> BackendIO:
    """The BackendIO for the village's configured backend (nothing is contacted yet).
    ``read_only`` for dry runs and previews: nothing is written, not even a refreshed token."""
    return plugin_for(village.backend.kind).open(village, village.backend, state_dir, read_only)
