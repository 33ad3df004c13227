"""The village config: TOML in, a validated ``Village`` out.

``load_village`` reads the file with the stdlib ``tomllib`` and checks every
key. Any mistake raises one ``ConfigError`` naming the file, the line, the key
and a fix, e.g.::

    village.toml, line 17: person[2] "Ada Lovelace" → role: "mentr" is not a role
      fix: did you mean "mentor"? role must be one of: mentor, sponsor, advocate,
      coach, ally, role model, peer mentor

(the fix is one line; it is wrapped here).

Unknown keys are errors (with a "did you mean"), never silently ignored.
tomllib keeps no positions, so ``_Positions`` scans the raw text for where
each key sits. ``config/village.example.toml`` documents every key.
"""

from __future__ import annotations

import ast
import bisect
import dataclasses
import datetime as dt
import difflib
import json
import os
import re
import tomllib
import unicodedata
import zoneinfo
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from villaged.addresses import normalize
from villaged.errors import ConfigError
from villaged.rhythm import RHYTHM_FIX, parse_rhythm
from villaged.village import (
    DEFAULT_CADENCE_DAYS,
    Agreement,
    Backend,
    DigestSettings,
    GoogleBackend,
    LocalBackend,
    Owner,
    Person,
    Role,
    Roulette,
    Thresholds,
    Village,
    WorkingHours,
)

CONFIG_ENV = "VILLAGED_CONFIG"
CONFIG_NAME = "village.toml"
EXAMPLE_NAME = "village.example.toml"

__all__ = [
    "CONFIG_ENV",
    "default_config_path",
    "load_village",
    "parse_village",
    "person_key",
    "starter_text",
]


# --------------------------------------------------------------------------
# Public API


def default_config_path() -> Path:
    """``$VILLAGED_CONFIG``, else ``<user config dir>/villaged/village.toml``."""
    env = os.environ.get(CONFIG_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path("villaged", appauthor=False) / CONFIG_NAME


def starter_text() -> str:
    """The commented starter config that ``villaged init`` writes.

    One copy only: ``config/village.example.toml``, installed as the
    ``villaged.example`` package data and read straight from a checkout.
    """
    from importlib.resources import files

    try:
        return (files("villaged.example") / EXAMPLE_NAME).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError, TypeError):
        pass
    return (Path(__file__).resolve().parents[1] / "config" / EXAMPLE_NAME).read_text(
        encoding="utf-8"
    )


def load_village(path: Path) -> Village:
    """Read and validate the village config at ``path``."""
    path = Path(path).expanduser()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: there is no village config here",
            fix="run `villaged init` to write a starter config",
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{path}: this is a directory, not a config file",
            fix=f"point at the file inside it, e.g. {path / CONFIG_NAME}",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read it ({exc.strerror or exc})",
            fix="check the file's permissions",
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}, line {line}: this is not UTF-8 text",
            fix="save the file with UTF-8 encoding",
        ) from None
    return parse_village(text, path)


