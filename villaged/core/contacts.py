"""Contacts exported from an address book (vCard 3/4, or CSV with a header row), as plain values.

Google Contacts, Apple Contacts and Outlook export both formats; each contact keeps
all its addresses, and contacts without an address are left out (villaged needs one).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import vobject

from villaged.domain.errors import VillagedError

_EMAIL = re.compile(r"[^@\s<>,;:]+@[^@\s<>,;:]+\.[^@\s<>,;:]+")


@dataclass(frozen=True)
class Contact:
    name: str
    emails: tuple[str, ...]
    note: str = ""


def read_vcards(text: str, where: str) -> list[Contact]:
    """Every contact with an address in a .vcf file's text (several cards allowed)."""
    found: list[Contact] = []
    try:
        for card in vobject.readComponents(text):
            if card.name != "VCARD":
                continue
            emails = tuple(dict.fromkeys(
                str(e.value).strip() for e in card.contents.get("email", [])
                if _EMAIL.fullmatch(str(e.value).strip())))
            if not emails:
                continue
            found.append(Contact(name=_card_name(card) or emails[0], emails=emails,
                                 note=_first(card, "note")))
    except (vobject.base.ParseError, ValueError, TypeError, AttributeError) as exc:
        raise VillagedError(f"{where} is not a readable vCard file: {exc}",
                            fix="export the contacts again as vCard (.vcf) 3.0 or 4.0") from None
    if not found and "BEGIN:VCARD" not in text.upper():
        raise VillagedError(f"{where} holds no vCard (no BEGIN:VCARD line)",
                            fix="export the contacts as vCard (.vcf), or as CSV with a header row")
    return found


def _card_name(card: vobject.base.Component) -> str:
    fn = _first(card, "fn")
    if fn:
        return fn
    n = card.contents.get("n")
    if n:
        value = n[0].value
        return " ".join(p for p in (getattr(value, "given", ""), getattr(value, "family", "")) if p)
    return ""


def _first(card: vobject.base.Component, name: str) -> str:
    items = card.contents.get(name) or []
    return " ".join(str(items[0].value).split()) if items else ""


_NAME_COLUMNS = ("name", "full name", "display name", "fn")
_GIVEN = ("first name", "given name")
_FAMILY = ("last name", "family name", "surname")


def read_csv(text: str, where: str) -> list[Contact]:
    """Contacts from a CSV export: any column whose header mentions mail holds addresses."""
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise VillagedError(f"{where} is not readable CSV: {exc}",
                            fix="export the contacts again as CSV with a header row") from None
    if not rows or not any("mail" in (h or "").lower() for h in rows[0]):
        raise VillagedError(f"{where} has no e-mail column in its header row",
                            fix="export with a header row that names the e-mail column(s)")
    found = []
    for row in rows:
        cells = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()
                 if isinstance(v, str)}
        emails = tuple(dict.fromkeys(
            m for key, value in cells.items() if "mail" in key for m in _EMAIL.findall(value)))
        if not emails:
            continue
        name = next((cells[k] for k in _NAME_COLUMNS if cells.get(k)), "")
        if not name:
            parts = [next((cells[k] for k in keys if cells.get(k)), "") for keys in (_GIVEN, _FAMILY)]
            name = " ".join(p for p in parts if p)
        found.append(Contact(name=name or emails[0], emails=emails, note=cells.get("notes", "")))
    return found


def read_contacts(text: str, where: str) -> list[Contact]:
    """vCard or CSV, by content."""
    if text.lstrip("\ufeff \r\n").upper().startswith("BEGIN:VCARD"):
        return read_vcards(text, where)
    return read_csv(text, where)
