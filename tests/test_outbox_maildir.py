"""The Maildir drafts outbox and the reconcile rules, on real Maildir folders."""

import datetime as dt
import email
import email.policy
import mailbox
from email.message import EmailMessage

from tests.conftest import NOW, seen
from villaged.backends.local.outbox import MaildirOutbox
from villaged.domain.village import DraftRecord, DraftState, Kind
from villaged.ports.outbox import reconcile


def message(key: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "dana@uni.example"
    msg["To"] = "ada@example.org"
    msg["Subject"] = "Thinking of you"
    msg["X-Villaged-Key"] = key
    msg.set_content("Hey Ada")
    return msg


def row(key, state, person="ada", created=NOW):
    return DraftRecord(key=key, person=person, kind="checkin", week="2026-W48", state=state,
                       created_at=created)


def test_drafts_land_in_cur_flagged_draft_so_mail_clients_open_them(tmp_path):
    outbox = MaildirOutbox(tmp_path / "Maildir" / ".Drafts")
    draft_id = outbox.put("k1", message("k1"), None)
    files = list((tmp_path / "Maildir" / ".Drafts" / "cur").iterdir())
    assert len(files) == 1 and files[0].name.endswith(":2,D")
    assert not list((tmp_path / "Maildir" / ".Drafts" / "tmp").iterdir())
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["X-Villaged-Key"] == "k1"
    assert outbox.existing() == {"k1": draft_id}
    assert mailbox.Maildir(tmp_path / "Maildir" / ".Drafts").get_message(draft_id).get_flags() == "D"


def test_reconcile_pending_sent_discarded_and_crash_recovery():
    ledger = [
        row("still-there", DraftState.CREATED),
        row("sent", DraftState.PENDING, person="bo", created=NOW - dt.timedelta(days=2)),
        row("deleted", DraftState.PENDING, person="cy", created=NOW - dt.timedelta(days=2)),
        row("crashed-after-write", DraftState.CREATING),
        row("crashed-before-write", DraftState.CREATING),
        row("done", DraftState.SENT),
    ]
    present = {"still-there": "id1", "crashed-after-write": "id9"}
    interactions = [seen("bo", 1, Kind.EMAIL_OUT), seen("cy", 1, Kind.EMAIL_IN),
                    seen("cy", 5, Kind.EMAIL_OUT)]
    changes = {r.key: (state, draft_id) for r, state, draft_id in
               reconcile(ledger, present, interactions)}
    assert changes == {
        "still-there": (DraftState.PENDING, "id1"),
        "sent": (DraftState.SENT, None),
        "deleted": (DraftState.DISCARDED, None),
        "crashed-after-write": (DraftState.CREATED, "id9"),
        "crashed-before-write": (DraftState.DISCARDED, None),
    }
