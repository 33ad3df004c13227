"""A Graph message (as $select-ed by villaged) → MailFacts → interactions, by the shared contact rules.

Only these properties are asked for: from, sender, to/cc/bcc recipients,
receivedDateTime, sentDateTime, internetMessageId, conversationId, subject,
isDraft, and internetMessageHeaders (for List-Id, List-Unsubscribe,
List-Post and Precedence, the mass-mail signs). Bodies are never read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from villaged.core.contact import MailFacts, classify_email, date_problem
from villaged.core.mailparse import BULK_PRECEDENCE, decode_words
from villaged.domain.village import Interaction
from villaged.ports.source import SyncContext

SELECT = (
    "from,sender,toRecipients,ccRecipients,bccRecipients,receivedDateTime,sentDateTime,"
    "internetMessageId,conversationId,subject,isDraft,internetMessageHeaders"
)
LIST_HEADERS = frozenset({"list-id", "list-unsubscribe", "list-post"})
NOT_A_MESSAGE = "unreadable message"


def _address(recipient: Any) -> str | None:
    if not isinstance(recipient, dict):
        return None
    address = (recipient.get("emailAddress") or {}).get("address")
    return address.strip() if isinstance(address, str) and "@" in address else None


def _addresses(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(a for a in (_address(r) for r in value) if a)


def _when(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)


def message_facts(message: dict[str, Any]) -> MailFacts:
    headers: dict[str, str] = {}
    for header in message.get("internetMessageHeaders") or ():
        if isinstance(header, dict) and isinstance(header.get("name"), str):
            headers.setdefault(header["name"].lower(), str(header.get("value") or ""))
    sender = _address(message.get("from")) or _address(message.get("sender"))
    message_id = message.get("internetMessageId")
    message_id = message_id.strip() if isinstance(message_id, str) and message_id.strip() else None
    conversation = message.get("conversationId")
    subject = message.get("subject")
    precedence = headers.get("precedence", "").strip().lower()
    return MailFacts(
        uid=message_id or f"graph:{message.get('id')}",
        date=_when(message.get("sentDateTime")) or _when(message.get("receivedDateTime")),
        senders=(sender,) if sender else (),
        to=_addresses(message.get("toRecipients")),
        cc=_addresses(message.get("ccRecipients")),
        bcc=_addresses(message.get("bccRecipients")),
        subject=decode_words(subject) if isinstance(subject, str) else "",
        message_id=message_id,
        thread=conversation if isinstance(conversation, str) else None,
        bulk=bool(LIST_HEADERS & headers.keys()) or precedence in BULK_PRECEDENCE,
    )


def classify_message(message: Any, ctx: SyncContext, source: str) -> tuple[list[Interaction], str | None]:
    """The interactions a message is evidence of, or why it is skipped."""
    if not isinstance(message, dict) or "@removed" in message:
        return [], None
    if message.get("isDraft") is True:
        return [], None  # a draft is not contact (and villaged's own drafts least of all)
    facts = message_facts(message)
    if not facts.senders:
        return [], "no sender address"
    problem = date_problem(facts.date, ctx.now)
    if problem:
        return [], problem
    assert facts.date is not None
    if facts.date < ctx.now - dt.timedelta(days=ctx.limits.lookback_days):
        return [], None
    return classify_email(facts, ctx.matcher, ctx.limits, source), None
