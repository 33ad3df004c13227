"""The commented example config, generated from the settings types.

``config/village.example.toml`` (the starter ``villaged init`` writes) is this
module's output; a test keeps the two equal. Every key's comment, default,
example and range come from its declaration (``villaged.domain.setting``); the
only text kept here is the file's preamble and Dana's sample village.

Regenerate after changing a setting::

    python -m villaged.config.example > config/village.example.toml
"""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Any

from villaged.backends.registry import PLUGINS
from villaged.domain.village import (
    DEFAULT_CADENCE_DAYS,
    Agreement,
    Owner,
    Person,
    Village,
)
from villaged.schema import declared
from villaged.schema.declared import MISSING, Key, toml_value

WIDTH = 78
RULE = "# " + "-" * (WIDTH - 3)

PREAMBLE = """\
# villaged: the mentorship village of Dana Reyes
#
# This is the reference config: it shows every key. `villaged init` writes it
# as your starter; replace Dana's village with your own.
#
# How to read it:
#   * A line like `# key = value` shows that key's DEFAULT. Leave it commented
#     to keep the default, or remove the "# " and change the value.
#   * Other comments explain; numbers say their allowed range.
#   * Paths may start with ~ (your home). Relative paths are relative to the
#     folder this file is in.
#   * A misspelt key is an error, never silently ignored: villaged names the
#     file, the line and a fix.
#
# This file is generated from villaged's settings types
# (python -m villaged.config.example).
"""

OWNER: dict[str, Any] = {
    "name": "Dana Reyes",
    "addresses": ("dana.reyes@uni.example", "dana.reyes@gmail.com"),
    "timezone": "America/Chicago",
}
BACKEND: dict[str, Any] = {
    "mail": ("~/mail/takeout.mbox", "~/Maildir"),
    "calendars": ("~/cal/export.ics",),
    "drafts": "~/Maildir/.Drafts",
}
# (a comment above the block, the person's keys, their agreement's keys)
PEOPLE: tuple[tuple[str, dict[str, Any], dict[str, Any]], ...] = (
    ("A formal mentorship: an agreement to meet on a rhythm.", {
        "name": "Miriam Okafor",
        "emails": ("miriam.okafor@med.example.edu", "mokafor@gmail.com"),
        "role": "mentor",
        "interests": ("health equity research", "K award strategy", "marathon training"),
        "notes": "Homework from our last meeting: send her the revised Specific Aims page "
                 "before we meet.",
        "gives": ("Send her the preprint on readmissions once it is up",
                  "Invite her to give grand rounds"),
    }, {
        "rhythm": "monthly on the 2nd Tuesday",
        "location": "Zoom (her personal room)",
        "agenda": "Progress on aims; one thing I am stuck on; what she needs from me",
        "hours": (("tue", "thu"), "14:00-17:00"),
    }),
    ("A sponsor: uses their capital on your behalf. Keep them informed.", {
        "name": "Raj Patel",
        "emails": ("raj.patel@med.example.edu",),
        "role": "sponsor",
        "cadence_days": 45,
        "notes": "Chair of Medicine. Tell him when the R01 is submitted.",
        "gives": ("Nominate his fellow for the teaching award",),
    }, {}),
    ("An advocate: speaks up for you in rooms you are not in.", {
        "name": "Lena Fischer",
        "emails": ("lfischer@nursing.example.edu",),
        "role": "advocate",
        "interests": ("quality improvement", "choral singing"),
    }, {}),
    ("A coach: helps with a specific skill.", {
        "name": "Sam Whitaker",
        "emails": ("sam@whitakercoaching.example",),
        "role": "coach",
        "notes": "On sabbatical in Lisbon until September.",
        "paused_until": dt.date(2026, 9, 1),
    }, {}),
    ("An ally: has your back.", {
        "name": "Priya Raman",
        "emails": ("priya.raman@uni.example",),
        "role": "ally",
        "interests": ("medical education", "rock climbing"),
    }, {}),
    ("A role model: someone whose path you learn from, often from a distance.", {
        "name": "Helen Cho",
        "emails": ("hcho@academy.example.org",),
        "role": "role model",
        "notes": "I would rather write to her myself, when I have real news.",
        "do_not_draft": True,
    }, {}),
    ("A peer mentor: a colleague at your stage; you mentor each other.", {
        "name": "Tomás Álvarez",
        "emails": ("tomas.alvarez@uni.example", "talvarez@gmail.com"),
        "role": "peer mentor",
        "interests": ("writing group", "cycling"),
        "gives": ("Read his K award draft",),
    }, {}),
)  # fmt: skip


