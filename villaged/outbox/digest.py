"""Delivering the weekly digest: to the owner's own address, and nobody else.

The digest is the one message villaged ever delivers rather than drafts.
``owner_only`` is the gate every backend passes it through before it leaves
(run_digest calls it too, whatever the backend): it refuses any message
whose recipients are not exactly the owner's primary address.
"""

from __future__ import annotations

import mailbox
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path

from villaged.compose.checkin import KEY_HEADER
from villaged.village import LocalBackend, Owner, Village

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


def digest_folder(village: Village, backend: LocalBackend) -> Path:
    """The configured digest Maildir, else the INBOX the drafts folder sits in."""
    return village.digest.maildir or backend.drafts.parent


class MaildirDigestBox:
    """Drops the digest into a Maildir folder as a new, unread message (not a draft)."""

    def __init__(self, folder: Path, owner: Owner) -> None:
        self.folder = folder
        self.owner = owner

    @property
    def name(self) -> str:
        return f"maildir:{self.folder}"

    def deliver(self, message: EmailMessage) -> str:
        """Write it to new/ and return its id; a message with the same key is kept, not doubled."""
        owner_only(message, self.owner)
        for sub in ("cur", "new", "tmp"):  # a folder that only holds .Drafts lacks these
            (self.folder / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        box = mailbox.Maildir(self.folder, factory=None, create=False)
        key = str(message.get(KEY_HEADER, "")).strip()
        if key:
            found = self._find(box, key)
            if found:
                return found
        item = mailbox.MaildirMessage(message)
        item.set_subdir("new")
        return str(box.add(item))

    @staticmethod
    def _find(box: mailbox.Maildir, key: str) -> str | None:
        parser = BytesHeaderParser()
        for msg_id in box.keys():
            try:
                with box.get_file(msg_id) as f:
                    found = parser.parse(f).get(KEY_HEADER)  # type: ignore[arg-type]
            except (FileNotFoundError, KeyError):
                continue
            if found and str(found).strip() == key:
                return str(msg_id)
        return None
