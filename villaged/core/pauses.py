"""Pauses: the config's ``paused_until`` and the owner's ``villaged snooze``; the later wins."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from villaged.domain.village import Village


def with_snoozes(village: Village, snoozes: Mapping[str, dt.date]) -> Village:
    """The village with each snoozed person paused until the later of config and snooze."""
    if not snoozes:
        return village
    people = []
    for person in village.people:
        until = snoozes.get(person.key)
        if until and (person.paused_until is None or until > person.paused_until):
            person = dataclasses.replace(person, paused_until=until)
        people.append(person)
    return dataclasses.replace(village, people=tuple(people))
