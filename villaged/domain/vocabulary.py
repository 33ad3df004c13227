"""villaged's named vocabulary: what a draft is, why someone is skipped, how a job ended.

Each is a ``StrEnum``: compared, stored and printed as its value (the same
strings as before: "checkin", "warm", "ok"), so the store, ``plan --json`` and
the logs read exactly as they did, while the code names each member instead of
repeating bare strings across files.
"""

from __future__ import annotations

from enum import StrEnum


class DraftKind(StrEnum):
    """What a planned draft is."""

    CHECKIN = "checkin"
    INVITE = "invite"
    REPLY = "reply"  # a short acknowledgement of a message the owner left unanswered
    INTRO = "intro"  # an introduction to a prospect, only when the owner asks


class Guard(StrEnum):
    """Why the plan leaves someone alone (``Skip.guard``)."""

    # check-ins (core/plan.py: ick_guard and the roulette)
    PROSPECT = "prospect"
    DO_NOT_DRAFT = "do-not-draft"
    PAUSED = "paused"
    PENDING_DRAFT = "pending-draft"
    DRAFTED_THIS_WEEK = "drafted-this-week"
    LET_IT_REST = "let-it-rest"
    MEETING_SCHEDULED = "meeting-scheduled"
    MIN_GAP = "min-gap"
    DOUBLE_TEXT = "double-text"
    WARM = "warm"
    UNKNOWN = "unknown"
    ROULETTE_LIMIT = "roulette-limit"
    ONE_WAY = "one-way"
    # acknowledgements of unanswered messages
    REPLY_QUEUED = "reply-queued"
    REPLY_DISCARDED = "reply-discarded"
    REPLY_DRAFTED = "reply-drafted"
    REPLY_OWED_RECENT = "reply-owed-recent"
    # invitations (core/invitations.py)
    INVITE_PENDING = "invite-pending"
    INVITE_DRAFTED_THIS_WEEK = "invite-drafted-this-week"
    INVITE_REPLANNED_THIS_WEEK = "invite-replanned-this-week"
    INVITE_COOLDOWN = "invite-cooldown"
    INVITE_SENT = "invite-sent"
    SERIES_DECLINED = "series-declined"
    SERIES_EXISTS = "series-exists"
    INVITE_MEETING_SCHEDULED = "invite-meeting-scheduled"
    INVITE_NO_SLOT = "invite-no-slot"
    INVITE_CALENDAR_UNREADABLE = "invite-calendar-unreadable"

    @property
    def blocking(self) -> bool:
        """A guard that holds someone back, as opposed to "warm" or "not picked this week"."""
        return self not in (Guard.WARM, Guard.ROULETTE_LIMIT)


INVITE_GUARDS = frozenset({
    Guard.INVITE_PENDING, Guard.INVITE_DRAFTED_THIS_WEEK, Guard.INVITE_REPLANNED_THIS_WEEK,
    Guard.INVITE_COOLDOWN,
    Guard.INVITE_SENT, Guard.SERIES_DECLINED, Guard.SERIES_EXISTS,
    Guard.INVITE_MEETING_SCHEDULED, Guard.INVITE_NO_SLOT, Guard.INVITE_CALENDAR_UNREADABLE,
})


class JobName(StrEnum):
    """The service's jobs."""

    SYNC = "sync"
    DRAFT = "draft"
    DIGEST = "digest"


class Outcome(StrEnum):
    """How a job run ended."""

    OK = "ok"
    SKIPPED = "skipped"
    FAILED = "failed"  # given up for this slot
    INTERRUPTED = "interrupted"  # stopped at a safe point; retried in the same window
    RETRY = "retry"  # a transient failure; backing off
    ERROR = "error"  # a user-fixable problem or a bug; backing off
    PARKED = "parked"  # an auth problem: the jobs wait for a fresh grant

    @property
    def done(self) -> bool:
        """The slot is done with (not retried)."""
        return self in DONE_OUTCOMES

    @property
    def success(self) -> bool:
        return self in (Outcome.OK, Outcome.SKIPPED)

    @property
    def problem(self) -> bool:
        return self in (Outcome.RETRY, Outcome.ERROR, Outcome.FAILED, Outcome.PARKED)


DONE_OUTCOMES = (Outcome.OK, Outcome.SKIPPED, Outcome.FAILED)