def parse_village(text: str, path: Path) -> Village:
    """Validate config ``text``; ``path`` names it in errors and anchors relative paths."""
    path = Path(path).expanduser()
    src = _Source(path, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(src, exc) from None
    return _village(src, data)


def person_key(name: str) -> str:
    """The stable slug of a person's name: ASCII, lower case, hyphens.

    >>> person_key("Tomás Álvarez-Ruiz, MD")
    'tomas-alvarez-ruiz-md'
    """
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --------------------------------------------------------------------------
# The schema

_TOP = ("owner", "backend", "cadence", "thresholds", "roulette", "digest",
        "invitations", "daemon", "person")  # fmt: skip
_OWNER = ("name", "addresses", "timezone", "working_days", "working_hours")
_BACKEND = ("kind", "mail", "calendars", "drafts", "google")
_GOOGLE = ("client_secrets", "token_store", "gmail_endpoint", "calendar_endpoint",
           "token_uri", "calendars", "quota_units_per_minute")  # fmt: skip
_THRESHOLDS = tuple(f.name for f in dataclasses.fields(Thresholds))
_ROULETTE = ("day", "time", "size")
_DIGEST = ("day", "time", "maildir")
_INVITATIONS = ("cooldown_weeks",)
_DAEMON = ("sync_minutes",)
_PERSON = ("name", "key", "emails", "role", "cadence_days", "interests", "notes",
           "paused_until", "do_not_draft", "gives", "agreement")  # fmt: skip
_AGREEMENT = ("rhythm", "duration_minutes", "location", "agenda", "days", "hours")
_ROLES = ", ".join(r.label for r in Role)
_TOKEN_STORES = ("keyring", "file", "systemd-credential")

# Where each key lives, to say "move it to [owner]" for a key in the wrong table.
_HOMES: dict[str, list[str]] = {}
for _section, _keys in (
    ("[owner]", _OWNER),
    ("[backend]", _BACKEND),
    ("[backend.google]", _GOOGLE),
    ("[thresholds]", _THRESHOLDS),
    ("[roulette]", _ROULETTE),
    ("[digest]", _DIGEST),
    ("[invitations]", _INVITATIONS),
    ("[daemon]", _DAEMON),
    ("[[person]]", _PERSON),
    ("[person.agreement]", _AGREEMENT),
):
    for _k in _keys:
        _HOMES.setdefault(_k, []).append(_section)
_TABLE_ALIASES = {"people": "person", "persons": "person", "cadences": "cadence",
                  "threshold": "thresholds", "invites": "invitations",
                  "invitation": "invitations"}  # fmt: skip

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS: dict[str, int] = {}
for _n, _day in enumerate(_WEEKDAYS):
    _DAY_NUMBERS[_day] = _n
    _DAY_NUMBERS[_day[:3]] = _n
_DAY_NUMBERS.update({"tues": 1, "weds": 2, "thur": 3, "thurs": 3})

_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_HOURS = re.compile(r"\s*(\d{1,2}:\d{2})\s*[-–—]\s*(\d{1,2}:\d{2})\s*")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DOMAIN_LABEL = re.compile(r"[^\W_](?:[\w-]*[^\W_])?")


# --------------------------------------------------------------------------
# Building the Village


def _village(src: _Source, data: dict[str, Any]) -> Village:
    top = _Table(src, data, (), "", "the top level")
    top.check_keys(_TOP)

    owner = _owner(top.table("owner", required=True, example="[owner]"))
    backend = _backend(top.table("backend", required=True, example='[backend] with kind = "local"'))
    cadences = _cadences(top.table("cadence"))
    thresholds = _thresholds(top.table("thresholds"))
    roulette = _roulette(top.table("roulette"))
    digest = _digest(top.table("digest"), backend)

    cooldown = Village.invite_cooldown_weeks
    invitations = top.table("invitations")
    if invitations is not None:
        invitations.check_keys(_INVITATIONS)
        cooldown = invitations.integer("cooldown_weeks", cooldown, low=0, high=104)
    sync_minutes = Village.sync_minutes
    daemon = top.table("daemon")
    if daemon is not None:
        daemon.check_keys(_DAEMON)
        sync_minutes = daemon.integer("sync_minutes", sync_minutes, low=1, high=1440)

    return Village(
        owner=owner,
        people=_people(top, owner),
        backend=backend,
        cadences=cadences,
        thresholds=thresholds,
        roulette=roulette,
        digest=digest,
        invite_cooldown_weeks=cooldown,
        sync_minutes=sync_minutes,
        config_path=src.path.absolute(),
    )


def _owner(t: _Table) -> Owner:
    t.check_keys(_OWNER)
    name = t.text("name", required=True, nonempty=True, example='name = "Dana Reyes"')
    addresses = t.emails("addresses", example='addresses = ["dana@uni.example"]')
    timezone = t.timezone("timezone")
    default = WorkingHours()
    days = t.days(
        "working_days", default.days, example='working_days = ["mon", "tue", "wed", "thu", "fri"]'
    )
    start, end = t.hours(
        "working_hours", (default.start, default.end), example='working_hours = "09:00-17:00"'
    )
    return Owner(
        name=name,
        addresses=addresses,
        timezone=timezone,
        working_hours=WorkingHours(days=days, start=start, end=end),
    )


def _backend(t: _Table) -> Backend:
    t.check_keys(_BACKEND)
    kind = t.choice("kind", ("local", "google"), "local", example='kind = "local"')
    # Both halves are checked whenever present, so switching kind is one line.
    local = _local_backend(t, required=kind == "local")
    google_table = t.table("google")
    google = _google_backend(google_table) if google_table is not None else GoogleBackend()
    if kind == "google":
        return google
    assert local is not None
    return local


def _local_backend(t: _Table, *, required: bool) -> LocalBackend | None:
    mail = t.paths("mail", example='mail = ["~/Maildir"]')
    calendars = t.paths("calendars", example='calendars = ["~/cal/export.ics"]')
    drafts = t.path("drafts", required=required, example='drafts = "~/Maildir/.Drafts"')
    if not required:
        return None
    if not mail and not calendars:
        t.fail(
            "mail",
            "the local backend has no mail and no calendars to read",
            fix='list at least one, e.g. mail = ["~/Maildir"] or calendars = ["~/cal/export.ics"]',
        )
    assert drafts is not None
    return LocalBackend(mail=mail, calendars=calendars, drafts=drafts)


def _google_backend(t: _Table) -> GoogleBackend:
    t.check_keys(_GOOGLE)
    default = GoogleBackend()
    return GoogleBackend(
        client_secrets=t.path(
            "client_secrets", example='client_secrets = "~/.config/villaged/client_secret.json"'
        ),
        token_store=t.choice(
            "token_store", _TOKEN_STORES, default.token_store, example='token_store = "keyring"'
        ),
        gmail_endpoint=t.url(
            "gmail_endpoint", example='gmail_endpoint = "https://gmail.googleapis.com/"'
        ),
        calendar_endpoint=t.url(
            "calendar_endpoint",
            example='calendar_endpoint = "https://www.googleapis.com/calendar/v3/"',
        ),
        token_uri=t.url("token_uri", example='token_uri = "https://oauth2.googleapis.com/token"'),
        calendars=t.strings(
            "calendars", default.calendars, nonempty=True, example='calendars = ["primary"]'
        ),
        quota_units_per_minute=t.integer(
            "quota_units_per_minute", default.quota_units_per_minute, low=1
        ),
    )


def _cadences(t: _Table | None) -> dict[Role, int]:
    cadences = dict(DEFAULT_CADENCE_DAYS)
    if t is None:
        return cadences
    seen: dict[Role, str] = {}
    for name in t.data:
        try:
            role = Role.parse(name)
        except ValueError:
            t.unknown(name, [r.value for r in Role], what="role")
        if role in seen:
            t.fail(
                name,
                f'this sets the {role.label} cadence again (already set by "{seen[role]}")',
                fix=f'keep one of "{seen[role]}" and "{name}"',
            )
        seen[role] = name
        example = f"{role.value} = {DEFAULT_CADENCE_DAYS[role]}"
        cadences[role] = t.integer(name, cadences[role], low=1, high=3650, example=example)
    return cadences


def _thresholds(t: _Table | None) -> Thresholds:
    if t is None:
        return Thresholds()
    t.check_keys(_THRESHOLDS)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Thresholds):
        if f.type == "float":
            values[f.name] = t.number(f.name, f.default)
        else:
            values[f.name] = t.integer(f.name, f.default, low=1)
    order = ("cooling_after", "cold_after", "lapsed_after")
    for lower, upper in zip(order, order[1:]):
        if values[lower] >= values[upper]:
            t.fail(
                upper if upper in t.data else lower,
                f"{lower} ({values[lower]:g}) must be less than {upper} ({values[upper]:g})",
                fix="keep 0 < cooling_after < cold_after < lapsed_after, e.g. 1.0, 1.5 and 3.0",
            )
    return Thresholds(**values)


