"""Stored Gmail messages and the light, parse-once header reader behind the indexes."""

from __future__ import annotations

import email.header
import functools
import re
from dataclasses import dataclass, field

ADDRESS_FIELDS = ("from", "to", "cc", "bcc")
_UNFOLD = re.compile(r"\r?\n[ \t]+")
_ADDR = re.compile(r"[^\s<>,;:\"()\[\]]+@[^\s<>,;:\"()\[\]]*[^\s<>,;:\"()\[\].]")
_WORD = re.compile(r"[a-z0-9]+")
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


@dataclass(slots=True)
class StoredMessage:
    """One message in the mailbox, with what search needs parsed once at add time."""

    idx: int
    id: str
    thread_id: str
    raw: bytes
    internal_date: int  # epoch milliseconds
    labels: set[str]
    headers: list[tuple[str, str]]
    history_id: int
    addresses: dict[str, frozenset[str]] = field(default_factory=dict)
    words: dict[str, str] = field(default_factory=dict)  # " tok tok | tok " per address field
    message_id: str = ""
    snippet_cache: str | None = None

    def header(self, name: str) -> str | None:
        """First value of header `name` (case-insensitive)."""
        lower = name.lower()
        return next((v for n, v in self.headers if n.lower() == lower), None)


def header_block(raw: bytes) -> bytes:
    """The bytes before the first blank line."""
    cut = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return raw[: min(cut)] if cut else raw


def parse_headers(raw: bytes) -> list[tuple[str, str]]:
    """(name, value) pairs of the top-level header, unfolded, RFC 2047 words decoded."""
    text = _UNFOLD.sub(" ", header_block(raw).decode("utf-8", "replace"))
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if not sep or not name or " " in name:
            continue
        value = value.strip()
        if "=?" in value:
            value = decode_words(value)
        out.append((name, value))
    return out


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded-words, leaving the text alone when malformed."""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError, UnicodeDecodeError):
        return value


@functools.lru_cache(maxsize=1 << 16)
def addresses_of(value: str) -> frozenset[str]:
    """Lower-cased addr-specs found in a header value (memoised: seeds repeat headers)."""
    return frozenset(_ADDR.findall(value.lower()))


@functools.lru_cache(maxsize=1 << 16)
def words_of(value: str) -> str:
    """A header value as ` tok tok | tok ` (one group per comma-separated mailbox)."""
    groups = [" ".join(_WORD.findall(part.lower())) for part in value.split(",")]
    return " " + " | ".join(g for g in groups if g) + " "


def term_words(term: str) -> str:
    """A query term as ` tok tok ` for contiguous-word matching."""
    return " " + " ".join(_WORD.findall(term.lower())) + " "


def normalize_message_id(value: str) -> str:
    """`<abc@x>` and `abc@x` compare equal."""
    return value.strip().strip("<>").strip()


def normalize_subject(value: str | None) -> str:
    """Subject without Re:/Fwd: prefixes, for Gmail's thread-joining rule."""
    return _SUBJECT_PREFIX.sub("", value or "").strip().lower()


def references_of(headers: list[tuple[str, str]]) -> list[str]:
    """Message-IDs named by In-Reply-To and References."""
    found: list[str] = []
    for name, value in headers:
        if name[0] in "IiRr" and name.lower() in ("in-reply-to", "references"):
            found.extend(normalize_message_id(m) for m in re.findall(r"<[^>]+>", value))
    return found


def recipients_of(headers: list[tuple[str, str]]) -> tuple[str, ...]:
    """Envelope recipients Gmail derives from To, Cc and Bcc."""
    seen: list[str] = []
    for name, value in headers:
        if name.lower() in ("to", "cc", "bcc"):
            for addr in _ADDR.findall(value.lower()):
                if addr not in seen:
                    seen.append(addr)
    return tuple(seen)
