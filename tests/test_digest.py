"""The weekly digest: contents, well-formed and escaped HTML, owner-only delivery, once a week."""

import dataclasses
import datetime as dt
import email
import email.policy
import mailbox
from email.message import EmailMessage
from pathlib import Path

import html5lib
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import NOW, convo, person, seen, village
from villaged.backends.local.backend import LocalIO
from villaged.backends.local.digest import MaildirDigestBox
from villaged.cli.main import main
from villaged.compose.digest import (
    DigestInput,
    compose_digest,
    digest_parts,
    digest_view,
    sparkline,
    subject_line,
)
from villaged.compose.templating import environment
from villaged.domain.village import (
    Agreement,
    DraftRecord,
    DraftState,
    Give,
    Kind,
    Role,
    Village,
)
from villaged.ports.digest import RecipientRefused, owner_only
from villaged.service.digest import run_digest
from villaged.store import Store

AGREEMENT = Agreement(rrule="FREQ=WEEKLY;INTERVAL=2", rhythm="every 2 weeks", interval_days=14)
DAY = dt.timedelta(days=1)


def known_people():
    return [
        person("ada", Role.MENTOR, name="Ada Lovelace", agreement=AGREEMENT),
        person("kj", Role.ADVOCATE, name="Katherine Johnson"),
        person("rosa", Role.COACH, name="Rosalind Franklin"),
        person("lise", Role.PEER_MENTOR, name="Lise Meitner"),
        person("barb", Role.ALLY, name="Barbara McClintock"),
        person("marie", Role.ROLE_MODEL, name="Marie Curie"),
        person("hedy", Role.PEER_MENTOR, name="Hedy Lamarr"),
    ]


def series(days_ago, status):
    return seen("ada", days_ago, Kind.MEETING, direct=status == "ok", status=status,
                series="ada-series@t", uid=f"ada-series@t:{days_ago}",
                subject="Mentoring: Ada / Dana")


def known_interactions():
    return [
        series(42, "declined"), series(28, "declined"), series(14, "cancelled"),
        series(-2, "declined"), *convo("ada", 20),
        *convo("kj", 20),
        *convo("rosa", 10),
        *convo("lise", 15), seen("lise", -3, Kind.MEETING, subject="Peer mentoring, Lise"),
        seen("lise", -9, Kind.MEETING, subject="Too far ahead"),
        seen("barb", 200), seen("barb", 10, Kind.EMAIL_OUT),
        *convo("marie", 300),
        seen("hedy", 50),  # never answered: villaged drafts a reply, not a check-in
    ]


def sent_checkin(who, days_ago):
    return DraftRecord(key=f"checkin:{who}:old-{days_ago}", person=who, kind="checkin",
                       week="2026-W40", state=DraftState.SENT, created_at=NOW - days_ago * DAY)


def setup_store(store: Store, v: Village) -> None:
    store.apply_sync("test", known_interactions(), {})
    for record in (sent_checkin("barb", 10), sent_checkin("marie", 60), sent_checkin("marie", 30)):
        store.ledger_begin(record)
    store.add_give(Give("ada", NOW - 40 * DAY, "Thanked Ada in my grand rounds talk"))
    store.add_give(Give("rosa", NOW - 5 * DAY, "Wrote Rosalind a testimonial"))
    for week, warm, overdue in (("2026-W45", 2, 4), ("2026-W46", 3, 3), ("2026-W47", 3, 2)):
        store.put_snapshot(week, NOW - 7 * DAY, {"warm": warm, "overdue": overdue})


@pytest.fixture
def known(tmp_path: Path):
    from villaged.service.round import run_round

    v = village(known_people(), tmp_path)
    io = LocalIO(v, v.backend)
    with Store(tmp_path / "state.sqlite3") as store:
        setup_store(store, v)
        run_round(v, store, io, NOW, sync=False, draft=True)  # Monday's drafts
        yield v, store, io


def strict_parse(html: str):
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(html)


def section(text: str, title: str) -> str:
    return text.split(f"== {title}")[1].split("\n== ", maxsplit=1)[0]


