"""Invitation drafts: an iCalendar REQUEST for a mentorship agreement (pure).

The draft is addressed to the person, the way calendar apps send invitations::

    multipart/mixed
      multipart/alternative
        text/plain                                  (the note, from a template)
        text/calendar; method=REQUEST; charset=UTF-8
      application/ics  invite.ics                   (the same VCALENDAR)

One VEVENT: DTSTART in the owner's zone with a VTIMEZONE, so the RRULE keeps
the local wall-clock time across DST changes; ORGANIZER the owner, ATTENDEE
the person (RSVP, NEEDS-ACTION); a UID derived from the agreement (person and
owner) so every re-proposal updates the same series, with SEQUENCE counting
the re-proposals. The calendar bytes are base64 in the message, so their
CRLF line endings survive any mail store untouched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from email.message import EmailMessage

import icalendar
import jinja2

from villaged.compose.checkin import base_message
from villaged.compose.headers import one_line
from villaged.compose.templating import render, split_subject
from villaged.compose.voice import MEETINGS, voice
from villaged.compose.vtimezone import vtimezone
from villaged.core.invitations import anchor_rule
from villaged.domain.village import Action, Agreement, Person, Village

TEMPLATE = "invite/invite.txt.j2"
PRODID = "-//villaged//mentorship invitations//EN"


def invite_uid(village: Village, person: Person) -> str:
    """Stable for the agreement: the same owner and person always give the same UID."""
    owner = village.owner.address.strip().lower()
    digest = hashlib.sha256(f"{owner}\0{person.key}".encode()).hexdigest()[:20]
    domain = owner.rpartition("@")[2] or "villaged.invalid"
    return f"villaged-agreement-{digest}@{domain}"


def summary_for(village: Village, person: Person) -> str:
    """The event title both calendars show: "Mentoring: Ruth Okonkwo / Dana Reyes".

    The prefix follows the person's first role (Mentoring, Coaching,
    Sponsorship check-in, Peer mentoring, else Meeting); names are given and
    family names, without honorifics or post-nominals.
    """
    _, prefix = MEETINGS[person.role]
    return f"{prefix}: {person.plain_name} / {village.owner.plain_name}"


def invite_calendar(
    village: Village, person: Person, agreement: Agreement, start: dt.datetime,
    sequence: int, now: dt.datetime,
) -> icalendar.Calendar:
    """The VCALENDAR (METHOD:REQUEST) with one recurring VEVENT and its VTIMEZONE."""
    owner = village.owner
    local = start.astimezone(owner.timezone)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "REQUEST")
    cal.add_component(vtimezone(owner.timezone, local))

    event = icalendar.Event()
    event.add("uid", invite_uid(village, person))
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("sequence", sequence)
    event.add("dtstart", local)
    event.add("dtend", local + dt.timedelta(minutes=agreement.duration_minutes))
    event.add("rrule", icalendar.vRecur.from_ical(anchor_rule(agreement.rrule, local)))
    event.add("summary", summary_for(village, person))
    if agreement.agenda:
        event.add("description", agreement.agenda)
    if agreement.location:
        event.add("location", agreement.location)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")

    organizer = icalendar.vCalAddress(f"mailto:{owner.address}")
    organizer.params["CN"] = icalendar.vText(one_line(owner.name))
    event.add("organizer", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{person.emails[0]}")
    attendee.params["CN"] = icalendar.vText(one_line(person.name))
    attendee.params["CUTYPE"] = "INDIVIDUAL"
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "NEEDS-ACTION"
    attendee.params["RSVP"] = "TRUE"
    event.add("attendee", attendee)

    cal.add_component(event)
    return cal


def compose_invite(
    village: Village, action: Action, env: jinja2.Environment, now: dt.datetime
) -> EmailMessage:
    """The invitation draft for an ``invite`` action (its slot is the first meeting)."""
    person = village.person(action.person)
    agreement = person.agreement
    if agreement is None or action.slot is None:
        raise ValueError(f"invite action {action.key} needs an agreement and a slot")
    local = action.slot.astimezone(village.owner.timezone)
    ics = invite_calendar(village, person, agreement, local, action.variant, now).to_ical()

    context = {
        **voice(village, person, 0),
        "rhythm": agreement.rhythm,
        "start": local,
        "start_text": f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} ({local:%Z})",
        "duration_minutes": agreement.duration_minutes,
        "location": agreement.location,
        "agenda": agreement.agenda,
        "sequence": action.variant,
    }
    subject, body = split_subject(render(env, TEMPLATE, context))

    msg = base_message(village, person, action.key, now)
    msg["Subject"] = one_line(subject) or f"Our {context['meetings']}"
    msg.set_content(body)
    msg.add_alternative(ics, maintype="text", subtype="calendar", cte="base64",
                        params={"method": "REQUEST", "charset": "UTF-8"})
    msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics",
                       params={"name": "invite.ics"})
    return msg
