"""A draft the owner edited is still villaged's draft, not a discarded one (issue 9, item 10).

Mail clients rewrite a draft when it is edited: Thunderbird and mutt write a
new file (Thunderbird with a new Message-ID), Gmail's editor puts a new
message behind the same draft id; custom headers such as X-Villaged-Key may
not survive. Reconcile must still recognise each draft (by key, then stored
draft id, then Message-ID, then recipient), so nothing is drafted again.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import time
from email.utils import make_msgid

from tests.google_api_server import GoogleApiServer
from tests.google_fixtures import NOW, OWNER, Setup, add_old_news
from tests.servicekit import TUESDAY, Village
from villaged.domain.village import KEY_HEADER, DraftState

LATER = ("2026-12-01T10:00:00-06:00", "2026-12-08T10:00:00-06:00", "2026-12-15T10:00:00-06:00")


def rewrite(raw: bytes, new_message_id: bool) -> bytes:
    """What a mail client saves after an edit: custom headers gone, the body changed."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    del msg[KEY_HEADER]
    if new_message_id:
        del msg["Message-ID"]
        msg["Message-ID"] = make_msgid(domain="thunderbird.example")
    msg.set_content(msg.get_content() + "\nPS: edited by me.\n")
    return msg.as_bytes()


def test_maildir_drafts_edited_by_mail_clients_are_not_drafted_again(tmp_path):
    village = Village(tmp_path / "v", people=3)
    assert village.cli(TUESDAY, "draft").returncode == 0
    cur = village.drafts_dir / "cur"
    files = sorted(cur.iterdir())
    assert len(files) == 3
    # Thunderbird: a new file, a new Message-ID; mutt: a new file, the Message-ID kept
    for n, path in enumerate(files[:2]):
        edited = rewrite(path.read_bytes(), new_message_id=(n == 0))
        (cur / f"{int(time.time())}.edited{n}.{os.getpid()}.client:2,D").write_bytes(edited)
        path.unlink()
    for now in LATER:
        result = village.cli(now, "draft")
        assert result.returncode == 0, result.stderr
        assert len(list(cur.iterdir())) == 3, result.stdout
    states = {r.key: r.state for r in village.ledger()}
    assert len(states) == 3 and set(states.values()) == {DraftState.PENDING}, states


def test_gmail_drafts_edited_in_the_web_editor_are_not_drafted_again(tmp_path):
    from villaged.service.round import run_round

    with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW) as server:
        people = (("Ada Lovelace", ("ada@analytical.example",), "mentor"),
                  ("Grace Hopper", ("grace@navy.example",), "sponsor"),
                  ("Alan Turing", ("alan@bletchley.example",), "mentor"))
        add_old_news(server, people)
        setup = Setup(server, tmp_path, people)
        village = setup.village()
        with setup.store() as store:
            run_round(village, store, setup.io(village), NOW, draft=True)
        drafts = server.drafts()
        assert len(drafts) == 3
        for n, draft in enumerate(drafts):
            server.edit_draft(draft.id, rewrite(draft.raw, new_message_id=True))
        assert [d.id for d in server.drafts()] == [d.id for d in drafts]
        assert all(KEY_HEADER.encode() not in d.raw for d in server.drafts())
        for weeks in (1, 2, 3):
            with setup.store() as store:
                result = run_round(village, store, setup.io(village),
                                   NOW + dt.timedelta(weeks=weeks), draft=True)
            assert result.written == [], result.written
        assert len(server.drafts()) == 3
        with setup.store() as store:
            states = {r.key: r.state for r in store.ledger()}
        assert len(states) == 3 and set(states.values()) == {DraftState.PENDING}, states
