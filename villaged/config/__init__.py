"""The village config: TOML in, a validated ``Village`` out.

``load_village`` reads the file with the stdlib ``tomllib`` and checks every
key. Any mistake raises one ``ConfigError`` naming the file, the line, the key
and a fix, e.g.::

    village.toml, line 17: person[2] "Ada Lovelace" → role: "mentr" is not a role
      fix: did you mean "mentor"? role must be one of: mentor, sponsor, advocate,
      coach, ally, role model, peer mentor

(the fix is one line; it is wrapped here).

Unknown keys are errors (with a "did you mean"), never silently ignored.
tomllib keeps no positions, so ``villaged.schema.positions`` scans the raw
text for where each key sits.

**The schema is the settings types.** A key is a field declared with
``villaged.domain.setting.setting(default, doc=..., example=..., low=..., high=...)``
on ``Village``, ``Owner``, ``Person``, ``Agreement``, ``Thresholds``,
``Roulette``, ``DigestSettings`` or a backend's settings type. Adding a key
means adding one such field: ``villaged.schema.declared`` reads and checks it,
the allowed keys and the homes of misplaced keys follow, and
``python -m villaged.config.example > config/village.example.toml``
regenerates the example (a test keeps them equal). A key that lives in a table
of its own without a type of its own (``[invitations]``, ``[daemon]``) is a
``Village`` field with ``table="invitations"``. Checks across keys (the
thresholds' order, a meeting that must fit its hours) stay in code here.

One responsibility a module:

- ``files``: where the config lives, the starter text, reading and parsing it
- ``village_table``: the whole config, table by table, into a ``Village``
- ``people``, ``settings``, ``backend``: what a declaration cannot say (a
  person's key, agreements, per-role cadences, the thresholds' order, the
  backend ``kind`` dispatching to the registry)
- ``homes``: where each key lives, to say "move it to [owner]"
- ``example``: the commented example config, generated
"""

from __future__ import annotations

from villaged.config.files import (
    CONFIG_ENV,
    default_config_path,
    load_village,
    parse_village,
    starter_text,
)
from villaged.config.people import person_key

__all__ = [
    "CONFIG_ENV",
    "default_config_path",
    "load_village",
    "parse_village",
    "person_key",
    "starter_text",
]