def test_the_digest_for_a_known_village(known):
    v, store, io = known
    result = run_digest(v, store, io, NOW)
    text = result.text
    assert result.subject == "Your village this week: 2 going cold, 1 draft to review"
    assert text.startswith("Good morning Dana.")
    # the order: what to do first, then meetings, then the village, then the trend
    heads = [line for line in text.splitlines() if line.startswith("== ")]
    assert heads == ["== This week ==", "== Meetings in the next 7 days ==",
                     "== Your village ==", "== Trend, last 4 weeks =="]

    week = section(text, "This week")
    assert week.index("Review the reply for Hedy Lamarr") < week.index("Give back:")
    assert "Needs your words: fill in the [your reply] blank" in week
    assert "They wrote last, on 4 Oct (50 days ago)." in week  # her unanswered message
    assert str(v.backend.drafts) in week
    assert "Publicly recognise Katherine's latest achievement" in week  # never given: oldest
    stale = week.split("Invitations gone stale:")[1]
    assert "Ada Lovelace" in stale and "3 of the last 3" in stale  # the series falls through

    meetings = section(text, "Meetings in the next 7 days")
    assert "Thu 26 Nov" in meetings and "Lise Meitner: Peer mentoring, Lise" in meetings
    assert "Too far ahead" not in meetings and "Mentoring: Ada" not in meetings  # declined

    village_part = section(text, "Your village")
    # the empty role: one line, one tip, not a box per role
    assert village_part.count("No one yet as sponsor.") == 1
    tip = " ".join(village_part.split())  # the text part wraps at 78 columns
    assert "A sponsor is someone with influence" in tip
    assert "`villaged prospect add NAME EMAIL --role sponsor` records someone to approach" in tip
    # people by urgency: lapsed and cold first, then cooling, unknown, warm
    order = [line[2:].split("  ")[0] for line in village_part.splitlines()
             if line.startswith("- ")]
    assert order == ["Marie Curie", "Hedy Lamarr", "Ada Lovelace", "Barbara McClintock",
                     "Katherine Johnson", "Lise Meitner", "Rosalind Franklin"]
    attention = village_part.split("Everyone else:")[0]
    assert "Marie Curie          cold     role model" in attention
    assert "last 2026-01-27 (email to them), 180 days overdue" in attention
    assert "Let it rest: your last 2 check-ins went unanswered." in attention
    assert "Barbara McClintock" not in attention
    assert "Your check-in of 13 Nov: no reply yet" in village_part  # Barbara

    trend = section(text, "Trend, last 4 weeks")
    assert "warm     ▄▅▅█  5 (+2 on last week)" in trend  # W45..W48 incl. this week
    assert "overdue  █▆▅▅  2 (same as last week)" in trend

    # the HTML says the same things, in the same order
    doc = strict_parse(result.html)
    ids = [e.get("id") for e in doc.iter() if e.get("id")]
    assert ids == ["this-week", "give-back", "meetings", "village", "trend"]
    html_text = " ".join(doc.itertext())
    for needle in ("No one yet as sponsor.", "Hedy Lamarr", "Let it rest",
                   "Publicly recognise Katherine", "keeps being declined"):
        assert needle in html_text
    assert html_text.index("Review the reply for Hedy") < html_text.index("Needs attention")


def test_the_text_part_fits_78_columns(known):
    v, store, io = known
    text = run_digest(v, store, io, NOW).text
    for line in text.splitlines():
        assert len(line) <= 78 or " " not in line.strip(), line  # only a lone long path


def test_the_trend_waits_for_four_weekly_points(tmp_path: Path):
    v = village([person("ada", name="Ada Lovelace")], tmp_path)
    weeks = [("2026-W46", {"warm": 1, "overdue": 0}), ("2026-W47", {"warm": 0, "overdue": 1})]
    data = DigestInput(week="2026-W48", standings=[], plan=[], ledger=[], interactions=[],
                       snapshots=weeks, giveback=None, drafts_link="/d")
    assert digest_view(v, data, NOW).trend is None
    msg = compose_digest(v, data, environment(None), NOW, "k")
    assert "Trend" not in digest_parts(msg)[0] and 'id="trend"' not in digest_parts(msg)[1]
    more = dataclasses.replace(data, snapshots=[("2026-W45", {"warm": 2}), *weeks])
    trend = digest_view(v, more, NOW).trend
    assert trend is not None and trend.weeks == ("2026-W45", "2026-W46", "2026-W47", "2026-W48")


