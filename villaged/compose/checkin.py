"""Check-in drafts and reply acknowledgements from templates (pure).

People with an agreement get a note that refers to it; everyone else gets
the light roulette message of their first role. Phrasings and interests
rotate per person. A check-in replies inside the last direct thread only
when the plan passed one (threads older than the thread-age limit are not).

A reply acknowledgement (``reply`` action) thanks them for their message,
names its subject, apologises for the delay, and leaves a marked blank for
the owner's answer: in their thread when it is young enough, else as a fresh
message whose subject names the old one.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

import jinja2

from villaged.compose.headers import address, message_id_for, one_line, reply_subject, safe_msgid
from villaged.compose.templating import render, split_subject, variants
from villaged.compose.voice import voice
from villaged.domain.village import KEY_HEADER, Action, Person, Village

REPLY_TEMPLATE = "reply/reply.txt.j2"


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
    # never the owner's notes: they are for the owner (plan, digest), not the reader
    context = {**voice(village, person, action.variant), "agreement": person.agreement}
    subject, body = split_subject(render(env, template, context))
    msg = base_message(village, person, action.key, now)
    _thread_headers(msg, action)
    if "Subject" not in msg:
        msg["Subject"] = one_line(subject) or "Checking in"
    msg.set_content(body)
    return msg


def compose_reply(
    village: Village, action: Action, env: jinja2.Environment, now: dt.datetime
) -> EmailMessage:
    """A short acknowledgement of their unanswered message (``action.about``)."""
    person = village.person(action.person)
    about = action.about or action.reply_to
    if about is None:
        raise ValueError(f"reply action {action.key} needs the message it answers")
    topic = _bare_subject(about.subject)
    sent = about.at.astimezone(village.owner.timezone)
    local_now = now.astimezone(village.owner.timezone)
    if (local_now - sent).days < 14:
        when = ""
    elif sent.year == local_now.year:
        when = f"in {sent:%B}"
    elif sent.year == local_now.year - 1 and sent.month > local_now.month:
        when = f"last {sent:%B}"  # within the past year: "last December"
    else:
        when = f"in {sent:%B %Y}"
    context = {**voice(village, person, 0), "subject": topic, "when": when}
    _, body = split_subject(render(env, REPLY_TEMPLATE, context))
    msg = base_message(village, person, action.key, now)
    _thread_headers(msg, action)
    if "Subject" not in msg:
        msg["Subject"] = one_line(f"Belated reply: {topic}" if topic else "A belated reply")
    msg.set_content(body)
    return msg


def _bare_subject(subject: str) -> str:
    text = one_line(subject)
    while text.lower().startswith(("re:", "aw:", "sv:", "fw:", "fwd:")):
        text = text.split(":", 1)[1].lstrip()
    return text


def _thread_headers(msg: EmailMessage, action: Action) -> None:
    """Subject, In-Reply-To and References when the plan chose to answer in-thread."""
    reply = action.reply_to
    parent = safe_msgid(reply.message_id) if reply else None
    if reply and parent:
        msg["Subject"] = reply_subject(reply.subject)
        msg["In-Reply-To"] = parent
        root = safe_msgid(reply.thread)
        msg["References"] = f"{root} {parent}" if root and root != parent else parent


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
