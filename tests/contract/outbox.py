"""The Outbox contract: drafts only, one per natural key, whatever dies when.

A subclass provides ``harness`` (an ``OutboxHarness``, see README.md). The
kill trials run the real round (``run_round``) against the in-memory fake's
sources and the outbox under test wrapped in a ``FaultyOutbox``, which dies
at the Nth ``put`` before or after the write; then a clean round runs with a
fresh outbox, and the drafts folder must be exactly what one clean run leaves.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path
from typing import ClassVar, Protocol

import pytest

from tests.contract.faults import (
    AFTER_WRITE,
    IN_EXISTING,
    KILL_POINTS,
    FaultyOutbox,
    Killed,
    with_outbox,
)
from tests.contract.village import NOW, OWNER, PEOPLE, contract_village
from tests.fakes.memory_backend import MemoryBackend, MemoryMailbox
from villaged.domain.village import KEY_HEADER, DraftState
from villaged.ports.outbox import Outbox, Withdrawing
from villaged.service.round import run_round
from villaged.store import Store

D = dt.timedelta


class OutboxHarness(Protocol):
    """How the suite drives one outbox implementation."""

    def outbox(self) -> Outbox:
        """A new outbox instance, as after a restart."""

    def drafts(self) -> dict[str, list[str]]:
        """X-Villaged-Key → draft ids, read the way the owner's mail client sees the folder
        (not through the outbox under test)."""

    def discard(self, draft_id: str) -> None:
        """The owner deletes a draft."""

    def reset(self) -> None:
        """Empty the drafts folder (between kill trials)."""

    def sent(self) -> int:
        """How many messages left the owner's account (villaged sends none)."""