@pytest.mark.parametrize("hour,word", [(7, "Good morning"), (13, "Good afternoon"),
                                       (17, "Good afternoon"), (19, "Good evening")])
def test_the_greeting_follows_the_owners_local_hour(tmp_path: Path, hour, word):
    v = village([], tmp_path)
    at = dt.datetime(2026, 11, 23, hour, 14, tzinfo=v.owner.timezone)
    data = DigestInput(week="2026-W48", standings=[], plan=[], ledger=[], interactions=[],
                       snapshots=[], giveback=None, drafts_link="/d")
    assert digest_view(v, data, at).greeting == f"{word} Dana"


def test_the_html_is_email_safe(known):
    v, store, io = known
    html = run_digest(v, store, io, NOW).html
    doc = strict_parse(html)
    tags = {e.tag for e in doc.iter() if isinstance(e.tag, str)}
    assert not tags & {"script", "img", "link", "style", "iframe", "object"}
    # bars are table cells with bgcolor and width, which Outlook's Word renderer draws
    bars = [e for e in doc.iter() if e.get("class") == "bar"]
    assert len(bars) == sum(1 for p in v.people if p.key != "nobody")
    for bar in bars:
        cells = [e for e in bar.iter() if e.tag == "td"]
        assert all(c.get("bgcolor") and c.get("width", "").endswith("%") for c in cells)
    assert "file:" not in html and "inline-block" not in html


