"""Capture that takes seconds: names that resolve, log for the hallway, snooze, show."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import village as make_village
from tests.test_cli import run_in, village_dir  # noqa: F401  (fixture)
from villaged.cli.dates import past_day, until_day
from villaged.domain.errors import VillagedError
from villaged.domain.lookup import find_person
from villaged.domain.village import Person, Role

THURSDAY = dt.date(2026, 11, 26)


def people(*names: str) -> list[Person]:
    return [Person(key=n.lower().replace(" ", "-").replace(".", ""), name=n,
                   emails=(f"{n.split()[-1].lower()}@example.org",), role=Role.MENTOR)
            for n in names]


@pytest.fixture
def village():
    return make_village(people("Dr. Sofia Álvarez", "Ruth Okonkwo", "Rosalind Franklin",
                               "José Rizal"))


@pytest.mark.parametrize("typed, expected", [
    ("sofia", "Dr. Sofia Álvarez"),          # a unique first name, title skipped
    ("SOFIA ALVAREZ", "Dr. Sofia Álvarez"),  # case and accents do not matter
    ("jose", "José Rizal"),
    ("ruth-okonkwo", "Ruth Okonkwo"),        # the key
    ("Okonkwo@Example.org", "Ruth Okonkwo"),  # an address
    ("rosa", "Rosalind Franklin"),           # a unique prefix
    ("okon", "Ruth Okonkwo"),                # a prefix of the last name
])
def test_names_resolve_the_way_people_type_them(village, typed, expected):
    assert find_person(village, typed).name == expected


def test_an_ambiguous_name_lists_the_candidates(village):
    with pytest.raises(VillagedError) as err:
        find_person(village, "r")
    assert "Ruth Okonkwo" in str(err.value) and "Rosalind Franklin" in str(err.value)


def test_an_unknown_name_says_who_is_there(village):
    with pytest.raises(VillagedError) as err:
        find_person(village, "marie")
    assert "no one called 'marie'" in str(err.value) and "Ruth Okonkwo" in err.value.fix


@pytest.mark.parametrize("typed, expected", [
    ("today", THURSDAY), ("yesterday", dt.date(2026, 11, 25)),
    ("tuesday", dt.date(2026, 11, 24)), ("thu", dt.date(2026, 11, 19)),  # the last one before today
    ("-3d", dt.date(2026, 11, 23)), ("2026-10-01", dt.date(2026, 10, 1)),
])
def test_log_dates_as_people_say_them(typed, expected):
    assert past_day(typed, THURSDAY) == expected


@pytest.mark.parametrize("typed", ["tomorrow", "2026-12-01", "3 days ago", ""])
def test_log_dates_that_make_no_sense_are_refused(typed):
    with pytest.raises(VillagedError):
        past_day(typed, THURSDAY)


def test_snooze_lengths():
    assert until_day("2w", THURSDAY) == dt.date(2026, 12, 10)
    assert until_day("10d", THURSDAY) == dt.date(2026, 12, 6)
    assert until_day("2027-03-01", THURSDAY) == dt.date(2027, 3, 1)
    for bad in ("0d", "yesterday", "2026-11-01"):
        with pytest.raises(VillagedError):
            until_day(bad, THURSDAY)


# -- end to end, as the owner types it -------------------------------------------------

def test_log_a_hallway_chat_by_first_name_then_undo_it(village_dir):
    out = run_in(village_dir, "log", "rosalind", "--date", "yesterday", "--note", "coffee at ASCO")
    assert out.returncode == 0, out.stderr
    assert "recorded contact with Dr. Rosalind Franklin on 2026-11-22" in out.stdout
    shown = json.loads(run_in(village_dir, "show", "rosalind", "--json").stdout)
    assert shown["timeline"][0] == {"at": "2026-11-22", "what": "logged contact",
                                    "subject": "coffee at ASCO", "thread": None}
    assert shown["temperature"] == "warm"

    refused = run_in(village_dir, "log", "--undo")  # not a terminal: needs --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr and "Traceback" not in refused.stderr
    undone = run_in(village_dir, "log", "--undo", "--yes")
    assert undone.returncode == 0, undone.stderr
    assert "removed: contact with Dr. Rosalind Franklin on 2026-11-22 ('coffee at ASCO')" in undone.stdout
    shown = json.loads(run_in(village_dir, "show", "rosalind", "--json").stdout)
    assert all(e["what"] != "logged contact" for e in shown["timeline"])
    nothing = run_in(village_dir, "log", "--undo", "--yes")
    assert nothing.returncode == 2 and "nothing has been logged" in nothing.stderr


def test_snooze_keeps_someone_out_of_the_plan_until_unsnoozed(village_dir):
    run_in(village_dir, "sync")
    before = json.loads(run_in(village_dir, "plan", "--json").stdout)
    drafted = [i["person"] for i in before if i["action"] in ("checkin", "invite")]
    assert drafted, "the example village plans at least one draft"
    key = drafted[0]
    out = run_in(village_dir, "snooze", key, "2w")
    assert out.returncode == 0 and "until 2026-12-07" in out.stdout
    after = {i["person"]: i for i in json.loads(run_in(village_dir, "plan", "--json").stdout)}
    assert after[key]["action"] == "skip" and "paused until 2026-12-07" in after[key]["reason"]
    assert "paused to 2026-12-07" in run_in(village_dir, "status").stdout
    assert "snoozed until 2026-12-07" in run_in(village_dir, "show", key).stdout
    assert run_in(village_dir, "unsnooze", key).returncode == 0
    again = {i["person"]: i for i in json.loads(run_in(village_dir, "plan", "--json").stdout)}
    assert again[key]["action"] != "skip"


def test_show_explains_a_standing_with_its_timeline(village_dir):
    run_in(village_dir, "sync")
    out = run_in(village_dir, "show", "ada")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.startswith("Ada Lovelace (ada-lovelace): mentor, sponsor, every")  # both roles
    assert "timeline, newest first:" in text and "this week:" in text
    lines = [ln for ln in text.splitlines() if ln.startswith("  20")]
    days = [ln.split()[0] for ln in lines]
    assert days == sorted(days, reverse=True) and len(days) >= 2


def test_a_wrong_or_ambiguous_person_exits_2_and_writes_nothing(village_dir):
    run_in(village_dir, "sync")
    db = village_dir / "state" / "villaged.sqlite3"
    before = sqlite3.connect(db).execute("SELECT count(*) FROM manual_log").fetchone()
    for args in (("log", "nobody"), ("show", "nobody"), ("snooze", "nobody", "2w"),
                 ("log", "ho"), ("snooze", "ada", "yesterday")):  # Hopper or Hodgkin
        out = run_in(village_dir, *args)
        assert out.returncode == 2, args
        assert "Traceback" not in out.stderr and out.stderr.startswith("villaged: ")
    after = sqlite3.connect(db).execute("SELECT count(*) FROM manual_log").fetchone()
    assert before == after


# -- growing the village from the mailbox -------------------------------------------------

@pytest.fixture
def dana(tmp_path):
    from tests.realistic_mailbox import write_village

    return write_village(tmp_path / "dana")


def run_dana(config, *args):
    from tests.test_cli import villaged

    return villaged("--config", str(config), "--state-dir", str(config.parent / "state"),
                    "--now", "2026-11-23T08:00:00-06:00", *args, cwd=config.parent)


def test_suggest_lists_two_way_correspondents_first_and_never_lists_or_robots(dana):
    out = run_dana(dana, "suggest", "--json")
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    names = [s["name"] for s in found]
    assert names == ["Natarajan, Priya", "Tomás Álvarez", "Wei Chen"]
    priya, tomas, _ = found
    assert (priya["from_them"], priya["to_them"]) == (10, 8)
    assert sorted(tomas["addresses"]) == ["talvarez@hosp.example", "tomas.alvarez@gmail.example"]
    assert not (dana.parent / "state").exists() or not any((dana.parent / "Maildir/.Drafts/new").iterdir())

    everything = {a for s in json.loads(run_dana(dana, "suggest", "--all", "--json").stdout)
                  for a in s["addresses"]}
    assert "noreply@github.example" in everything  # one-way, shown only with --all
    assert "residents@lists.uni.example" in everything  # only ever written to
    for never in ("newsletter@journal.example", "dean@uni.example", "poster1@lists-members.example",
                  "ada@analytical.example", "old.friend@past.example"):
        assert never not in everything  # list or mass mail, the village, or outside the lookback


def test_suggest_text_tells_how_to_add(dana):
    out = run_dana(dana, "suggest")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[2].startswith("Natarajan, Priya")
    assert "villaged add priya.n@med.example --role" in out.stdout


def test_add_appends_a_person_and_keeps_the_comments(dana):
    before = dana.read_text()
    out = run_dana(dana, "add", "priya.n@med.example", "--role", "peer mentor",
                   "--name", "Priya Natarajan", "--interest", "health equity research")
    assert out.returncode == 0, out.stderr
    after = dana.read_text()
    assert after.startswith(before)  # every comment and line of the original, untouched
    assert '[[person]]\nname = "Priya Natarajan"\nemails = ["priya.n@med.example"]\n' \
           'role = "peer mentor"\ninterests = ["health equity research"]' in after
    shown = json.loads(run_dana(dana, "show", "priya", "--json").stdout)
    assert shown["roles"] == ["peer mentor"] and shown["name"] == "Priya Natarajan"
    names = [s["name"] for s in json.loads(run_dana(dana, "suggest", "--json").stdout)]
    assert "Natarajan, Priya" not in names  # in the village now


def test_add_refuses_a_duplicate_address_and_an_unwritable_config(dana):
    before = dana.read_text()
    dup = run_dana(dana, "add", "ADA@analytical.example", "--role", "coach")
    assert dup.returncode == 2 and "already in the village (Ada Lovelace)" in dup.stderr
    bad_role = run_dana(dana, "add", "x@y.example", "--role", "guru")
    assert bad_role.returncode == 2 and "is not a role" in bad_role.stderr
    dana.chmod(0o444)
    try:
        locked = run_dana(dana, "add", "wchen@uni.example", "--role", "ally")
    finally:
        dana.chmod(0o644)
    assert locked.returncode == 2 and "is not writable" in locked.stderr
    for out in (dup, bad_role, locked):
        assert "Traceback" not in out.stderr
    assert dana.read_text() == before


# -- importing an address book ---------------------------------------------------------

CONTACTS = Path(__file__).parent / "fixtures" / "contacts"


def test_import_vcard_3_and_4_and_outlook_csv(dana):
    before = dana.read_text()
    dry = run_dana(dana, "import", str(CONTACTS / "google.vcf"), "--role", "mentor", "--all")
    assert dry.returncode == 0, dry.stderr
    assert 'name = "Dr. Ruth Okonkwo"' in dry.stdout and "ruth.o@gmail.example" in dry.stdout
    assert "Ada Lovelace" not in dry.stdout  # already in the village: never duplicated
    assert "Plumber" not in dry.stdout  # no address
    assert "nothing written" in dry.stdout and dana.read_text() == before

    out = run_dana(dana, "import", str(CONTACTS / "google.vcf"), "--role", "mentor", "--all", "--yes")
    assert out.returncode == 0 and "added 1 people" in out.stdout
    assert json.loads(run_dana(dana, "show", "ruth", "--json").stdout)["emails"] == [
        "ruth.okonkwo@hosp.example", "ruth.o@gmail.example"]

    v4 = run_dana(dana, "import", str(CONTACTS / "apple4.vcf"), "--role", "peer mentor",
                  "--match", "jose", "--yes")
    assert v4.returncode == 0 and "added 1 people" in v4.stdout
    assert "Priya" not in v4.stdout  # not matched
    csv = run_dana(dana, "import", str(CONTACTS / "outlook.csv"), "--role", "ally", "--all", "--yes")
    assert csv.returncode == 0, csv.stderr
    wei = json.loads(run_dana(dana, "show", "wei", "--json").stdout)
    assert wei["emails"] == ["wchen@uni.example", "wei.chen@gmail.example"] and wei["roles"] == ["ally"]
    assert dana.read_text().startswith(before)  # comments intact
    again = run_dana(dana, "import", str(CONTACTS / "outlook.csv"), "--role", "ally", "--all", "--yes")
    assert "nothing to import" in again.stdout


def test_import_bad_input_gets_one_message_and_writes_nothing(dana, tmp_path):
    before = dana.read_text()
    not_csv = tmp_path / "notes.csv"
    not_csv.write_text("just,some,columns\n1,2,3\n")
    cases = [
        (("import", str(CONTACTS / "broken.vcf"), "--role", "mentor", "--all"), "not a readable vCard"),
        (("import", str(not_csv), "--role", "mentor", "--all"), "no e-mail column"),
        (("import", str(tmp_path / "missing.vcf"), "--role", "mentor", "--all"), "cannot read"),
        (("import", str(CONTACTS / "google.vcf"), "--role", "mentor"), "--all, or --match"),
        (("import", str(CONTACTS / "google.vcf"), "--role", "guru", "--all"), "is not a role"),
    ]
    for args, message in cases:
        out = run_dana(dana, *args)
        assert out.returncode == 2, args
        assert message in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert dana.read_text() == before


def test_status_and_show_say_why_someone_seen_only_on_list_mail_is_unknown(village_dir):
    synced = run_in(village_dir, "sync")
    assert "2 not counted as contact (2 list or mass mail)" in synced.stdout
    row = next(ln for ln in run_in(village_dir, "status").stdout.splitlines()
               if ln.startswith("Barbara McClintock"))
    assert "seen only in list or mass mail" in row and row.rstrip().endswith("unknown")
    shown = json.loads(run_in(village_dir, "show", "barbara", "--json").stdout)
    assert shown["not_counted"] == {"list or mass mail": 2} and shown["last_contact"] is None


# -- a first run that starts from the owner's own mail -------------------------------------

def test_init_non_interactive_writes_an_empty_village_syncs_and_suggests(tmp_path):
    from tests.realistic_mailbox import write_village
    from tests.test_cli import villaged

    home = tmp_path / "home"
    write_village(home)  # the mbox; init writes its own config
    config = tmp_path / "cfg" / "village.toml"
    out = villaged("--config", str(config), "--state-dir", str(tmp_path / "state"),
                   "--now", "2026-11-23T08:00:00-06:00", "init", "--non-interactive",
                   "--name", "Dana Reyes", "--address", "dana@uni.example",
                   "--timezone", "America/Chicago", "--mail", str(home / "mail.mbox"),
                   cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    text = config.read_text()
    assert "[[person]]" not in text and 'name = "Dana Reyes"' in text
    assert "first sync:" in out.stdout
    assert "Natarajan, Priya <priya.n@med.example>: 10 from them, 8 to them" in out.stdout
    status = villaged("--config", str(config), "--state-dir", str(tmp_path / "state"), "status",
                      cwd=tmp_path)
    assert status.returncode == 0, status.stderr


def test_init_without_a_terminal_names_the_missing_flags(tmp_path):
    from tests.test_cli import villaged

    config = tmp_path / "village.toml"
    out = villaged("--config", str(config), "init", "--name", "Dana", cwd=tmp_path)
    assert out.returncode == 2 and "--address, --mail" in out.stderr
    assert not config.exists()


def test_init_asks_on_a_terminal(tmp_path):
    from tests.realistic_mailbox import write_village
    from tests.terminal import run_on_a_terminal

    home = tmp_path / "home"
    write_village(home)
    config = tmp_path / "cfg" / "village.toml"
    answers = ["Dana Reyes", "dana@uni.example", "America/Chicago", str(home / "mail.mbox"),
               "", str(home / "Maildir" / ".Drafts")]
    code, screen = run_on_a_terminal(
        ["--config", str(config), "--state-dir", str(tmp_path / "state"),
         "--now", "2026-11-23T08:00:00-06:00", "init"], tmp_path, answers)
    assert code == 0, screen
    assert "Your name" in screen and "Your time zone" in screen
    assert 'timezone = "America/Chicago"' in config.read_text()
    assert "people you write with most" in screen


# -- finding people for an empty role -------------------------------------------------------

def test_a_prospect_gets_one_introduction_only_when_asked(dana):
    added = run_dana(dana, "prospect", "add", "Dr. Ruth Okonkwo", "ruth.okonkwo@hosp.example",
                     "--role", "sponsor", "--interest", "sepsis quality improvement",
                     "--why", "Your 2024 talk on sepsis handoffs changed how our unit signs out.")
    assert added.returncode == 0, added.stderr
    status = run_dana(dana, "status").stdout
    assert "sponsor      (empty)" in status  # a prospect is not in the village map
    row = next(ln for ln in status.splitlines() if ln.startswith("Dr. Ruth Okonkwo"))
    assert row.rstrip().endswith("prospect")
    plan = {i["person"]: i for i in json.loads(run_dana(dana, "plan", "--json").stdout)}
    assert plan["dr-ruth-okonkwo"]["action"] == "skip"  # never drafted to on its own
    drafts = dana.parent / "Maildir" / ".Drafts"
    run_dana(dana, "draft")

    def written() -> list[Path]:
        return [p for sub in ("new", "cur") for p in (drafts / sub).iterdir()]

    # the round drafts nothing for the prospect (only Ada's owed acknowledgement, issue 10)
    assert not [p for p in written() if "ruth.okonkwo@" in p.read_text()]
    others = written()

    out = run_dana(dana, "draft", "--intro", "ruth")
    assert out.returncode == 0, out.stderr
    assert "needs your words" not in out.stdout
    (draft,) = [p for p in written() if p not in others]
    text = draft.read_text()
    assert "To: \"Dr. Ruth Okonkwo\" <ruth.okonkwo@hosp.example>" in text or \
           "To: Dr. Ruth Okonkwo <ruth.okonkwo@hosp.example>" in text
    assert "Subject: Introduction from Dana Reyes" in text
    assert "Dear Dr. Okonkwo," in text  # formal, the honorific never taken for a first name
    assert "My name is Dana Reyes. Your 2024 talk on sepsis handoffs changed how our unit" in text
    assert "perspective on sepsis quality improvement." in text
    assert "20-minute conversation" in text

    twice = run_dana(dana, "draft", "--intro", "ruth")
    assert twice.returncode == 2 and "--again" in twice.stderr
    assert len(written()) == len(others) + 1


def test_an_intro_without_a_why_is_flagged_and_answered_prospects_can_join(dana):
    run_dana(dana, "prospect", "add", "Wei Chen", "wchen@uni.example", "--role", "coach")
    out = run_dana(dana, "draft", "--intro", "wei")
    assert out.returncode == 0 and "needs your words" in out.stdout
    member = run_dana(dana, "draft", "--intro", "ada")
    assert member.returncode == 2 and "already part of your village" in member.stderr
    # Wei's reply (in the realistic mailbox, dated before "now") arrives after the draft only
    # if the draft is older: draft it a month earlier, then sync.
    from tests.test_cli import villaged

    base = ("--config", str(dana), "--state-dir", str(dana.parent / "state2"))
    villaged(*base, "--now", "2026-07-01T08:00:00-05:00", "draft", "--intro", "wei", cwd=dana.parent)
    villaged(*base, "--now", "2026-11-23T08:00:00-06:00", "sync", cwd=dana.parent)
    status = villaged(*base, "--now", "2026-11-23T08:00:00-06:00", "status", cwd=dana.parent).stdout
    assert "Wei Chen answered your introduction: `villaged prospect join wei-chen`" in status
    joined = run_dana(dana, "prospect", "join", "wei")
    assert joined.returncode == 0 and "now part of your village as coach" in joined.stdout
    assert "prospect" not in dana.read_text().split('name = "Wei Chen"')[1]


def test_the_digest_points_an_empty_role_at_its_prospect(dana):
    from tests.test_cli import villaged

    run_dana(dana, "prospect", "add", "Dr. Ruth Okonkwo", "ruth@hosp.example", "--role", "sponsor")
    out = villaged("--config", str(dana), "--state-dir", str(dana.parent / "state"),
                   "--now", "2026-11-23T08:00:00-06:00", "digest", "--stdout", "--no-sync",
                   cwd=dana.parent)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "No one yet as sponsor" in text
    assert "You noted Dr. Ruth Okonkwo as a prospective sponsor: `villaged draft --intro " \
           "dr-ruth-okonkwo` drafts an introduction" in text