def draft(key: str, to: str = PEOPLE[0].emails[0]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = OWNER, to, "Thinking of you"
    msg[KEY_HEADER] = key
    msg.set_content("Hi Ada,\n\nhow are you?\n")
    return msg


def cold_mailbox() -> MemoryMailbox:
    """Everybody's last conversation (theirs, then the owner's answer) ended 200 days ago: a
    round drafts three check-ins (an unanswered message would get an acknowledgement instead)."""
    mailbox = MemoryMailbox()
    for n, person in enumerate(PEOPLE):
        first = mailbox.mail(person.emails[0], OWNER, NOW - D(days=201 + n), subject=f"news {n}")
        mailbox.mail(OWNER, person.emails[0], NOW - D(days=200 + n), subject=f"Re: news {n}",
                     thread=first)
    return mailbox


class OutboxContract:
    """Subclass as ``TestXxxOutbox(OutboxContract)`` with a ``harness`` fixture."""

    KILL_AT_PUT: ClassVar[tuple[int, ...]] = (1, 2, 3)

    @pytest.fixture
    def harness(self, tmp_path: Path) -> OutboxHarness:
        raise NotImplementedError("a contract subclass provides the harness fixture")

    def test_put_writes_one_keyed_draft_that_existing_lists(self, harness):
        draft_id = harness.outbox().put("checkin:ada:2026-W48", draft("checkin:ada:2026-W48"),
                                        None)
        assert harness.drafts() == {"checkin:ada:2026-W48": [draft_id]}
        assert harness.outbox().existing() == {"checkin:ada:2026-W48": draft_id}
        assert harness.sent() == 0

    def test_put_is_idempotent_by_key(self, harness):
        outbox = harness.outbox()
        first = outbox.put("k1", draft("k1"), None)
        assert outbox.put("k1", draft("k1"), None) == first
        assert harness.outbox().put("k1", draft("k1"), None) == first  # after a restart
        second = outbox.put("k2", draft("k2"), None)
        assert harness.drafts() == {"k1": [first], "k2": [second]}

    def test_existing_finds_a_draft_whose_put_never_returned(self, harness):
        with pytest.raises(Killed):
            FaultyOutbox(harness.outbox(), AFTER_WRITE).put("k1", draft("k1"), None)
        [draft_id] = harness.drafts()["k1"]
        assert harness.outbox().existing() == {"k1": draft_id}
        assert harness.outbox().put("k1", draft("k1"), None) == draft_id
        assert harness.drafts() == {"k1": [draft_id]}

    def test_a_draft_the_owner_deleted_leaves_existing(self, harness):
        outbox = harness.outbox()
        kept = outbox.put("k1", draft("k1"), None)
        gone = outbox.put("k2", draft("k2"), None)
        harness.discard(gone)
        assert harness.outbox().existing() == {"k1": kept}

    def round(self, harness: OutboxHarness, store: Store, outbox: Outbox, tmp_path: Path,
              now: dt.datetime = NOW):
        village = contract_village(tmp_path)
        io = with_outbox(MemoryBackend(village, mailbox=cold_mailbox()), outbox)
        return run_round(village, store, io, now, draft=True)

    def test_withdraw_takes_back_only_that_draft_and_is_idempotent(self, harness):
        # a stale invitation is replaced: the old draft must go, nothing else
        outbox = harness.outbox()
        assert isinstance(outbox, Withdrawing), "every outbox can withdraw its own drafts"
        outbox.put("invite:ada:2026-W46", draft("invite:ada:2026-W46"), None)
        outbox.put("checkin:bo:2026-W46", draft("checkin:bo:2026-W46"), None)
        outbox.withdraw("invite:ada:2026-W46")
        outbox.withdraw("invite:ada:2026-W46")
        outbox.withdraw("never-written")
        assert set(harness.drafts()) == {"checkin:bo:2026-W46"}
        assert set(harness.outbox().existing()) == {"checkin:bo:2026-W46"}

    def test_a_kill_at_any_put_then_a_rerun_equals_one_clean_run(self, harness, tmp_path):
        with Store(tmp_path / "clean.sqlite3") as store:
            clean = self.round(harness, store, harness.outbox(), tmp_path)
        expected = sorted(action.key for action, _ in clean.written)
        assert len(expected) == 3 and sorted(harness.drafts()) == expected
        for point in KILL_POINTS:
            for at in self.KILL_AT_PUT:
                harness.reset()
                with Store(tmp_path / f"kill-{at}-{len(point)}.sqlite3") as store:
                    with pytest.raises(Killed):
                        self.round(harness, store, FaultyOutbox(harness.outbox(), point, at),
                                   tmp_path)
                    self.round(harness, store, harness.outbox(), tmp_path, NOW + D(minutes=15))
                    rows = store.ledger()
                on_disk = harness.drafts()
                trial = f"killed {point} at put {at}"
                assert sorted(on_disk) == expected, trial
                assert all(len(ids) == 1 for ids in on_disk.values()), trial
                assert not [r for r in rows if r.state is DraftState.CREATING], trial
                assert {r.key: r.draft_id for r in rows} == {
                    k: ids[0] for k, ids in on_disk.items()}, trial
        assert harness.sent() == 0

    def test_a_kill_while_recovering_from_a_kill_then_a_rerun_equals_one_clean_run(self, harness,
                                                                                    tmp_path):
        with Store(tmp_path / "clean.sqlite3") as store:
            clean = self.round(harness, store, harness.outbox(), tmp_path)
        expected = sorted(action.key for action, _ in clean.written)
        harness.reset()
        with Store(tmp_path / "twice.sqlite3") as store:
            with pytest.raises(Killed):  # the second draft written, its ledger row still creating
                self.round(harness, store, FaultyOutbox(harness.outbox(), AFTER_WRITE, 2), tmp_path)
            with pytest.raises(Killed):  # killed again while reconciling that row
                self.round(harness, store, FaultyOutbox(harness.outbox(), IN_EXISTING, 1), tmp_path,
                           NOW + D(minutes=15))
            self.round(harness, store, harness.outbox(), tmp_path, NOW + D(minutes=30))
            rows = store.ledger()
        on_disk = harness.drafts()
        assert sorted(on_disk) == expected and all(len(ids) == 1 for ids in on_disk.values())
        assert {r.key: r.draft_id for r in rows} == {k: ids[0] for k, ids in on_disk.items()}
        assert {r.state for r in rows} <= {DraftState.CREATED, DraftState.PENDING}
