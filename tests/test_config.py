"""The village config: what loads, and how every mistake is reported.

A mistake must give one ConfigError naming the file, the key, the line and a
fix, so each error test checks all four.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from villaged.backends.google.settings import GoogleBackend
from villaged.backends.local.digest import digest_folder
from villaged.backends.local.settings import LocalBackend
from villaged.config import (
    default_config_path,
    load_village,
    person_key,
    starter_text,
)
from villaged.domain.errors import ConfigError
from villaged.domain.village import (
    DEFAULT_CADENCE_DAYS,
    DigestSettings,
    Role,
    Roulette,
    Thresholds,
    WorkingHours,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "village.example.toml"

MINIMAL = """\
[owner]
name = "Dana Reyes"
addresses = ["dana@uni.example", "dana.reyes@gmail.com"]
timezone = "America/Chicago"

[backend]
kind = "local"                 # "google" comes with the Gmail issue
mail = ["~/mail/takeout.mbox", "~/Maildir"]   # mbox files and/or Maildir folders
calendars = ["~/cal/export.ics"]
drafts = "~/Maildir/.Drafts"   # Maildir folder where drafts are written

[[person]]
name = "Ada Lovelace"
emails = ["ada@example.org", "ada@gmail.com"]
role = "mentor"                # one of the seven roles
"""

BOB = """
[[person]]
name = "Bob Okafor"
emails = ["bob@example.net"]
role = "ally"
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def write(tmp_path):
    def write(text: str, name: str = "village.toml") -> Path:
        path = tmp_path / "conf" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


def line_of(text: str, snippet: str, nth: int = 1) -> int:
    """1-based line number of the ``nth`` line containing ``snippet``."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if snippet in line]
    assert len(hits) >= nth, f"{snippet!r} not in the test config"
    return hits[nth - 1]


def config_error(write, text: str) -> ConfigError:
    path = write(text)
    with pytest.raises(ConfigError) as info:
        load_village(path)
    return info.value


def assert_points_at(err: ConfigError, line: int, key: str, fix: str) -> None:
    text = str(err)
    first = text.splitlines()[0]
    assert "village.toml" in first, text
    found = re.search(r", line (\d+)\b", first)
    assert found, f"no line number in: {text}"
    assert int(found[1]) == line, text
    assert key in first, text
    assert err.fix and fix in err.fix, text
    assert text.count("\n") == 1 and "\n  fix: " in text, text


# -- what loads


def test_minimal_config_loads_with_paths_expanded(write, home):
    path = write(MINIMAL)
    village = load_village(path)

    owner = village.owner
    assert owner.name == "Dana Reyes"
    assert owner.addresses == ("dana@uni.example", "dana.reyes@gmail.com")
    assert owner.address == "dana@uni.example"
    assert owner.timezone == ZoneInfo("America/Chicago")
    assert owner.working_hours == WorkingHours()

    assert village.backend == LocalBackend(
        mail=(home / "mail/takeout.mbox", home / "Maildir"),
        calendars=(home / "cal/export.ics",),
        drafts=home / "Maildir/.Drafts",
    )
    (ada,) = village.people
    assert ada.key == "ada-lovelace"
    assert ada.name == "Ada Lovelace"
    assert ada.emails == ("ada@example.org", "ada@gmail.com")
    assert ada.role is Role.MENTOR
    assert ada.agreement is None and ada.paused_until is None and not ada.do_not_draft
    assert village.cadence_for(ada) == DEFAULT_CADENCE_DAYS[Role.MENTOR]

    assert village.thresholds == Thresholds()
    assert village.roulette == Roulette()
    assert village.digest == DigestSettings()
    assert digest_folder(village, village.backend) == home / "Maildir"  # beside the drafts
    assert village.invite_cooldown_weeks == 8
    assert village.sync_minutes == 15
    assert village.config_path == path.absolute()


def test_relative_paths_are_relative_to_the_config_file(write, home):
    text = MINIMAL.replace('"~/Maildir/.Drafts"', '"mail/.Drafts"').replace(
        '["~/cal/export.ics"]', '["../cal.ics"]'
    )
    path = write(text)
    village = load_village(path)
    assert village.backend.drafts == path.parent / "mail/.Drafts"
    assert village.backend.calendars == (path.parent / "../cal.ics",)
    assert digest_folder(village, village.backend) == path.parent / "mail"


def test_every_optional_key(write, home):
    text = MINIMAL + """
