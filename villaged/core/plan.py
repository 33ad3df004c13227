"""What to draft this week, and why not for everyone else (pure).

Contact List Roulette: each week, up to ``roulette.size`` light check-ins for
people the owner hasn't spoken with in a while, cold and cooling first,
weighted by how overdue they are. The ick guard removes anyone a check-in
would embarrass. Deterministic for a given ``now`` and ``week``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Sequence

from villaged.core.invitations import Interval, plan_invitations
from villaged.core.replies import ReplyOwed, fresh_enough, one_way, reply_owed
from villaged.domain.village import (
    OPEN_DRAFT_STATES,
    Action,
    DraftRecord,
    DraftState,
    Interaction,
    PlanItem,
    Skip,
    Standing,
    Temperature,
    Village,
)
from villaged.domain.vocabulary import DraftKind, Guard

ROULETTE_TIERS = {Temperature.COLD: 0, Temperature.COOLING: 0, Temperature.LAPSED: 1}


def iso_week(now: dt.datetime, village: Village) -> str:
    """The owner's ISO week, e.g. "2026-W48"."""
    year, week, _ = now.astimezone(village.owner.timezone).isocalendar()
    return f"{year}-W{week:02d}"


def checkin_key(person: str, week: str) -> str:
    return f"checkin:{person}:{week}"


def reply_key(person: str, message: Interaction) -> str:
    """One acknowledgement per unanswered message, whatever the week (and whichever source,
    mbox or Maildir or Gmail, the message was read from)."""
    ident = (message.message_id or message.uid).strip()
    digest = hashlib.sha256(ident.encode()).hexdigest()[:12]
    return f"reply:{person}:{digest}"


def plan(
    village: Village,
    standings: Sequence[Standing],
    interactions: Sequence[Interaction],
    ledger: Sequence[DraftRecord],
    busy: Sequence[Interval],
    now: dt.datetime,
    week: str,
    busy_problem: str | None = None,
) -> list[PlanItem]:
    """This week's whole plan: invitations for agreements, then the roulette check-ins.

    Someone who gets an invitation this week, or whose recurring series keeps
    being declined (the digest says so instead), is left out of the roulette,
    so nobody gets two drafts in one week. Actions come first, then skips, in
    config order; a person may have an invitation skip and a check-in item.
    """
    invites = plan_invitations(village, interactions, ledger, busy, now, week, busy_problem)
    claimed = {i.person for i in invites
               if isinstance(i, Action) or (isinstance(i, Skip) and i.guard == Guard.SERIES_DECLINED)}
    checkins = plan_checkins(village, [s for s in standings if s.person.key not in claimed],
                             ledger, now, week)
    order = {p.key: n for n, p in enumerate(village.people)}
    return sorted([*invites, *checkins],
                  key=lambda i: (isinstance(i, Skip), order.get(i.person, len(order))))


def plan_checkins(
    village: Village,
    standings: Sequence[Standing],
    ledger: Sequence[DraftRecord],
    now: dt.datetime,
    week: str,
) -> list[PlanItem]:
    """Roulette actions and a skip with its reason for everyone else."""
    items: list[PlanItem] = []
    candidates: list[Standing] = []
    replies: list[Action] = []
    for standing in standings:
        held = hold(village, standing, ledger, now, week)
        if held:
            items.append(held)
            continue
        owed = reply_owed(standing)
        if owed is not None:  # a state of its own: never answered with a check-in
            item = reply_item(village, standing, owed, ledger, now, week)
            if isinstance(item, Action):
                replies.append(item)
            else:
                items.append(item)
            continue
        skip = ick_guard(village, standing, ledger, now, week)
        if skip:
            items.append(skip)
        else:
            candidates.append(standing)
    # The weekly size is a budget for check-ins and acknowledgements together, not per
    # round: drafts already written this week (a rerun after a crash, a second
    # `villaged draft`) use it up. Replies owed come first, the most recent message first.
    size = village.roulette.size
    budget = size - sum(1 for r in ledger
                        if r.kind in (DraftKind.CHECKIN, DraftKind.REPLY) and r.week == week)
    replies.sort(key=lambda a: a.about.at if a.about else now, reverse=True)
    for n, reply in enumerate(replies):
        if n < budget:
            items.append(reply)
        else:
            items.append(Skip(reply.person, "skip", reply.reason.split(", never answered")[0]
                              + f": queued, villaged drafts {size} a week and more recent "
                              "replies come first", Guard.REPLY_QUEUED))
    picked = roulette(candidates, budget - len(replies), week)
    for standing in candidates:
        key = standing.person.key
        if standing in picked:
            thread = standing.last_thread
            limit = village.thresholds.thread_age_days
            fresh = fresh_enough(thread, now, limit)
            reason = _pick_reason(standing)
            if thread is not None and not fresh:
                reason += (f"; a fresh subject: the last thread (\"{thread.subject}\") is "
                           f"{(now - thread.at).days} days old, over the {limit}-day limit")
            items.append(Action(
                person=key, action=DraftKind.CHECKIN, key=checkin_key(key, week), week=week,
                reason=reason,
                variant=sum(1 for r in ledger if r.person == key and r.kind == DraftKind.CHECKIN),
                reply_to=thread if fresh else None,
            ))
        else:
            items.append(Skip(key, "skip", f"{standing.temperature.value}, but not picked this "
                              f"week: the roulette drafts {size} a week", Guard.ROULETTE_LIMIT))
    order = {s.person.key: n for n, s in enumerate(standings)}
    return sorted(items, key=lambda i: (isinstance(i, Skip), order[i.person]))


