"""The protocol every outbox follows, and the reconcile rules they share.

An outbox only ever *writes drafts*. It has no way to send anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from typing import Protocol, runtime_checkable

from villaged.domain.village import OPEN_DRAFT_STATES, DraftRecord, DraftState, Interaction, Kind


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
    present: Mapping[str, str],
    interactions: Sequence[Interaction],
) -> list[tuple[DraftRecord, DraftState, str | None]]:
    """State changes for open ledger rows: (row, new state, draft id).

    Still in the drafts folder: pending. Gone, with an outbound message to the
    person after the draft was written: sent. Otherwise: discarded. A row
    still ``creating`` whose draft exists becomes created (the crash came
    between writing the draft and committing the ledger); one whose draft
    does not exist is returned as DISCARDED with no id: the caller forgets it.
    """
    changes = []
    for row in ledger:
        if row.state not in OPEN_DRAFT_STATES:
            continue
        draft_id = present.get(row.key)
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


def _sent_after(row: DraftRecord, interactions: Sequence[Interaction]) -> bool:
    return any(i.person == row.person and i.kind is Kind.EMAIL_OUT and i.direct
               and i.at >= row.created_at - dt.timedelta(minutes=5) for i in interactions)
