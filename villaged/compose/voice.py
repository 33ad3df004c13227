"""How a draft addresses its reader: greeting, sign-off, interests, blanks (pure).

Every draft template gets the same words for the same person: ``salutation``
("Dear Dr. Okonkwo," or "Hi Ruth,"), ``sign_off`` and ``signature`` (the
owner's first name, or full name in the formal register), and at most one
``interest_line``.

Interests rotate: check-in number n to a person (0, 1, 2, ...) uses their
interest n modulo how many they have. An interest with its own ``ask`` is
used verbatim. A plain topic is placed only in frames that read correctly
for any noun phrase (``TOPIC_FRAMES``: "I'd love to hear what's new with
{topic}." and "How are things going with {topic}?"), and a topic written in
the third person ("her twins", "his lab") is turned to the reader ("your
twins").

A marked blank such as ``[your news]`` is where the owner's own words go;
``needs_words`` finds one, and the plan and digest flag such a draft.
"""

from __future__ import annotations

import re
from typing import Any

from villaged.domain.names import Register
from villaged.domain.village import Interest, Person, Role, Village

TOPIC_FRAMES = (
    "I'd love to hear what's new with {topic}.",
    "How are things going with {topic}?",
)
SIGN_OFFS = {
    Register.FORMAL: ("Best regards,", "With best wishes,", "Kind regards,"),
    Register.CASUAL: ("Best,", "All the best,", "Warmly,"),
}
BLANK = re.compile(r"\[your [^\]\n]{1,60}\]")
_THIRD_PERSON = re.compile(r"^(her|his|their)\s+", re.IGNORECASE)

MEETINGS: dict[Role, tuple[str, str]] = {
    # role: (what the meetings are called, the calendar title's prefix)
    Role.MENTOR: ("mentoring meetings", "Mentoring"),
    Role.COACH: ("coaching sessions", "Coaching"),
    Role.SPONSOR: ("sponsorship check-ins", "Sponsorship check-in"),
    Role.PEER_MENTOR: ("peer mentoring meetings", "Peer mentoring"),
    Role.ADVOCATE: ("regular meetings", "Meeting"),
    Role.ALLY: ("regular meetings", "Meeting"),
    Role.ROLE_MODEL: ("regular meetings", "Meeting"),
}


def to_reader(topic: str) -> str:
    """"her twins" -> "your twins": the draft is read by the person themselves."""
    return _THIRD_PERSON.sub("your ", topic.strip(), count=1)


def interest_for(person: Person, turn: int) -> Interest | None:
    """The interest check-in number ``turn`` uses (they rotate)."""
    if not person.interests:
        return None
    return person.interests[turn % len(person.interests)]


def interest_line(interest: Interest | None, turn: int) -> str:
    if interest is None:
        return ""
    if interest.ask.strip():
        return interest.ask.strip()
    frame = TOPIC_FRAMES[turn % len(TOPIC_FRAMES)]
    return frame.format(topic=to_reader(interest.topic))


def salutation(person: Person) -> str:
    if person.tone is Register.FORMAL:
        return f"Dear {person.address},"
    return f"Hi {person.address},"


def voice(village: Village, person: Person, turn: int) -> dict[str, Any]:
    """The words every draft template shares for this person."""
    tone = person.tone
    owner = village.owner
    interest = interest_for(person, turn)
    series, _ = MEETINGS[person.role]
    return {
        "greeting": person.address,
        "salutation": salutation(person),
        "register": tone.value,
        "formal": tone is Register.FORMAL,
        "sign_off": SIGN_OFFS[tone][turn % len(SIGN_OFFS[tone])],
        "signature": owner.plain_name if tone is Register.FORMAL else owner.first_name,
        "first_name": person.first_name,
        "name": person.plain_name,
        "role": person.role.label,
        "roles": [r.label for r in person.roles],
        "meetings": series,
        "interest": interest,
        "interest_line": interest_line(interest, turn),
        "owner_name": owner.name,
        "owner_first_name": owner.first_name,
    }


def needs_words(text: str) -> bool:
    """True when the text holds a blank for the owner to fill, e.g. "[your news]"."""
    return bool(BLANK.search(text))
