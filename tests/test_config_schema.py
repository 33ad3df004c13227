"""The settings types are the config's one schema.

The shipped example is what the schema generates; every numeric key has a
documented range that the loader enforces with the usual file, line, key and
fix; values at the edges of a range load and work.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from villaged.backends.registry import PLUGINS
from villaged.config import load_village
from villaged.config.example import example_text
from villaged.domain.errors import ConfigError
from villaged.domain.rhythm import parse_rhythm
from villaged.domain.setting import setting
from villaged.domain.village import Agreement, Owner, Person, Roulette, Thresholds, Village
from villaged.schema import declared
from villaged.schema.source import Source
from villaged.schema.typed_table import TypedTable

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "village.example.toml"

MINIMAL = """\
[owner]
name = "Dana Reyes"
addresses = ["dana@uni.example"]
timezone = "America/Chicago"

[backend]
kind = "local"
mail = ["~/Maildir"]
drafts = "~/Maildir/.Drafts"

[[person]]
name = "Ada Lovelace"
emails = ["ada@example.org"]
role = "mentor"
"""


@pytest.fixture
def load(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))

    def load(text: str) -> Village:
        path = tmp_path / "village.toml"
        path.write_text(text, encoding="utf-8")
        return load_village(path)

    return load


def settings_types() -> list[type]:
    """Every settings type that declares keys: the village's and every backend's."""
    found: list[type] = []

    def walk(cls: type) -> None:
        if cls in found:
            return
        found.append(cls)
        for key in declared.keys_of(cls):
            if key.table_type is not None:
                walk(key.table_type)

    walk(Village)
    for plugin in PLUGINS:
        for cls in plugin.tables.values():
            walk(cls)
    return found


def numeric_keys() -> list[tuple[str, declared.Key]]:
    return [(cls.__name__, key) for cls in settings_types() for key in declared.keys_of(cls)
            if key.kind in ("int", "float")]


def test_the_shipped_example_is_what_the_schema_generates():
    assert EXAMPLE.read_text(encoding="utf-8") == example_text(), (
        "regenerate it: python -m villaged.config.example > config/village.example.toml"
    )


def test_every_declared_key_is_in_the_example():
    text = EXAMPLE.read_text(encoding="utf-8")
    for cls in settings_types():
        for key in declared.keys_of(cls):
            for name in key.names:
                if key.setting.in_example and name not in ("person",):
                    assert re.search(rf"(?m)^(# )?\[*[a-z.]*\b{name}\b", text) or (
                        f"  {name} " in text), f"{cls.__name__}.{key.field} ({name}) is not shown"


def test_backends_declare_their_keys_through_the_registry():
    for plugin in PLUGINS:
        assert plugin.tables or plugin.keys, f"{plugin.kind} declares no keys"
    local = next(p for p in PLUGINS if p.kind == "local")
    assert local.backend_keys() == ("mail", "calendars", "drafts")
    google = next(p for p in PLUGINS if p.kind == "google")
    assert "quota_units_per_minute" in google.backend_sections()["[backend.google]"]


def test_every_number_has_a_documented_range():
    text = EXAMPLE.read_text(encoding="utf-8")
    keys = numeric_keys()
    assert len(keys) >= 15
    for owner, key in keys:
        s = key.setting
        assert s.low is not None and s.high is not None, f"{owner}.{key.name} has no range"
        if key.kind == "int" and key.default not in (None, declared.MISSING):
            assert s.low <= key.default <= s.high, f"{owner}.{key.name}: default out of range"
        assert f"({s.low:g} to {s.high:g})" in text, f"{owner}.{key.name}: range not documented"


# Where each numeric key is written, for a config that sets it.
def _config_with(owner: str, name: str, value: str) -> tuple[str, str]:
    """MINIMAL with ``name = value`` in the right table, and the key as errors label it."""
    if owner == "Thresholds":
        return MINIMAL + f"\n[thresholds]\n{name} = {value}\n", f"thresholds → {name}"
    if owner == "Roulette":
        return MINIMAL + f"\n[roulette]\n{name} = {value}\n", f"roulette → {name}"
    if owner == "Person":
        return MINIMAL + f"{name} = {value}\n", f'person[1] "Ada Lovelace" → {name}'
    if owner == "Agreement":
        text = MINIMAL + f'\n[person.agreement]\nrhythm = "weekly"\n{name} = {value}\n'
        return text, f"agreement → {name}"
    if owner == "Village":
        (key,) = (k for k in declared.keys_of(Village) if k.name == name)
        return MINIMAL + f"\n[{key.setting.table}]\n{name} = {value}\n", f"{key.setting.table} → {name}"
    if owner == "GoogleBackend":
        return MINIMAL + f"\n[backend.google]\n{name} = {value}\n", f"backend → google → {name}"
    if owner == "ImapSettings":
        return (MINIMAL + f'\n[backend.imap]\nhost = "imap.example.org"\nusername = "dana"\n'
                f"{name} = {value}\n", f"backend → imap → {name}")
    pytest.skip(f"no config writer for {owner} in this test")
    raise AssertionError


EDGES = [(owner, key) for owner, key in numeric_keys()]


@pytest.mark.parametrize(("owner", "key"), EDGES, ids=[f"{o}.{k.name}" for o, k in EDGES])
def test_numbers_load_at_both_ends_of_their_range(load, owner, key):
    for edge in (key.setting.low, key.setting.high):
        value = f"{edge:g}" if key.kind == "int" else repr(float(edge))
        if owner == "Thresholds" and key.kind == "float":
            continue  # the thresholds' order is checked too: see below
        text, _ = _config_with(owner, key.name, value)
        if owner == "Agreement" and edge == key.setting.high:
            text = text.replace('rhythm = "weekly"', 'rhythm = "weekly"\nhours = "08:00-16:00"')
        load(text)


@pytest.mark.parametrize(("owner", "key"), EDGES, ids=[f"{o}.{k.name}" for o, k in EDGES])
def test_numbers_out_of_range_name_file_line_key_and_fix(load, owner, key):
    s = key.setting
    for value in (s.high * 1000 + 1, s.low - 1):
        written = f"{value:.0f}" if key.kind == "int" else repr(float(value))
        text, label = _config_with(owner, key.name, written)
        with pytest.raises(ConfigError) as info:
            load(text)
        err = info.value
        line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith(f"{key.name} ="))
        first = str(err).splitlines()[0]
        assert f"village.toml, line {line}: " in first and label in first, str(err)
        assert "out of range" in first, str(err)
        assert f"from {s.low:g} to {s.high:g}" in (err.fix or ""), str(err)


@pytest.mark.parametrize(
    ("setting", "value", "label", "fix"),
    [
        ("lookback_days", "10000000", "thresholds → lookback_days", "from 1 to 18250"),
        ("horizon_days", "100000000", "thresholds → horizon_days", "from 1 to 730"),
        ("cooling_after", "inf", "thresholds → cooling_after", "from 0.1 to 100"),
        ("cold_after", "nan", "thresholds → cold_after", "from 0.1 to 100"),
    ],
)
def test_the_values_that_used_to_crash_are_refused_at_load(load, setting, value, label, fix):
    text = MINIMAL + f"\n[thresholds]\n{setting} = {value}\n"
    with pytest.raises(ConfigError) as info:
        load(text)
    line = len(text.splitlines())
    assert f"village.toml, line {line}: {label}:" in str(info.value)
    assert fix in info.value.fix


@pytest.mark.parametrize(
    ("rhythm", "problem", "fix"),
    [
        ("every 1000000 weeks", "more than a year between meetings", "at least once a year"),
        ("FREQ=WEEKLY;INTERVAL=100000", "more than a year between meetings", "at least once a year"),
        ("FREQ=DAILY;INTERVAL=400", "more than a year between meetings", "yearly"),
        ("every 13 months", "more than a year between meetings", "quarterly"),
        ("every -1 weeks", "negative number", "every 2 weeks"),
        ("every - 2 months", "negative number", "monthly"),
    ],
)
def test_rhythms_out_of_range_are_refused_at_load(load, rhythm, problem, fix):
    text = MINIMAL + f'\n[person.agreement]\nrhythm = "{rhythm}"\n'
    with pytest.raises(ConfigError) as info:
        load(text)
    line = len(text.splitlines())
    first = str(info.value).splitlines()[0]
    assert f'village.toml, line {line}: person[1] "Ada Lovelace" → agreement → rhythm:' in first
    assert problem in first
    assert fix in info.value.fix


def test_the_widest_windows_and_rarest_rhythm_compute_without_overflow(load):
    text = MINIMAL + '\n[thresholds]\nlookback_days = 18250\nhorizon_days = 730\n'
    text += '\n[[person]]\nname = "Bob"\nemails = ["bob@example.org"]\nrole = "ally"\n'
    text += '[person.agreement]\nrhythm = "yearly"\n'
    village = load(text)
    now = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    t = village.thresholds
    assert (now - dt.timedelta(days=t.lookback_days)).year == 1976
    assert (now + dt.timedelta(days=t.horizon_days)).year == 2028
    agreement = village.people[1].agreement
    assert agreement is not None and agreement.interval_days == 365
    assert parse_rhythm("every 52 weeks")[1] == 364


def test_declarations_are_the_only_place_a_key_is_defined():
    """The allowed keys of each table are exactly its settings type's declared fields."""
    assert declared.allowed(Owner) == ("name", "addresses", "timezone", "working_days",
                                       "working_hours")
    assert declared.allowed(Roulette) == ("day", "time", "size")
    assert set(declared.allowed(Thresholds)) == {
        "cooling_after", "cold_after", "lapsed_after", "min_gap_days", "double_text_days",
        "unanswered_checkins", "max_recipients", "max_attendees", "lookback_days", "horizon_days",
        "thread_age_days"}
    assert "agreement" in declared.allowed(Person) and "key" in declared.allowed(Person)
    assert declared.allowed(Agreement)[:2] == ("rhythm", "duration_minutes")
    assert declared.allowed(Village, "invitations") == ("cooldown_weeks", "min_notice_days")
    assert set(declared.allowed(Village)) >= {"owner", "backend", "person", "cadence",
                                              "invitations", "daemon"}