def test_the_message_goes_to_the_owner_only_as_text_and_html(known):
    v, store, io = known
    result = run_digest(v, store, io, NOW)
    msg = email.message_from_bytes(bytes(result.message), policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert [a.addr_spec for a in msg["To"].addresses] == ["dana@uni.example"]
    assert msg["Cc"] is None and msg["Bcc"] is None
    assert msg["X-Villaged-Key"] == "digest:2026-W48"


def test_delivered_once_into_the_inbox_next_to_the_drafts_not_as_a_draft(known):
    v, store, io = known
    first = run_digest(v, store, io, NOW)
    second = run_digest(v, store, io, NOW + DAY)
    assert first.delivered and not second.delivered
    assert "already delivered" in second.note and "--force" in second.note
    inbox = mailbox.Maildir(v.backend.drafts.parent, create=False)
    [message] = list(inbox)
    assert message.get_subdir() == "new" and "D" not in message.get_flags()
    assert message["Subject"] == first.subject
    forced = run_digest(v, store, io, NOW + DAY, force=True)
    assert forced.delivered and len(list(inbox)) == 2
    next_week = run_digest(v, store, io, NOW + 7 * DAY)
    assert next_week.delivered and len(list(inbox)) == 3


def test_the_give_back_never_repeats_the_same_suggestion_in_a_row(known):
    v, store, io = known
    first = run_digest(v, store, io, NOW)
    again = run_digest(v, store, io, NOW, force=True)  # the same week keeps its suggestion
    assert first.giveback and again.giveback and again.giveback.text == first.giveback.text
    later = run_digest(v, store, io, NOW + 7 * DAY)
    assert later.giveback and later.giveback.person.key == "kj"  # still the oldest
    assert later.giveback.text != first.giveback.text
    memory = store.giveback_memory()
    assert memory is not None and memory.text == later.giveback.text and memory.prior == first.giveback.text


def test_render_only_delivers_nothing(known):
    v, store, io = known
    result = run_digest(v, store, io, NOW, deliver=False)
    assert not result.delivered and result.text and result.html
    assert not (v.backend.drafts.parent / "new").exists() or \
        not list(mailbox.Maildir(v.backend.drafts.parent, create=False))
    assert store.delivery("2026-W48") is None


# -- escaping ------------------------------------------------------------------------

HOSTILE = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>']


def test_hostile_names_subjects_and_notes_show_as_text(tmp_path: Path):
    people = [
        person("evil", Role.SPONSOR, name=HOSTILE[0],
               gives=('<a href="javascript:alert(1)">click</a>',)),
        person("worse", Role.PEER_MENTOR, name=HOSTILE[1]),
    ]
    v = village(people, tmp_path)
    v = dataclasses.replace(v, owner=dataclasses.replace(v.owner, name="<b>Dana</b> Reyes"))
    items = [seen("evil", 5), seen("worse", 5),
             seen("evil", -2, Kind.MEETING, subject="<iframe src=javascript:alert(1)></iframe>")]
    with Store(tmp_path / "s.sqlite3") as store:
        store.apply_sync("test", items, {})
        store.ledger_begin(DraftRecord(key="checkin:worse:x", person="worse", kind="checkin",
                                       week="2026-W48", state=DraftState.SENT,
                                       created_at=NOW - 3 * DAY, subject="<svg onload=alert(1)>"))
        result = run_digest(v, store, LocalIO(v, v.backend), NOW, deliver=False)
    doc = strict_parse(result.html)
    elements = [e for e in doc.iter() if isinstance(e.tag, str)]
    assert not {e.tag for e in elements} & {"script", "img", "iframe", "svg", "b", "a"}
    assert not [k for e in elements for k in e.attrib if k.lower().startswith("on")]
    text = "".join(doc.itertext())
    for needle in (*HOSTILE, "<iframe src=javascript:alert(1)></iframe>",
                   '<a href="javascript:alert(1)">click</a>', "<b>Dana</b>"):
        assert needle in text
    assert "&lt;script&gt;" in result.html


# -- only ever the owner ------------------------------------------------------------------


def digest_message(v: Village) -> EmailMessage:
    data = DigestInput(week="2026-W48", standings=[], plan=[], ledger=[], interactions=[],
                       snapshots=[], giveback=None, drafts_link="/tmp/d")
    return compose_digest(v, data, environment(None), NOW, "digest:2026-W48")


@pytest.mark.parametrize("header,value", [
    ("Cc", "ada@example.org"), ("Bcc", "dana@uni.example"), ("Resent-To", "x@evil.example"),
    ("To", "second@evil.example"),
])
def test_delivery_refuses_any_recipient_but_the_owner(tmp_path: Path, header, value):
    v = village([], tmp_path)
    msg = digest_message(v)
    owner_only(msg, v.owner)  # the digest as built passes
    if header in msg:
        msg.replace_header(header, value)
    else:
        msg[header] = value
    with pytest.raises(RecipientRefused):
        owner_only(msg, v.owner)
    with pytest.raises(RecipientRefused):
        LocalIO(v, v.backend).deliver_digest(msg)
    assert not (tmp_path / "Maildir" / "new").exists() or \
        not list(mailbox.Maildir(tmp_path / "Maildir", create=False))


@pytest.mark.parametrize("to", ["Dana <dana.reyes@gmail.com>", "dana+x@uni.example",
                                "dana@uni.example, ada@example.org", "undisclosed-recipients:;"])
def test_the_owners_other_addresses_and_lists_are_refused_too(tmp_path: Path, to):
    v = village([], tmp_path)
    msg = digest_message(v)
    msg.replace_header("To", to)
    with pytest.raises(RecipientRefused):
        MaildirDigestBox(tmp_path / "Maildir", v.owner).deliver(msg)


@settings(max_examples=60, deadline=None)
@given(name=st.text(min_size=1, max_size=40))
def test_whatever_the_owner_is_called_the_digest_has_one_recipient(name):
    v = village([])
    v = dataclasses.replace(v, owner=dataclasses.replace(v.owner, name=name))
    msg = email.message_from_bytes(bytes(digest_message(v)), policy=email.policy.default)
    owner_only(msg, v.owner)
    assert [a.addr_spec for a in msg["To"].addresses] == ["dana@uni.example"]
    assert all(msg[h] is None for h in ("Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"))


# -- small pieces ----------------------------------------------------------------------


def test_sparkline_and_subject():
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([]) == ""
    assert subject_line(2, 1) == "Your village this week: 2 going cold, 1 draft to review"
    assert subject_line(0, 0) == "Your village this week: nobody going cold, no drafts to review"


def test_a_gmail_drafts_link_is_a_link(tmp_path: Path):
    v = village([person("ada")], tmp_path)
    draft = DraftRecord(key="checkin:ada:2026-W48", person="ada", kind="checkin",
                        week="2026-W48", state=DraftState.CREATED, created_at=NOW)
    data = DigestInput(week="2026-W48", standings=[], plan=[], ledger=[draft], interactions=[],
                       snapshots=[], giveback=None,
                       drafts_link="https://mail.google.com/mail/u/0/#drafts")
    assert digest_view(v, data, NOW).drafts_link_is_url
    html = compose_digest(v, data, environment(None), NOW, "k").get_body(("html",)).get_content()
    links = [e for e in strict_parse(html).iter() if e.tag == "a"]
    assert [a.get("href") for a in links] == ["https://mail.google.com/mail/u/0/#drafts"]


# -- through the command line -----------------------------------------------------------


def write_config(tmp_path: Path) -> Path:
    (tmp_path / "cal.ics").write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
                                      "END:VCALENDAR\r\n")
    config = tmp_path / "village.toml"
    config.write_text("""
[owner]
name = "Dana Reyes"
addresses = ["dana@uni.example"]
timezone = "America/Chicago"

[backend]
kind = "local"
calendars = ["cal.ics"]
drafts = "Maildir/.Drafts"

[[person]]
name = "Ada Lovelace"
emails = ["ada@example.org"]
role = "mentor"
""")
    return config


