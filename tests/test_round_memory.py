"""The one round against the in-memory fake backend: drafts, then what the owner did
with them (sent, deleted, kept) read back on the next round, with no files or network."""

from __future__ import annotations

import datetime as dt

from tests.contract.village import NOW, OWNER, PEOPLE, contract_village
from tests.fakes.memory_backend import MemoryBackend, MemoryMailbox, MemoryOutbox
from villaged.domain.village import DraftState
from villaged.service.round import run_round
from villaged.store import Store

D = dt.timedelta


def test_a_round_drafts_then_reconciles_sent_discarded_and_pending(tmp_path):
    mailbox = MemoryMailbox()
    for n, person in enumerate(PEOPLE):
        mailbox.mail(person.emails[0], OWNER, NOW - D(days=200 + n))
    village = contract_village(tmp_path)
    outbox = MemoryOutbox()
    io = MemoryBackend(village, mailbox=mailbox, outbox=outbox)
    with Store(tmp_path / "state.sqlite3") as store:
        first = run_round(village, store, io, NOW, draft=True)
        assert len(first.written) == 3 and sorted(outbox.existing()) == sorted(
            action.key for action, _ in first.written)
        (sent, sent_id), (gone, gone_id), (kept, kept_id) = first.written
        message = outbox.send(sent_id)  # the owner sends one from their mail client ...
        mailbox.mail(OWNER, message["To"].addresses[0].addr_spec, NOW + D(minutes=30))  # synced back
        outbox.discard(gone_id)  # deletes another, keeps the third
        later = run_round(village, store, io, NOW + D(hours=1), draft=True)
        states = {row.key: row.state for row in store.ledger()}
    assert states == {sent.key: DraftState.SENT, gone.key: DraftState.DISCARDED,
                      kept.key: DraftState.PENDING}
    assert later.written == []  # none of them drafted again this week
    assert outbox.sent == [message] and io.inbox == {}  # villaged itself sent nothing
