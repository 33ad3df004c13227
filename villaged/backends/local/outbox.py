"""Drafts as files in a Maildir folder, flagged D, for mutt, neomutt and Thunderbird.

Writes go through maildir_write (tmp/ then rename, 0600), so a crash never
leaves half a draft in cur/, and a half-written file villaged left in tmp/
is cleaned up by the next write.
"""

from __future__ import annotations

import contextlib
import email.policy
import os
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path

from villaged.backends.local.maildir_write import write_message
from villaged.domain.village import KEY_HEADER
from villaged.ports.outbox import DraftSeen


class MaildirOutbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def name(self) -> str:
        return f"maildir:{self.folder}"

    @property
    def drafts_link(self) -> str:
        return str(self.folder)

    def put(self, key: str, message: EmailMessage, thread: str | None) -> str:
        found = self.existing().get(key)
        if found:
            return found
        return write_message(self.folder, message.as_bytes(), "cur", "2,D", "drafts folder")

    def withdraw(self, key: str) -> None:
        """Delete villaged's draft with this key (a stale invitation being replaced)."""
        found = self.existing().get(key)
        if found is None:
            return
        for sub in ("new", "cur"):
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                for entry in os.scandir(self.folder / sub):
                    if _draft_id(entry.name) == found:
                        with contextlib.suppress(FileNotFoundError):  # the owner deleted it
                            os.unlink(entry.path)

    def existing(self) -> dict[str, str]:
        """Key → draft id of every villaged draft in cur/ and new/ (none if the folder,
        or its subfolders, do not exist yet: a dry run creates nothing)."""
        found: dict[str, str] = {}
        for draft in self.seen():
            if draft.key:
                found.setdefault(draft.key, draft.draft_id)
        return found

    def seen(self) -> list[DraftSeen]:
        """Every draft file in cur/ and new/, with what reconcile needs to recognise one
        a mail client rewrote (a new file; the key header perhaps gone)."""
        parser = BytesHeaderParser(policy=email.policy.compat32)
        drafts: list[DraftSeen] = []
        for sub in ("new", "cur"):
            try:
                entries = sorted(os.scandir(self.folder / sub), key=lambda e: e.name)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    with open(entry.path, "rb") as f:
                        headers = parser.parse(f)
                except (FileNotFoundError, IsADirectoryError):
                    continue  # the owner deleted or moved it while we looked
                key = str(headers.get(KEY_HEADER, "") or "").strip() or None
                message_id = str(headers.get("Message-ID", "") or "").strip() or None
                recipients = tuple(a for _, a in getaddresses(
                    [str(v) for v in headers.get_all("To", []) + headers.get_all("Cc", [])]) if a)
                drafts.append(DraftSeen(_draft_id(entry.name), key, message_id, recipients))
        return drafts


def _draft_id(filename: str) -> str:
    """The Maildir key: the file name without its ``:2,FLAGS`` info."""
    for sep in (":2,", "!2,"):
        at = filename.find(sep)
        if at >= 0:
            return filename[:at]
    return filename