def cli(tmp_path: Path, *args: str, now: str = "2026-11-23T08:00:00-06:00"):
    runner = CliRunner()
    return runner.invoke(main, ["--config", str(tmp_path / "village.toml"), "--state-dir",
                                str(tmp_path / "state"), "--now", now, *args])


def inbox_count(tmp_path: Path) -> int:
    return len(list(mailbox.Maildir(tmp_path / "Maildir", create=False)))


def test_cli_delivers_once_a_week_unless_forced(tmp_path: Path):
    write_config(tmp_path)
    first = cli(tmp_path, "digest", "--no-sync")
    assert first.exit_code == 0, first.output
    assert "delivered" in first.output and "dana@uni.example" in first.output
    assert inbox_count(tmp_path) == 1
    again = cli(tmp_path, "digest", "--no-sync", now="2026-11-25T08:00:00-06:00")
    assert again.exit_code == 0 and "already delivered" in again.output
    assert inbox_count(tmp_path) == 1
    forced = cli(tmp_path, "digest", "--no-sync", "--force")
    assert forced.exit_code == 0 and inbox_count(tmp_path) == 2


def test_cli_previews_never_deliver(tmp_path: Path):
    write_config(tmp_path)
    out = tmp_path / "digest.html"
    result = cli(tmp_path, "digest", "--no-sync", "--stdout", "--html", str(out))
    assert result.exit_code == 0, result.output
    assert "== This week ==" in result.output and "No one yet as sponsor" in result.output
    assert "not delivered" in result.output
    strict_parse(out.read_text(encoding="utf-8"))
    assert not (tmp_path / "Maildir").exists() or inbox_count(tmp_path) == 0
    assert cli(tmp_path, "digest", "--no-sync", "--html", str(out)).exit_code == 0
    assert not (tmp_path / "Maildir").exists() or inbox_count(tmp_path) == 0
    # previews did not use up the week's delivery
    assert "delivered" in cli(tmp_path, "digest", "--no-sync").output
    assert inbox_count(tmp_path) == 1


def test_cli_a_preview_delivers_when_asked(tmp_path: Path):
    write_config(tmp_path)
    result = cli(tmp_path, "digest", "--no-sync", "--stdout", "--deliver")
    assert result.exit_code == 0, result.output
    assert "== This week ==" in result.output and inbox_count(tmp_path) == 1


