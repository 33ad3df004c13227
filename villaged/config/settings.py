"""The optional tables of rules: [cadence], [thresholds], [roulette], [digest],
[invitations] and [daemon]. A missing table means every default."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

from villaged.config import allowed_keys
from villaged.domain.village import (
    DEFAULT_CADENCE_DAYS,
    DigestSettings,
    Role,
    Roulette,
    Thresholds,
    Village,
)
from villaged.schema.typed_table import TypedTable


def read_cadences(t: TypedTable | None) -> dict[Role, int]:
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


def read_thresholds(t: TypedTable | None) -> Thresholds:
    if t is None:
        return Thresholds()
    t.check_keys(allowed_keys.THRESHOLDS)
    defaults = Thresholds()
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Thresholds):
        default = getattr(defaults, f.name)
        if f.type == "float":
            values[f.name] = t.number(f.name, default)
        else:
            values[f.name] = t.integer(f.name, default, low=1)
    order = ("cooling_after", "cold_after", "lapsed_after")
    for lower, upper in itertools.pairwise(order):
        if values[lower] >= values[upper]:
            t.fail(
                upper if upper in t.data else lower,
                f"{lower} ({values[lower]:g}) must be less than {upper} ({values[upper]:g})",
                fix="keep 0 < cooling_after < cold_after < lapsed_after, e.g. 1.0, 1.5 and 3.0",
            )
    return Thresholds(**values)


def read_roulette(t: TypedTable | None) -> Roulette:
    default = Roulette()
    if t is None:
        return default
    t.check_keys(allowed_keys.ROULETTE)
    return Roulette(
        day=t.day("day", default.day, example='day = "monday"'),
        time=t.clock("time", default.time, example='time = "08:00"'),
        size=t.integer("size", default.size, low=0, high=20),
    )


def read_digest(t: TypedTable | None) -> DigestSettings:
    # Local delivery defaults to the Maildir that holds the drafts folder
    # (villaged.backends.local.digest.digest_folder).
    default = DigestSettings()
    if t is None:
        return default
    t.check_keys(allowed_keys.DIGEST)
    return DigestSettings(
        day=t.day("day", default.day, example='day = "monday"'),
        time=t.clock("time", default.time, example='time = "07:30"'),
        maildir=t.path("maildir", example='maildir = "~/Maildir"'),
    )


def read_invite_cooldown_weeks(t: TypedTable | None) -> int:
    return _only_integer(
        t, allowed_keys.INVITATIONS, Village.invite_cooldown_weeks, low=0, high=104
    )


def read_sync_minutes(t: TypedTable | None) -> int:
    return _only_integer(t, allowed_keys.DAEMON, Village.sync_minutes, low=1, high=1440)


def _only_integer(
    t: TypedTable | None, keys: tuple[str], default: int, *, low: int, high: int
) -> int:
    """The one whole number of a one-key table, else ``default``."""
    if t is None:
        return default
    t.check_keys(keys)
    (name,) = keys
    return t.integer(name, default, low=low, high=high)
