"""Check-in drafts from templates (pure).

Formal mentors (with an agreement) get a note that refers to it; everyone
else gets the light roulette message. Phrasings rotate per person, and a
check-in replies inside the last direct thread when there is one.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

import jinja2

from villaged.compose.headers import address, message_id_for, one_line, reply_subject, safe_msgid
from villaged.compose.templating import render, split_subject, variants
from villaged.domain.village import KEY_HEADER, Action, Person, Village


def checkin_folder(env: jinja2.Environment, person: Person) -> str:
    """Formal (with the agreement note) for an agreement; else role phrasings, else casual."""
    if person.agreement:
        return "checkin/formal"
    role_folder = f"checkin/{person.role.value}"
    if variants(env, role_folder):
        return role_folder
    return "checkin/casual"


def compose_checkin(
    village: Village, action: Action, env: jinja2.Environment, now: dt.datetime
) -> EmailMessage:
    person = village.person(action.person)
    names = variants(env, checkin_folder(env, person))
    template = names[action.variant % len(names)]
    context = {
        "first_name": person.first_name,
        "name": person.name,
        "role": person.role.label,
        "interest": person.interests[0] if person.interests else "",
        "interests": list(person.interests),
        "notes": person.notes,
        "agreement": person.agreement,
        "owner_name": village.owner.name,
        "owner_first_name": village.owner.first_name,
    }
    subject, body = split_subject(render(env, template, context))
    msg = base_message(village, person, action.key, now)
    reply = action.reply_to
    parent = safe_msgid(reply.message_id) if reply else None
    if reply and parent:
        msg["Subject"] = reply_subject(reply.subject)
        msg["In-Reply-To"] = parent
        root = safe_msgid(reply.thread)
        msg["References"] = f"{root} {parent}" if root and root != parent else parent
    else:
        msg["Subject"] = one_line(subject) or "Checking in"
    msg.set_content(body)
    return msg


def base_message(village: Village, person: Person, key: str, now: dt.datetime) -> EmailMessage:
    """Headers every villaged draft shares, keyed to its ledger row."""
    msg = EmailMessage()
    owner = village.owner
    msg["From"] = address(owner.name, owner.address)
    msg["To"] = address(person.name, person.emails[0])
    msg["Date"] = format_datetime(now.astimezone(owner.timezone))
    msg["Message-ID"] = message_id_for(key, owner.address)
    msg[KEY_HEADER] = one_line(key)
    return msg
