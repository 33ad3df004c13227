"""What needs the owner's attention: replies owed, urgency order, stale invitations (pure)."""

import datetime as dt

from tests.conftest import NOW, person, seen, village
from villaged.core.assess import assess
from villaged.core.attention import by_urgency, meetings_ahead, stale_invitation
from villaged.core.replies import replies_owed
from villaged.domain.village import DraftRecord, DraftState, Kind, Role

DAY = dt.timedelta(days=1)


def test_a_reply_is_owed_when_they_wrote_last_and_nothing_came_after():
    items = [seen("ada", 30, Kind.EMAIL_OUT), seen("ada", 12, subject="Your K award aims?")]
    owed = replies_owed(items, NOW)
    assert list(owed) == ["ada"]
    assert owed["ada"].message.subject == "Your K award aims?" and owed["ada"].days(NOW) == 12


def test_an_answer_or_a_meeting_since_settles_it():
    answered = [seen("ada", 12), seen("ada", 2, Kind.EMAIL_OUT)]
    met = [seen("ada", 12), seen("ada", 3, Kind.MEETING)]
    assert replies_owed(answered, NOW) == {}
    assert replies_owed(met, NOW) == {}


def test_a_meeting_still_ahead_does_not_answer_a_message():
    items = [seen("ada", 12), seen("ada", -2, Kind.MEETING)]
    assert list(replies_owed(items, NOW)) == ["ada"]


def test_only_direct_mail_counts():
    items = [seen("ada", 30, Kind.EMAIL_OUT), seen("ada", 5, direct=False, status="bulk")]
    assert replies_owed(items, NOW) == {}
    assert replies_owed([seen("ada", 5, Kind.EMAIL_OUT), seen("ada", 10)], NOW) == {}


def test_old_messages_can_be_left_out():
    items = [seen("ada", 90), seen("kj", 20)]
    assert sorted(replies_owed(items, NOW)) == ["ada", "kj"]
    assert list(replies_owed(items, NOW, within=60 * DAY)) == ["kj"]


def test_people_by_urgency():
    people = [person("warm", Role.PEER_MENTOR), person("never", Role.ALLY),
              person("cooling", Role.MENTOR), person("cold", Role.MENTOR),
              person("lapsed", Role.MENTOR), person("colder", Role.MENTOR)]
    v = village(people)
    standings = assess(v, [seen("warm", 3), seen("cooling", 40), seen("cold", 60),
                           seen("colder", 80), seen("lapsed", 200)], NOW)
    assert [s.person.key for s in by_urgency(standings)] == [
        "lapsed", "colder", "cold", "cooling", "never", "warm"]


def test_meetings_ahead_are_one_line_per_event():
    items = [seen("ada", -1, Kind.MEETING, uid="m1", subject="Lunch"),
             seen("kj", -1, Kind.MEETING, uid="m1", subject="Lunch"),
             seen("ada", -9, Kind.MEETING, uid="m2"),
             seen("ada", -2, Kind.MEETING, uid="m3", direct=False, status="declined")]
    [meeting] = meetings_ahead(items, ["ada", "kj"], NOW, 7)
    assert meeting.people == ("ada", "kj") and meeting.subject == "Lunch"


def test_an_invitation_from_an_earlier_week_is_stale():
    def invite(week: str, state: DraftState = DraftState.PENDING) -> DraftRecord:
        return DraftRecord(f"invite:ada:{week}", "ada", "invite", week, state, NOW - 7 * DAY)

    assert stale_invitation(invite("2026-W47"), "2026-W48", NOW)
    assert not stale_invitation(invite("2026-W48"), "2026-W48", NOW)
    assert not stale_invitation(invite("2026-W47", DraftState.SENT), "2026-W48", NOW)
