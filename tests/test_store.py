"""The SQLite store: idempotent writes, atomic batches, migrations."""

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import NOW, seen
from villaged.domain.errors import VillagedError
from villaged.domain.village import DraftRecord, DraftState
from villaged.store import MIGRATIONS, Store


def test_resyncing_the_same_items_never_duplicates(tmp_path):
    with Store.in_dir(tmp_path) as store:
        items = [seen("ada", 3), seen("bo", 4)]
        store.apply_sync("test", items, {"offset": 10})
        store.apply_sync("test", items, {"offset": 10})
        assert store.interaction_count() == 2
        assert store.cursor("test") == {"offset": 10}


def test_a_failed_batch_leaves_neither_items_nor_cursor(tmp_path):
    with Store.in_dir(tmp_path) as store:
        store.apply_sync("test", [seen("ada", 3)], {"offset": 1})
        bad = seen("bo", 1)
        object.__setattr__(bad, "at", dt.datetime(2026, 1, 1))  # naive: rejected mid-batch
        with pytest.raises(ValueError):
            store.apply_sync("test", [seen("cy", 2), bad], {"offset": 2})
        assert store.cursor("test") == {"offset": 1}
        assert {i.person for i in store.interactions()} == {"ada"}


def test_replace_and_removed_uids(tmp_path):
    with Store.in_dir(tmp_path) as store:
        a, b = seen("ada", 3), seen("bo", 4)
        store.apply_sync("test", [a, b], {})
        store.apply_sync("test", [], {}, removed_uids=[a.uid])
        assert [i.person for i in store.interactions()] == ["bo"]
        store.apply_sync("test", [a], {}, replace_source=True)
        assert [i.person for i in store.interactions()] == ["ada"]


def test_an_interaction_cannot_be_filed_under_another_source(tmp_path):
    with Store.in_dir(tmp_path) as store, pytest.raises(ValueError):
        store.apply_sync("mbox:other", [seen("ada", 3)], {})


def test_ledger_claims_a_natural_key_once(tmp_path):
    with Store.in_dir(tmp_path) as store:
        record = DraftRecord(key="checkin:ada:2026-W48", person="ada", kind="checkin",
                             week="2026-W48", state=DraftState.CREATING, created_at=NOW)
        assert store.ledger_begin(record) is True
        assert store.ledger_begin(record) is False
        store.ledger_set(record.key, DraftState.CREATED, NOW, "draft-1")
        [row] = store.ledger()
        assert row.state is DraftState.CREATED and row.draft_id == "draft-1"


def test_job_slots_run_once(tmp_path):
    with Store.in_dir(tmp_path) as store:
        assert store.job_claim("draft", "2026-11-23", NOW)
        assert not store.job_claim("draft", "2026-11-23", NOW)
        store.job_finish("draft", "2026-11-23", NOW, "ok")
        assert store.job_runs("draft")[0].outcome == "ok"


def test_schema_is_versioned_and_the_db_private(tmp_path):
    with Store.in_dir(tmp_path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert (store.path.stat().st_mode & 0o077) == 0
    # reopening migrates nothing and keeps data
    with Store.in_dir(tmp_path) as store:
        assert store.integrity() == "ok"


def test_a_newer_schema_or_a_corrupt_file_is_a_clear_error(tmp_path):
    path = tmp_path / "villaged.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(VillagedError, match="newer villaged"):
        Store(path)
    junk = tmp_path / "junk" / "villaged.sqlite3"
    junk.parent.mkdir()
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(VillagedError, match="is damaged") as err:
        Store(junk)
    # the advice keeps what mail cannot rebuild: a copy first, and it says what would be lost
    assert "cp " in err.value.fix and "drafts ledger" in err.value.fix


def _open_and_write(state: str, barrier: object, results: object) -> None:
    from villaged.store import Store

    barrier.wait()  # type: ignore[attr-defined]
    try:
        with Store.in_dir(Path(state)) as store:
            store.set_crashes("draft", "2026-11-23", 1)
        results.put("ok")  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - reported to the test
        results.put(f"{type(exc).__name__}: {exc}")  # type: ignore[attr-defined]


def test_ten_first_runs_at_once_on_a_fresh_state_directory_all_succeed(tmp_path):
    """Switching a new database to WAL answers "locked" at once (no busy wait) while
    another first run holds it; without waiting for it, about 1 round in 7 failed."""
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    for n in range(15):
        state = tmp_path / f"state{n}"
        state.mkdir()
        barrier, results = fork.Barrier(10), fork.Queue()
        procs = [fork.Process(target=_open_and_write, args=(str(state), barrier, results))
                 for _ in range(10)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=60)
        outcomes = [results.get(timeout=5) for _ in procs]
        assert outcomes == ["ok"] * 10, (n, outcomes)