def _roulette(t: _Table | None) -> Roulette:
    default = Roulette()
    if t is None:
        return default
    t.check_keys(_ROULETTE)
    return Roulette(
        day=t.day("day", default.day, example='day = "monday"'),
        time=t.clock("time", default.time, example='time = "08:00"'),
        size=t.integer("size", default.size, low=0, high=20),
    )


def _digest(t: _Table | None, backend: Backend) -> DigestSettings:
    # Local delivery defaults to the Maildir that holds the drafts folder.
    maildir = backend.drafts.parent if isinstance(backend, LocalBackend) else None
    default = DigestSettings(maildir=maildir)
    if t is None:
        return default
    t.check_keys(_DIGEST)
    return DigestSettings(
        day=t.day("day", default.day, example='day = "monday"'),
        time=t.clock("time", default.time, example='time = "07:30"'),
        maildir=t.path("maildir", example='maildir = "~/Maildir"') or maildir,
    )


def _people(top: _Table, owner: Owner) -> tuple[Person, ...]:
    raw = top.data.get("person", [])
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        top.fail(
            "person",
            f"expected one [[person]] block per person, found {_describe(raw)}",
            fix='start each person with [[person]] (double brackets), then name = "...", '
            'emails = ["..."] and role = "..."',
        )
    owner_line = top.src.line(("owner", "addresses"))
    owner_emails = {normalize(a) for a in owner.addresses}
    keys: dict[str, tuple[str, int | None]] = {}
    emails: dict[str, tuple[str, int | None]] = {}
    people: list[Person] = []
    for index, data in enumerate(raw):
        name = data.get("name")
        label = f"person[{index + 1}]"
        if isinstance(name, str) and name.strip():
            label += f' "{name.strip()}"'
        t = _Table(top.src, data, ("person", index), label, "[[person]]")
        person = _person(t, owner)
        here = t.src.line(t.key)

        if person.key in keys:
            other, line = keys[person.key]
            t.fail(
                "key" if "key" in data else "name",
                f'{other} (line {line}) has the same key "{person.key}"',
                fix='give each person a distinct name, or set key = "..." to tell them apart',
            )
        keys[person.key] = (label, here)

        for i, email in enumerate(person.emails):
            norm = normalize(email)
            if norm in owner_emails:
                t.fail_item(
                    "emails",
                    i,
                    f'"{email}" is the owner\'s own address '
                    f"(owner → addresses, line {owner_line})",
                    fix=f'remove "{email}" from this person',
                )
            if norm in emails and emails[norm][0] != label:
                other, line = emails[norm]
                t.fail_item(
                    "emails",
                    i,
                    f'"{email}" also belongs to {other} (line {line})',
                    fix="an address belongs to one person only: remove it from one of them",
                )
            emails[norm] = (label, here)
        people.append(person)
    return tuple(people)


def _person(t: _Table, owner: Owner) -> Person:
    t.check_keys(_PERSON)
    name = t.text("name", required=True, nonempty=True, example='name = "Ada Lovelace"')
    if "key" in t.data:
        key = t.text("key", example='key = "ada-lovelace"')
        if not _SLUG.fullmatch(key):
            t.fail(
                "key",
                f'"{key}" is not a valid key',
                fix="use lower-case letters, digits and hyphens, "
                f'e.g. key = "{person_key(key) or "ada-lovelace"}"',
            )
    else:
        key = person_key(name)
        if not key:
            t.fail(
                "name",
                f'cannot make a key from "{name}" (it has no ASCII letters or digits)',
                fix='add key = "..." in lower-case letters, digits and hyphens, '
                'e.g. key = "li-wei"',
            )
    emails = t.emails("emails", example='emails = ["ada@example.org"]')
    role = t.role("role")
    agreement = t.table("agreement")
    return Person(
        key=key,
        name=name,
        emails=emails,
        role=role,
        cadence_days=t.integer("cadence_days", None, low=1, high=3650, example="cadence_days = 30"),
        interests=t.strings("interests", (), example='interests = ["rare diseases", "running"]'),
        notes=t.text("notes", example='notes = "Homework: send her the revised aims page."'),
        paused_until=t.date("paused_until", example="paused_until = 2026-09-01"),
        do_not_draft=t.boolean("do_not_draft", False),
        gives=t.strings("gives", (), example='gives = ["Send her the preprint"]'),
        agreement=_agreement(agreement, owner) if agreement is not None else None,
    )