def test_the_trend_keeps_the_snapshot_the_delivered_digest_showed(known):
    from villaged.service.round import run_round

    v, store, io = known
    delivered = run_digest(v, store, io, NOW)
    assert delivered.delivered
    shown = dict(store.snapshots())["2026-W48"]
    assert shown["warm"] == 5 and shown["overdue"] == 2
    # later in the week Marie and Hedy write back: rounds and previews leave W48 alone
    store.apply_sync("test", [seen("marie", -1), seen("hedy", -2)], {})
    run_round(v, store, io, NOW + 3 * DAY, sync=False, draft=True)
    preview = run_digest(v, store, io, NOW + 3 * DAY, deliver=False)
    assert "warm     ▃▄▄█  7 (+4 on last week)" in preview.text  # the preview: this moment
    assert dict(store.snapshots())["2026-W48"] == shown
    next_week = run_digest(v, store, io, NOW + 7 * DAY)
    assert next_week.delivered
    now_warm = dict(store.snapshots())["2026-W49"]["warm"]
    assert now_warm == 7
    # last week's point is the 5 the owner read, not the 7 of later rounds
    assert "warm     ▃▄▄▆█  7 (+2 on last week)" in section(next_week.text, "Trend, last 5 weeks")
    assert dict(store.snapshots())["2026-W48"] == shown


def test_an_invitation_says_when_it_proposes_to_meet(tmp_path: Path):
    ada = person("ada", Role.MENTOR, name="Ada Lovelace", agreement=AGREEMENT,
                 interests=("computing history",))
    v = village([ada], tmp_path)
    slot = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)  # Tue 09:00 in Chicago
    invite = DraftRecord(key="invite:ada:2026-W48", person="ada", kind="invite",
                         week="2026-W48", state=DraftState.CREATED, created_at=NOW,
                         subject="Our mentoring meetings", slot=slot)
    with Store(tmp_path / "s.sqlite3") as store:
        store.ledger_begin(invite)
        [stored] = store.ledger()
    assert stored.slot == slot
    data = DigestInput(week="2026-W48", standings=[], plan=[], ledger=[stored],
                       interactions=[], snapshots=[], giveback=None, drafts_link="/d")
    text = digest_parts(compose_digest(v, data, environment(None), NOW, "k"))[0]
    week = section(text, "This week")
    assert "- Review the invitation to Ada Lovelace" in week
    assert "First meeting Tue 24 Nov, 09:00, tomorrow: short notice; then every 2 weeks." in week
    # a week later, unsent: stale, and it says the date has passed
    later = dataclasses.replace(data, week="2026-W49")
    text = digest_parts(compose_digest(v, later, environment(None), NOW + 7 * DAY, "k"))[0]
    stale = section(text, "This week").split("Invitations gone stale:")[1]
    assert "Ada Lovelace" in stale and "proposes Tue 24 Nov, which has passed" in stale


def test_cli_gives_lists_each_person_and_time_since_the_last_give(tmp_path: Path):
    write_config(tmp_path)
    config = tmp_path / "village.toml"
    config.write_text(config.read_text() + """
[[person]]
name = "Grace Hopper"
emails = ["grace@navy.example"]
role = "sponsor"
""")
    logged = cli(tmp_path, "log", "Ada Lovelace", "--give", "Nominated Ada for the award",
                 "--date", "2026-11-13")
    assert logged.exit_code == 0, logged.output
    assert cli(tmp_path, "log", "ada@example.org", "--give", "Shared her preprint",
               "--date", "2026-10-01").exit_code == 0
    result = cli(tmp_path, "gives")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["person", "role", "gives", "last", "give", "since", "what"]
    ada = next(line for line in lines if line.startswith("Ada Lovelace"))
    assert ada.split()[2:6] == ["mentor", "2", "2026-11-13", "10"]
    assert "10 days ago" in ada and "Nominated Ada for the award" in ada
    grace = next(line for line in lines if line.startswith("Grace Hopper"))
    assert "never" in grace and grace.split()[3] == "0"