def hold(
    village: Village, s: Standing, ledger: Sequence[DraftRecord], now: dt.datetime, week: str
) -> Skip | None:
    """Reasons to draft nothing at all for them this round (no check-in, no reply)."""
    person = s.person
    today = now.astimezone(village.owner.timezone).date()
    mine = [r for r in ledger if r.person == person.key]

    def skip(reason: str, guard: Guard) -> Skip:
        return Skip(person.key, "skip", reason, guard)

    if person.prospect:
        return skip("a prospect: villaged never writes to someone you have not approached "
                    "(`villaged draft --intro` drafts an introduction when you ask)", Guard.PROSPECT)
    if person.do_not_draft:
        return skip("do_not_draft is set for them in the config", Guard.DO_NOT_DRAFT)
    if person.paused_until and person.paused_until >= today:
        return skip(f"paused until {person.paused_until.isoformat()}", Guard.PAUSED)
    open_drafts = [r for r in mine if r.state in OPEN_DRAFT_STATES]
    if open_drafts:
        return skip(f"a villaged draft for them is still awaiting your review (written "
                    f"{_day(open_drafts[-1].created_at, village)})", Guard.PENDING_DRAFT)
    if any(r.key == checkin_key(person.key, week) for r in mine):
        return skip("already drafted a check-in for them this week",
                    Guard.DRAFTED_THIS_WEEK)
    return None


def reply_item(
    village: Village, s: Standing, owed: ReplyOwed, ledger: Sequence[DraftRecord],
    now: dt.datetime, week: str,
) -> PlanItem:
    """A short acknowledgement of their unanswered message, drafted once; or why not."""
    person = s.person
    message = owed.message
    key = reply_key(person.key, message)
    said = f"you owe a reply: their message \"{message.subject}\" of {_day(message.at, village)}"
    row = next((r for r in ledger if r.key == key), None)
    if row is not None and row.state is DraftState.DISCARDED:
        return Skip(person.key, "skip", f"{said} is still unanswered, and you discarded the "
                    f"acknowledgement villaged drafted on {_day(row.created_at, village)}; "
                    "villaged leaves them alone (no check-in either) until new contact "
                    "happens", Guard.REPLY_DISCARDED)
    if row is not None:
        return Skip(person.key, "skip", f"{said}: the acknowledgement drafted on "
                    f"{_day(row.created_at, village)} was {row.state.value}", Guard.REPLY_DRAFTED)
    age = owed.days(now)
    if age < village.thresholds.min_gap_days:
        return Skip(person.key, "skip", f"{said}, {age} days old: villaged drafts an "
                    f"acknowledgement only once it is {village.thresholds.min_gap_days} days "
                    "old", Guard.REPLY_OWED_RECENT)
    limit = village.thresholds.thread_age_days
    fresh = fresh_enough(message, now, limit)
    where = ("in their thread" if fresh and message.message_id else
             f"as a fresh message naming it (the thread is {age} days old, over the "
             f"{limit}-day limit)" if not fresh else "as a fresh message naming it")
    return Action(
        person=person.key, action=DraftKind.REPLY, key=key, week=week,
        reason=(f"{said}, {age} days ago, never answered: a short acknowledgement {where}, "
                "not a check-in"),
        reply_to=message if fresh and message.message_id else None, about=message,
    )


