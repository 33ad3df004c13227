"""Drafts as files in a Maildir folder, flagged D, for mutt, neomutt and Thunderbird.

Writes go through mailbox.Maildir (tmp/ then rename), so a crash never
leaves half a draft in cur/.
"""

from __future__ import annotations

import contextlib
import mailbox
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

from villaged.domain.village import KEY_HEADER


class MaildirOutbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def name(self) -> str:
        return f"maildir:{self.folder}"

    @property
    def drafts_link(self) -> str:
        return str(self.folder)

    def _box(self) -> mailbox.Maildir:
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        return mailbox.Maildir(self.folder, factory=None, create=True)

    def put(self, key: str, message: EmailMessage, thread: str | None) -> str:
        found = self.existing().get(key)
        if found:
            return found
        draft = mailbox.MaildirMessage(message)
        draft.set_subdir("cur")
        draft.set_flags("D")
        return self._box().add(draft)

    def withdraw(self, key: str) -> None:
        """Delete villaged's draft with this key (a stale invitation being replaced)."""
        found = self.existing().get(key)
        if found is None:
            return
        with contextlib.suppress(FileNotFoundError, KeyError):  # the owner deleted it meanwhile
            self._box().remove(found)

    def existing(self) -> dict[str, str]:
        if not self.folder.exists():
            return {}
        box = self._box()
        parser = BytesHeaderParser()
        found: dict[str, str] = {}
        for draft_id in box.keys():  # noqa: SIM118 - a Maildir iterates messages, not keys
            try:
                with box.get_file(draft_id) as f:
                    key = parser.parse(f).get(KEY_HEADER)  # type: ignore[arg-type]
            except (FileNotFoundError, KeyError):
                continue  # the owner deleted or moved it while we looked
            if key:
                found[str(key).strip()] = draft_id
        return found
