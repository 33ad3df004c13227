"""A Gmail message resource (format=metadata) → interactions, by the shared rules (pure).

The few headers villaged asks Gmail for are rendered back into a header
block and parsed by ``mailparse.facts_or_skip``, so Gmail mail is judged by
exactly the rules mbox and Maildir mail is. Then Gmail's own facts take
over: the time is ``internalDate`` (when Gmail received or sent it, immune
to a wrong Date header), the thread is ``threadId`` (what drafts.create
needs to reply inside it), the uid is the Gmail message id, and labels say
what is a chat or a draft.

Broken data never raises: the message is skipped with a short reason that
ends up in ``SyncBatch.skipped``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from villaged.core.contact import classify_email, date_problem
from villaged.core.mailparse import facts_or_skip
from villaged.domain.addresses import Matcher
from villaged.domain.village import Interaction, Thresholds

METADATA_HEADERS: tuple[str, ...] = (
    "From", "Sender", "To", "Cc", "Bcc", "Date", "Subject", "Message-ID", "References",
    "In-Reply-To", "List-Id", "List-Unsubscribe", "List-Post", "Precedence",
)
MESSAGE_FIELDS = "id,threadId,labelIds,internalDate,payload/headers"
MAX_BLOCK = 256 * 1024  # the most header text one message may carry
_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 field name characters
_CONTROL = re.compile(r"[\r\n\x00]+")
SKIP_LABELS = frozenset({"CHAT"})

OVERSIZED = "oversized headers"
BAD_DATE_HEADER = "unparseable Date header"
BAD_INTERNAL_DATE = "missing or unparseable internalDate"
NOT_A_MESSAGE = "malformed message resource"


def header_block(headers: Any) -> bytes | None:
    """``payload.headers`` as an RFC 5322 header block, or None if it is too big or not a list."""
    if not isinstance(headers, list):
        return None
    lines = []
    size = 0
    for h in headers:
        if not isinstance(h, dict):
            continue
        name, value = h.get("name"), h.get("value")
        if not isinstance(name, str) or not isinstance(value, str) or not _NAME.fullmatch(name):
            continue
        line = f"{name}: {_CONTROL.sub(' ', value)}\n"
        size += len(line)
        if size > MAX_BLOCK:
            return None
        lines.append(line)
    return "".join(lines).encode("utf-8", "surrogatepass")


def internal_date(message: dict[str, Any]) -> dt.datetime | None:
    raw = message.get("internalDate")
    try:
        ms = int(str(raw))
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def classify_message(message: Any, matcher: Matcher, limits: Thresholds, now: dt.datetime,
                     source: str) -> tuple[list[Interaction], str | None]:
    """(interactions, None) or ([], why it was skipped). Never raises."""
    if not isinstance(message, dict) or not isinstance(message.get("id"), str):
        return [], NOT_A_MESSAGE
    labels = message.get("labelIds") or []
    if not isinstance(labels, list):
        labels = []
    if "DRAFT" in labels:
        return [], "draft, not sent"
    if SKIP_LABELS.intersection(labels):
        return [], "chat transcript"
    payload = message.get("payload")
    block = header_block(payload.get("headers") if isinstance(payload, dict) else None)
    if block is None:
        return [], OVERSIZED if isinstance(payload, dict) else NOT_A_MESSAGE
    facts, reason = facts_or_skip(block)
    if facts is None:
        return [], reason
    if facts.date is None and re.search(rb"(?im)^date:[ \t]*\S", block):
        return [], BAD_DATE_HEADER
    at = internal_date(message)
    if at is None:
        return [], BAD_INTERNAL_DATE
    problem = date_problem(at, now)
    if problem:
        return [], problem
    thread = message.get("threadId")
    facts = dataclasses.replace(facts, uid=message["id"], date=at,
                                thread=thread if isinstance(thread, str) and thread else facts.thread)
    return classify_email(facts, matcher, limits, source), None
