"""The [[person]] blocks and their [person.agreement] tables.

Each person gets a stable key (``person_key``), and no address may belong to
two people or to the owner.
"""

from __future__ import annotations

import re
import unicodedata

from villaged.domain.addresses import normalize
from villaged.domain.errors import ConfigError
from villaged.domain.rhythm import RHYTHM_FIX, parse_rhythm
from villaged.domain.village import Agreement, Interest, Owner, Person, Role
from villaged.schema import declared
from villaged.schema.typed_table import TypedTable
from villaged.schema.wording import describe

ROLES_EXAMPLE = 'roles = ["mentor", "sponsor"]'
INTERESTS_EXAMPLE = ('interests = ["health equity research", '
                     '{topic = "Kubb", ask = "Is Kubb more about skill or luck?"}]')

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def person_key(name: str) -> str:
    """The stable slug of a person's name: ASCII, lower case, hyphens.

    >>> person_key("Tomás Álvarez-Ruiz, MD")
    'tomas-alvarez-ruiz-md'
    """
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def read_people(top: TypedTable, owner: Owner) -> tuple[Person, ...]:
    raw = top.data.get("person", [])
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        top.fail(
            "person",
            f"expected one [[person]] block per person, found {describe(raw)}",
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
        t = TypedTable(top.src, data, ("person", index), label, "[[person]]")
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


def _person(t: TypedTable, owner: Owner) -> Person:
    t.check_keys(declared.allowed(Person))
    values = declared.read_values(Person, t)
    name = values["name"]
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
    agreement = t.table("agreement")
    roles = _roles(t)
    return Person(
        key=key,
        role=roles[0],
        also=roles[1:],
        interests=_interests(t),
        agreement=_agreement(agreement, owner) if agreement is not None else None,
        **values,
    )


def _roles(t: TypedTable) -> tuple[Role, ...]:
    """``role = "mentor"`` or ``roles = ["mentor", "sponsor"]`` (the first sets the defaults)."""
    if "roles" not in t.data:
        return (t.role("role"),)
    if "role" in t.data:
        t.fail("role", "role and roles are both set",
               fix=f"keep one: put every role in roles, the main one first: {ROLES_EXAMPLE}")
    names = t.strings("roles", (), nonempty=True, example=ROLES_EXAMPLE)
    roles: list[Role] = []
    for index, text in enumerate(names):
        try:
            role = Role.parse(text)
        except ValueError:
            t.fail_item("roles", index, f'"{text}" is not a role',
                        fix="role must be one of: " + ", ".join(r.label for r in Role))
        if role in roles:
            t.fail_item("roles", index, f'"{text}" is listed twice', fix="list each role once")
        roles.append(role)
    return tuple(roles)


def _interests(t: TypedTable) -> tuple[Interest, ...]:
    """Plain topics, or tables {topic = "...", ask = "..."} with the owner's own question."""
    value = t.data.get("interests", [])
    if not isinstance(value, list):
        t.strings("interests", (), example=INTERESTS_EXAMPLE)  # fails with the right message
        return ()
    found: list[Interest] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            if not item.strip():
                t.fail_item("interests", index, "is empty",
                            fix=f"remove it, or write {INTERESTS_EXAMPLE}")
            found.append(Interest(item.strip()))
            continue
        if not isinstance(item, dict):
            t.fail_item("interests", index, f"expected text or a table, found {describe(item)}",
                        fix=f"write {INTERESTS_EXAMPLE}")
        extra = sorted(set(item) - {"topic", "ask"})
        topic, ask = item.get("topic"), item.get("ask", "")
        if extra:
            t.fail_item("interests", index, f'unknown key "{extra[0]}"',
                        fix="an interest table has topic and ask only")
        if not isinstance(topic, str) or not topic.strip():
            t.fail_item("interests", index, "needs a topic",
                        fix='write {topic = "Kubb", ask = "Is Kubb more about skill or luck?"}')
        if not isinstance(ask, str):
            t.fail_item("interests", index, f"ask must be text, found {describe(ask)}",
                        fix='write ask = "Is Kubb more about skill or luck?"')
        found.append(Interest(topic.strip(), ask.strip()))
    return tuple(found)


def _agreement(t: TypedTable, owner: Owner) -> Agreement:
    t.check_keys(declared.allowed(Agreement))
    (rhythm_key,) = (k for k in declared.keys_of(Agreement) if k.name == "rhythm")
    rhythm = t.text("rhythm", required=True, nonempty=True, example=rhythm_key.example())
    try:
        rrule, interval_days = parse_rhythm(rhythm, owner.timezone)
    except ConfigError as exc:
        t.fail("rhythm", exc.message, fix=exc.fix or RHYTHM_FIX)
    values = declared.read_values(Agreement, t, fallback={"hours": owner.working_hours})
    duration = values["duration_minutes"]
    window = values["hours"] or owner.working_hours
    minutes = (window.end.hour - window.start.hour) * 60 + window.end.minute - window.start.minute
    if minutes < duration:
        t.fail(
            "hours" if "hours" in t.data else "duration_minutes",
            f"a {duration}-minute meeting does not fit in "
            f"{window.start:%H:%M}-{window.end:%H:%M}",
            fix="widen the hours or shorten duration_minutes",
        )
    return Agreement(rrule=rrule, rhythm=rhythm, interval_days=interval_days, **values)