def ick_guard(
    village: Village, s: Standing, ledger: Sequence[DraftRecord], now: dt.datetime, week: str
) -> Skip | None:
    """The first reason a check-in would be unwelcome or pointless, if any."""
    person = s.person
    mine = [r for r in ledger if r.person == person.key]

    def skip(reason: str, guard: Guard) -> Skip:
        return Skip(person.key, "skip", reason, guard)

    held = hold(village, s, ledger, now, week)
    if held:
        return held
    if one_way(s) and not person.draft_one_way:
        assert s.last_outbound is not None
        return skip(f"one-way: they have never written back (your last message: "
                    f"{_day(s.last_outbound.at, village)}); villaged leaves it to you "
                    "(`villaged log` a contact, or set draft_one_way = true for them)",
                    Guard.ONE_WAY)
    unanswered = unanswered_checkins(s, mine)
    if unanswered >= village.thresholds.unanswered_checkins:
        return skip(f"let it rest: your last {unanswered} check-ins went unanswered", Guard.LET_IT_REST)
    if s.next_meeting and s.next_meeting.at <= now + dt.timedelta(days=s.cadence_days):
        return skip(f"a meeting is already scheduled on {_day(s.next_meeting.at, village)}",
                    Guard.MEETING_SCHEDULED)
    if s.days_since_contact is not None and s.days_since_contact < village.thresholds.min_gap_days:
        return skip(f"in contact {s.days_since_contact} days ago (minimum gap "
                    f"{village.thresholds.min_gap_days} days)", Guard.MIN_GAP)
    if _awaiting_reply(s, now, village.thresholds.double_text_days):
        assert s.last_outbound is not None
        return skip(f"your message of {_day(s.last_outbound.at, village)} is still unanswered; "
                    "don't double-text", Guard.DOUBLE_TEXT)
    if s.temperature is Temperature.WARM:
        return skip(f"warm: last contact {s.days_since_contact} days ago, next due "
                    f"{s.due.isoformat() if s.due else '?'}", Guard.WARM)
    if s.temperature is Temperature.UNKNOWN:
        return skip("no contact on record: villaged won't cold-message someone it has never "
                    "seen you talk to (log one with `villaged log`)", Guard.UNKNOWN)
    return None


def unanswered_checkins(s: Standing, ledger: Sequence[DraftRecord]) -> int:
    """How many of the newest sent check-ins in a row got no reply or meeting."""
    replies = [i.at for i in (s.last_inbound, s.last_meeting) if i is not None]
    newest_reply = max(replies) if replies else None
    count = 0
    for record in sorted((r for r in ledger if r.kind == DraftKind.CHECKIN and r.state is DraftState.SENT),
                         key=lambda r: r.created_at, reverse=True):
        if newest_reply is not None and newest_reply > record.created_at:
            break
        count += 1
    return count


def _awaiting_reply(s: Standing, now: dt.datetime, days: int) -> bool:
    out = s.last_outbound
    if out is None or now - out.at > dt.timedelta(days=days):
        return False
    answers = [i.at for i in (s.last_inbound, s.last_meeting) if i is not None]
    return not answers or max(answers) < out.at


def roulette(candidates: Sequence[Standing], size: int, week: str) -> list[Standing]:
    """Up to ``size`` candidates: cold and cooling before lapsed, weighted by days overdue.

    Weighted sampling without replacement (Efraimidis–Spirakis). Each person's
    random draw is seeded by the week and their key alone, so a rerun in the same
    week picks the same people, and removing someone (already drafted) leaves
    the order of everyone else unchanged.
    """
    keyed = []
    for s in candidates:
        draw = random.Random(f"villaged-roulette:{week}:{s.person.key}").random()
        weight = float(s.days_overdue + 1)
        keyed.append((ROULETTE_TIERS.get(s.temperature, 2), -(draw ** (1.0 / weight)), s))
    keyed.sort(key=lambda t: (t[0], t[1]))
    return [s for _, _, s in keyed[:max(0, size)]]


def _pick_reason(s: Standing) -> str:
    via = s.last_contact.kind.label if s.last_contact else "?"
    return (f"roulette: {s.temperature.value}, last contact {s.days_since_contact} days ago "
            f"({via}), {s.days_overdue} days overdue on a {s.cadence_days}-day cadence")


def _day(when: dt.datetime, village: Village) -> str:
    return when.astimezone(village.owner.timezone).date().isoformat()