@pytest.mark.parametrize("plugin", [p for p in PLUGINS if any(p.tables)], ids=lambda p: p.kind)
def test_each_backends_commented_block_loads_when_uncommented(load, plugin):
    """The example shows every backend's own table, ready to uncomment."""
    text = EXAMPLE.read_text(encoding="utf-8").replace('kind = "local"', f'kind = "{plugin.kind}"')
    for table in (t for t in plugin.tables if t):
        head, block, tail = re.split(rf"(?m)^(# \[backend\.{table}\]\n(?:#.*\n)*)", text, maxsplit=1)
        block = re.sub(r"(?m)^# ((?:\[backend\.[a-z]+\]|[a-z_0-9]+ = ).*)$", r"\1", block)
        text = head + block + tail
    village = load(text)
    assert village.backend.kind == plugin.kind
    main_type = next(iter(plugin.tables.values()))
    assert isinstance(village.backend, main_type) or any(
        isinstance(v, main_type) for v in vars(village.backend).values())


@dataclasses.dataclass(frozen=True)
class Secret:
    secret: str = setting("keyring", choices=("keyring", "file"), doc="Where the password is.")
    password_command: str | None = setting(None, example='"pass show mail"')


@dataclasses.dataclass(frozen=True)
class Mailbox:
    host: str = setting(required=True, nonempty=True, example='"imap.example.org"')
    port: int = setting(993, low=1, high=65535)
    credentials: Secret = setting(Secret(), inline=True)


