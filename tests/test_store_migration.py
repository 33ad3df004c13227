"""The service's state moves from JSON blobs in kv to tables with real columns
(schema 4), keeping everything a database written by the previous schema held."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from villaged.domain.errors import VillagedError
from villaged.domain.vocabulary import DraftKind
from villaged.store import MIGRATIONS, Store

UTC = dt.UTC
PREVIOUS = 3  # the schema before the service state got its tables


def old_database(path: Path) -> None:
    """A database as villaged wrote it at schema 3, service state in kv."""
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:PREVIOUS]:
        for statement in filter(str.strip, script.split(";")):
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {PREVIOUS}")
    db.execute("PRAGMA journal_mode=WAL")
    kv = {
        "parked": {"reason": "Google refused villaged's grant", "fix": "run `villaged auth`",
                   "job": "sync", "at": "2026-11-24T16:30:00+00:00"},
        "last-round": {"at": "2026-11-24T16:00:00+00:00", "job": "draft",
                       "slot": "2026-11-23", "outcome": "ok", "detail": "3 draft(s) written"},
        "last-sync": {"at": "2026-11-24T16:15:00+00:00", "outcome": "retry",
                      "detail": "network failure"},
        "daemon": {"pid": 4242, "running": False, "config": "/home/dana/village.toml",
                   "started_at": "2026-11-24T08:00:00+00:00", "reloaded_at": None,
                   "reload_error": "bad key", "updated_at": "2026-11-24T16:30:00+00:00",
                   "next": {"sync": "2026-11-24T16:45:00+00:00",
                            "digest": "2026-11-30T13:30:00+00:00"}},
        "digest:2026-W48": {"delivered_at": "2026-11-23T13:30:00+00:00", "id": "<d@x>",
                            "forced": False},
        "giveback:last": {"week": "2026-W48", "person": "ada", "text": "nominate Ada",
                          "prior": "thank Grace"},
    }
    for key, value in kv.items():
        db.execute("INSERT INTO kv VALUES (?,?)", (key, json.dumps(value)))
    db.execute("INSERT INTO kv VALUES ('crashes:draft:2026-11-23', '2')")
    db.execute("INSERT INTO interactions VALUES ('mbox:x','<m1>','ada','2026-11-20T10:00:00+00:00',"
               "'email_in',1,'<m1>','hi','<m1>',NULL,'ok')")
    db.execute("INSERT INTO ledger VALUES ('checkin:ada:2026-W48','ada','checkin','2026-W48',"
               "'pending','d1','Catching up',0,'2026-11-23T14:00:00+00:00',"
               "'2026-11-23T14:00:00+00:00',NULL)")
    db.execute("INSERT INTO job_runs VALUES ('draft','2026-11-23','2026-11-23T14:00:00+00:00',"
               "NULL,NULL,'')")
    db.commit()
    db.close()


def test_the_migration_keeps_every_kind_of_service_state(tmp_path):
    path = tmp_path / "villaged.sqlite3"
    old_database(path)
    with Store(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 4
        parked = store.parked()
        assert parked is not None and parked.reason == "Google refused villaged's grant"
        assert parked.fix == "run `villaged auth`" and parked.job == "sync"
        assert parked.at == dt.datetime(2026, 11, 24, 16, 30, tzinfo=UTC)
        last_round, last_sync = store.last_run("round"), store.last_run("sync")
        assert last_round is not None and (last_round.job, last_round.slot, last_round.outcome,
                                           last_round.detail) == (
            "draft", "2026-11-23", "ok", "3 draft(s) written")
        assert last_sync is not None and (last_sync.job, last_sync.outcome, last_sync.detail) == (
            "sync", "retry", "network failure")
        assert last_sync.at == dt.datetime(2026, 11, 24, 16, 15, tzinfo=UTC)
        daemon = store.daemon_state()
        assert daemon is not None and (daemon.pid, daemon.running, daemon.reload_error) == (
            4242, False, "bad key")
        assert daemon.reloaded_at is None and daemon.config == "/home/dana/village.toml"
        assert daemon.next == {"sync": dt.datetime(2026, 11, 24, 16, 45, tzinfo=UTC),
                               "digest": dt.datetime(2026, 11, 30, 13, 30, tzinfo=UTC)}
        assert store.crashes("draft", "2026-11-23") == 2
        delivery = store.delivery("2026-W48")
        assert delivery is not None and delivery.location == "<d@x>" and not delivery.forced
        memory = store.giveback_memory()
        assert memory is not None and (memory.week, memory.person, memory.text, memory.prior) == (
            "2026-W48", "ada", "nominate Ada", "thank Grace")
        # the blobs are gone from kv; everything else is as it was
        assert store.db.execute("SELECT count(*) FROM kv").fetchone()[0] == 0
        assert [i.uid for i in store.interactions()] == ["<m1>"]
        [row] = store.ledger()
        assert row.kind is DraftKind.CHECKIN and row.draft_id == "d1"
        assert store.job_runs()[0].slot == "2026-11-23"
    with Store(path) as again:  # reopening migrates nothing twice
        assert again.parked() == parked


def test_the_new_tables_round_trip(tmp_path):
    from villaged.store import DaemonState, LastRun, Parked

    at = dt.datetime(2026, 11, 24, 16, 30, tzinfo=UTC)
    with Store(tmp_path / "s.sqlite3") as store:
        assert store.parked() is None and store.daemon_state() is None
        store.park(Parked("why", "fix it", "draft", at))
        store.set_last_run("sync", LastRun(at=at, job="sync", outcome="ok"))
        store.set_daemon_state(DaemonState(pid=1, running=True, config="c", started_at=at,
                                           updated_at=at, next={"draft": at}))
        store.set_crashes("draft", "2026-11-23", 1)
        assert store.parked() == Parked("why", "fix it", "draft", at)
        assert store.last_run("sync") == LastRun(at=at, job="sync", outcome="ok")
        assert store.daemon_state() == DaemonState(pid=1, running=True, config="c",
                                                   started_at=at, updated_at=at,
                                                   next={"draft": at})
        store.unpark()
        store.set_crashes("draft", "2026-11-23", None)
        assert store.parked() is None and store.crashes("draft", "2026-11-23") == 0


def test_a_dry_run_on_an_older_database_asks_for_one_sync(tmp_path):
    path = tmp_path / "villaged.sqlite3"
    old_database(path)
    before = path.read_bytes()
    with pytest.raises(VillagedError) as caught:
        Store.read_only(path)
    assert "older villaged" in caught.value.message and "villaged sync" in (caught.value.fix or "")
    assert path.read_bytes() == before  # not migrated by a dry run
