"""The village config: TOML in, a validated ``Village`` out.

``load_village`` reads the file with the stdlib ``tomllib`` and checks every
key. Any mistake raises one ``ConfigError`` naming the file, the line, the key
and a fix, e.g.::

    village.toml, line 17: person[2] "Ada Lovelace" → role: "mentr" is not a role
      fix: did you mean "mentor"? role must be one of: mentor, sponsor, advocate,
      coach, ally, role model, peer mentor

(the fix is one line; it is wrapped here).

Unknown keys are errors (with a "did you mean"), never silently ignored.
tomllib keeps no positions, so ``positions.Positions`` scans the raw text for
where each key sits. ``config/village.example.toml`` documents every key.

One responsibility a module:

- ``files``: where the config lives, the starter text, reading and parsing it
- ``village_table``: the whole config, table by table, into a ``Village``
- ``owner``, ``backend``, ``settings``, ``people``: one part of the config each
- ``allowed_keys``: the keys each table allows, and where each key lives
- ``typed_table``: one table with a reader per kind of field, built from
  ``table`` (key checks, failing at a key), ``scalar_fields``,
  ``list_fields``, ``time_fields`` and ``path_fields``
- ``source``, ``positions``: the file's text and the line of every key
- ``syntax_errors``: TOML syntax errors, reworded with a fix
- ``suggestions``, ``wording``: "did you mean", and values shown in messages
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