cadence_days = 21
interests = ["rare diseases", "running"]
notes = "Homework: send her the aims page."
paused_until = "2026-09-01"
do_not_draft = true
gives = ["Send her the preprint"]

[person.agreement]
rhythm = "every 4 weeks"
duration_minutes = 30
location = "Zoom"
agenda = "Aims"
days = ["Tuesday", "thu"]
hours = "14:00 - 17:00"

[cadence]
"role model" = 180
peer-mentor = 14

[thresholds]
cooling_after = 1
cold_after = 2.0
lapsed_after = 4
min_gap_days = 3
lookback_days = 365

[roulette]
day = "Fri"
time = "16:30"
size = 0

[digest]
day = "sunday"
time = 19:00:00
maildir = "~/Mail/Inbox"

[invitations]
cooldown_weeks = 0

[daemon]
sync_minutes = 5
"""
    village = load_village(write(text))
    (ada,) = village.people
    assert ada.cadence_days == 21 and village.cadence_for(ada) == 21
    assert [i.topic for i in ada.interests] == ["rare diseases", "running"]
    assert ada.notes.startswith("Homework")
    assert ada.paused_until == dt.date(2026, 9, 1)
    assert ada.do_not_draft is True
    assert ada.gives == ("Send her the preprint",)
    agreement = ada.agreement
    assert agreement is not None
    assert (agreement.rrule, agreement.rhythm, agreement.interval_days) == (
        "FREQ=WEEKLY;INTERVAL=4",
        "every 4 weeks",
        28,
    )
    assert agreement.duration_minutes == 30
    assert (agreement.location, agreement.agenda) == ("Zoom", "Aims")
    assert agreement.hours == WorkingHours(days=(1, 3), start=dt.time(14), end=dt.time(17))
    assert village.cadences[Role.ROLE_MODEL] == 180
    assert village.cadences[Role.PEER_MENTOR] == 14
    assert village.cadences[Role.MENTOR] == 30
    assert village.thresholds == Thresholds(
        cooling_after=1.0, cold_after=2.0, lapsed_after=4.0, min_gap_days=3, lookback_days=365
    )
    assert village.roulette == Roulette(day=4, time=dt.time(16, 30), size=0)
    assert village.digest == DigestSettings(day=6, time=dt.time(19), maildir=home / "Mail/Inbox")
    assert village.invite_cooldown_weeks == 0
    assert village.sync_minutes == 5


def test_owner_working_hours(write, home):
    text = MINIMAL.replace(
        'timezone = "America/Chicago"',
        'timezone = "America/Chicago"\nworking_days = ["mon", "wed", "mon"]\n'
        'working_hours = "08:30-16:00"',
    )
    owner = load_village(write(text)).owner
    assert owner.working_hours == WorkingHours(
        days=(0, 2), start=dt.time(8, 30), end=dt.time(16, 0)
    )


def test_agreement_without_days_or_hours_uses_the_owners(write, home):
    text = MINIMAL + 'agreement = { rhythm = "monthly on the 2nd Tuesday" }\n'
    village = load_village(write(text))
    agreement = village.people[0].agreement
    assert agreement.hours is None
    assert agreement.rrule == "FREQ=MONTHLY;BYDAY=2TU"
    assert agreement.duration_minutes == 45


@pytest.mark.parametrize(
    ("written", "role"),
    [
        ("mentor", Role.MENTOR),
        ("Sponsor", Role.SPONSOR),
        ("role model", Role.ROLE_MODEL),
        ("role-model", Role.ROLE_MODEL),
        ("role_model", Role.ROLE_MODEL),
        ("Role Model", Role.ROLE_MODEL),
        ("peer mentor", Role.PEER_MENTOR),
        ("peer-mentor", Role.PEER_MENTOR),
        (" PEER_MENTOR ", Role.PEER_MENTOR),
    ],
)
def test_role_aliases(write, home, written, role):
    text = MINIMAL.replace('role = "mentor"', f'role = "{written}"')
    assert load_village(write(text)).people[0].role is role


def test_google_backend_needs_no_local_keys(write, home):
    text = MINIMAL.replace(
        """kind = "local"                 # "google" comes with the Gmail issue
