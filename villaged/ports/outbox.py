"""The protocol every outbox follows, and the reconcile rules they share.

An outbox only ever *writes drafts*. It has no way to send anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from villaged.domain.addresses import normalize
from villaged.domain.village import OPEN_DRAFT_STATES, DraftRecord, DraftState, Interaction, Kind

if TYPE_CHECKING:
    from email.message import EmailMessage


@dataclass(frozen=True)
class DraftSeen:
    """One draft in the drafts folder, as reconcile needs to recognise it after the
    owner edited it (a mail client may drop villaged's key header, and may give the
    message a new Message-ID; Gmail keeps the draft id)."""

    draft_id: str
    key: str | None = None
    message_id: str | None = None
    recipients: tuple[str, ...] = ()


class Outbox(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def drafts_link(self) -> str:
        """Where the owner reviews drafts (a URL or a folder path)."""

    def put(self, key: str, message: EmailMessage, thread: str | None) -> str:
        """Write a draft and return its id. Idempotent: an existing draft with this key is kept."""

    def existing(self) -> dict[str, str]:
        """X-Villaged-Key → draft id for every villaged draft still in the drafts folder."""


class SeeingOutbox(Outbox, Protocol):
    """An outbox that can also list every draft (``seen``), so an edited draft whose
    key header is gone is still recognised. The Maildir, Gmail and IMAP outboxes are;
    an outbox that is not is reconciled by its keys alone (``drafts_seen``): Outlook
    keeps villaged's key in a property of the draft item, which an edit does not drop."""

    def seen(self) -> list[DraftSeen]:
        """Every draft in the drafts folder, villaged's (with or without its key) or not."""


def drafts_seen(outbox: Outbox) -> list[DraftSeen]:
    seen = getattr(outbox, "seen", None)
    if callable(seen):
        return list(seen())
    return [DraftSeen(draft_id, key) for key, draft_id in outbox.existing().items()]


@runtime_checkable
class Withdrawing(Protocol):
    """An outbox that can take back one of villaged's own drafts (by its key).

    Used only to replace a stale, unsent invitation with a fresh one, so the
    folder never holds two invitation drafts for one person. An outbox without
    it leaves the stale draft alone; the plan then says so and drafts nothing new.
    """

    def withdraw(self, key: str) -> None:
        """Delete the villaged draft carrying ``key``, if it is still there (idempotent)."""


def reconcile(
    ledger: Sequence[DraftRecord],
    present: Mapping[str, str] | Sequence[DraftSeen],
    interactions: Sequence[Interaction],
    addresses: Mapping[str, Sequence[str]] | None = None,
    message_ids: Mapping[str, str] | None = None,
) -> list[tuple[DraftRecord, DraftState, str | None]]:
    """State changes for open ledger rows: (row, new state, draft id).

    A row's draft is found in the drafts folder by, in order: its key header;
    the draft id stored in the ledger (Gmail keeps it across edits); the
    Message-ID villaged gave it (``message_ids``: key → Message-ID; mutt keeps
    it); a draft without a key addressed to the person (``addresses``: person →
    addresses; what is left when a client rewrote the message). Each draft
    counts for one row at most.

    Still in the drafts folder: pending. Gone, with an outbound message to the
    person after the draft was written: sent. Otherwise: discarded. A row
    still ``creating`` whose draft exists becomes created (the crash came
    between writing the draft and committing the ledger); one whose draft
    does not exist is returned as DISCARDED with no id: the caller forgets it.
    """
    if isinstance(present, Mapping):
        seen = [DraftSeen(draft_id, key) for key, draft_id in present.items()]
    else:
        seen = list(present)
    found = _match(ledger, seen, addresses or {}, message_ids or {})
    changes = []
    for row in ledger:
        if row.state not in OPEN_DRAFT_STATES:
            continue
        draft_id = found.get(row.key)
        if row.state is DraftState.CREATING:
            new = DraftState.CREATED if draft_id else DraftState.DISCARDED
        elif draft_id:
            new = DraftState.PENDING
        elif _sent_after(row, interactions):
            new = DraftState.SENT
        else:
            new = DraftState.DISCARDED
        if new is not row.state or draft_id != row.draft_id:
            changes.append((row, new, draft_id))
    return changes


def _match(ledger: Sequence[DraftRecord], seen: Sequence[DraftSeen],
           addresses: Mapping[str, Sequence[str]], message_ids: Mapping[str, str],
           ) -> dict[str, str]:
    """Ledger key → the id of the draft that is that row's, by the rules above."""
    rows = [r for r in ledger if r.state in OPEN_DRAFT_STATES]
    free = list(seen)
    found: dict[str, str] = {}

    def take(row: DraftRecord, draft: DraftSeen) -> None:
        found[row.key] = draft.draft_id
        free.remove(draft)

    for rule in ("key", "id", "message-id", "recipient"):
        for row in rows:
            if row.key in found:
                continue
            for draft in free:
                if rule == "key":
                    hit = draft.key == row.key
                elif draft.key and draft.key != row.key and any(r.key == draft.key for r in rows):
                    hit = False  # another open row's draft, recognised by its own key
                elif rule == "id":
                    hit = row.draft_id is not None and draft.draft_id == row.draft_id
                elif rule == "message-id":
                    wanted = message_ids.get(row.key)
                    hit = wanted is not None and draft.message_id == wanted
                else:
                    mine = {normalize(a) for a in addresses.get(row.person, ())}
                    hit = draft.key is None and bool(mine) and \
                        any(normalize(r) in mine for r in draft.recipients)
                if hit:
                    take(row, draft)
                    break
    return found


def _sent_after(row: DraftRecord, interactions: Sequence[Interaction]) -> bool:
    return any(i.person == row.person and i.kind is Kind.EMAIL_OUT and i.direct
               and i.at >= row.created_at - dt.timedelta(minutes=5) for i in interactions)