def _agreement(t: _Table, owner: Owner) -> Agreement:
    t.check_keys(_AGREEMENT)
    rhythm = t.text(
        "rhythm", required=True, nonempty=True, example='rhythm = "monthly on the 2nd Tuesday"'
    )
    try:
        rrule, interval_days = parse_rhythm(rhythm, owner.timezone)
    except ConfigError as exc:
        t.fail("rhythm", exc.message, fix=exc.fix or RHYTHM_FIX)
    duration = t.integer("duration_minutes", Agreement.duration_minutes, low=5, high=480)
    hours: WorkingHours | None = None
    if "days" in t.data or "hours" in t.data:
        base = owner.working_hours
        days = t.days("days", base.days, example='days = ["tue", "thu"]')
        start, end = t.hours("hours", (base.start, base.end), example='hours = "14:00-17:00"')
        hours = WorkingHours(days=days, start=start, end=end)
    window = hours or owner.working_hours
    minutes = (window.end.hour - window.start.hour) * 60 + window.end.minute - window.start.minute
    if minutes < duration:
        t.fail(
            "hours" if "hours" in t.data else "duration_minutes",
            f"a {duration}-minute meeting does not fit in "
            f"{window.start:%H:%M}-{window.end:%H:%M}",
            fix="widen the hours or shorten duration_minutes",
        )
    return Agreement(
        rrule=rrule,
        rhythm=rhythm,
        duration_minutes=duration,
        location=t.text("location", example='location = "Zoom"'),
        agenda=t.text("agenda", example='agenda = "Aims page, K award timeline"'),
        hours=hours,
        interval_days=interval_days,
    )


# --------------------------------------------------------------------------
# Reading typed values out of one table, with errors that point at the key

_Key = tuple[str | int, ...]


