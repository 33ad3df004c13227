"""Safe header values: nothing from mail data may inject a header.

Values are collapsed to one line (CR, LF and other control characters become
spaces) before they reach EmailMessage, and names are set through
headerregistry.Address so non-ASCII display names are RFC 2047 encoded.
"""

from __future__ import annotations

import hashlib
import re
from email.headerregistry import Address

CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
MSGID = re.compile(r"^<[^<>\s]+>$")


def one_line(value: str, limit: int = 400) -> str:
    """Collapse a value to a single clean line (control characters removed)."""
    return " ".join(CONTROL.sub(" ", value).split())[:limit]


def address(name: str, email: str) -> Address:
    username, _, domain = email.strip().rpartition("@")
    return Address(display_name=one_line(name), username=one_line(username),
                   domain=one_line(domain))


def message_id_for(key: str, owner_email: str) -> str:
    """A Message-ID derived from the natural key, so a retry writes the same message."""
    domain = owner_email.rpartition("@")[2] or "villaged.invalid"
    return f"<villaged.{hashlib.sha256(key.encode()).hexdigest()[:24]}@{one_line(domain)}>"


def safe_msgid(value: str | None) -> str | None:
    """A Message-ID from mail data, or None when it is not a clean ``<id>``."""
    if value and MSGID.match(value.strip()):
        return value.strip()
    return None


def reply_subject(subject: str) -> str:
    subject = one_line(subject)
    while subject.lower().startswith(("re:", "aw:", "sv:")):
        subject = subject[3:].lstrip()
    return f"Re: {subject}" if subject else "Re: our last conversation"