DECLINED_SERIES_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//declined//EN
BEGIN:VEVENT
UID:ada-series@uni.example
SUMMARY:Mentoring: Ada / Dana
DTSTART;TZID=America/Chicago:20260908T100000
DTEND;TZID=America/Chicago:20260908T104500
RRULE:FREQ=WEEKLY;INTERVAL=2
DTSTAMP:20260901T000000Z
ORGANIZER;CN=Dana Reyes:mailto:dana@uni.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@uni.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:ada@example.org
END:VEVENT
BEGIN:VEVENT
UID:ada-series@uni.example
RECURRENCE-ID;TZID=America/Chicago:20261020T100000
SUMMARY:Mentoring: Ada / Dana
DTSTART;TZID=America/Chicago:20261020T100000
DTEND;TZID=America/Chicago:20261020T104500
DTSTAMP:20260901T000000Z
ORGANIZER;CN=Dana Reyes:mailto:dana@uni.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@uni.example
ATTENDEE;PARTSTAT=DECLINED:mailto:ada@example.org
END:VEVENT
BEGIN:VEVENT
UID:ada-series@uni.example
RECURRENCE-ID;TZID=America/Chicago:20261103T100000
SUMMARY:Mentoring: Ada / Dana
STATUS:CANCELLED
DTSTART;TZID=America/Chicago:20261103T100000
DTEND;TZID=America/Chicago:20261103T104500
DTSTAMP:20260901T000000Z
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@uni.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:ada@example.org
END:VEVENT
BEGIN:VEVENT
UID:ada-series@uni.example
RECURRENCE-ID;TZID=America/Chicago:20261117T100000
SUMMARY:Mentoring: Ada / Dana
DTSTART;TZID=America/Chicago:20261117T100000
DTEND;TZID=America/Chicago:20261117T104500
DTSTAMP:20260901T000000Z
ORGANIZER;CN=Dana Reyes:mailto:dana@uni.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@uni.example
ATTENDEE;PARTSTAT=DECLINED:mailto:ada@example.org
END:VEVENT
END:VCALENDAR
"""


def test_a_declined_series_in_a_real_calendar_is_a_digest_note_and_no_draft(tmp_path: Path):
    from villaged.service.round import run_round

    ics = tmp_path / "cal.ics"
    ics.write_text(DECLINED_SERIES_ICS.replace("\n", "\r\n"))
    v = village([person("ada", Role.MENTOR, name="Ada Lovelace", emails=("ada@example.org",),
                        agreement=AGREEMENT)], tmp_path)
    v = dataclasses.replace(v, backend=dataclasses.replace(v.backend, calendars=(ics,)))
    io = LocalIO(v, v.backend)
    with Store(tmp_path / "s.sqlite3") as store:
        result = run_round(v, store, io, NOW, sync=True, draft=True)
        digest = run_digest(v, store, io, NOW)
    assert result.written == []
    [item] = result.plan
    assert item.guard == "series-declined"
    notes = section(digest.text, "This week").split("Invitations gone stale:")[1]
    assert "Ada Lovelace" in notes and "(3 of the last 3)" in notes


def test_the_owner_can_override_the_digest_templates(tmp_path: Path):
    folder = tmp_path / "templates" / "digest"
    folder.mkdir(parents=True)
    (folder / "digest.txt.j2").write_text(
        "{{ subject }}\n{% for c in attention + others %}{{ c.name }}\n{% endfor %}")
    v = dataclasses.replace(village([person("ada", name="Ada Lovelace")], tmp_path),
                            config_path=tmp_path / "village.toml")
    with Store(tmp_path / "s.sqlite3") as store:
        result = run_digest(v, store, LocalIO(v, v.backend), NOW, deliver=False)
    assert result.text.splitlines() == [
        "Your village this week: nobody going cold, no drafts to review", "Ada Lovelace"]
    assert "Your village" in result.html  # the shipped HTML template still applies


def test_someone_paused_needs_no_attention_until_the_pause_ends(tmp_path: Path):
    from villaged.core.assess import assess

    wu = person("wu", Role.PEER_MENTOR, name="Chien-Shiung Wu",
                paused_until=dt.date(2027, 1, 15))
    v = village([wu, person("kj", Role.ADVOCATE, name="Katherine Johnson")], tmp_path)
    items = [seen("wu", 200), seen("kj", 200)]
    data = DigestInput(week="2026-W48", standings=assess(v, items, NOW), plan=[], ledger=[],
                       interactions=items, snapshots=[], giveback=None, drafts_link="/d")
    view = digest_view(v, data, NOW)
    assert [c.name for c in view.attention] == ["Katherine Johnson"]
    [paused] = view.others
    assert paused.temperature == "lapsed" and paused.paused == "15 Jan 2027"
    text = digest_parts(compose_digest(v, data, environment(None), NOW, "k"))[0]
    assert "paused until 2027-01-15" in section(text, "Your village").split("Everyone else:")[1]