class _Source:
    """The config file: its path, its text, and where its keys are."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.base_dir = path.absolute().parent
        self._positions: _Positions | None = None

    def line(self, key: _Key) -> int | None:
        if self._positions is None:
            self._positions = _Positions(self.text)
        return self._positions.line(key)

    def error(self, key: _Key, label: str, problem: str, fix: str) -> ConfigError:
        line = self.line(key)
        where = f"{self.path}, line {line}" if line else str(self.path)
        return ConfigError(f"{where}: {label}: {problem}", fix=fix)


class _Table:
    """One TOML table, read key by key; every mistake fails at its key."""

    def __init__(
        self, src: _Source, data: dict[str, Any], key: _Key, label: str, section: str
    ) -> None:
        self.src = src
        self.data = data
        self.key = key  # position path, e.g. ("person", 1)
        self.label = label  # shown to the user, e.g. 'person[2] "Ada Lovelace"'
        self.section = section  # the header it lives under, e.g. "[[person]]"

    # -- errors

    def label_for(self, name: str) -> str:
        return f"{self.label} → {name}" if self.label else name

    def fail(self, name: str, problem: str, fix: str) -> NoReturn:
        raise self.src.error(self.key + (name,), self.label_for(name), problem, fix) from None

    def fail_item(self, name: str, index: int, problem: str, fix: str) -> NoReturn:
        label = f"{self.label_for(name)}[{index + 1}]"
        raise self.src.error(self.key + (name, index), label, problem, fix) from None

    def missing(self, name: str, example: str) -> NoReturn:
        self.fail(name, "missing", fix=f"add {example} under {self.section}")

    def wrong_type(self, name: str, expected: str, example: str) -> NoReturn:
        found = _describe(self.data[name])
        self.fail(name, f"expected {expected}, found {found}", fix=f"write {example}")

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for name in self.data:
            if name not in allowed:
                self.unknown(name, allowed)

    def unknown(self, name: str, allowed: Iterable[str], what: str = "key") -> NoReturn:
        allowed = list(allowed)
        listing = ", ".join(allowed)
        value = self.data[name]
        top = not self.key
        is_table = isinstance(value, dict) or (
            isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
        )
        if top and is_table:
            problem = f"unknown table [{name}]"
        elif top:
            problem = f'unknown key "{name}" at the top of the file'
        else:
            problem = f'unknown {what} "{name}"'
        guess = (_TABLE_ALIASES.get(name.lower()) if top else None) or _closest(name, allowed)
        homes = _HOMES.get(name, [])
        home = " or ".join(homes)
        if homes and self.section not in homes and not top:
            fix = f'"{name}" belongs in {home}: move it there'
        elif guess and top:
            written = " (written [[person]])" if guess == "person" else ""
            fix = f"did you mean [{guess}]{written}? The tables are: {listing}"
        elif guess:
            fix = f'did you mean "{guess}"? The {what}s allowed here are: {listing}'
        elif home:
            fix = f'"{name}" belongs in {home}: move it below that header'
        else:
            fix = f"remove it, or use one of: {listing}"
        self.fail(name, problem, fix)

    # -- tables

    def table(self, name: str, *, required: bool = False, example: str = "") -> _Table | None:
        if name not in self.data:
            if required:
                self.fail(
                    name,
                    f"the [{name}] table is missing",
                    fix=f"add {example} (`villaged init` writes a commented example)",
                )
            return None
        value = self.data[name]
        section = f"[{name}]" if not self.key else f"[{self.section.strip('[]')}.{name}]"
        if not isinstance(value, dict):
            self.fail(
                name,
                f"expected a table, found {_describe(value)}",
                fix=f"write {section} on a line of its own, with its keys below it",
            )
        return _Table(self.src, value, self.key + (name,), self.label_for(name), section)

    # -- scalars

    def text(
        self,
        name: str,
        *,
        example: str,
        required: bool = False,
        nonempty: bool = False,
        default: str = "",
    ) -> str:
        if name not in self.data:
            if required:
                self.missing(name, example)
            return default
        value = self.data[name]
        if not isinstance(value, str):
            self.wrong_type(name, "text in double quotes", example)
        if nonempty and not value.strip():
            self.fail(name, "is empty", fix=f"write {example}")
        return value.strip() if nonempty else value

    def integer(
        self, name: str, default: Any, *, low: int, high: int | None = None, example: str = ""
    ) -> Any:
        example = example or f"{name} = {default}"
        if name not in self.data:
            return default
        value = self.data[name]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.wrong_type(name, "a whole number", example)
        if value < low or (high is not None and value > high):
            limits = f"from {low} to {high}" if high is not None else f"of at least {low}"
            self.fail(
                name, f"{value} is out of range", fix=f"use a whole number {limits}, e.g. {example}"
            )
        return value

    def number(self, name: str, default: float) -> float:
        example = f"{name} = {default}"
        if name not in self.data:
            return default
        value = self.data[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.wrong_type(name, "a number", example)
        if not 0 < value < float("inf"):
            fix = f"use a number above 0, e.g. {example}"
            self.fail(name, f"{value} is not a positive number", fix=fix)
        return float(value)

    def boolean(self, name: str, default: bool) -> bool:
        if name not in self.data:
            return default
        value = self.data[name]
        if not isinstance(value, bool):
            self.wrong_type(name, "true or false (without quotes)", f"{name} = true")
        return value

    def choice(self, name: str, options: tuple[str, ...], default: str, *, example: str) -> str:
        value = self.text(name, example=example, default=default)
        if value not in options:
            guess = _closest(value, options)
            hint = f'did you mean "{guess}"? ' if guess else ""
            allowed = ", ".join(f'"{o}"' for o in options)
            fix = f"{hint}{name} must be one of: {allowed}"
            self.fail(name, f'"{value}" is not allowed', fix=fix)
        return value

    def role(self, name: str) -> Role:
        example = 'role = "mentor"'
        if name not in self.data:
            self.fail(name, "missing", fix=f"add {example}; role must be one of: {_ROLES}")
        value = self.text(name, example=example)
        try:
            return Role.parse(value)
        except ValueError:
            spaced = re.sub(r"[\s_-]+", " ", value.strip().lower())
            guess = _closest(spaced, [r.label for r in Role])
            hint = f'did you mean "{guess}"? ' if guess else ""
            self.fail(name, f'"{value}" is not a role', fix=f"{hint}role must be one of: {_ROLES}")

    def timezone(self, name: str) -> zoneinfo.ZoneInfo:
        example = 'timezone = "America/Chicago"'
        value = self.text(name, required=True, nonempty=True, example=example)
        try:
            return zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
        guess = _closest(value, zoneinfo.available_timezones())
        hint = f'did you mean "{guess}"? ' if guess else ""
        self.fail(
            name,
            f'"{value}" is not a known time zone',
            fix=f'{hint}use an IANA zone name such as "America/Chicago" or "Europe/London"',
        )

    def date(self, name: str, *, example: str) -> dt.date | None:
        if name not in self.data:
            return None
        value = self.data[name]
        if isinstance(value, dt.datetime):
            self.fail(
                name,
                "expected a date, found a date and time",
                fix=f"write just the date, e.g. {example}",
            )
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and _DATE.fullmatch(value.strip()):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                self.fail(
                    name,
                    f'"{value}" is not a real date',
                    fix=f"write a date as YYYY-MM-DD, e.g. {example}",
                )
        self.wrong_type(name, "a date (YYYY-MM-DD)", example)

    def clock(self, name: str, default: dt.time, *, example: str) -> dt.time:
        if name not in self.data:
            return default
        value = self.data[name]
        if isinstance(value, dt.time) and value.tzinfo is None:
            return value
        if not isinstance(value, str):
            self.wrong_type(name, 'a time in quotes ("HH:MM", 24-hour)', example)
        parsed = _parse_time(value)
        if parsed is None:
            self.fail(
                name,
                f'"{value}" is not a time',
                fix=f'write a 24-hour time as "HH:MM", e.g. {example}',
            )
        return parsed

    def hours(
        self, name: str, default: tuple[dt.time, dt.time], *, example: str
    ) -> tuple[dt.time, dt.time]:
        if name not in self.data:
            return default
        value = self.text(name, example=example)
        m = _HOURS.fullmatch(value)
        start = _parse_time(m[1]) if m else None
        end = _parse_time(m[2]) if m else None
        if start is None or end is None:
            self.fail(
                name,
                f'"{value}" is not a range of hours',
                fix=f'write "HH:MM-HH:MM" (24-hour), e.g. {example}',
            )
        if start >= end:
            self.fail(
                name,
                f'"{value}" ends before it starts',
                fix=f"the end must come after the start, e.g. {example}",
            )
        return start, end

    def day(self, name: str, default: int, *, example: str) -> int:
        if name not in self.data:
            return default
        value = self.text(name, example=example)
        number = _DAY_NUMBERS.get(value.strip().lower())
        if number is None:
            self.fail(name, f'"{value}" is not a day of the week', fix=_day_fix(value))
        return number

    def days(self, name: str, default: tuple[int, ...], *, example: str) -> tuple[int, ...]:
        if name not in self.data:
            return default
        numbers: set[int] = set()
        for i, value in enumerate(self.strings(name, (), nonempty=True, example=example)):
            number = _DAY_NUMBERS.get(value.lower())
            if number is None:
                self.fail_item(name, i, f'"{value}" is not a day of the week', fix=_day_fix(value))
            numbers.add(number)
        return tuple(sorted(numbers))

    # -- lists

    def strings(
        self, name: str, default: tuple[str, ...], *, example: str, nonempty: bool = False
    ) -> tuple[str, ...]:
        if name not in self.data:
            return default
        value = self.data[name]
        if isinstance(value, str):
            self.fail(
                name,
                f"expected a list in square brackets, found the single text {_toml(value)}",
                fix=f"put it in square brackets: {name} = [{_toml(value)}]",
            )
        if not isinstance(value, list):
            self.wrong_type(name, 'a list in square brackets, like ["a", "b"]', example)
        if nonempty and not value:
            self.fail(name, "the list is empty", fix=f"write {example}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                problem = f"expected text in double quotes, found {_describe(item)}"
                self.fail_item(name, i, problem, fix=f"write {example}")
            if not item.strip():
                self.fail_item(name, i, "is empty", fix=f"remove it, or write {example}")
        return tuple(item.strip() for item in value)

    def emails(self, name: str, *, example: str) -> tuple[str, ...]:
        if name not in self.data:
            self.missing(name, example)
        values = self.strings(name, (), nonempty=True, example=example)
        for i, value in enumerate(values):
            problem, bare = _email_problem(value)
            if problem:
                fix = f"write just the address: {_toml(bare)}" if bare else f"write e.g. {example}"
                self.fail_item(name, i, f'"{value}" {problem}', fix=fix)
        return values

    # -- paths and URLs

    def path(self, name: str, *, example: str, required: bool = False) -> Path | None:
        if name not in self.data:
            if required:
                self.missing(name, example)
            return None
        value = self.text(name, nonempty=True, example=example)
        path = self._resolve(value)
        if path is None:
            self.fail(name, _UNEXPANDABLE.format(value), fix=f"write a full path, e.g. {example}")
        return path

    def paths(self, name: str, *, example: str) -> tuple[Path, ...]:
        paths: list[Path] = []
        for i, value in enumerate(self.strings(name, (), example=example)):
            path = self._resolve(value)
            if path is None:
                fix = f"write a full path, e.g. {example}"
                self.fail_item(name, i, _UNEXPANDABLE.format(value), fix=fix)
            paths.append(path)
        return tuple(paths)

    def _resolve(self, value: str) -> Path | None:
        """``~`` expanded, relative to the config file's folder; None if ``~`` cannot be."""
        try:
            path = Path(value).expanduser()
        except RuntimeError:
            return None
        return path if path.is_absolute() else self.src.base_dir / path

    def url(self, name: str, *, example: str) -> str | None:
        if name not in self.data:
            return None
        value = self.text(name, nonempty=True, example=example)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.fail(
                name, f'"{value}" is not an http(s) URL', fix=f"write a full URL, e.g. {example}"
            )
        return value


