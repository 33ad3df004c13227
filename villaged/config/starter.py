"""The config `villaged init` writes for a new owner: their own mail, an empty village."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from villaged.config.files import parse_village


@dataclass(frozen=True)
class Answers:
    """What `villaged init` asks (or takes from --name, --address, ... flags)."""

    name: str
    addresses: tuple[str, ...]
    timezone: str
    mail: tuple[Path, ...]
    calendars: tuple[Path, ...]
    drafts: Path


HEADER = """\
# Your village. villaged reads your mail and calendar to see when you were last
# in touch with each person, and drafts (never sends) check-ins for you to review.
#
# Add people with `villaged suggest` then `villaged add`, or `villaged import
# contacts.vcf`. Every other setting (cadences, roulette, digest, Google) is
# documented in the example: `villaged init --example --config example.toml`.
"""


def starter_config(answers: Answers, path: Path) -> str:
    """The config text for ``answers``, validated by the ordinary loader."""
    doc = tomlkit.document()
    owner = tomlkit.table()
    owner.add("name", answers.name)
    owner.add("addresses", list(answers.addresses))
    owner.add("timezone", answers.timezone)
    doc.add("owner", owner)
    backend = tomlkit.table()
    backend.add("kind", "local")
    backend.add("mail", _paths(answers.mail))
    if answers.calendars:
        backend.add("calendars", _paths(answers.calendars))
    backend.add("drafts", str(answers.drafts))
    backend["drafts"].comment("drafts appear here for you to review; nothing is sent")
    doc.add("backend", backend)
    text = HEADER + "\n" + tomlkit.dumps(doc)
    parse_village(text, path)  # the same checks as every load
    return text


def _paths(paths: Sequence[Path]) -> list[str]:
    return [str(p) for p in paths]
