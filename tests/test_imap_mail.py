"""The IMAP mail source against a real Dovecot: headers only, no flag changed, incremental."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.imap_kit import NOW, OWNER, context, imap_village, mail, rows, sync
from villaged.backends.imap.backend import ImapIO
from villaged.domain.errors import VillagedError
from villaged.store import Store

DAY = dt.timedelta(days=1)


def fill(account) -> None:  # type: ignore[no-untyped-def]
    account.append("INBOX", mail("Ada Lovelace <ada@example.org>", [OWNER], NOW - 3 * DAY,
                                 msgid="<ada-1@test>"))
    account.append("INBOX", mail("ada@example.org", ["list@lists.example"], NOW - 2 * DAY,
                                 msgid="<ada-list@test>", extra={"List-Id": "<l.lists.example>"}))
    account.append("INBOX", mail("Someone <x@else.example>", [OWNER], NOW - 2 * DAY,
                                 msgid="<other@test>"))
    account.append("INBOX", mail("cyd@dance.example", [OWNER], NOW, msgid="<cyd-nodate@test>",
                                 extra={}).replace(b"Date: ", b"X-Old-Date: ", 1))
    account.append("Sent", mail(f"Dana <{OWNER}>", ["Bob <bobkahn+work@gmail.com>"],
                                NOW - 5 * DAY, msgid="<to-bob@test>"), flags=("\\Seen",))
    account.append("Junk", mail("ada@example.org", [OWNER], NOW - DAY, msgid="<junk@test>"))
    account.append("Drafts", mail(OWNER, ["ada@example.org"], NOW - DAY, msgid="<draft@test>"),
                   flags=("\\Draft",))


def test_first_sync_reads_inbox_and_sent_by_the_contact_rules(imap_account, tmp_path: Path):
    fill(imap_account)
    before = imap_account.flags("INBOX")
    village = imap_village(imap_account, tmp_path / "state")
    store = Store(tmp_path / "state.db")
    report = sync(village, store, tmp_path / "state")
    found = {(i.uid, i.person, i.kind.value, i.direct, i.status) for i in store.interactions()}
    assert found == {
        ("<ada-1@test>", "ada", "email_in", True, "ok"),
        ("<ada-list@test>", "ada", "email_in", False, "bulk"),
        ("<to-bob@test>", "bob", "email_out", True, "ok"),  # +tag and Gmail dots matched
    }  # nothing from Junk or Drafts, nobody unknown
    assert report.skipped == {"missing or unparseable date": 1}
    assert imap_account.flags("INBOX") == before  # read-only: no \Seen appeared


def test_no_change_round_costs_one_command_and_new_mail_is_read(imap_account, tmp_path: Path):
    fill(imap_account)
    village = imap_village(imap_account, tmp_path / "state")
    store = Store(tmp_path / "state.db")
    io = ImapIO(village, village.backend, tmp_path / "state")
    try:
        sync(village, store, tmp_path / "state", io=io)
        first = rows(store)
        before = io.connection.commands
        report = sync(village, store, tmp_path / "state", io=io)
        assert io.connection.commands - before == 1  # LIST-STATUS, nothing else
        assert report.new == 0 and rows(store) == first
        imap_account.append("INBOX", mail("cyd@dance.example", [OWNER], NOW - DAY,
                                          msgid="<cyd-1@test>"))
        before = io.connection.commands
        sync(village, store, tmp_path / "state", io=io)
        assert io.connection.commands - before == 3  # LIST-STATUS, EXAMINE, UID FETCH
        assert ("<cyd-1@test>", "cyd", "email_in", True) in {r[:4] for r in rows(store)}
    finally:
        io.close()


def test_changed_uidvalidity_rescans_to_the_same_result(imap_account, tmp_path: Path):
    fill(imap_account)
    village = imap_village(imap_account, tmp_path / "state")
    store = Store(tmp_path / "a.db")
    sync(village, store, tmp_path / "state")
    imap_account.server.set_uidvalidity(imap_account.username, "INBOX", 424242)
    imap_account.append("INBOX", mail("ada@example.org", [OWNER], NOW - DAY, msgid="<ada-2@test>"))
    report = sync(village, store, tmp_path / "state")
    assert any(r.rescanned for r in report.sources.values())
    fresh = Store(tmp_path / "b.db")
    sync(imap_village(imap_account, tmp_path / "state2"), fresh, tmp_path / "state2")
    assert rows(store) == rows(fresh)
    assert store.skips() == fresh.skips()


def test_every_folder_but_junk_trash_and_drafts(imap_account, tmp_path: Path):
    fill(imap_account)
    imap_account.client().create_folder("Projects")
    imap_account.append("Projects", mail("cyd@dance.example", [OWNER], NOW - DAY,
                                         msgid="<cyd-p@test>"))
    village = imap_village(imap_account, tmp_path / "state", imap={"folders": ("*",)})
    store = Store(tmp_path / "state.db")
    sync(village, store, tmp_path / "state")
    uids = {i.uid for i in store.interactions()}
    assert "<cyd-p@test>" in uids and "<junk@test>" not in uids and "<draft@test>" not in uids


def test_a_missing_folder_is_one_clear_message(imap_account, tmp_path: Path):
    village = imap_village(imap_account, tmp_path / "state", imap={"folders": ("Archive",)})
    with pytest.raises(VillagedError) as caught:
        sync(village, Store(tmp_path / "state.db"), tmp_path / "state")
    assert "'Archive' does not exist" in caught.value.message
    assert "INBOX" in (caught.value.fix or "") and "Sent" in (caught.value.fix or "")


def test_fetch_all_strategy_gives_the_same_interactions(imap_account, tmp_path: Path):
    """The benchmark's alternative (fetch every header block) agrees with the search."""
    from villaged.backends.imap.mail_source import ImapMailSource
    from villaged.service.sync import sync_source

    fill(imap_account)
    for n, (sender, to) in enumerate([
            ("Ada <ADA@Example.ORG>", [OWNER]), ("ada+lists@example.org", [OWNER]),
            ("b.o.b.k.a.h.n@googlemail.com", [OWNER]), ("Dana <DANA@uni.example>",
                                                        ["cyd+x@DANCE.example"]),
            ("other@example.org", [OWNER]), (OWNER, ["ada@example.org.evil"])]):
        folder = "Sent" if "dana" in sender.lower() or sender == OWNER else "INBOX"
        imap_account.append(folder, mail(sender, to, NOW - n * DAY, msgid=f"<odd{n}@t>"))
    village = imap_village(imap_account, tmp_path / "state")
    searched = Store(tmp_path / "a.db")
    sync(village, searched, tmp_path / "state")
    every = Store(tmp_path / "b.db")
    io = ImapIO(village, village.backend, tmp_path / "state")
    try:
        source = ImapMailSource(io.connection.session, village.backend.imap,  # type: ignore[attr-defined]
                                village.owner.addresses, village.people, strategy="all")
        sync_source(every, source, context(village))
    finally:
        io.close()
    assert rows(searched) == rows(every)
    assert {r[0] for r in rows(every)} >= {"<odd0@t>", "<odd1@t>", "<odd2@t>", "<odd3@t>"}
