"""Shared builders: a small village in code, a frozen clock, interactions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from villaged.backends.local.settings import LocalBackend
from villaged.domain.village import Interaction, Kind, Owner, Person, Role, Thresholds, Village

pytest_plugins = ["tests.google_api_server.pytest_plugin", "tests.servers.pytest_plugin"]

CHICAGO = ZoneInfo("America/Chicago")
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 Chicago


def person(key: str, role: Role = Role.MENTOR, **kw: object) -> Person:
    name = kw.pop("name", key.replace("-", " ").title())
    emails = kw.pop("emails", (f"{key}@example.org",))
    return Person(key=key, name=str(name), emails=tuple(emails), role=role, **kw)  # type: ignore[arg-type]


def village(people: list[Person], tmp: Path | None = None, **kw: object) -> Village:
    root = tmp or Path("/nonexistent")
    return Village(
        owner=Owner(name="Dana Reyes", addresses=("dana@uni.example", "dana.reyes@gmail.com"),
                    timezone=CHICAGO),
        people=tuple(people),
        backend=LocalBackend(mail=(), calendars=(), drafts=root / "Maildir" / ".Drafts"),
        **kw,  # type: ignore[arg-type]
    )


def seen(key: str, days_ago: float, kind: Kind = Kind.EMAIL_IN, direct: bool = True,
         now: dt.datetime = NOW, **kw: object) -> Interaction:
    at = now - dt.timedelta(days=days_ago)
    uid = str(kw.pop("uid", f"<{key}-{kind.value}-{days_ago}@t>"))
    return Interaction(source="test", uid=uid, person=key, at=at, kind=kind, direct=direct,
                       message_id=uid if kind is not Kind.MEETING else None,
                       thread=uid, subject=str(kw.pop("subject", "hello")), **kw)  # type: ignore[arg-type]


@pytest.fixture
def now() -> dt.datetime:
    return NOW


@pytest.fixture
def limits() -> Thresholds:
    return Thresholds()


def convo(key: str, days_ago: float, now: dt.datetime = NOW, **kw: object) -> list[Interaction]:
    """A conversation that ended ``days_ago``: their message, then the owner's answer to it."""
    subject = str(kw.pop("subject", "hello"))
    theirs = seen(key, days_ago + 1, Kind.EMAIL_IN, now=now, subject=subject, **kw)
    ours = seen(key, days_ago, Kind.EMAIL_OUT, now=now, subject=f"Re: {subject}", **kw)
    return [theirs, dataclasses.replace(ours, thread=theirs.thread)]
