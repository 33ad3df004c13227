"""The digest gate: the owner's own address, and nobody else.

The digest is the one message villaged ever delivers rather than drafts.
``owner_only`` is the gate every backend passes it through before it leaves
(run_digest calls it too, whatever the backend): it refuses any message
whose recipients are not exactly the owner's primary address.
"""

from __future__ import annotations

from email.message import Message
from email.utils import getaddresses

from villaged.domain.village import Owner

RECIPIENT_HEADERS = ("To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc")


class RecipientRefused(RuntimeError):
    """A digest addressed to anyone but the owner: a bug, never delivered."""


def recipients(message: Message) -> list[str]:
    """Every address in every recipient header, as written."""
    values = [str(v) for name in RECIPIENT_HEADERS for v in (message.get_all(name) or [])]
    return [addr for _, addr in getaddresses(values)]


def owner_only(message: Message, owner: Owner) -> None:
    """Raise RecipientRefused unless the only recipient is the owner's primary address."""
    extra = [name for name in RECIPIENT_HEADERS[1:] if message.get_all(name)]
    to = message.get_all("To") or []
    found = recipients(message)
    exact = len(found) == 1 and found[0].strip().lower() == owner.address.strip().lower()
    if extra or len(to) != 1 or not exact:
        raise RecipientRefused(
            f"refusing to deliver the digest: its recipients {found} (headers "
            f"{', '.join(['To', *extra])}) are not exactly the owner's {owner.address}")


