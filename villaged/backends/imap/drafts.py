"""The IMAP drafts folder as villaged's outbox, and the digest APPENDed to the owner's INBOX.

**Drafts.** ``put`` APPENDs the message to the drafts folder (the special-use
``\\Drafts`` folder unless ``drafts_folder`` names one) with the flags
``\\Draft`` and ``\\Seen``, carrying its ``X-Villaged-Key`` header and a
Message-ID derived from the key. APPEND is not idempotent: a connection lost
after the server stored the message but before its OK reached villaged would,
if simply retried, leave two drafts. So before any retry villaged reconnects
and looks for the key (and the Message-ID) in the folder, and only APPENDs
again if neither is there. The new draft's UID comes from APPENDUID (UIDPLUS,
RFC 4315) where the server offers it, else from one search. A draft id is
``<UIDVALIDITY>:<UID>``.

**Reconcile.** ``existing`` reads two headers (the key and the Message-ID) of
every message in the drafts folder. A draft whose key header is there is
found by its key. Mail clients may drop unknown headers when the owner edits
and saves a draft (which, in IMAP, stores a new message with a new UID), so
for every draft villaged wrote it also keeps, in a small 0600 file in the
state directory, the UID and Message-ID it got; a key whose header is gone is
still found by that UID, then by that Message-ID, and an edited draft is not
taken for a discarded one. ``seen`` lists every draft with its recipients too,
so a draft rewritten beyond both (a new UID and a new Message-ID, no key) is
still recognised by whom it is addressed to.

**Digest.** ``ImapDigestBox.deliver`` checks ``ports.digest.owner_only`` and
APPENDs the digest, unread and not a draft, to the owner's INBOX; it is
found by its Message-ID before any retry, so it never arrives twice.
villaged sends nothing: there is no SMTP anywhere in this backend.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

from villaged.backends.imap.connection import Folder, ImapSession, imap_errors
from villaged.backends.imap.settings import ImapSettings
from villaged.compose.checkin import KEY_HEADER
from villaged.domain.errors import TransientError, VillagedError
from villaged.domain.village import Owner
from villaged.ports.digest import owner_only
from villaged.ports.outbox import DraftSeen

log = logging.getLogger(__name__)

APPEND_ATTEMPTS = 4
LEDGER_FILE = "imap-drafts.json"
SNAPSHOT_TTL = 300.0  # seconds a drafts-folder scan is trusted by put()
DRAFT_FLAGS = ("\\Draft", "\\Seen")
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]", re.IGNORECASE)
_FIELDS = "(BODY.PEEK[HEADER.FIELDS (X-VILLAGED-KEY MESSAGE-ID TO CC)])"


def drafts_folder(folders: list[Folder], configured: str | None) -> str:
    """The drafts folder's name, or a VillagedError saying how to name one."""
    names = {f.name for f in folders if f.selectable}
    if configured:
        if configured in names:
            return configured
        raise VillagedError(f"the drafts folder {configured!r} does not exist on the IMAP server",
                            fix="correct [backend.imap] drafts_folder; the server has: "
                                + (", ".join(sorted(names)) or "(no folders)"))
    for f in folders:
        if "\\drafts" in f.flags and f.selectable:
            return f.name
    raise VillagedError("the IMAP server marks no folder as \\Drafts",
                        fix='name it: [backend.imap] drafts_folder = "Drafts"')


def _headers(item: dict[bytes, Any]) -> tuple[str | None, str | None, tuple[str, ...]]:
    """(key, Message-ID, recipients) of one fetched draft."""
    from email.parser import BytesHeaderParser
    from email.utils import getaddresses

    block = next((v for k, v in item.items() if k.startswith(b"BODY[HEADER.FIELDS")
                  and isinstance(v, bytes)), b"")
    parsed = BytesHeaderParser().parsebytes(block)
    key = parsed.get(KEY_HEADER)
    mid = parsed.get("Message-ID")
    recipients = tuple(a for _, a in getaddresses([str(v) for v in parsed.get_all("To", [])
                                                   + parsed.get_all("Cc", [])]) if "@" in a)
    return (" ".join(str(key).split()) or None if key else None,
            str(mid).strip() or None if mid else None, recipients)


