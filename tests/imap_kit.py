"""Builders for the IMAP + CalDAV backend tests: a village on the test servers, mail, events."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from villaged.backends.imap.backend import ImapIO
from villaged.backends.imap.settings import (
    CaldavSettings,
    ImapBackend,
    ImapSettings,
)
from villaged.domain.addresses import Matcher
from villaged.domain.village import Owner, Person, Role, Village
from villaged.ports.source import SyncContext
from villaged.service.sync import SyncReport, sync_all
from villaged.store import Store

CHICAGO = ZoneInfo("America/Chicago")
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.timezone.utc)  # Monday 08:00 Chicago
OWNER = "dana@uni.example"

PEOPLE = (
    Person(key="ada", name="Ada Lovelace", emails=("ada@example.org",), role=Role.MENTOR),
    Person(key="bob", name="Bob Kahn", emails=("bob.kahn@gmail.com",), role=Role.SPONSOR),
    Person(key="cyd", name="Cyd Charisse", emails=("cyd@dance.example",), role=Role.COACH),
)


def password_file(state_dir: Path, service: str, password: str) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / f"{service}-password"
    path.write_text(password + "\n")
    path.chmod(0o600)


def imap_settings(account: Any, **kw: Any) -> ImapSettings:
    options: dict[str, Any] = dict(host="127.0.0.1", port=account.server.imaps_port,
                                   username=account.username, tls="implicit",
                                   ca_file=account.ca, secret="file",
                                   timeout_seconds=20)
    options.update(kw)
    return ImapSettings(**options)


def caldav_settings(calendar: Any, **kw: Any) -> CaldavSettings:
    options: dict[str, Any] = dict(url=calendar.server.url, username=calendar.username,
                                   ca_file=calendar.ca, calendars=(calendar.name,),
                                   secret="file")
    options.update(kw)
    return CaldavSettings(**options)


def imap_village(account: Any, state_dir: Path, calendar: Any = None,
                 people: tuple[Person, ...] = PEOPLE, imap: dict[str, Any] | None = None,
                 caldav: dict[str, Any] | None = None) -> Village:
    password_file(state_dir, "imap", account.password)
    if calendar is not None:
        password_file(state_dir, "caldav", calendar.password)
    backend = ImapBackend(imap=imap_settings(account, **(imap or {})),
                          caldav=caldav_settings(calendar, **(caldav or {}))
                          if calendar is not None else None)
    return Village(owner=Owner(name="Dana Reyes", addresses=(OWNER, "dana.reyes@gmail.com"),
                               timezone=CHICAGO),
                   people=people, backend=backend)


def context(village: Village, now: dt.datetime = NOW) -> SyncContext:
    return SyncContext(matcher=Matcher.build(village.owner.addresses, village.people),
                       limits=village.thresholds, now=now)


def sync(village: Village, store: Store, state_dir: Path, now: dt.datetime = NOW,
         io: ImapIO | None = None) -> SyncReport:
    own = io is None
    io = io or ImapIO(village, village.backend, state_dir)  # type: ignore[arg-type]
    try:
        return sync_all(store, io.sources(), context(village, now))
    finally:
        if own:
            io.close()


def mail(sender: str, to: list[str], when: dt.datetime, subject: str = "hello",
         cc: list[str] | None = None, msgid: str | None = None,
         extra: dict[str, str] | None = None, body: str = "A body villaged never reads.\n",
         ) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = ", ".join(to)
    if cc:
        m["Cc"] = ", ".join(cc)
    m["Subject"] = subject
    m["Date"] = format_datetime(when)
    m["Message-ID"] = msgid or f"<{abs(hash((sender, tuple(to), when, subject)))}@test>"
    for name, value in (extra or {}).items():
        m[name] = value
    m["Received"] = "from mx.example by imap.example; " + format_datetime(when)
    m.set_content(body)
    return m.as_bytes()


def rows(store: Store) -> set[tuple[str, str, str, bool, str]]:
    """What the store says, comparable across stores: (uid, person, kind, direct, at)."""
    return {(i.uid, i.person, i.kind.value, i.direct, i.at.isoformat())
            for i in store.interactions()}
