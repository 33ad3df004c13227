"""The [backend] table: ``kind`` picks a registered backend, which reads its own keys."""

from __future__ import annotations

from villaged.backends.registry import PLUGINS
from villaged.domain.village import BackendSettings
from villaged.schema.typed_table import TypedTable

KINDS = tuple(p.kind for p in PLUGINS)
ALLOWED = ("kind",) + tuple(dict.fromkeys(key for p in PLUGINS for key in p.backend_keys()))


def sections() -> dict[str, tuple[str, ...]]:
    """[backend] and every backend's sub-tables, with the keys each allows."""
    found = {"[backend]": ALLOWED}
    for plugin in PLUGINS:
        for header, keys in plugin.backend_sections().items():
            found[header] = tuple(dict.fromkeys(found.get(header, ()) + keys))
    return found


def read_backend(t: TypedTable) -> BackendSettings:
    t.check_keys(ALLOWED)
    kind = t.choice("kind", KINDS, "local", example='kind = "local"')
    chosen: BackendSettings | None = None
    for plugin in PLUGINS:  # every backend's keys are checked, so switching kind is one line
        settings = plugin.read(t, plugin.kind == kind)
        if plugin.kind == kind:
            chosen = settings
    assert chosen is not None, f"the {kind} backend read no settings"
    return chosen