def _raw(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=SMTP)


class Appender:
    """APPEND that never stores a message twice: look before every retry."""

    def __init__(self, session: Callable[[], ImapSession], reset: Callable[[], None],
                 settings: ImapSettings, pause: Callable[[int], None] | None = None) -> None:
        self._session = session
        self._reset = reset
        self.settings = settings
        self._pause = pause or (lambda attempt: time.sleep(min(0.2 * attempt, 1.0)))

    def find(self, folder: str, key: str | None, message_id: str | None) -> str | None:
        """``UIDVALIDITY:UID`` of the message in ``folder`` with this key or Message-ID."""
        try:
            return self._find(folder, key, message_id)
        except TransientError:
            self._reset()
            raise

    def _find(self, folder: str, key: str | None, message_id: str | None) -> str | None:
        session = self._session()
        answer = session.examine(folder)
        validity = int(answer.get(b"UIDVALIDITY", 0))
        terms = ([["HEADER", KEY_HEADER, key]] if key else []) + (
            [["HEADER", "Message-ID", message_id]] if message_id else [])
        if not terms or not int(answer.get(b"EXISTS", 0)):
            return None
        criteria = terms[0] if len(terms) == 1 else ["OR", terms[0], terms[1]]
        uids = session.uid_search(criteria, f"looking for a message in {folder}")
        if not uids:
            return None
        items = session.fetch_range(",".join(map(str, uids)), _FIELDS, f"reading {folder}")
        for uid in sorted(items):  # the search is a substring match: check exactly
            found_key, found_mid, _ = _headers(items[uid])
            if (key and found_key == key) or (message_id and found_mid == message_id):
                return f"{validity}:{uid}"
        return None

    def append(self, folder: str, message: EmailMessage, flags: tuple[str, ...],
               key: str | None) -> str:
        """Store ``message`` once in ``folder``; return ``UIDVALIDITY:UID``."""
        message_id = str(message.get("Message-ID", "")).strip() or None
        raw = _raw(message)
        for attempt in range(1, APPEND_ATTEMPTS + 1):
            try:
                if attempt > 1:
                    # the last APPEND may have been stored although its OK was lost
                    found = self.find(folder, key, message_id)
                    if found:
                        log.info("found the message appended before the connection broke")
                        return found
                session = self._session()
                with imap_errors(self.settings, f"writing to {folder}"):
                    answer = session.client.append(folder, raw, flags=flags)
                hit = _APPENDUID.search(answer if isinstance(answer, bytes) else b"")
                if hit:
                    return f"{int(hit.group(1))}:{int(hit.group(2))}"
                found = self.find(folder, key, message_id)
                if found:
                    return found
                raise TransientError(f"the message appended to {folder} cannot be found",
                                     fix="villaged retries next round")
            except TransientError:
                self._reset()
                if attempt == APPEND_ATTEMPTS:
                    raise
                self._pause(attempt)
        raise AssertionError("unreachable")


