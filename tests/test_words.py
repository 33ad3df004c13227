"""The words are the product: issue 10's examples, rebuilt on a realistic village.

Every test here reads a rendered draft the way its recipient would: who it
greets, what it claims, which thread it lands in, and whether the plan says
why. The village: Dana Reyes (an academic physician in Chicago) and

* Dr. Ruth Okonkwo, her formal mentor (an agreement, several roles);
* Jordan Park, a peer mentor with two interests (one with its own question);
* Dr. Marie Curie, whose April offer to host a lab visit was never answered;
* Pat Kim, whom Dana thanked 635 days ago and who never wrote back;
* Prof. Alan Turing, PhD, a coach with an agreement, and a sponsor in a young thread.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import NOW, convo, person, seen, village
from villaged.backends.local.backend import LocalIO
from villaged.cli import render
from villaged.compose.checkin import compose_checkin, compose_reply
from villaged.compose.invite import compose_invite, summary_for
from villaged.compose.templating import environment, split_subject, variants
from villaged.compose.templating import render as render_template
from villaged.compose.voice import BLANK, voice
from villaged.core.assess import assess, village_map
from villaged.core.giveback import suggestions_for
from villaged.core.plan import iso_week, plan
from villaged.core.replies import replies_owed
from villaged.domain.names import Register, parse_name
from villaged.domain.village import (
    Action,
    Agreement,
    DraftRecord,
    DraftState,
    Interaction,
    Interest,
    Kind,
    Role,
    Roulette,
    Skip,
    Village,
)
from villaged.service.round import run_round
from villaged.store import Store

WEEK = "2026-W48"
DAY = dt.timedelta(days=1)
MONTHLY = Agreement(rrule="FREQ=WEEKLY;INTERVAL=4", rhythm="every 4 weeks", interval_days=28,
                    duration_minutes=45, location="Zoom")
FORTNIGHTLY = Agreement(rrule="FREQ=WEEKLY;INTERVAL=2", rhythm="every 2 weeks", interval_days=14,
                        duration_minutes=60)


def okonkwo(**kw: object):
    return person("ruth", Role.MENTOR, name="Dr. Ruth Okonkwo", emails=("rokonkwo@med.example",),
                  agreement=MONTHLY, also=(Role.SPONSOR,), notes="Ask about the K award timeline.",
                  **kw)


def jordan(**kw: object):
    return person("jordan", Role.PEER_MENTOR, name="Jordan Park", emails=("jpark@uni.example",),
                  interests=(Interest("her twins"), Interest("the Boston Marathon"),
                             Interest("Kubb", ask="Is Kubb more about skill or luck?")), **kw)


def curie(**kw: object):
    return person("marie", Role.ROLE_MODEL, name="Dr. Marie Curie",
                  emails=("marie.curie@sorbonne.example",), **kw)


def pat(**kw: object):
    return person("pat", Role.ALLY, name="Pat Kim", emails=("pat.kim@conf.example",), **kw)


def turing(**kw: object):
    return person("alan", Role.COACH, name="Prof. Alan Turing, PhD",
                  emails=("alan@bletchley.example",), agreement=FORTNIGHTLY, **kw)


def hopper(**kw: object):
    return person("grace", Role.SPONSOR, name="Grace Hopper", emails=("grace@navy.example",), **kw)


def mail(who: str, days_ago: float, kind: Kind, subject: str, uid: str,
         thread: str | None = None) -> Interaction:
    item = seen(who, days_ago, kind, uid=uid, subject=subject)
    return dataclasses.replace(item, thread=thread or uid)


def village_items() -> list[Interaction]:
    return [
        seen("ruth", 35, Kind.MEETING, subject="Mentoring"),
        *convo("jordan", 50),
        mail("marie", 236, Kind.EMAIL_OUT, "Radium lab visit", "<dana-1@uni.example>"),
        mail("marie", 235, Kind.EMAIL_IN, "Re: Radium lab visit", "<marie-1@sorbonne.example>",
             thread="<dana-1@uni.example>"),  # "Happy to host you in the lab."
        mail("pat", 635, Kind.EMAIL_OUT, "Thanks for the workshop", "<dana-2@uni.example>"),
        seen("alan", 40, Kind.MEETING, subject="Coaching"),
        mail("grace", 20, Kind.EMAIL_IN, "Panel at ASCO", "<grace-1@navy.example>"),
    ]


def the_village(**kw: object) -> Village:
    return village([okonkwo(), jordan(), curie(), pat(), turing(), hopper()], **kw)


def whole_plan(v: Village, items: list[Interaction], ledger: list[DraftRecord] | None = None,
               now: dt.datetime = NOW) -> dict[str, list[Action | Skip]]:
    result = plan(v, assess(v, items, now), items, ledger or [], [], now, iso_week(now, v))
    by: dict[str, list[Action | Skip]] = {}
    for item in result:
        by.setdefault(item.person, []).append(item)
    return by


def action_for(items: list[Action | Skip], kind: str) -> Action:
    found = [i for i in items if isinstance(i, Action) and i.action == kind]
    assert found, items
    return found[0]


def compose(v: Village, act: Action) -> EmailMessage:
    env = environment(None)
    composer = {"checkin": compose_checkin, "reply": compose_reply,
                "invite": compose_invite}[act.action]
    raw = bytes(composer(v, act, env, NOW))
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def body(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


# -- names ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "casual", "formal", "plain"), [
    ("Dr. Ruth Okonkwo", "Ruth", "Dr. Okonkwo", "Ruth Okonkwo"),
    ("Dr Ruth Okonkwo, MD", "Ruth", "Dr Okonkwo", "Ruth Okonkwo"),
    ("Prof. Alan Turing, PhD, FRS", "Alan", "Prof. Turing", "Alan Turing"),
    ("Professor Dr. Hans Müller", "Hans", "Professor Dr. Müller", "Hans Müller"),
    ("Mx Sam Lee", "Sam", "Mx Lee", "Sam Lee"),
    ("Mrs. Katherine Johnson", "Katherine", "Mrs. Johnson", "Katherine Johnson"),
    ("Sir Tim Berners-Lee", "Tim", "Sir Tim", "Tim Berners-Lee"),
    ("Dame Stephanie Shirley", "Stephanie", "Dame Stephanie", "Stephanie Shirley"),
    ("Rev. Martin Luther King, Jr.", "Martin", "Rev. King", "Martin Luther King"),
    ("Henry Ford III", "Henry", "Henry", "Henry Ford"),
    ("Ludwig van Beethoven", "Ludwig", "Ludwig", "Ludwig van Beethoven"),
    ("Dr. Ursula von der Leyen", "Ursula", "Dr. von der Leyen", "Ursula von der Leyen"),
    ("Tomás Álvarez-Ruiz, M.D.", "Tomás", "Tomás", "Tomás Álvarez-Ruiz"),
    ("Okonkwo, Ruth", "Ruth", "Ruth", "Ruth Okonkwo"),
    ("Yo-Yo Ma", "Yo-Yo", "Yo-Yo", "Yo-Yo Ma"),
    ("Dr. Okonkwo", "Dr. Okonkwo", "Dr. Okonkwo", "Okonkwo"),
    ("Cher", "Cher", "Cher", "Cher"),
])
def test_honorifics_and_post_nominals_are_never_a_first_name(name, casual, formal, plain):
    parsed = parse_name(name)
    assert parsed.address(Register.CASUAL) == casual
    assert parsed.address(Register.FORMAL) == formal
    assert parsed.plain == plain


def test_dr_ruth_okonkwo_is_greeted_properly_in_the_invitation_and_its_title():
    v = the_village()
    act = action_for(whole_plan(v, village_items())["ruth"], "invite")
    msg = compose(v, act)
    assert body(msg).startswith("Dear Dr. Okonkwo,\n\n")
    assert "Dear Dr.," not in body(msg)
    assert msg["Subject"] == "Our mentoring meetings, every 4 weeks"
    assert summary_for(v, v.person("ruth")) == "Mentoring: Ruth Okonkwo / Dana Reyes"
    # her own greeting wins, and the casual register drops the title
    ruth = okonkwo(greeting="Ruth")
    assert dataclasses.replace(v, people=(ruth,)).person("ruth").address == "Ruth"
    assert okonkwo(register=Register.CASUAL).address == "Ruth"


def test_a_coach_with_an_agreement_gets_coaching_not_mentoring():
    v = the_village()
    act = action_for(whole_plan(v, village_items())["alan"], "invite")
    msg = compose(v, act)
    assert msg["Subject"] == "Our coaching sessions, every 2 weeks"
    assert body(msg).startswith("Dear Prof. Turing,\n\n")
    assert "mentoring" not in body(msg).lower()
    assert summary_for(v, v.person("alan")) == "Coaching: Alan Turing / Dana Reyes"


# -- replies owed ----------------------------------------------------------------


def test_marie_gets_an_acknowledgement_of_her_unanswered_offer_not_a_check_in():
    v = the_village()
    items = village_items()
    marie = whole_plan(v, items)["marie"]
    act = action_for(marie, "reply")
    assert "you owe a reply" in act.reason and "Radium lab visit" in act.reason
    assert "not a check-in" in act.reason and "over the 90-day limit" in act.reason
    msg = compose(v, act)
    # eight months on: a fresh message whose subject names the old one, not "Re:" into it
    assert msg["Subject"] == "Belated reply: Radium lab visit"
    assert msg["In-Reply-To"] is None and msg["References"] is None
    text = body(msg)
    assert text.startswith("Dear Dr. Curie,\n\n")
    assert 'Thank you for your message about "Radium lab visit" in April' in text
    assert "[your reply]" in text  # the substance is the owner's
    assert "wondering what you're up to" not in text and "thinking of you" not in text
    assert replies_owed(items, NOW)["marie"].message.subject == "Re: Radium lab visit"


def test_a_young_unanswered_message_is_acknowledged_in_its_thread():
    v = the_village()
    act = action_for(whole_plan(v, village_items())["grace"], "reply")
    msg = compose(v, act)
    assert msg["Subject"] == "Re: Panel at ASCO"
    assert msg["In-Reply-To"] == "<grace-1@navy.example>"
    assert body(msg).startswith("Dear Grace,\n\nThank you for your message about \"Panel at ASCO\"")


def test_the_acknowledgement_is_drafted_once_and_a_discard_leaves_them_alone():
    v = the_village()
    items = village_items()
    act = action_for(whole_plan(v, items)["marie"], "reply")
    written = DraftRecord(key=act.key, person="marie", kind="reply", week=WEEK,
                          state=DraftState.CREATED, created_at=NOW)
    assert [i.guard for i in whole_plan(v, items, [written])["marie"]] == ["pending-draft"]
    later = NOW + 7 * DAY
    discarded = dataclasses.replace(written, state=DraftState.DISCARDED, updated_at=later)
    # next week and months later: no second acknowledgement, and no check-in either
    for when in (later, NOW + 90 * DAY):
        (skip,) = whole_plan(v, items, [discarded], now=when)["marie"]
        assert isinstance(skip, Skip) and skip.guard == "reply-discarded"
        assert "no check-in either" in skip.reason and "until new contact" in skip.reason
    # new contact (she writes again) starts afresh: one acknowledgement of the new message
    again = [*items, mail("marie", -20, Kind.EMAIL_IN, "Lab visit in spring?", "<marie-2@s>")]
    act2 = action_for(whole_plan(v, again, [discarded], now=NOW + 30 * DAY)["marie"], "reply")
    assert act2.key != act.key and act2.about is not None
    assert act2.about.subject == "Lab visit in spring?"


# -- one-way and old threads -------------------------------------------------------


def test_pat_who_never_wrote_back_gets_no_double_text_after_two_years():
    v = the_village()
    (skip,) = whole_plan(v, village_items())["pat"]
    assert isinstance(skip, Skip) and skip.guard == "one-way"
    assert "one-way: they have never written back" in skip.reason
    # an explicit opt-in drafts again, as a fresh message: the old thread is 635 days old
    v2 = dataclasses.replace(v, people=tuple(pat(draft_one_way=True) if p.key == "pat" else p
                                             for p in v.people), roulette=Roulette(size=10))
    act = action_for(whole_plan(v2, village_items())["pat"], "checkin")
    assert act.reply_to is None and "fresh subject" in act.reason
    msg = compose(v2, act)
    assert not str(msg["Subject"]).startswith("Re:")
    assert "Thanks for the workshop" not in str(msg["Subject"])


def test_the_digest_says_one_way_too(tmp_path: Path):
    from villaged.service.digest import run_digest

    v = dataclasses.replace(the_village(), config_path=tmp_path / "village.toml")
    io = LocalIO(v, v.backend)  # type: ignore[arg-type]
    with Store(tmp_path / "state.sqlite3") as store:
        store.apply_sync("test", village_items(), {})
        run_round(v, store, io, NOW, sync=False, draft=True)
        text = run_digest(v, store, io, NOW).text
    pat_card = text.split("- Pat Kim")[1].split("\n- ")[0]
    assert "One-way: they have never written back" in pat_card
    assert "Needs your words" in text  # the acknowledgements for Marie and Grace


def test_a_logged_contact_ends_one_way():
    v = the_village(roulette=Roulette(size=10))
    logged = Interaction(source="manual", uid="log:1", person="pat", at=NOW - 100 * DAY,
                         kind=Kind.MEETING, subject="coffee at the AAMC meeting")
    items = [*village_items(), logged]
    assert action_for(whole_plan(v, items)["pat"], "checkin")


# -- interests ----------------------------------------------------------------------


def test_interests_rotate_and_read_right_for_any_noun_phrase():
    v = village([jordan()])
    lines = []
    for turn in range(4):
        act = Action(person="jordan", action="checkin", reason="r", key=f"checkin:jordan:{turn}",
                     week=WEEK, variant=turn)
        lines.append(body(compose(v, act)))
    assert "I'd love to hear what's new with your twins." in lines[0]
    assert "How are things going with the Boston Marathon?" in lines[1]
    assert "Is Kubb more about skill or luck?" in lines[2]
    assert "your twins" in lines[3]  # round again
    assert all("her twins" not in text and "How is" not in text for text in lines)


# -- no words put in the owner's mouth ------------------------------------------------

ASSERTIONS = (
    "thank you again for", "speaking up for me", "your coaching to work", "your advice",
    "quick update", "some news", "share an update", "doors you have opened", "i've missed",
    "last time we talked", "you were into", "as you suggested", "i took your advice",
    "i have a few things", "your recent", "congratulations",
)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("register", list(Register))
@pytest.mark.parametrize("agreement", [None, MONTHLY])
def test_every_shipped_template_reads_right_for_every_role_and_register(role, register, agreement):
    env = environment(None)
    p = person("x", role, name="Dr. Ruth Okonkwo", register=register, agreement=agreement,
               interests=(Interest("her twins"),))
    v = village([p])
    names = [*variants(env, "checkin"), "reply/reply.txt.j2"]
    assert len(names) >= 20
    for turn, name in enumerate(names):
        context = {**voice(v, p, turn), "agreement": agreement, "subject": "Lab visit",
                   "when": "in April"}
        subject, text = split_subject(render_template(env, name, context))
        lowered = f"{subject}\n{text}".lower()
        assert not [a for a in ASSERTIONS if a in lowered], (name, text)
        greeting = "Dear Dr. Okonkwo," if register is Register.FORMAL else "Hi Ruth,"
        assert text.startswith(greeting + "\n\n"), (name, text)
        assert "{{" not in text and "Dr.," not in text and "  " not in text
        # a blank is only ever the clearly marked kind, and only where the owner must answer
        blanks = BLANK.findall(text)
        assert "[" not in BLANK.sub("", text), (name, text)
        assert bool(blanks) == (name == "reply/reply.txt.j2"), (name, text)


# -- several roles, notes ---------------------------------------------------------------


def test_several_roles_fill_the_village_map_and_give_back_ideas():
    v = the_village()
    slots = {slot.role: [p.key for p in slot.people] for slot in village_map(v)}
    assert "ruth" in slots[Role.MENTOR] and "ruth" in slots[Role.SPONSOR]
    ideas = suggestions_for(v.person("ruth"))
    assert any("mentoring award" in i for i in ideas)  # mentor
    assert any("keynote" in i for i in ideas)  # sponsor
    assert all("Dr. Okonkwo" in i or "Okonkwo" not in i for i in ideas)
    assert v.cadence_for(v.person("ruth")) == 30  # the first role sets the cadence


def test_notes_and_the_latest_log_note_show_in_the_plan_never_in_the_draft(tmp_path: Path):
    v = dataclasses.replace(the_village(), config_path=tmp_path / "village.toml")
    io = LocalIO(v, v.backend)  # type: ignore[arg-type]
    logged = Interaction(source="manual", uid="log:2", person="ruth", at=NOW - 35 * DAY,
                         kind=Kind.MEETING, subject="she offered to read my K award aims page")
    with Store(tmp_path / "state.sqlite3") as store:
        store.apply_sync("test", village_items(), {})
        store.apply_sync("manual", [logged], {})
        result = run_round(v, store, io, NOW, sync=False, draft=True)
    text = render.plan_text(v, result.plan, result.notes, result.needs_words)
    assert "note: Ask about the K award timeline." in text
    assert "note: logged 2026-10-19: she offered to read my K award aims page" in text
    assert "needs your words" in text  # Marie's and Grace's acknowledgements
    drafts = mailbox.Maildir(v.backend.drafts, factory=None)  # type: ignore[attr-defined]
    bodies = [m.get_payload(decode=False) for m in drafts]
    assert drafts and all("K award" not in str(b) for b in bodies)


# -- invitations --------------------------------------------------------------------------


def test_two_agreements_planned_in_one_round_never_overlap_across_the_window():
    v = the_village()
    result = whole_plan(v, village_items())
    ruth = action_for(result["ruth"], "invite").slot
    alan = action_for(result["alan"], "invite").slot
    assert ruth is not None and alan is not None
    # Monday 23rd: three working days' notice makes Thursday the 26th the first possible day
    assert ruth.date() >= dt.date(2026, 11, 26) and alan.date() >= dt.date(2026, 11, 26)
    occurrences = []
    for start, agreement in ((ruth, MONTHLY), (alan, FORTNIGHTLY)):
        step = dt.timedelta(days=agreement.interval_days)
        occurrences.append([(start + n * step, start + n * step
                             + dt.timedelta(minutes=agreement.duration_minutes))
                            for n in range(6)])
    for a0, a1 in occurrences[0]:
        for b0, b1 in occurrences[1]:
            assert not (a0 < b1 and b0 < a1), (a0, b0)


def test_a_stale_unsent_invitation_is_replaced_once_a_week_never_two_in_the_folder(tmp_path):
    v = dataclasses.replace(village([okonkwo()], tmp_path), config_path=tmp_path / "village.toml")
    io = LocalIO(v, v.backend)  # type: ignore[arg-type]
    items = [seen("ruth", 35, Kind.MEETING, subject="Mentoring")]
    v.backend.drafts.parent.mkdir(parents=True)  # type: ignore[attr-defined]
    folder = mailbox.Maildir(v.backend.drafts, factory=None, create=True)  # type: ignore[attr-defined]
    with Store(tmp_path / "state.sqlite3") as store:
        store.apply_sync("test", items, {})
        first = run_round(v, store, io, NOW, sync=False, draft=True)
        (invite,) = [a for a, _ in first.written]
        assert invite.slot is not None and invite.slot.date() == dt.date(2026, 11, 26)
        # two weeks on, unsent: its first meeting is past; the round replaces it
        later = NOW + 14 * DAY
        second = run_round(v, store, io, later, sync=False, draft=True)
        (fresh,) = [a for a, _ in second.written]
        assert fresh.replaces == invite.key and "replacing it" in fresh.reason
        assert fresh.slot is not None and fresh.slot.date() >= dt.date(2026, 12, 10)
        states = {r.key: r.state for r in store.ledger()}
        assert states[invite.key] is DraftState.REPLACED
        keys = [str(m["X-Villaged-Key"]) for m in folder]
        assert keys == [fresh.key]  # never two invitation drafts for one person
        # a rerun the same week changes nothing
        third = run_round(v, store, io, later + DAY, sync=False, draft=True)
        assert third.written == [] and [str(m["X-Villaged-Key"]) for m in folder] == [fresh.key]
