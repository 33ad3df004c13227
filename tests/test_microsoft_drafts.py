"""Outlook Drafts (MIME drafts marked with villaged's extended property) and the digest in the
owner's Inbox, against the local Graph server."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

from tests.graph_api_server import GraphServer
from tests.graph_fixtures import NOW, OWNER, PEOPLE, D, Setup, graph, ms  # noqa: F401  (fixtures)

KEY_HEADER = "X-Villaged-Key"


def cold_village(g: GraphServer) -> None:
    """Everyone last heard from long ago: the roulette picks three of four."""
    for n, (_, emails, _) in enumerate(PEOPLE):
        g.add_message(sender=emails[0], to=(OWNER,), subject=f"catching up {n}", when=NOW - D(days=200 + n),
                      message_id=f"<old{n}@example.org>")


def key_property(draft: dict[str, Any]) -> str | None:
    from villaged.backends.microsoft.drafts import KEY_PROPERTY

    return next((p["value"] for p in draft.get("singleValueExtendedProperties") or ()
                 if p["id"].lower() == KEY_PROPERTY.lower()), None)


def test_a_round_writes_mime_drafts_marked_with_the_key(graph, ms):
    cold_village(graph)
    result = ms.run_round()
    assert len(result.written) == 3
    drafts = graph.drafts()
    assert sorted(key_property(d) or "" for d in drafts) == sorted(a.key for a, _ in result.written)
    for d in drafts:
        assert d["isDraft"] is True
        mime = email.message_from_bytes(graph.mime_of(d["id"]), policy=default_policy)
        assert mime[KEY_HEADER] == key_property(d)
        assert mime["To"] and mime["Subject"]  # the very MIME villaged composed
    assert {state for state, _ in ms.ledger().values()} == {"created"}
    assert graph.inbox() and all(not m.get("isDraft") for m in graph.inbox())


def test_invitation_drafts_carry_the_text_calendar_part_and_no_event_is_created(graph, tmp_path):
    people = (("Ada Lovelace", ("ada@analytical.example",), "mentor"),)
    setup = Setup(graph, tmp_path, people, extra="""
[[person]]
name = "Margaret Hamilton"
emails = ["mh@mit.example"]
role = "mentor"
[person.agreement]
rhythm = "every 4 weeks"
""")
    graph.add_message(sender="mh@mit.example", to=(OWNER,), subject="let's meet", when=NOW - D(days=50))
    events_before = sum(len(c.items) for c in graph.store.events.values())
    setup.run_round()
    mimes = [email.message_from_bytes(graph.mime_of(d["id"]), policy=default_policy) for d in graph.drafts()]
    invites = [m for m in mimes if any(p.get_content_type() == "text/calendar" for p in m.walk())]
    assert invites, [m["Subject"] for m in mimes]
    assert sum(len(c.items) for c in graph.store.events.values()) == events_before


def test_reconcile_marks_pending_sent_and_discarded(graph, ms):
    cold_village(graph)
    ms.run_round()
    rows = ms.ledger()
    drafts = {key_property(d): d for d in graph.drafts()}
    keys = sorted(drafts)
    later = NOW + D(hours=1)
    graph.send_draft(drafts[keys[0]]["id"], later)  # the owner sends one from Outlook
    graph.delete_message(drafts[keys[1]]["id"])  # and discards another
    ms.run_round(later + D(minutes=5), draft=False)
    after = ms.ledger()
    assert after[keys[0]][0] == "sent"
    assert after[keys[1]][0] == "discarded"
    assert after[keys[2]] == ("pending", rows[keys[2]][1])


def test_a_draft_edited_in_outlook_keeps_its_key(graph, ms):
    cold_village(graph)
    ms.run_round()
    draft = graph.drafts()[0]
    graph.store.update_message(draft["id"], {"subject": "edited by Dana"})
    found = ms.io().outbox.existing()
    assert found[key_property(draft)] == draft["id"]


@pytest.mark.parametrize("kind", ["drop_after", "503", "drop"])
def test_a_lost_answer_to_a_draft_create_never_doubles_the_draft(graph, ms, kind):
    cold_village(graph)
    graph.queue_fault(kind, route="message.create", count=1)
    ms.run_round()
    keys = [key_property(d) for d in graph.drafts()]
    assert len(keys) == 3 and len(set(keys)) == 3 and None not in keys


def test_a_crash_between_create_and_mark_is_recognised_by_the_header_property(graph, ms):
    from villaged.backends.microsoft.drafts import HEADER_PROPERTY

    cold_village(graph)
    io = ms.io()
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = OWNER, "ada@analytical.example", "hi"
    message[KEY_HEADER] = "2026-W48:ada-lovelace:checkin"
    message.set_content("Hello")
    graph.queue_fault("500", route="message.update", count=20)  # the PATCH never lands
    draft_id = io.outbox.put("2026-W48:ada-lovelace:checkin", message, None)
    graph.clear_faults()
    (draft,) = graph.drafts()
    assert key_property(draft) is None
    assert any(p["id"].lower() == HEADER_PROPERTY.lower() for p in draft["singleValueExtendedProperties"])
    assert ms.io().outbox.existing() == {"2026-W48:ada-lovelace:checkin": draft_id}
    assert key_property(graph.drafts()[0]) is None  # existing() writes nothing (dry runs call it)
    assert ms.io().outbox.put("2026-W48:ada-lovelace:checkin", message, None) == draft_id
    (draft,) = graph.drafts()
    assert key_property(draft) == "2026-W48:ada-lovelace:checkin"  # the next put finished the marking


def digest(subject: str = "Your village this week", to: str = OWNER) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = OWNER, to, subject
    message[KEY_HEADER] = "digest:2026-W48"
    message.set_content("warm: 3")
    message.add_alternative("<p>warm: 3</p>", subtype="html")
    return message


def test_the_digest_lands_in_the_owners_inbox_unread_not_a_draft_and_never_twice(graph, ms):
    from villaged.ports.digest import RecipientRefused

    io = ms.io()
    graph.queue_fault("drop_after", route="message.create", count=1)
    first = io.deliver_digest(digest())
    assert io.deliver_digest(digest()) == first
    (delivered,) = [m for m in graph.inbox() if m.get("subject") == "Your village this week"]
    assert delivered["isDraft"] is False and delivered.get("isRead") is not True
    assert [r["emailAddress"]["address"] for r in delivered["toRecipients"]] == [OWNER]
    assert not graph.drafts()
    with pytest.raises(RecipientRefused):
        io.deliver_digest(digest(to="ada@analytical.example"))
