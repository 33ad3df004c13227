"""Replies the owner owes, one-way relationships and old threads (pure).

* **Reply owed** (``replies_owed``, shared with the digest's "replies you
  owe" through core.attention): among the direct emails between the owner and a person up
  to ``now``, the newest is theirs, no later email from the owner exists (in
  any thread) and no meeting with them has taken place since. villaged never
  answers that with a generic check-in (see plan.py: it drafts a short
  acknowledgement once, and the digest lists it under "replies you owe").
* **One-way**: the owner has written to them, and they have never written
  back nor met the owner (no inbound email, no meeting, no `villaged log`).
* **Old thread**: a thread whose last message is older than
  ``thresholds.thread_age_days`` (default 90) is never replied into; a
  draft starts a fresh subject instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from villaged.domain.village import Interaction, Kind, Standing


@dataclass(frozen=True)
class ReplyOwed:
    """The person wrote last, directly, and nothing from the owner came after."""

    person: str  # Person.key
    message: Interaction  # their unanswered message (subject, date, Message-ID)

    def days(self, now: dt.datetime) -> int:
        return max(0, (now - self.message.at).days)


def replies_owed(interactions: Iterable[Interaction], now: dt.datetime,
                 within: dt.timedelta | None = None) -> dict[str, ReplyOwed]:
    """Per person, their last direct message if it is theirs and unanswered.

    ``within`` leaves out messages older than that. At the same instant, the
    owner's own message counts as the answer.
    """
    last_mail: dict[str, Interaction] = {}
    last_meeting: dict[str, dt.datetime] = {}
    for item in interactions:
        if not item.direct or item.at > now:
            continue
        if item.kind is Kind.MEETING:
            if item.person not in last_meeting or item.at > last_meeting[item.person]:
                last_meeting[item.person] = item.at
            continue
        newest = last_mail.get(item.person)
        if newest is None or (item.at, item.kind is Kind.EMAIL_OUT) > \
                (newest.at, newest.kind is Kind.EMAIL_OUT):
            last_mail[item.person] = item
    owed = {}
    for person, message in last_mail.items():
        if message.kind is not Kind.EMAIL_IN:
            continue
        if person in last_meeting and last_meeting[person] > message.at:
            continue
        if within is not None and now - message.at > within:
            continue
        owed[person] = ReplyOwed(person, message)
    return owed


def reply_owed(standing: Standing) -> ReplyOwed | None:
    """The same rule on one Standing (its newest inbound, outbound and meeting)."""
    inbound = standing.last_inbound
    if inbound is None:
        return None
    out, meeting = standing.last_outbound, standing.last_meeting
    if (out is not None and out.at >= inbound.at) or (meeting is not None
                                                       and meeting.at > inbound.at):
        return None
    return ReplyOwed(standing.person.key, inbound)


def one_way(standing: Standing) -> bool:
    """The owner wrote to them, and they never wrote back nor met the owner."""
    return (standing.last_outbound is not None and standing.last_inbound is None
            and standing.last_meeting is None)


def fresh_enough(thread: Interaction | None, now: dt.datetime, limit_days: int) -> bool:
    """A thread whose newest message is at most ``limit_days`` old may be replied into."""
    return thread is not None and now - thread.at <= dt.timedelta(days=limit_days)
