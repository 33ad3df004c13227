"""The local backend's digest delivery: a new, unread message in the owner's Maildir."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

from villaged.backends.local.maildir_write import ensure_folder, write_message
from villaged.backends.local.settings import LocalBackend
from villaged.domain.village import KEY_HEADER, Owner, Village
from villaged.ports.digest import owner_only


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
        ensure_folder(self.folder, "digest folder")  # one that only holds .Drafts lacks cur/...
        box = mailbox.Maildir(self.folder, factory=None, create=False)
        key = str(message.get(KEY_HEADER, "")).strip()
        if key:
            found = self._find(box, key)
            if found:
                return found
        return write_message(self.folder, message.as_bytes(), "new", "", "digest folder")

    @staticmethod
    def _find(box: mailbox.Maildir, key: str) -> str | None:
        parser = BytesHeaderParser()
        for msg_id in box.keys():  # noqa: SIM118 - a Maildir iterates messages, not keys
            try:
                with box.get_file(msg_id) as f:
                    found = parser.parse(f).get(KEY_HEADER)  # type: ignore[arg-type]
            except (FileNotFoundError, KeyError):
                continue
            if found and str(found).strip() == key:
                return str(msg_id)
        return None