_UNEXPANDABLE = '"{}" starts with ~ but that home directory is unknown'


def _day_fix(value: str) -> str:
    guess = _closest(value.strip(), _WEEKDAYS)
    hint = f'did you mean "{guess}"? ' if guess else ""
    return f"{hint}use a day name such as monday or mon ({', '.join(_WEEKDAYS)})"


# --------------------------------------------------------------------------
# Small pure helpers


def _closest(word: str, options: Iterable[str]) -> str | None:
    options = list(options)
    lowered = {o.lower(): o for o in options}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {_toml(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, dt.time):
        return "a time"
    return type(value).__name__


def _toml(text: str) -> str:
    """``text`` as a TOML basic string."""
    return json.dumps(text, ensure_ascii=False)


def _parse_time(text: str) -> dt.time | None:
    m = _TIME.fullmatch(text.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        return None
    return dt.time(int(m[1]), int(m[2]))


def _email_problem(address: str) -> tuple[str | None, str | None]:
    """(what is wrong, the bare address if it was written "Name <addr>")."""
    if "<" in address or ">" in address:
        m = re.search(r"<([^<>]+)>", address)
        bare = m[1].strip() if m else None
        return "is not a bare address", bare
    if any(c.isspace() for c in address):
        return "contains a space", None
    local, at, domain = address.rpartition("@")
    if not at:
        return "has no @", None
    if not local:
        return "has nothing before the @", None
    if "@" in local:
        return "has more than one @", None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return f'has no valid domain after the @ ("{domain}")', None
    return None, None


# --------------------------------------------------------------------------
# TOML syntax errors


def _syntax_error(src: _Source, exc: tomllib.TOMLDecodeError) -> ConfigError:
    message = str(exc)
    m = re.search(r" \(at line (\d+), column (\d+)\)$", message)
    detail = message[: m.start()] if m else re.sub(r" \(at end of document\)$", "", message)
    line: int | None = int(m[1]) if m else None
    column: int | None = int(m[2]) if m else None
    shown = detail[:1].lower() + detail[1:]
    if detail == "Cannot overwrite a value" or detail.startswith("Unclosed"):
        # tomllib points past the real mistake here; the scanner finds it.
        positions = _Positions(src.text)
        if detail == "Cannot overwrite a value" and positions.duplicates:
            key, first, line = positions.duplicates[0]
            shown, column = f"{_dotted(key)} is set twice (first on line {first})", None
        elif detail.startswith("Unclosed") and positions.unclosed:
            line, column = positions.unclosed, None
            shown = "this list is not closed"
            if "array" not in detail:
                shown = "this { ... } table is not closed"
    if detail.startswith("Unterminated string") or detail == "Illegal character '\\n'":
        shown = "this text has no closing quote"
    declared = re.fullmatch(r"Cannot declare \((.*)\) twice", detail)
    if declared:
        try:
            shown = f"[{'.'.join(ast.literal_eval(f'({declared[1]})'))}] is declared twice"
        except (ValueError, SyntaxError, TypeError):
            pass
    lines = src.text.splitlines()
    raw = lines[line - 1] if line and line <= len(lines) else ""
    where = str(src.path)
    if line:
        where += f", line {line}" + (f", column {column}" if column else "")
    else:
        where += ", at the end of the file"
    problem = f"not valid TOML: {shown}"
    if raw.strip():
        problem += f" in `{raw.strip()}`"
    return ConfigError(f"{where}: {problem}", fix=_syntax_fix(detail, raw))


def _syntax_fix(detail: str, raw: str) -> str:
    if detail == "Invalid value":
        m = re.match(r"\s*([\w\"'.-]+)\s*=\s*(.*?)\s*(?:#.*)?$", raw)
        if m and m[2] and m[2][0] not in "\"'[{+-.0123456789" and m[2] not in ("true", "false"):
            return f"put text in double quotes: {m[1]} = {_toml(m[2])}"
        if m and m[2].startswith("["):
            return 'separate list items with commas and quote text items, e.g. ["a", "b"]'
        return (
            'write the value as "text", a number, true or false, a date (2026-09-01) '
            'or a list ["a", "b"]'
        )
    if detail.startswith("Unterminated string") or detail == "Illegal character '\\n'":
        return "close the text with the same quote mark it starts with, on the same line"
    if detail.startswith(("Unescaped '\\'", "Invalid hex value", "Escaped character")):
        return (
            'inside "..." a backslash starts an escape: write Windows paths in single '
            r"quotes ('C:\Users\dana') or with forward slashes"
        )
    if detail.startswith("Unclosed array"):
        return "close the list with ] and separate its items with commas"
    if detail.startswith("Unclosed inline table"):
        return "close the { ... } table with }, on the same line"
    if detail.startswith(("Cannot", "Duplicate")):
        return (
            "each key and [table] may appear only once: merge the two "
            "(every person gets their own [[person]] block)"
        )
    if detail.startswith("Expected '='"):
        return 'write key = value, with text in double quotes, e.g. role = "mentor"'
    if detail.startswith("Expected newline"):
        return (
            'put each key = value on its own line, text in double quotes ("Ada Lovelace"), '
            "and comments after #"
        )
    if detail.startswith(("Invalid statement", "Invalid initial character")):
        return "each line is a [table] header, a key = value pair, or a # comment"
    if detail.startswith("Expected ']"):
        return "close the table header with ] (or ]] for [[person]])"
    if detail.startswith("Invalid date"):
        return "write dates as YYYY-MM-DD, e.g. 2026-09-01"
    if detail.startswith(("Illegal character", "Found invalid character")):
        return "remove the stray character (control characters cannot appear in text)"
    return "fix the TOML syntax here (see https://toml.io)"


def _dotted(key: tuple[str | int, ...]) -> str:
    out = ""
    for part in key:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


# --------------------------------------------------------------------------
# Where keys are: a small scanner over the raw TOML text


class _Stop(Exception):
    """The scanner met something it does not follow."""


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}\n#]+")


class _Positions:
    """Line numbers of keys, tables and list items in TOML text.

    Paths are tuples like ``("person", 1, "role")`` or ``("owner",
    "addresses", 0)``: array-of-tables and list indices are 0-based ints.
    ``line`` falls back to the nearest enclosing key, so a missing key points
    at its table's header. Best effort: on text it cannot follow (tomllib has
    the last word on validity) it keeps what it found so far, and notes
    duplicate keys and unclosed lists for syntax errors.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.lines: dict[tuple[str | int, ...], int] = {}
        self.arrays: dict[tuple[str | int, ...], int] = {}
        self.assigned: dict[tuple[str | int, ...], int] = {}
        self.duplicates: list[tuple[tuple[str | int, ...], int, int]] = []
        self.unclosed: int | None = None
        self._open: list[int] = []
        try:
            self._document()
        except (_Stop, IndexError, ValueError, tomllib.TOMLDecodeError):
            if self._open:
                self.unclosed = self._open[0]

    def line(self, key: tuple[str | int, ...]) -> int | None:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None

    def _line(self) -> int:
        return bisect.bisect_left(self.newlines, self.i) + 1

    def _skip(self, newlines: bool = False) -> None:
        t = self.text
        while self.i < self.n:
            c = t[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#":
                end = t.find("\n", self.i)
                self.i = self.n if end < 0 else end
            else:
                return

    def _expect(self, token: str) -> None:
        if not self.text.startswith(token, self.i):
            raise _Stop
        self.i += len(token)

    def _document(self) -> None:
        table: tuple[str | int, ...] = ()
        while True:
            self._skip(newlines=True)
            if self.i >= self.n:
                return
            line = self._line()
            if self.text.startswith("[[", self.i):
                self.i += 2
                parts = self._key()
                self._expect("]]")
                table = self._header(parts, line, array=True)
            elif self.text[self.i] == "[":
                self.i += 1
                parts = self._key()
                self._expect("]")
                table = self._header(parts, line, array=False)
            else:
                self._keyval(table)

    def _header(self, parts: tuple[str, ...], line: int, *, array: bool) -> tuple[str | int, ...]:
        key: tuple[str | int, ...] = ()
        for j, part in enumerate(parts):
            key += (part,)
            last = j == len(parts) - 1
            if last and array:
                self.lines.setdefault(key, line)
                index = self.arrays.get(key, -1) + 1
                self.arrays[key] = index
                key += (index,)
            elif key in self.arrays:
                key += (self.arrays[key],)
            if not last:
                self.lines.setdefault(key, line)
        self.lines[key] = line
        return key

    def _key(self) -> tuple[str, ...]:
        t = self.text
        parts: list[str] = []
        while True:
            self._skip()
            start = self.i
            if t[start] == '"':
                self._basic()
                parts.append(tomllib.loads("k = " + t[start : self.i])["k"])
            elif t[start] == "'":
                self._literal()
                parts.append(t[start + 1 : self.i - 1])
            else:
                m = _BARE_KEY.match(t, start)
                if not m:
                    raise _Stop
                parts.append(m.group())
                self.i = m.end()
            self._skip()
            if self.i < self.n and t[self.i] == ".":
                self.i += 1
                continue
            return tuple(parts)

    def _keyval(self, table: tuple[str | int, ...]) -> None:
        line = self._line()
        parts = self._key()
        key = table
        for part in parts[:-1]:
            key += (part,)
            self.lines.setdefault(key, line)
        key += (parts[-1],)
        if key in self.assigned:
            self.duplicates.append((key, self.assigned[key], line))
        else:
            self.assigned[key] = line
        self.lines.setdefault(key, line)
        self._expect("=")
        self._skip()
        self._value(key)

    def _value(self, key: tuple[str | int, ...]) -> None:
        t = self.text
        c = t[self.i]
        if t.startswith('"""', self.i):
            self._multiline('"""')
        elif t.startswith("'''", self.i):
            self._multiline("'''")
        elif c == '"':
            self._basic()
        elif c == "'":
            self._literal()
        elif c in "[{":
            close = "]" if c == "[" else "}"
            self._open.append(self._line())
            self.i += 1
            index = 0
            while True:
                self._skip(newlines=True)
                if t[self.i] == close:
                    self.i += 1
                    break
                if c == "[":
                    self.lines.setdefault(key + (index,), self._line())
                    self._value(key + (index,))
                else:
                    self._keyval(key)
                self._skip(newlines=True)
                if t[self.i] == ",":
                    self.i += 1
                    index += 1
                elif t[self.i] != close:
                    raise _Stop
            self._open.pop()
        else:
            m = _SCALAR.match(t, self.i)
            if not m:
                raise _Stop
            self.i = m.end()

    def _basic(self) -> None:
        t = self.text
        self.i += 1
        while t[self.i] != '"':
            if t[self.i] == "\n":
                raise _Stop
            self.i += 2 if t[self.i] == "\\" else 1
        self.i += 1

    def _literal(self) -> None:
        end = self.text.find("'", self.i + 1)
        if end < 0 or "\n" in self.text[self.i : end]:
            raise _Stop
        self.i = end + 1

    def _multiline(self, quote: str) -> None:
        t = self.text
        self.i += 3
        while not t.startswith(quote, self.i):
            self.i += 2 if quote == '"""' and t[self.i] == "\\" else 1
            if self.i >= self.n:
                raise _Stop
        self.i += 3
        for _ in range(2):  # up to two quotes right before the closing ones
            if self.i < self.n and t[self.i] == quote[0]:
                self.i += 1
