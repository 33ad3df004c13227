"""The optional tables of rules: [cadence], [thresholds], [roulette], [digest],
[invitations] and [daemon]. A missing table means every default.

Their keys, ranges and defaults are declared on the settings types
(``villaged.domain.village``); only what a declaration cannot say is here: the
per-role [cadence] table and the order of the thresholds.
"""

from __future__ import annotations

import itertools

from villaged.domain.village import DEFAULT_CADENCE_DAYS, Role, Thresholds, Village
from villaged.schema import declared
from villaged.schema.typed_table import TypedTable


def read_cadences(t: TypedTable | None) -> dict[Role, int]:
    cadences = dict(DEFAULT_CADENCE_DAYS)
    if t is None:
        return cadences
    (spec,) = (k.setting for k in declared.keys_of(Village) if k.name == "cadence")
    low, high = int(spec.low or 1), int(spec.high or 3650)
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
        cadences[role] = t.integer(name, cadences[role], low=low, high=high, example=example)
    return cadences


def read_thresholds(t: TypedTable | None) -> Thresholds:
    thresholds: Thresholds = declared.read_settings(Thresholds, t)
    order = ("cooling_after", "cold_after", "lapsed_after")
    for lower, upper in itertools.pairwise(order):
        low, high = getattr(thresholds, lower), getattr(thresholds, upper)
        if t is not None and low >= high:
            t.fail(
                upper if upper in t.data else lower,
                f"{lower} ({low:g}) must be less than {upper} ({high:g})",
                fix="keep 0 < cooling_after < cold_after < lapsed_after, e.g. 1.0, 1.5 and 3.0",
            )
    return thresholds