def example_text() -> str:
    """The whole example config."""
    out: list[str] = [PREAMBLE.rstrip("\n")]
    village_keys = {k.field: k for k in declared.keys_of(Village)}
    flattened: dict[str, list[Key]] = {}
    for key in declared.keys_of(Village):
        if key.setting.table:
            flattened.setdefault(key.setting.table, []).append(key)
            continue
        if key.field == "owner":
            out += _section(key, "[owner]", _table(Owner, OWNER))
        elif key.field == "backend":
            out += _section(key, "[backend]", _backend())
        elif key.field == "cadences":
            lines = [f"# {role.value} = {days}" for role, days in DEFAULT_CADENCE_DAYS.items()]
            out += ["", "", RULE, *_doc(_with_range(key.setting.doc, key)), "[cadence]", *lines]
        elif key.table_type is not None and key.field != "people":
            out += _section(key, f"[{key.name}]", _table(key.table_type, {}))
    for table, keys in flattened.items():
        out += ["", "", RULE, f"[{table}]"]
        for key in keys:
            out += _key_lines(key, {})
    out += _people(village_keys["people"])
    return "\n".join(out) + "\n"


def _section(key: Key, header: str, body: list[str]) -> list[str]:
    return ["", "", RULE, *_doc(key.setting.doc), header, *body]


def _backend() -> list[str]:
    kinds = "; ".join(p.example for p in PLUGINS if p.example)
    chosen, *others = PLUGINS
    lines = [*_doc(f"kind: {kinds}."), f"kind = {toml_value(chosen.kind)}"]
    for table, cls in chosen.tables.items():
        if not table:
            lines += _table(cls, BACKEND)
    for plugin in others:
        for table, cls in plugin.tables.items():
            if not table:  # keys right under [backend] of a backend not chosen: commented
                lines += ["", *_doc(cls.__doc__ or "")]
                lines += [_comment(line) for line in _table(cls, {})]
                continue
            lines += ["", *_doc(_dedent(cls.__doc__)), "#", f"# [backend.{table}]"]
            for line in _table(cls, {}, example_values=True):
                lines.append(line if line.startswith("#") else f"# {line}")
    return lines


def _table(cls: type, values: dict[str, Any], *, example_values: bool = False) -> list[str]:
    lines: list[str] = []
    for key in declared.keys_of(cls):
        if key.setting.inline:
            lines += _table(key.hint, values, example_values=example_values)
        elif key.setting.in_example and key.table_type is None:
            lines += _key_lines(key, values, example_values=example_values)
    return lines


def _key_lines(key: Key, values: dict[str, Any], *, example_values: bool = False) -> list[str]:
    """A key's comment, then ``key = sample`` or ``# key = default``."""
    lines = _doc(_with_range(key.setting.doc, key))
    if key.field in values or key.name in values:
        value: Any = values.get(key.field, values.get(key.name))
        if len(key.names) == 2:  # working days + hours
            return lines + [f"{key.names[0]} = {toml_value(value[0])}",
                            f"{key.names[1]} = {toml_value(value[1])}"]
        return lines + [f"{key.name} = {toml_value(value, key.kind)}"]
    if len(key.names) == 2:
        return lines + [f"# {key.example(0)}", f"# {key.example(1)}"]
    has_default = key.default is not MISSING and key.default is not None
    if example_values and key.setting.example:
        return lines + [key.example()]  # a table shown whole, with its examples
    if has_default and not key.setting.example:
        return lines + [f"# {key.name} = {toml_value(key.default, key.kind)}"]
    return lines + [f"# {key.example()}"]


def _people(key: Key) -> list[str]:
    lines = ["", "", RULE, "# The village: one [[person]] block per person (double brackets).", "#"]
    for k in declared.keys_of(Person):
        name = "[person.agreement]" if k.field == "agreement" else k.name
        text = _with_range(k.setting.doc, k)
        pad = max(len(name) + 2, 14)
        wrapped = [part.replace("\x00", " ") for part in textwrap.wrap(text, WIDTH - 4 - pad)]
        for i, part in enumerate(wrapped):
            lines.append(f"#   {(name if i == 0 else ''):<{pad}}{part}".rstrip())
    for comment, person, agreement in PEOPLE:
        lines += ["", f"# {comment}", "[[person]]"]
        for k in declared.keys_of(Person):
            if k.field in person:
                lines.append(f"{k.name} = {toml_value(person[k.field], k.kind)}")
        if agreement:
            lines += ["", "[person.agreement]", *_table(Agreement, agreement)]
    return lines


def _with_range(doc: str, key: Key) -> str:
    """``doc`` with the key's range, if it has one: "How long (5 to 480)."."""
    s = key.setting
    if s.low is None or s.high is None:
        return doc
    note = f"({s.low:g}\x00to\x00{s.high:g})"  # kept on one line by _doc
    if doc.endswith("."):
        return f"{doc[:-1]} {note}."
    return f"{doc} {note}" if doc else note


def _doc(text: str, indent: str = "# ") -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n\n"):
        if paragraph.strip():
            lines += textwrap.wrap(" ".join(paragraph.split()), WIDTH,
                                   initial_indent=indent, subsequent_indent=indent)
    return [line.replace("\x00", " ") for line in lines]


def _dedent(doc: str | None) -> str:
    """A settings type's docstring, without its first line (which names the type)."""
    _, _, rest = (doc or "").partition("\n")
    return textwrap.dedent(rest).strip()


def _comment(line: str) -> str:
    return line if line.startswith("#") else f"# {line}"


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.stdout.write(example_text())
