"""Settings of ``[backend] kind = "local"``: mbox/Maildir mail, .ics calendars, a Maildir drafts folder.

The keys sit right under ``[backend]``; each is declared once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from villaged.domain.setting import setting
from villaged.schema import declared
from villaged.schema.typed_table import TypedTable


@dataclass(frozen=True, kw_only=True)
class LocalBackend:
    mail: tuple[Path, ...] = setting(
        (), example='["~/Maildir"]',
        doc="Mail to read: mbox files (e.g. a Google Takeout export) and/or Maildir folders.")
    calendars: tuple[Path, ...] = setting(
        (), example='["~/cal/export.ics"]', doc="Calendars to read: .ics files.")
    drafts: Path = setting(
        required=True, example='"~/Maildir/.Drafts"',
        doc="The Maildir folder where check-in drafts are written (your mail client's Drafts).")

    kind: str = "local"


def read_local(t: TypedTable, required: bool) -> LocalBackend | None:
    """mail, calendars and drafts directly under [backend]."""
    values = declared.read_values(LocalBackend, t, required=required)
    if not required:
        return None
    if not values["mail"] and not values["calendars"]:
        t.fail(
            "mail",
            "the local backend has no mail and no calendars to read",
            fix='list at least one, e.g. mail = ["~/Maildir"] or calendars = ["~/cal/export.ics"]',
        )
    return LocalBackend(**values)
