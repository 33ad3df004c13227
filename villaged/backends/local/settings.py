"""Settings of ``[backend] kind = "local"``: mbox/Maildir mail, .ics calendars, a Maildir drafts folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from villaged.schema.typed_table import TypedTable


@dataclass(frozen=True)
class LocalBackend:
    mail: tuple[Path, ...]
    calendars: tuple[Path, ...]
    drafts: Path

    kind: str = "local"


KEYS = ("mail", "calendars", "drafts")


def read_local(t: TypedTable, required: bool) -> LocalBackend | None:
    """mail, calendars and drafts directly under [backend]."""
    mail = t.paths("mail", example='mail = ["~/Maildir"]')
    calendars = t.paths("calendars", example='calendars = ["~/cal/export.ics"]')
    drafts = t.path("drafts", required=required, example='drafts = "~/Maildir/.Drafts"')
    if not required:
        return None
    if not mail and not calendars:
        t.fail(
            "mail",
            "the local backend has no mail and no calendars to read",
            fix='list at least one, e.g. mail = ["~/Maildir"] or calendars = ["~/cal/export.ics"]',
        )
    assert drafts is not None
    return LocalBackend(mail=mail, calendars=calendars, drafts=drafts)