class ImapOutbox:
    """The IMAP drafts folder. Nothing touches the server until first used."""

    def __init__(self, session: Callable[[], ImapSession], reset: Callable[[], None],
                 settings: ImapSettings, state_dir: Path,
                 folder: Callable[[], str]) -> None:
        self._session = session
        self._reset = reset
        self.settings = settings
        self.state_dir = state_dir
        self._folder = folder
        self.appender = Appender(session, reset, settings)
        self._snapshot: dict[str, str] | None = None
        self._snapshot_at = 0.0
        self._drafts: list[tuple[str, str | None, tuple[str, ...]]] = []  # the last scan

    @property
    def name(self) -> str:
        return f"imap-drafts:{self.settings.username}@{self.settings.host}"

    @property
    def drafts_link(self) -> str:
        folder = self.settings.drafts_folder or "Drafts"
        return f"imap://{self.settings.username}@{self.settings.host}/{folder}"

    # -- the ledger file: key -> the UID and Message-ID each draft got ---------------

    @property
    def ledger_path(self) -> Path:
        return self.state_dir / LEDGER_FILE

    def _ledger(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.ledger_path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _remember(self, key: str, draft_id: str, message_id: str | None) -> None:
        ledger = self._ledger()
        ledger[key] = {"id": draft_id, "message_id": message_id}
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.ledger_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(ledger, f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.ledger_path)

    # -- the port -------------------------------------------------------------------

    def existing(self) -> dict[str, str]:
        """X-Villaged-Key -> draft id for every villaged draft in the drafts folder."""
        try:
            return self._existing()
        except TransientError:
            self._reset()
            raise

    def seen(self) -> list[DraftSeen]:
        """Every draft in the folder, with the key each one is known by (its header, or
        the UID or Message-ID villaged stored) and its recipients: reconcile then also
        recognises a draft a client rewrote beyond both (a new UID and Message-ID)."""
        try:
            by_key = self._existing()
        except TransientError:
            self._reset()
            raise
        key_of = {draft_id: key for key, draft_id in by_key.items()}
        return [DraftSeen(draft_id, key_of.get(draft_id), mid, recipients)
                for draft_id, mid, recipients in self._drafts]

    def _existing(self) -> dict[str, str]:
        session = self._session()
        folder = self._folder()
        answer = session.examine(folder)
        validity = int(answer.get(b"UIDVALIDITY", 0))
        items = session.fetch_range("1:*", _FIELDS, f"reading {folder}") if int(
            answer.get(b"EXISTS", 0)) else {}
        by_key: dict[str, str] = {}
        by_uid: set[str] = set()
        by_mid: dict[str, str] = {}
        self._drafts = []
        for uid in sorted(items):
            draft_id = f"{validity}:{uid}"
            key, mid, recipients = _headers(items[uid])
            self._drafts.append((draft_id, mid, recipients))
            by_uid.add(draft_id)
            if mid:
                by_mid.setdefault(mid, draft_id)
            if key and key not in by_key:
                by_key[key] = draft_id
            elif key:
                log.warning("two drafts carry the key %s", key)
        for key, known in self._ledger().items():
            if key in by_key or not isinstance(known, dict):
                continue
            if known.get("id") in by_uid:
                by_key[key] = str(known["id"])
            elif known.get("message_id") in by_mid:
                by_key[key] = by_mid[str(known["message_id"])]
        self._snapshot = dict(by_key)
        self._snapshot_at = time.monotonic()
        return by_key

    def withdraw(self, key: str) -> None:
        """Delete villaged's draft with this key (a stale invitation being replaced)."""
        draft_id = self.existing().get(key)
        if draft_id is None:
            return
        uid = int(draft_id.rpartition(":")[2])
        try:
            self._session().delete_uids(self._folder(), [uid], f"withdrawing the draft {key}")
        except TransientError:
            self._reset()
            raise
        if self._snapshot is not None:
            self._snapshot.pop(key, None)

    def put(self, key: str, message: EmailMessage, thread: str | None) -> str:
        """APPEND the draft unless one with this key is there; return its id."""
        fresh = self._snapshot is not None and time.monotonic() - self._snapshot_at < SNAPSHOT_TTL
        known = self._snapshot if fresh and self._snapshot is not None else self.existing()
        if key in known:
            return known[key]
        if str(message.get(KEY_HEADER, "")).strip() != key:
            del message[KEY_HEADER]
            message[KEY_HEADER] = key
        try:
            draft_id = self.appender.append(self._folder(), message, DRAFT_FLAGS, key)
        except BaseException:
            self._snapshot = None  # it may be there after all: look again next time
            raise
        self._remember(key, draft_id, str(message.get("Message-ID", "")).strip() or None)
        if self._snapshot is not None:
            self._snapshot[key] = draft_id
        return draft_id


class ImapDigestBox:
    """Puts the digest, unread, into the owner's INBOX."""

    def __init__(self, appender: Appender, owner: Owner) -> None:
        self.appender = appender
        self.owner = owner

    def deliver(self, message: EmailMessage) -> str:
        owner_only(message, self.owner)
        key = str(message.get(KEY_HEADER, "")).strip() or None
        message_id = str(message.get("Message-ID", "")).strip() or None
        if message_id or key:
            found = self.appender.find("INBOX", key, message_id)
            if found:
                return found
        return self.appender.append("INBOX", message, (), key)