def test_a_backend_declares_its_keys_in_its_own_types(tmp_path):
    """What a new backend writes: frozen dataclasses, one field per key, nothing else."""
    assert declared.allowed(Mailbox) == ("host", "port", "secret", "password_command")
    text = '[backend.mailbox]\nhost = "imap.example.org"\nsecret = "file"\nport = 70000\n'
    src = Source(tmp_path / "village.toml", text, homes={})
    t = TypedTable(src, {"host": "imap.example.org", "secret": "file"}, ("backend", "mailbox"),
                   "backend → mailbox", "[backend.mailbox]")
    assert declared.read_settings(Mailbox, t) == Mailbox("imap.example.org", 993, Secret("file"))
    t.data["port"] = 70000
    with pytest.raises(ConfigError) as info:
        declared.read_settings(Mailbox, t)
    assert "village.toml, line 4: backend → mailbox → port: 70000 is out of range" in str(info.value)
    assert "from 1 to 65535" in info.value.fix
    t.data.pop("port")
    t.data["secrt"] = "file"
    with pytest.raises(ConfigError) as info:
        declared.read_settings(Mailbox, t)
    assert 'did you mean "secret"?' in info.value.fix


MICROSOFT = MINIMAL.replace('kind = "local"', 'kind = "microsoft"') + """
[backend.microsoft]
client_id = "0c3c8d1e-4b8e-4a4e-9a43-2b1f5a2d9e10"
"""


@pytest.mark.parametrize(
    ("before", "after", "at", "label", "fix"),
    [
        ('client_id = "0c3c8d1e-4b8e-4a4e-9a43-2b1f5a2d9e10"', 'client_id = "my app"',
         "client_id", "backend → microsoft → client_id", "App registrations"),
        ('client_id = "0c3c8d1e-4b8e-4a4e-9a43-2b1f5a2d9e10"', "", "[backend.microsoft]",
         "backend → microsoft → client_id: missing", 'client_id = "00000000-'),
        ("[backend.microsoft]", '[backend.microsoft]\ntenant = "contoso com"', "tenant",
         "backend → microsoft → tenant", '"organizations"'),
        ("[backend.microsoft]", '[backend.microsoft]\ngraph_endpoint = "http://127.0.0.1:9/"',
         "graph_endpoint", "backend → microsoft → graph_endpoint", "remove graph_endpoint"),
        ("[backend.microsoft]", '[backend.microsoft]\ntoken_store = "keychain"', "token_store",
         "backend → microsoft → token_store", 'did you mean "keyring"?'),
        ("[backend.microsoft]", '[backend.microsoft]\nclientid = "x"', "clientid",
         "backend → microsoft → clientid", 'did you mean "client_id"?'),
    ],
)  # fmt: skip
def test_microsoft_settings_mistakes(load, before, after, at, label, fix):
    text = MICROSOFT.replace(before, after)
    with pytest.raises(ConfigError) as info:
        load(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith(at))
    first = str(info.value).splitlines()[0]
    assert f"village.toml, line {line}: {label}" in first, str(info.value)
    assert fix in info.value.fix, str(info.value)


def test_microsoft_settings_load(load):
    village = load(MICROSOFT.replace("[backend.microsoft]", '[backend.microsoft]\n'
                                     'graph_endpoint = "https://127.0.0.1:8443/v1.0/"'))
    assert village.backend.kind == "microsoft"
    assert village.backend.client_id == "0c3c8d1e-4b8e-4a4e-9a43-2b1f5a2d9e10"
    assert village.backend.graph_endpoint == "https://127.0.0.1:8443/v1.0"
    assert village.backend.calendars == ("calendar",)
