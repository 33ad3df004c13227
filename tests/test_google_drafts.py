"""Gmail Drafts outbox and the digest, against the local Google API server."""

from __future__ import annotations

import datetime as dt
import email
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest

from tests.google_api_server import GoogleApiServer
from tests.google_fixtures import NOW, OWNER, PEOPLE, Setup, raw_message, server, setup  # noqa: F401  (fixtures)

D = dt.timedelta
KEY = "X-Villaged-Key"


def cold_village(server: GoogleApiServer) -> None:
    """Everyone wrote two months ago and is still waiting for an answer: the weekly size (3)
    acknowledges three of the four, each in its thread (younger than 90 days)."""
    for n, (_, emails, _) in enumerate(PEOPLE):
        when = NOW - D(days=60 + n)
        server.add_message(raw_message(emails[0], OWNER, f"catching up {n}", when),
                           internal_date=when)


def draft_keys(server: GoogleApiServer) -> list[str]:
    keys = []
    for d in server.drafts():
        msg = email.message_from_bytes(d.raw, policy=default_policy)
        keys.append(str(msg[KEY]))
    return keys


def test_a_round_writes_drafts_threaded_and_keyed(server, setup):
    cold_village(server)
    result = setup.run_round()
    assert len(result.written) == 3
    drafts = server.drafts()
    assert sorted(draft_keys(server)) == sorted(a.key for a, _ in result.written)
    for d in drafts:
        msg = email.message_from_bytes(d.raw, policy=default_policy)
        assert msg["From"].addresses[0].addr_spec == OWNER
        original = next(m for m in server.mailbox.by_id.values()
                        if m.thread_id == d.thread_id and "DRAFT" not in m.labels)
        assert msg["In-Reply-To"].strip("<>") == original.message_id.strip("<>")  # in the thread
    assert {state for state, _ in setup.ledger().values()} == {"created"}
    assert result.drafts_link == "https://mail.google.com/mail/u/0/#drafts"
    assert server.sent_messages() == []  # drafts only: nothing is ever sent


def test_reconcile_marks_pending_sent_and_discarded(server, setup):
    cold_village(server)
    result = setup.run_round()
    (a, draft_a), (b, draft_b), (c, draft_c) = result.written
    server.send_draft(draft_a)  # the owner sends one
    server.delete_draft(draft_b)  # discards another, keeps the third
    later = NOW + D(hours=1)
    setup.run_round(later, draft=False)
    assert setup.ledger() == {a.key: ("sent", draft_a), b.key: ("discarded", draft_b),
                             c.key: ("pending", draft_c)}
    setup.run_round(later + D(hours=1), draft=True)  # same week
    keys = draft_keys(server)
    assert len(keys) == len(set(keys)) and c.key in keys
    assert a.key not in keys and b.key not in keys  # neither redrafted


@pytest.mark.parametrize("kind", ["drop_after", "503", "drop"])
def test_a_lost_answer_to_drafts_create_never_doubles_the_draft(server, setup, kind):
    from villaged.domain.village import KEY_HEADER

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = OWNER, PEOPLE[0][1][0], "hello"
    msg[KEY_HEADER] = "k1"
    msg.set_content("hi")
    io = setup.io()
    io.outbox.existing()
    server.queue_fault(kind, "gmail.users.drafts.create", count=1)
    draft_id = io.outbox.put("k1", msg, None)
    assert [d.id for d in server.drafts()] == [draft_id]


def test_a_reply_to_a_vanished_thread_becomes_a_new_thread(server, setup):
    from villaged.domain.village import KEY_HEADER

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = OWNER, PEOPLE[0][1][0], "Re: hello"
    msg[KEY_HEADER] = "k2"
    msg.set_content("hi")
    with server.expect_violations() as problems:  # the server calls any 400 a violation
        draft_id = setup.io().outbox.put("k2", msg, "18f3a2b4deadbeef")
    assert problems == ["gmail.users.drafts.create: answered 400: Invalid thread_id value"]
    assert [d.id for d in server.drafts()] == [draft_id]


def test_a_digest_whose_answer_was_lost_is_not_sent_twice(server, setup):
    io = setup.io()
    digest = EmailMessage()
    digest["From"], digest["To"], digest["Subject"] = OWNER, OWNER, "Your village this week"
    digest["Message-ID"] = "<digest-2026-W49@uni.example>"
    digest.set_content("warm: 3")
    server.queue_fault("drop_after", "gmail.users.messages.send", count=1)
    io.deliver_digest(digest)
    assert len(server.sent_messages()) == 1
