"""Drafts and the digest in a real Dovecot: APPENDed once, found again, even after edits."""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pytest

from tests.imap_kit import OWNER, imap_village
from villaged.backends.imap.backend import ImapIO
from villaged.compose.checkin import KEY_HEADER
from villaged.compose.headers import message_id_for
from villaged.ports.digest import RecipientRefused


def draft(key: str, to: str = "ada@example.org", subject: str = "Checking in") -> EmailMessage:
    m = EmailMessage()
    m["From"] = f"Dana Reyes <{OWNER}>"
    m["To"] = to
    m["Subject"] = subject
    m["Message-ID"] = message_id_for(key, OWNER)
    m[KEY_HEADER] = key
    m.set_content("Hi Ada,\n\nI was thinking of you.\n")
    return m


def parsed(raw: bytes) -> EmailMessage:
    return BytesParser(policy=default).parsebytes(raw)  # type: ignore[return-value]


def test_a_draft_is_appended_once_with_its_key_and_flags(imap_account, tmp_path: Path):
    village = imap_village(imap_account, tmp_path / "state")
    io = ImapIO(village, village.backend, tmp_path / "state")
    try:
        first = io.outbox.put("checkin:ada:2026-W48", draft("checkin:ada:2026-W48"), None)
        again = io.outbox.put("checkin:ada:2026-W48", draft("checkin:ada:2026-W48"), None)
        assert first == again
        assert io.outbox.existing() == {"checkin:ada:2026-W48": first}
    finally:
        io.close()
    stored = imap_account.messages("Drafts")
    assert len(stored) == 1
    (uid, raw), = stored.items()
    assert parsed(raw)[KEY_HEADER] == "checkin:ada:2026-W48"
    assert set(imap_account.flags("Drafts")[uid]) == {b"\\Draft", b"\\Seen"}
    assert first.endswith(f":{uid}")


def test_a_draft_edited_in_a_mail_client_is_still_found(imap_account, tmp_path: Path):
    """A client that saves an edit stores a new message and may drop X-Villaged-Key."""
    village = imap_village(imap_account, tmp_path / "state")
    io = ImapIO(village, village.backend, tmp_path / "state")
    key = "checkin:ada:2026-W48"
    try:
        io.outbox.put(key, draft(key), None)
        (uid, raw), = imap_account.messages("Drafts").items()
        edited = parsed(raw)
        del edited[KEY_HEADER]
        edited.set_content("Hi Ada, edited by hand.\n")
        c = imap_account.client()
        c.select_folder("Drafts")
        c.append("Drafts", edited.as_bytes(), flags=("\\Draft",))
        c.delete_messages([uid])
        c.expunge()
        c.logout()
        found = io.outbox.existing()
        assert list(found) == [key] and found[key] != f"x:{uid}"
        assert found[key].split(":")[1] != str(uid)  # the edited copy, by its Message-ID
    finally:
        io.close()


def test_a_draft_rewritten_with_a_new_message_id_is_known_by_its_recipient(imap_account,
                                                                          tmp_path: Path):
    """Thunderbird saves an edit as a new message with a new Message-ID and no custom
    header: neither the key, the UID nor the Message-ID finds it; its recipient does."""
    import datetime as dt

    from villaged.domain.village import DraftRecord, DraftState
    from villaged.domain.vocabulary import DraftKind
    from villaged.ports.outbox import drafts_seen, reconcile

    village = imap_village(imap_account, tmp_path / "state")
    io = ImapIO(village, village.backend, tmp_path / "state")
    key = "checkin:ada:2026-W48"
    try:
        draft_id = io.outbox.put(key, draft(key), None)
        (uid, raw), = imap_account.messages("Drafts").items()
        edited = parsed(raw)
        del edited[KEY_HEADER]
        del edited["Message-ID"]
        edited["Message-ID"] = "<edited.1@thunderbird.example>"
        edited.set_content("Hi Ada, edited by hand.\n")
        c = imap_account.client()
        c.select_folder("Drafts")
        c.append("Drafts", edited.as_bytes(), flags=("\\Draft",))
        c.delete_messages([uid])
        c.expunge()
        c.logout()
        assert io.outbox.existing() == {}  # by key, stored UID and Message-ID: gone
        seen = drafts_seen(io.outbox)
        assert [(d.key, d.recipients) for d in seen] == [(None, ("ada@example.org",))]
        row = DraftRecord(key=key, person="ada", kind=DraftKind.CHECKIN, week="2026-W48",
                          state=DraftState.PENDING,
                          created_at=dt.datetime(2026, 11, 23, 14, tzinfo=dt.UTC),
                          draft_id=draft_id)
        [(_, state, new_id)] = reconcile([row], seen, [],
                                         addresses={"ada": ("ada@example.org",)})
        assert state is DraftState.PENDING and new_id == seen[0].draft_id  # not "discarded"
    finally:
        io.close()


def test_the_digest_lands_unread_in_the_inbox_once(imap_account, tmp_path: Path):
    village = imap_village(imap_account, tmp_path / "state")
    io = ImapIO(village, village.backend, tmp_path / "state")
    digest = draft("digest:2026-W48", to=OWNER, subject="Your village this week")
    try:
        first = io.deliver_digest(digest)
        assert io.deliver_digest(draft("digest:2026-W48", to=OWNER)) == first
        with pytest.raises(RecipientRefused):
            io.deliver_digest(draft("digest:2026-W49", to="ada@example.org"))
    finally:
        io.close()
    inbox = imap_account.messages("INBOX")
    assert len(inbox) == 1
    assert imap_account.flags("INBOX") == {uid: () for uid in inbox}  # unread, not a draft