mail = ["~/mail/takeout.mbox", "~/Maildir"]   # mbox files and/or Maildir folders
calendars = ["~/cal/export.ics"]
drafts = "~/Maildir/.Drafts"   # Maildir folder where drafts are written
""",
        """kind = "google"

[backend.google]
client_secrets = "~/secrets/client.json"
token_store = "file"
gmail_endpoint = "http://127.0.0.1:8765/"
calendar_endpoint = "http://127.0.0.1:8765/calendar/v3/"
token_uri = "http://127.0.0.1:8765/token"
calendars = ["primary", "team@group.calendar.google.com"]
quota_units_per_minute = 600
""",
    )
    village = load_village(write(text))
    assert village.backend == GoogleBackend(
        client_secrets=home / "secrets/client.json",
        token_store="file",
        gmail_endpoint="http://127.0.0.1:8765/",
        calendar_endpoint="http://127.0.0.1:8765/calendar/v3/",
        token_uri="http://127.0.0.1:8765/token",
        calendars=("primary", "team@group.calendar.google.com"),
        quota_units_per_minute=600,
    )
    assert village.digest.maildir is None


def test_google_defaults(write, home):
    text = re.sub(r'kind = "local".*\n', 'kind = "google"\n', MINIMAL)
    assert load_village(write(text)).backend == GoogleBackend()


def test_a_key_can_be_set_to_keep_history_across_a_rename(write, home):
    text = MINIMAL.replace('name = "Ada Lovelace"', 'name = "Ada King"\nkey = "ada-lovelace"')
    assert load_village(write(text)).people[0].key == "ada-lovelace"


def test_person_keys_are_ascii_slugs():
    assert person_key("Ada Lovelace") == "ada-lovelace"
    assert person_key("  Tomás Álvarez-Ruiz, MD ") == "tomas-alvarez-ruiz-md"
    assert person_key("Dr. Helen O'Brien") == "dr-helen-o-brien"


# -- the example and the starter


def test_the_example_loads(home):
    village = load_village(EXAMPLE)
    assert village.owner.name == "Dana Reyes"
    assert {p.role for p in village.people} == set(Role)
    mentor = next(p for p in village.people if p.agreement)
    assert mentor.role is Role.MENTOR
    assert "Homework" in mentor.notes and mentor.interests and mentor.gives
    assert any(p.paused_until for p in village.people)
    assert any(p.do_not_draft for p in village.people)
    assert isinstance(village.backend, LocalBackend)
    assert all(str(p).startswith(str(home)) for p in village.backend.mail)


def test_the_examples_commented_defaults_are_the_real_defaults(write, home):
    """Uncommenting every `# key = value` line of the example changes nothing."""
    text = EXAMPLE.read_text(encoding="utf-8")
    uncommented, in_google = [], False
    for line in text.splitlines():
        if line.startswith("# [backend.google]"):
            in_google = True
        elif line.startswith("["):
            in_google = False
        m = re.match(r"# ([a-z_]+ = .*)$", line)
        uncommented.append(m[1] if m and not in_google else line)
    changed = "\n".join(uncommented)
    assert changed.count("\n# ") < text.count("\n# ") - 20  # many defaults were uncommented
    def resolved(v):  # the digest's default Maildir is derived from the drafts folder
        return dataclasses.replace(v, digest=dataclasses.replace(
            v.digest, maildir=digest_folder(v, v.backend)))

    original = load_village(write(text, "original.toml"))
    assert resolved(load_village(write(changed, "original.toml"))) == resolved(original)


def test_the_commented_google_section_loads_when_uncommented(write, home):
    text = EXAMPLE.read_text(encoding="utf-8").replace('kind = "local"', 'kind = "google"')
    head, block, tail = re.split(r"(?m)^(# \[backend\.google\]\n(?:#.*\n)*)", text, maxsplit=1)
    block = re.sub(r"(?m)^# ((?:\[backend\.google\]|[a-z_]+ = ).*)$", r"\1", block)
    text = head + block + tail
    village = load_village(write(text))
    assert isinstance(village.backend, GoogleBackend)
    assert village.backend.client_secrets == home / ".config/villaged/client_secret.json"


def test_starter_text_is_the_example():
    assert starter_text() == EXAMPLE.read_text(encoding="utf-8")


def test_default_config_path(monkeypatch, tmp_path):
    monkeypatch.setenv("VILLAGED_CONFIG", str(tmp_path / "mine.toml"))
    assert default_config_path() == tmp_path / "mine.toml"
    monkeypatch.delenv("VILLAGED_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = default_config_path()
    assert path.name == "village.toml" and path.parent.name == "villaged"


# -- mistakes: file problems


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_village(tmp_path / "village.toml")
    assert "village.toml" in str(info.value)
    assert "villaged init" in info.value.fix


def test_not_utf8(write):
    path = write("")
    path.write_bytes(MINIMAL.encode().replace(b"Ada Lovelace", b"Ada Lovel\xe1ce"))
    with pytest.raises(ConfigError) as info:
        load_village(path)
    assert str(info.value).startswith(f"{path}, line 13:")
    assert "UTF-8" in info.value.fix


def test_a_byte_order_mark_is_fine(write, home):
    path = write("")
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_village(path).owner.name == "Dana Reyes"


# -- mistakes: TOML syntax


@pytest.mark.parametrize(
    ("before", "after", "at", "problem", "fix"),
    [
        ('role = "mentor"', "role = mentor", "role = mentor", "invalid value", 'role = "mentor"'),
        ('name = "Ada Lovelace"', 'name = "Ada Lovelace', '"Ada Lovelace', "no closing quote", "quote"),
        ('role = "mentor"', 'role = "mentor"\nrole = "coach"', 'role = "coach"',
         "person[1].role is set twice (first on line 15)", "only once"),
        ('mail = ["~/mail/takeout.mbox", "~/Maildir"]', 'mail = ["~/mail/takeout.mbox", "~/Maildir"',
         "mail = [", "this list is not closed", "close the list with ]"),
        ('drafts = "~/Maildir/.Drafts"', 'drafts = "C:\\Users\\dana"', "drafts =", "invalid hex",
         "single quotes"),
        ("[[person]]", "[[person]", "[[person]", "expected", "]]"),
        ('role = "mentor"', 'role "mentor"', 'role "mentor"', "expected '='", "key = value"),
    ],
)  # fmt: skip
def test_toml_syntax_errors_name_file_line_and_fix(write, before, after, at, problem, fix):
    text = MINIMAL.replace(before, after, 1)
    err = config_error(write, text)
    first = str(err).splitlines()[0]
    assert re.search(rf"village\.toml, line {line_of(text, at)}\b", first), str(err)
    assert "not valid TOML" in first and problem.lower() in first.lower(), str(err)
    assert fix in err.fix, str(err)


def test_duplicate_table(write):
    text = MINIMAL + '\n[owner]\nname = "Dana"\n'
    err = config_error(write, text)
    assert re.search(rf"line {line_of(text, '[owner]', 2)}\b", str(err))
    assert "[owner] is declared twice" in str(err)


def test_unclosed_list_at_end_of_file(write):
    text = MINIMAL + 'interests = ["chess",\n  "rowing"\n'
    err = config_error(write, text)
    assert re.search(rf"line {line_of(text, 'interests')}\b", str(err)), str(err)


# -- mistakes: keys and values

CASES = [
    # id, text, the line's snippet, the key as shown, a piece of the fix
    ("unknown key", MINIMAL.replace('role = "mentor"', 'rol = "mentor"'),
     "rol =", 'person[1] "Ada Lovelace" → rol', 'did you mean "role"?'),
    ("unknown owner key", MINIMAL.replace("addresses =", "adresses ="),
     "adresses", "owner → adresses", 'did you mean "addresses"?'),
    ("unknown table", MINIMAL + "\n[thresolds]\ncold_after = 2.0\n",
     "[thresolds]", "thresolds", "did you mean [thresholds]?"),
    ("people table", MINIMAL + '\n[[people]]\nname = "Bob"\n',
     "[[people]]", "people", "[[person]]"),
    ("key in the wrong table", MINIMAL.replace('drafts = "', 'timezone = "UTC"\ndrafts = "'),
     'timezone = "UTC"', "backend → timezone", "belongs in [owner]"),
    ("key at the top", 'name = "Dana"\n' + MINIMAL,
     'name = "Dana"', "name", "belongs in [owner]"),
    ("unknown agreement key", MINIMAL + '\n[person.agreement]\nrhythm = "weekly"\nduration = 30\n',
     "duration =", 'person[1] "Ada Lovelace" → agreement → duration', '"duration_minutes"'),
    ("unknown google key", MINIMAL + '\n[backend.google]\ntoken_storage = "file"\n',
     "token_storage", "backend → google → token_storage", '"token_store"'),
    ("bad role", MINIMAL.replace('role = "mentor"', 'role = "mentr"'),
     'role = "mentr"', 'person[1] "Ada Lovelace" → role',
     "role must be one of: mentor, sponsor, advocate, coach, ally, role model, peer mentor"),
    ("role guess", MINIMAL.replace('role = "mentor"', 'role = "rolemodel"'),
     'role = "rolemodel"', "→ role", 'did you mean "role model"?'),
    ("missing role", MINIMAL.replace('role = "mentor"                # one of the seven roles', ""),
     "[[person]]", 'person[1] "Ada Lovelace" → role: missing', 'add role = "mentor"'),
    ("missing emails", MINIMAL.replace('emails = ["ada@example.org", "ada@gmail.com"]', ""),
     "[[person]]", "→ emails: missing", 'emails = ["ada@example.org"]'),
    ("role not text", MINIMAL.replace('role = "mentor"', "role = 3"),
     "role = 3", "→ role", 'write role = "mentor"'),
    ("bad email", MINIMAL.replace('"ada@gmail.com"]', '\n  "ada(at)gmail.com",\n]'),
     "ada(at)gmail.com", 'person[1] "Ada Lovelace" → emails[2]', "write e.g."),
    ("email with a name", MINIMAL.replace('"ada@gmail.com"', '"Ada <ada@gmail.com>"'),
     "emails =", "→ emails[2]", 'write just the address: "ada@gmail.com"'),
    ("emails not a list", MINIMAL.replace('["ada@example.org", "ada@gmail.com"]', '"ada@example.org"'),
     "emails =", "→ emails", 'emails = ["ada@example.org"]'),
    ("empty emails", MINIMAL.replace('["ada@example.org", "ada@gmail.com"]', "[]"),
     "emails =", "→ emails", "write emails ="),
    ("bad owner address", MINIMAL.replace('"dana@uni.example"', '"dana@uni"'),
     "addresses", "owner → addresses[1]", "dana@uni.example"),
    ("shared email", MINIMAL + BOB.replace('["bob@example.net"]', '["bob@example.net",\n  "ADA@example.org"]'),
     '"ADA@example.org"', 'person[2] "Bob Okafor" → emails[2]', "one person only"),
    ("gmail dots are one address", MINIMAL + BOB.replace("bob@example.net", "a.d.a@googlemail.com"),
     "a.d.a@", "person[2]", "one person only"),
    ("owner's own address", MINIMAL.replace('"ada@gmail.com"', '"Dana@Uni.example"'),
     "emails =", "→ emails[2]", 'remove "Dana@Uni.example"'),
    ("duplicate name", MINIMAL + BOB.replace("Bob Okafor", "ada  lovelace"),
     '"ada  lovelace"', 'person[2] "ada  lovelace" → name', 'key = "..."'),
    ("bad key", MINIMAL + 'key = "Ada L"\n',
     'key = "Ada L"', "→ key", 'key = "ada-l"'),
    ("name without a slug", MINIMAL.replace('"Ada Lovelace"', '"李伟"'),
     'name = "李伟"', 'person[1] "李伟" → name', 'key = "li-wei"'),
    ("person as a table", MINIMAL.replace("[[person]]", "[person]"),
     "[person]", "person", "[[person]] (double brackets)"),
    ("bad timezone", MINIMAL.replace("America/Chicago", "America/Chicgo"),
     "timezone", "owner → timezone", 'did you mean "America/Chicago"?'),
    ("timezone case", MINIMAL.replace("America/Chicago", "america/new_york"),
     "timezone", "owner → timezone", '"America/New_York"'),
    ("missing timezone", MINIMAL.replace('timezone = "America/Chicago"', ""),
     "[owner]", "owner → timezone: missing", 'timezone = "America/Chicago"'),
    ("missing owner", MINIMAL.replace("[owner]", "").replace('name = "Dana Reyes"\n', "", 1)
     .replace('addresses = ["dana@uni.example", "dana.reyes@gmail.com"]\n', "")
     .replace('timezone = "America/Chicago"\n', ""),
     None, "owner: the [owner] table is missing", "villaged init"),
    ("bad working day", MINIMAL.replace("timezone =", 'working_days = ["mon", "tues",\n  "wendesday"]\ntimezone ='),
     "wendesday", "owner → working_days[3]", 'did you mean "wednesday"?'),
    ("bad working hours", MINIMAL.replace("timezone =", 'working_hours = "9-5"\ntimezone ='),
     "working_hours", "owner → working_hours", '"HH:MM-HH:MM"'),
    ("backwards hours", MINIMAL.replace("timezone =", 'working_hours = "17:00-09:00"\ntimezone ='),
     "working_hours", "owner → working_hours", "the end must come after the start"),
    ("bad kind", MINIMAL.replace('kind = "local"', 'kind = "gmail"'),
     "kind =", "backend → kind", '"local", "google"'),
    ("local without drafts", MINIMAL.replace('drafts = "~/Maildir/.Drafts"', ""),
     "[backend]", "backend → drafts: missing", 'drafts = "~/Maildir/.Drafts"'),
    ("local without sources", re.sub(r"(mail|calendars) = .*\n", "", MINIMAL),
     "[backend]", "backend → mail", "at least one"),
    ("mail not a list", MINIMAL.replace('mail = ["~/mail/takeout.mbox", "~/Maildir"]', 'mail = "~/Maildir"'),
     "mail =", "backend → mail", 'mail = ["~/Maildir"]'),
    ("bad url", MINIMAL + '\n[backend.google]\ntoken_uri = "ftp://example.org/token"\n',
     "token_uri", "backend → google → token_uri", "https://oauth2.googleapis.com/token"),
    ("bad token store", MINIMAL + '\n[backend.google]\ntoken_store = "keychain"\n',
     "token_store", "backend → google → token_store", 'did you mean "keyring"?'),
    ("bad cadence role", MINIMAL + "\n[cadence]\nmentr = 30\n",
     "mentr", "cadence → mentr", 'did you mean "mentor"?'),
    ("cadence zero", MINIMAL + '\n[cadence]\n"role model" = 0\n',
     '"role model"', "cadence → role model", "from 1 to 3650"),
    ("cadence twice", MINIMAL + '\n[cadence]\nrole_model = 90\n"role model" = 100\n',
     '"role model"', "cadence → role model", "keep one"),
    ("threshold order", MINIMAL + "\n[thresholds]\ncold_after = 0.5\n",
     "cold_after", "thresholds → cold_after", "cooling_after < cold_after < lapsed_after"),
    ("threshold not a number", MINIMAL + '\n[thresholds]\nlapsed_after = "3x"\n',
     "lapsed_after", "thresholds → lapsed_after", "lapsed_after = 3.0"),
    ("threshold not whole", MINIMAL + "\n[thresholds]\nmin_gap_days = 2.5\n",
     "min_gap_days", "thresholds → min_gap_days", "min_gap_days = 7"),
    ("threshold zero", MINIMAL + "\n[thresholds]\nmax_attendees = 0\n",
     "max_attendees", "thresholds → max_attendees", "at least 1"),
    ("bad roulette day", MINIMAL + '\n[roulette]\nday = "mnday"\n',
     "day =", "roulette → day", 'did you mean "monday"?'),
    ("bad roulette time", MINIMAL + '\n[roulette]\ntime = "25:00"\n',
     "time =", "roulette → time", '"HH:MM"'),
    ("roulette too big", MINIMAL + "\n[roulette]\nsize = 50\n",
     "size", "roulette → size", "from 0 to 20"),
    ("roulette size as text", MINIMAL + '\n[roulette]\nsize = "3"\n',
     "size", "roulette → size", "size = 3"),
    ("bad digest time", MINIMAL + '\n[digest]\ntime = "7.30am"\n',
     "time =", "digest → time", "07:30"),
    ("sync too fast", MINIMAL + "\n[daemon]\nsync_minutes = 0\n",
     "sync_minutes", "daemon → sync_minutes", "from 1 to 1440"),
    ("table is a value", MINIMAL.replace("[owner]", "roulette = 3\n[owner]"),
     "roulette = 3", "roulette", "[roulette] on a line of its own"),
    ("bad rhythm", MINIMAL + '\n[person.agreement]\nrhythm = "every blue moon"\n',
     "rhythm", 'person[1] "Ada Lovelace" → agreement → rhythm', "monthly on the 2nd Tuesday"),
    ("bad rrule", MINIMAL + '\n[person.agreement]\nrhythm = "FREQ=HOURLY"\n',
     "rhythm", "agreement → rhythm", "FREQ=WEEKLY"),
    ("missing rhythm", MINIMAL + '\n[person.agreement]\nlocation = "Zoom"\n',
     "[person.agreement]", "agreement → rhythm: missing", 'rhythm = "monthly on the 2nd Tuesday"'),
    ("inline agreement", MINIMAL + 'agreement = { rhythm = "whenever" }\n',
     "agreement =", "agreement → rhythm", "every 2 weeks"),
    ("meeting longer than hours", MINIMAL + '\n[person.agreement]\nrhythm = "weekly"\nhours = "14:00-14:30"\n',
     "hours =", "agreement → hours", "shorten duration_minutes"),
    ("bad agreement day", MINIMAL + '\n[person.agreement]\nrhythm = "weekly"\ndays = ["tue", "thursday", "fry"]\n',
     "days =", "agreement → days[3]", 'did you mean "friday"?'),
    ("paused until not a date", MINIMAL + 'paused_until = "next week"\n',
     "paused_until", "→ paused_until", "paused_until = 2026-09-01"),
    ("paused until not a real date", MINIMAL + 'paused_until = "2026-02-30"\n',
     "paused_until", "→ paused_until", "YYYY-MM-DD"),
    ("paused until with a time", MINIMAL + "paused_until = 2026-09-01T09:00:00\n",
     "paused_until", "→ paused_until", "just the date"),
    ("do_not_draft as text", MINIMAL + 'do_not_draft = "yes"\n',
     "do_not_draft", "→ do_not_draft", "do_not_draft = true"),
    ("interests not text", MINIMAL + 'interests = ["chess", 42]\n',
     "interests", "→ interests[2]", "interests = ["),
    ("second person", MINIMAL + BOB.replace('role = "ally"', 'role = "friend"'),
     'role = "friend"', 'person[2] "Bob Okafor" → role', "role must be one of"),
    ("quoted key", MINIMAL.replace('role = "mentor"', '"role" = "mentr"'),
     '"role" = "mentr"', "→ role", "role must be one of"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "at", "key", "fix"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_mistakes_name_file_key_line_and_fix(write, home, text, at, key, fix):
    err = config_error(write, text)
    if at is None:
        assert str(err).startswith(f"{write(text)}: {key}")
        assert fix in err.fix
    else:
        assert_points_at(err, line_of(text, at), key, fix)


def test_line_numbers_see_through_multiline_strings(write, home):
    text = MINIMAL.replace(
        'role = "mentor"',
        'notes = """\nShe said:\n[[person]]\nrole = "ally"\n"""\nrole = "mentr"',
    )
    err = config_error(write, text)
    line = line_of(text, 'role = "mentr"')
    assert_points_at(err, line, 'person[1] "Ada Lovelace" → role', "mentor")


def test_line_numbers_for_the_nth_person(write, home):
    text = MINIMAL + BOB + BOB.replace("Bob Okafor", "Cy Young").replace("bob@", "cy@").replace(
        'role = "ally"', 'role = "ally"\ngives = "a book"'
    )
    err = config_error(write, text)
    line = line_of(text, "gives =")
    assert_points_at(err, line, 'person[3] "Cy Young" → gives', 'gives = ["a book"]')
