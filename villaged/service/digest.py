"""The weekly digest run: gather, compose, deliver once per week.

``run_digest`` is what `villaged digest`, the daemon (on the digest day) and
`villaged demo` call. It runs the one round as a dry run (no drafts; sync
only when asked) for the standings and the plan, chooses the week's
give-back, composes the digest and, unless it already went out this ISO
week, delivers it to the owner through the backend.

The week's snapshot (temperature counts, the trend's point for the week)
is written on delivery, so the trend later shows what the owner read.
Previews (``preview_digest``) write nothing at all: no sync, no ledger
reconciling, no snapshot, and the week's digest is not used up.

Once per week: the week's delivery is recorded in the store's ``digests``
table (keyed by the ISO week) after delivery. A rerun in the same week renders but does not
deliver, unless ``force``. A crash between delivering and recording is
harmless locally: the Maildir delivery finds the message by its
X-Villaged-Key and keeps the one copy.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from villaged.compose.digest import DigestInput, compose_view, digest_parts, digest_view
from villaged.compose.templating import environment
from villaged.core.giveback import GiveBack, Memory, choose_giveback
from villaged.core.pauses import with_snoozes
from villaged.core.plan import iso_week
from villaged.domain.village import DraftRecord, Give, Interaction, Village
from villaged.ports.backend import BackendIO
from villaged.ports.digest import owner_only
from villaged.service.round import RoundResult, preview, run_round
from villaged.store import Delivery, Store, iso

log = logging.getLogger(__name__)


def digest_key(week: str) -> str:
    return f"digest:{week}"


@dataclass
class DigestResult:
    week: str
    subject: str
    text: str
    html: str
    message: EmailMessage
    giveback: GiveBack | None
    delivered: bool = False
    location: str | None = None  # where it went (a Maildir id, a Gmail message id)
    note: str = ""  # why it was not delivered, if it was not


@dataclass(frozen=True)
class _Stored:
    """What the digest reads from the store (nothing yet before the first sync)."""

    gives: list[Give]
    ledger: list[DraftRecord]
    interactions: list[Interaction]
    snapshots: list[tuple[str, dict[str, Any]]]
    memory: Memory
    delivered: Delivery | None

    @classmethod
    def read(cls, store: Store | None, week: str) -> _Stored:
        if store is None:
            return cls([], [], [], [], Memory(), None)
        return cls(store.gives(), store.ledger(), store.interactions(), store.snapshots(),
                   store.giveback_memory(), store.delivery(week))


def run_digest(
    village: Village,
    store: Store,
    io: BackendIO,
    now: dt.datetime,
    force: bool = False,
    *,
    deliver: bool = True,
    sync: bool = False,
) -> DigestResult:
    """Build this week's digest and deliver it to the owner once per ISO week.

    ``deliver=False`` is a preview (``preview_digest``): it writes nothing."""
    if not deliver:
        return preview_digest(village, store, io, now)
    village = with_snoozes(village, store.snoozes())
    result = run_round(village, store, io, now, sync=sync, draft=False)
    week = iso_week(now, village)
    stored = _Stored.read(store, week)
    already = iso(stored.delivered.delivered_at) if stored.delivered else None
    # a forced resend is a new message (its own key), not a duplicate to be skipped
    key = digest_key(week)
    message_key = f"{key}:forced:{iso(now)}" if force and already else key
    digest, snapshot = _build(village, result, stored, now, message_key)
    if already and not force:
        digest.note = (f"already delivered for {week} on {already}; "
                       "not delivering it again (use --force)")
        log.info("digest for %s already delivered", week)
        return digest
    owner_only(digest.message, village.owner)  # whatever the backend: the owner, and nobody else
    digest.location = io.deliver_digest(digest.message)
    digest.delivered = True
    # the trend's point for this week is what this delivered digest showed; later
    # rounds and previews in the week leave it alone
    store.put_snapshot(week, now, snapshot)
    store.record_delivery(Delivery(week=week, delivered_at=now, location=digest.location,
                                   forced=bool(force and already)))
    if digest.giveback is not None:
        store.set_giveback_memory(stored.memory.after(week, digest.giveback))
    log.info("digest for %s delivered", week)
    return digest


def preview_digest(village: Village, store: Store | None, io: BackendIO,
                   now: dt.datetime) -> DigestResult:
    """This week's digest as delivery would build it from what is stored (``store``
    may be read-only, or None before the first sync). Writes nothing: no sync, no
    ledger reconciling, no delivery, and the week's digest is not used up."""
    result = preview(village, store, io, now)
    if store is not None:
        village = with_snoozes(village, store.snoozes())
    week = iso_week(now, village)
    digest, _ = _build(village, result, _Stored.read(store, week), now, digest_key(week))
    digest.note = "not delivered (a preview)"
    return digest


def _build(village: Village, result: RoundResult, stored: _Stored, now: dt.datetime,
           message_key: str) -> tuple[DigestResult, dict[str, Any]]:
    """The composed digest and the week's snapshot it shows."""
    week = iso_week(now, village)
    give = choose_giveback(village, result.standings, stored.gives, stored.memory.avoid(week))
    data = DigestInput(
        week=week, standings=result.standings, plan=result.plan, ledger=stored.ledger,
        interactions=stored.interactions, snapshots=stored.snapshots,
        giveback=give, drafts_link=result.drafts_link,
    )
    view = digest_view(village, data, now)
    message = compose_view(village, view, environment(village.config_dir), now, message_key)
    text, html = digest_parts(message)
    digest = DigestResult(week=week, subject=str(message["Subject"]), text=text, html=html,
                          message=message, giveback=give)
    return digest, dict(view.snapshot)
