"""What counts as contact: the rules every source shares (pure).

A source turns its raw items into ``MailFacts`` or ``EventFacts``; these
functions decide which people the item concerns and whether it counts.
Items that do not count are still returned, with ``direct=False`` and a
``status`` saying why, so that "seen only on a mailing list" stays visible
but never warms a relationship.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from villaged.domain.addresses import Matcher
from villaged.domain.village import Interaction, Kind, Thresholds

EARLIEST_PLAUSIBLE = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class MailFacts:
    """The headers of one message that matter, already parsed."""

    uid: str
    date: dt.datetime | None
    senders: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    subject: str = ""
    message_id: str | None = None
    thread: str | None = None
    bulk: bool = False  # List-Id, List-Unsubscribe, List-Post or Precedence
    chat: bool = False  # Gmail/Takeout chat transcript


@dataclass(frozen=True)
class EventFacts:
    """One occurrence of a calendar event."""

    uid: str  # unique per occurrence
    start: dt.datetime  # aware UTC
    summary: str = ""
    cancelled: bool = False
    organizer: str | None = None
    attendees: tuple[tuple[str, str], ...] = ()  # (address, PARTSTAT upper-case)
    series: str | None = None  # the recurring event's UID, if any


def date_problem(when: dt.datetime | None, now: dt.datetime) -> str | None:
    """Why a message date is unusable, or None if it is plausible."""
    if when is None:
        return "missing or unparseable date"
    if when < EARLIEST_PLAUSIBLE:
        return "date before 1980"
    if when > now + dt.timedelta(days=366):
        return "date in the far future"
    return None


def classify_email(
    facts: MailFacts, matcher: Matcher, limits: Thresholds, source: str
) -> list[Interaction]:
    """Interactions this message is evidence of (possibly non-direct)."""
    when = facts.date
    if when is None or facts.chat or not facts.senders:
        return []
    recipients = facts.to + facts.cc + facts.bcc
    mass_status = _mass_status(facts, len(recipients), limits)
    sender = facts.senders[0]
    if matcher.is_owner(sender):
        return [
            _mail_interaction(facts, source, when, key, Kind.EMAIL_OUT, mass_status)
            for key in matcher.people_in(recipients)
        ]
    person = matcher.person_of(sender)
    if person is None:
        return []
    owner_direct = any(matcher.is_owner(a) for a in facts.to + facts.cc)
    status = mass_status or (None if owner_direct else "not-addressed-to-owner")
    return [_mail_interaction(facts, source, when, person, Kind.EMAIL_IN, status)]


def _mail_interaction(
    facts: MailFacts, source: str, at: dt.datetime, person: str, kind: Kind,
    status: str | None,
) -> Interaction:
    """The interaction message ``facts`` is with ``person``, sent ``at``.

    ``status`` is None when it counts as contact, else why it does not.
    """
    return Interaction(
        source=source,
        uid=facts.uid,
        person=person,
        at=at,
        kind=kind,
        direct=status is None,
        thread=facts.thread,
        subject=facts.subject,
        message_id=facts.message_id,
        status=status or "ok",
    )


NOT_CONTACT = {  # Interaction.status -> (one, several)
    "bulk": ("list or mass mail", "list or mass mail"),
    "too-many-recipients": ("mail to too many people", "mail to too many people"),
    "declined": ("declined meeting", "declined meetings"),
    "cancelled": ("cancelled meeting", "cancelled meetings"),
    "too-many-attendees": ("meeting too large", "meetings too large"),
}


def not_contact_label(status: str, count: int = 2) -> str:
    """Why evidence did not count as contact, in words, for ``count`` items."""
    one, several = NOT_CONTACT.get(status, (status, status))
    return one if count == 1 else several


def seen_only_as(interactions: Iterable[Interaction]) -> dict[str, str]:
    """People whose every piece of evidence did not count, with the commonest reason:
    the answer to "why is Sofia unknown?" (e.g. "list or mass mail")."""
    direct: set[str] = set()
    reasons: dict[str, Counter[str]] = {}
    for item in interactions:
        if item.direct:
            direct.add(item.person)
        else:
            reasons.setdefault(item.person, Counter())[item.status] += 1
    return {person: not_contact_label(found.most_common(1)[0][0])
            for person, found in reasons.items() if person not in direct}


def _mass_status(facts: MailFacts, recipient_count: int, limits: Thresholds) -> str | None:
    if facts.bulk:
        return "bulk"
    if recipient_count > limits.max_recipients:
        return "too-many-recipients"
    return None


def classify_event(
    facts: EventFacts, matcher: Matcher, limits: Thresholds, source: str
) -> list[Interaction]:
    """Meeting interactions for each village member at this occurrence.

    A meeting counts when the owner and the person are both attendees (or
    organiser), neither declined, it is not cancelled, and it is small.
    Whether it already happened is decided later, against ``now``.
    """
    partstat: dict[str, str] = {}
    if facts.organizer:
        partstat[facts.organizer] = "ACCEPTED"
    for address, status in facts.attendees:
        partstat[address] = status.upper()
    owner_stats = [s for a, s in partstat.items() if matcher.is_owner(a)]
    if not owner_stats:
        return []
    owner_declined = all(s == "DECLINED" for s in owner_stats)
    result = []
    for key in matcher.people_in(partstat):
        person_stats = [s for a, s in partstat.items() if matcher.person_of(a) == key]
        status = _meeting_status(
            facts, owner_declined, all(s == "DECLINED" for s in person_stats),
            len(partstat), limits,
        )
        result.append(Interaction(
            source=source, uid=facts.uid, person=key, at=facts.start, kind=Kind.MEETING,
            direct=status == "ok", status=status, subject=facts.summary,
            series=facts.series,
        ))
    return result


def _meeting_status(
    facts: EventFacts, owner_declined: bool, person_declined: bool,
    attendee_count: int, limits: Thresholds,
) -> str:
    if facts.cancelled:
        return "cancelled"
    if owner_declined or person_declined:
        return "declined"
    if attendee_count > limits.max_attendees:
        return "too-many-attendees"
    return "ok"
