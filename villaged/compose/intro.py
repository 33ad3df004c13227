"""A first-contact introduction to a prospect, drafted only when the owner asks (pure).

Short and specific: who the owner is, why this person (the owner's own words,
or a marked blank for them to fill in), one interest, one small ask. It claims
nothing villaged does not know.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import jinja2

from villaged.compose.checkin import base_message
from villaged.compose.headers import one_line
from villaged.compose.templating import render, split_subject
from villaged.domain.names import Register
from villaged.domain.village import Person, Village

WHY_BLANK = "[why them: one sentence about their work that drew you to write]"


def needs_words(message: EmailMessage) -> bool:
    """True while the draft still holds a blank the owner must fill in."""
    return WHY_BLANK in str(message.get_content())


def compose_intro(village: Village, person: Person, key: str, env: jinja2.Environment,
                  now: dt.datetime) -> EmailMessage:
    interest = person.interests[0] if person.interests else None
    context = {
        # a first message is formal, whatever the role's usual register, unless the owner
        # wrote how they address them
        "name": person.greeting.strip() or person.parsed_name.address(Register.FORMAL),
        "owner_name": village.owner.name,
        "why": person.why.strip() or WHY_BLANK,
        "topic": interest.topic if interest else "",
        "ask": interest.ask if interest else "",
    }
    subject, body = split_subject(render(env, "intro/intro.txt.j2", context))
    msg = base_message(village, person, key, now)
    msg["Subject"] = one_line(subject) or "An introduction"
    msg.set_content(body)
    return msg
