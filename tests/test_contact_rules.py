"""What counts as contact: the shared rules, one case at a time."""

import datetime as dt

import pytest

from tests.conftest import NOW, person
from villaged.core.contact import EventFacts, MailFacts, classify_email, classify_event, date_problem
from villaged.domain.addresses import Matcher, normalize
from villaged.domain.village import Kind, Thresholds

MATCHER = Matcher.build(["dana@uni.example", "dana.reyes@gmail.com"],
                        [person("ada", emails=("ada@example.org", "ada.l@gmail.com"))])
LIMITS = Thresholds()


@pytest.mark.parametrize("address, expected", [
    ("Ada@Example.ORG", "ada@example.org"),
    ("ada+work@example.org", "ada@example.org"),
    ("A.D.A.L@googlemail.com", "adal@gmail.com"),
    ("ada.l+x@gmail.com", "adal@gmail.com"),
    ("a.d.a@example.org", "a.d.a@example.org"),  # dots only matter outside Gmail
])
def test_addresses_normalise(address, expected):
    assert normalize(address) == expected


def test_aliases_of_the_owner_and_every_address_of_a_person_match():
    assert MATCHER.is_owner("Dana.Reyes+lists@googlemail.com")
    assert MATCHER.person_of("adal@gmail.com") == "ada"
    assert MATCHER.person_of("ada@other.example") is None


def mail(senders, to=(), cc=(), bcc=(), bulk=False):
    return MailFacts(uid="<m@x>", date=NOW, senders=tuple(senders), to=tuple(to), cc=tuple(cc),
                     bcc=tuple(bcc), bulk=bulk)


def direct(facts):
    return [(i.person, i.kind, i.direct, i.status)
            for i in classify_email(facts, MATCHER, LIMITS, "test")]


def test_sent_mail_counts_for_to_cc_and_bcc():
    for field in ("to", "cc", "bcc"):
        facts = mail(["dana@uni.example"], **{field: ["ada@example.org"]})
        assert direct(facts) == [("ada", Kind.EMAIL_OUT, True, "ok")]


def test_received_mail_counts_only_when_the_owner_is_in_to_or_cc():
    assert direct(mail(["ada@example.org"], to=["dana@uni.example"]))[0][2] is True
    assert direct(mail(["ada@example.org"], cc=["dana.reyes@gmail.com"]))[0][2] is True
    bcc_only = direct(mail(["ada@example.org"], to=["someone@else.example"]))
    assert bcc_only == [("ada", Kind.EMAIL_IN, False, "not-addressed-to-owner")]


def test_mass_mail_never_counts():
    assert direct(mail(["ada@example.org"], to=["dana@uni.example"], bulk=True))[0][2:] == \
        (False, "bulk")
    crowd = ["dana@uni.example"] + [f"p{n}@x.example" for n in range(10)]
    assert direct(mail(["ada@example.org"], to=crowd))[0][2:] == (False, "too-many-recipients")
    assert direct(mail(["dana@uni.example"], to=crowd[1:] + ["ada@example.org"]))[0][2] is False


def test_mail_between_strangers_is_not_evidence():
    assert direct(mail(["bob@x.example"], to=["dana@uni.example", "ada@example.org"])) == []


def event(attendees, cancelled=False):
    return EventFacts(uid="e@1", start=NOW, attendees=tuple(attendees), cancelled=cancelled,
                      organizer="dana@uni.example")


def meeting(facts):
    return [(i.person, i.direct, i.status) for i in classify_event(facts, MATCHER, LIMITS, "t")]


def test_a_meeting_counts_unless_declined_cancelled_or_crowded():
    assert meeting(event([("ada@example.org", "ACCEPTED")])) == [("ada", True, "ok")]
    assert meeting(event([("ada@example.org", "DECLINED")])) == [("ada", False, "declined")]
    assert meeting(event([("ada@example.org", "ACCEPTED"), ("dana@uni.example", "DECLINED")])) \
        == [("ada", False, "declined")]
    assert meeting(event([("ada@example.org", "ACCEPTED")], cancelled=True))[0][2] == "cancelled"
    crowd = [("ada@example.org", "ACCEPTED")] + [(f"p{n}@x", "ACCEPTED") for n in range(12)]
    assert meeting(event(crowd))[0][2] == "too-many-attendees"


def test_absurd_dates_are_refused():
    assert date_problem(None, NOW) == "missing or unparseable date"
    assert date_problem(dt.datetime(1970, 1, 1, tzinfo=dt.UTC), NOW) == "date before 1980"
    assert date_problem(dt.datetime(2999, 1, 1, tzinfo=dt.UTC), NOW) == \
        "date in the far future"
    assert date_problem(NOW - dt.timedelta(days=3), NOW) is None
