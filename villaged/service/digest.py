"""The weekly digest run: gather, compose, deliver once per week.

``run_digest`` is what `villaged digest`, the daemon (on the digest day) and
`villaged demo` call. It runs the one round as a dry run (no drafts; sync
only when asked) for the standings and the plan, chooses the week's
give-back, composes the digest and, unless it already went out this ISO
week, delivers it to the owner through the backend.

The week's snapshot (temperature counts, the trend's point for the week)
is written on delivery, so the trend later shows what the owner read.
Previews (``deliver=False``) write neither.

Once per week: the natural key ``digest:<week>`` is written to the store's
kv table after delivery. A rerun in the same week renders but does not
deliver, unless ``force``. A crash between delivering and recording is
harmless locally: the Maildir delivery finds the message by its
X-Villaged-Key and keeps the one copy.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from email.message import EmailMessage

from villaged.compose.digest import DigestInput, compose_view, digest_parts, digest_view
from villaged.compose.templating import environment
from villaged.core.giveback import GiveBack, Memory, choose_giveback
from villaged.core.pauses import with_snoozes
from villaged.core.plan import iso_week
from villaged.domain.village import Village
from villaged.ports.backend import BackendIO
from villaged.ports.digest import owner_only
from villaged.service.round import run_round
from villaged.store import Delivery, GivebackMemory, Store, iso

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
    """Build this week's digest and deliver it to the owner once per ISO week."""
    village = with_snoozes(village, store.snoozes())
    week = iso_week(now, village)
    key = digest_key(week)
    delivered = store.delivery(week)
    already = iso(delivered.delivered_at) if delivered else None

    result = run_round(village, store, io, now, sync=sync, draft=False)
    kept = store.giveback_memory()
    memory = Memory(kept.week, kept.person, kept.text, kept.prior) if kept else Memory()
    gives = store.gives()
    give = choose_giveback(village, result.standings, gives, memory.avoid(week))
    data = DigestInput(
        week=week, standings=result.standings, plan=result.plan, ledger=store.ledger(),
        interactions=store.interactions(), snapshots=store.snapshots(),
        giveback=give, drafts_link=result.drafts_link,
    )
    # a forced resend is a new message (its own key), not a duplicate to be skipped
    message_key = f"{key}:forced:{iso(now)}" if force and already else key
    view = digest_view(village, data, now)
    message = compose_view(village, view, environment(village.config_dir), now, message_key)
    text, html = digest_parts(message)
    digest = DigestResult(week=week, subject=str(message["Subject"]), text=text, html=html,
                          message=message, giveback=give)
    if not deliver:
        digest.note = "not delivered (render only)"
        return digest
    if already and not force:
        digest.note = (f"already delivered for {week} on {already}; "
                       "not delivering it again (use --force)")
        log.info("digest for %s already delivered", week)
        return digest
    owner_only(message, village.owner)  # whatever the backend: the owner, and nobody else
    digest.location = io.deliver_digest(message)
    digest.delivered = True
    # the trend's point for this week is what this delivered digest showed; later
    # rounds and previews in the week leave it alone
    store.put_snapshot(week, now, dict(view.snapshot))
    store.record_delivery(Delivery(week=week, delivered_at=now, location=digest.location,
                                   forced=bool(force and already)))
    if give is not None:
        after = memory.after(week, give)
        store.set_giveback_memory(GivebackMemory(after.week, after.person, after.text,
                                                 after.prior))
    log.info("digest for %s delivered", week)
    return digest
