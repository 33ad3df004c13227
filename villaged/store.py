"""SQLite state: interactions, source cursors, drafts ledger, gives, job runs, snapshots.

Every write happens in one transaction together with the cursor or ledger
change it belongs to, so a crash at any instant leaves a consistent store and
a rerun picks up where the last commit ended. Interactions are keyed by
(source, uid, person): re-syncing replaces, never duplicates.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from villaged.core.giveback import Memory
from villaged.domain.errors import VillagedError
from villaged.domain.village import DraftRecord, DraftState, Give, Interaction
from villaged.store_errors import GuardedConnection, StoreError, connect, translate
from villaged.store_rows import (
    DaemonState,
    Delivery,
    JobRun,
    LastRun,
    ManualEntry,
    Parked,
    draft_of,
    interaction_of,
    interaction_row,
    iso,
    maybe_time,
    parse_iso,
)
from villaged.store_schema import MIGRATIONS

DB_NAME = "villaged.sqlite3"
BUSY_TIMEOUT = 30.0  # seconds a command waits for another one's write to the database


def ensure_state_dir(path: Path) -> Path:
    """Create the state directory (owner only), or say clearly why it cannot be."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StoreError(
            f"the state directory {path} cannot be created: {exc.strerror or exc}",
            fix="choose a directory you can write with --state-dir or VILLAGED_STATE_DIR, "
                f"or create it yourself (`mkdir -p {path}`) and make it yours",
            kind="cantopen") from exc
    if not path.is_dir():
        raise StoreError(f"the state directory {path} is not a directory",
                         fix="point --state-dir or VILLAGED_STATE_DIR at a directory",
                         kind="cantopen")
    return path


def private_files(path: Path) -> None:
    """The database and its -wal/-shm hold mail data: owner only, whatever the umask."""
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        with contextlib.suppress(OSError):
            os.chmod(path.with_name(name), 0o600)


class Store:
    """The state database. Use as a context manager or call close()."""

    def __init__(self, path: Path) -> None:
        self.path = path
        ensure_state_dir(path.parent)
        self.db = connect(path, timeout=BUSY_TIMEOUT)
        try:
            self._use_wal()
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except BaseException:
            self.db.close()
            raise
        private_files(path)

    def _use_wal(self) -> None:
        """Switch to WAL. Switching a new file needs it to itself for a moment, and SQLite
        answers "locked" at once (no busy wait) when another first run holds it then:
        several commands started together on a fresh state directory wait their turn."""
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except StoreError as exc:
                if exc.kind != "busy" or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    @classmethod
    def in_dir(cls, state_dir: Path) -> Store:
        return cls(state_dir / DB_NAME)

    @classmethod
    def read_only(cls, path: Path) -> Store:
        """Open an existing database for reading only (dry runs): no migration, no
        chmod, no write; SQLite itself refuses any write through this connection."""
        store = cls.__new__(cls)
        store.path = path
        # A WAL database read through mode=ro needs its -wal and -shm files, and
        # SQLite creates them when they are missing (and cannot remove them after).
        # They are missing only when no connection has the database open, so then
        # nothing can change under us and it is read as immutable: no file is made.
        wal = path.with_name(path.name + "-wal").exists()
        mode = "mode=ro" if wal else "mode=ro&immutable=1"
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True,
                                 isolation_level=None, timeout=30, factory=GuardedConnection)
        except sqlite3.DatabaseError as exc:
            raise translate(exc, path) from exc
        db.db_path = path  # every later error is a StoreError with a fix (store_errors.py)
        store.db = db
        store.db.execute("PRAGMA query_only = 1")
        version = store.db.execute("PRAGMA user_version").fetchone()[0]
        if version != len(MIGRATIONS):
            store.close()
            newer = version > len(MIGRATIONS)
            raise VillagedError(
                f"the state database {path} was written by "
                f"{'a newer' if newer else 'an older'} villaged (schema {version})",
                fix="upgrade villaged" if newer else
                "run `villaged sync` once (it upgrades the database), then try again")
        return store

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            # SQLite may have rolled back already (a full disk does): rolling back
            # again would raise "no transaction is active" and hide the real error
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        """Bring the schema up to date. user_version is read inside the write
        transaction, so two first runs on a fresh state directory do not both
        create the tables: the second one finds the first one's work done."""
        while True:
            with self.transaction() as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > len(MIGRATIONS):
                    raise VillagedError(
                        f"the state database {self.path} was written by a newer villaged "
                        f"(schema {version})", fix="upgrade villaged")
                if version == len(MIGRATIONS):
                    return
                for statement in filter(str.strip, MIGRATIONS[version].split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")

    def integrity(self) -> str:
        return self.db.execute("PRAGMA quick_check").fetchone()[0]

    # -- interactions and cursors ------------------------------------------

    def apply_sync(
        self,
        source: str,
        interactions: Iterable[Interaction],
        cursor: dict[str, Any] | None,
        removed_uids: Iterable[str] = (),
        skipped: dict[str, int] | None = None,
        replace_source: bool = False,
    ) -> None:
        """Write one batch of a source's sync together with its new cursor."""
        now = iso(dt.datetime.now(dt.UTC))
        with self.transaction() as db:
            if replace_source:
                db.execute("DELETE FROM interactions WHERE source = ?", (source,))
                db.execute("DELETE FROM skips WHERE source = ?", (source,))
            db.executemany("DELETE FROM interactions WHERE source = ? AND uid = ?",
                           ((source, uid) for uid in removed_uids))
            db.executemany(
                "INSERT OR REPLACE INTO interactions VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (interaction_row(i, source) for i in interactions))
            for reason, count in (skipped or {}).items():
                db.execute(
                    "INSERT INTO skips VALUES (?,?,?) ON CONFLICT(source, reason) "
                    "DO UPDATE SET count = count + excluded.count", (source, reason, count))
            # a source may take a count back (it re-read the message it came from)
            db.execute("DELETE FROM skips WHERE source = ? AND count <= 0", (source,))
            if cursor is None:
                db.execute("DELETE FROM cursors WHERE source = ?", (source,))
            else:
                db.execute("INSERT OR REPLACE INTO cursors VALUES (?,?,?)",
                           (source, json.dumps(cursor), now))

    def remove_uids(self, source: str, uids: Iterable[str]) -> None:
        self.apply_sync(source, (), self.cursor(source), removed_uids=uids)

    def cursor(self, source: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT value FROM cursors WHERE source = ?", (source,)).fetchone()
        return json.loads(row[0]) if row else None

    def last_synced(self) -> dt.datetime | None:
        """When a source last stored a sync (None before the first)."""
        row = self.db.execute("SELECT max(updated_at) FROM cursors").fetchone()
        return parse_iso(row[0]) if row and row[0] else None

    def clear_source(self, source: str) -> None:
        self.apply_sync(source, (), None, replace_source=True)

    def interactions(self, person: str | None = None) -> list[Interaction]:
        sql = "SELECT * FROM interactions"
        args: tuple[str, ...] = ()
        if person is not None:
            sql += " WHERE person = ?"
            args = (person,)
        return [interaction_of(r) for r in self.db.execute(sql + " ORDER BY at", args)]

    def interaction_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM interactions").fetchone()[0]

    def skips(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        for source, reason, count in self.db.execute("SELECT * FROM skips ORDER BY source"):
            result.setdefault(source, {})[reason] = count
        return result

    # -- drafts ledger ------------------------------------------------------

    def ledger(self, person: str | None = None) -> list[DraftRecord]:
        sql = ("SELECT key, person, kind, week, state, draft_id, subject, variant, created_at, "
               "updated_at, slot FROM ledger")
        args: tuple[str, ...] = ()
        if person is not None:
            sql += " WHERE person = ?"
            args = (person,)
        return [draft_of(r) for r in self.db.execute(sql + " ORDER BY created_at, key", args)]

    def ledger_begin(self, record: DraftRecord) -> bool:
        """Claim a natural key in state ``creating``; False if it exists already."""
        with self.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO ledger (key, person, kind, week, state, draft_id, subject, "
                "variant, created_at, updated_at, slot) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (record.key, record.person, record.kind, record.week, record.state.value,
                 record.draft_id, record.subject, record.variant, iso(record.created_at),
                 iso(record.created_at), iso(record.slot) if record.slot else None))
            return cur.rowcount == 1

    def ledger_set(self, key: str, state: DraftState, now: dt.datetime,
                   draft_id: str | None = None) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE ledger SET state = ?, draft_id = coalesce(?, draft_id), updated_at = ? "
                "WHERE key = ?", (state.value, draft_id, iso(now), key))

    def ledger_forget(self, key: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM ledger WHERE key = ?", (key,))

    # -- gives --------------------------------------------------------------

    def add_give(self, give: Give) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO gives (person, at, what) VALUES (?,?,?)",
                       (give.person, iso(give.at), give.what))

    def gives(self) -> list[Give]:
        return [Give(person=p, at=parse_iso(a), what=w)
                for p, a, w in self.db.execute("SELECT person, at, what FROM gives ORDER BY at")]

    # -- manual entries and snoozes ---------------------------------------------

    def log_contact(self, item: Interaction, note: str, now: dt.datetime) -> None:
        """A logged contact and its line in the manual log, in one transaction."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO interactions VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       interaction_row(item, item.source))
            db.execute("INSERT INTO manual_log (what, person, ref, day, text, recorded_at) "
                       "VALUES ('contact', ?, ?, ?, ?, ?)",
                       (item.person, item.uid, item.at.date().isoformat(), note, iso(now)))

    def log_give(self, give: Give, now: dt.datetime) -> None:
        with self.transaction() as db:
            cur = db.execute("INSERT OR IGNORE INTO gives (person, at, what) VALUES (?,?,?)",
                             (give.person, iso(give.at), give.what))
            if cur.rowcount:
                db.execute("INSERT INTO manual_log (what, person, ref, day, text, recorded_at) "
                           "VALUES ('give', ?, ?, ?, ?, ?)",
                           (give.person, str(cur.lastrowid), give.at.date().isoformat(),
                            give.what, iso(now)))

    def last_manual(self) -> ManualEntry | None:
        row = self.db.execute("SELECT id, what, person, ref, day, text, recorded_at "
                              "FROM manual_log ORDER BY id DESC LIMIT 1").fetchone()
        return ManualEntry(row[0], row[1], row[2], row[3], dt.date.fromisoformat(row[4]),
                           row[5], parse_iso(row[6])) if row else None

    def undo_manual(self, entry: ManualEntry) -> None:
        """Remove a logged contact or give, and its line in the manual log."""
        with self.transaction() as db:
            if entry.what == "contact":
                db.execute("DELETE FROM interactions WHERE source = 'manual' AND uid = ?",
                           (entry.ref,))
            else:
                db.execute("DELETE FROM gives WHERE id = ?", (int(entry.ref),))
            db.execute("DELETE FROM manual_log WHERE id = ?", (entry.id,))

    def manual_notes(self, person: str) -> list[ManualEntry]:
        """Everything logged by hand for one person, newest first."""
        rows = self.db.execute("SELECT id, what, person, ref, day, text, recorded_at "
                               "FROM manual_log WHERE person = ? ORDER BY id DESC", (person,))
        return [ManualEntry(r[0], r[1], r[2], r[3], dt.date.fromisoformat(r[4]), r[5],
                            parse_iso(r[6])) for r in rows]

    def set_snooze(self, person: str, until: dt.date, now: dt.datetime) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO snoozes VALUES (?,?,?)",
                       (person, until.isoformat(), iso(now)))

    def clear_snooze(self, person: str) -> bool:
        with self.transaction() as db:
            return db.execute("DELETE FROM snoozes WHERE person = ?", (person,)).rowcount > 0

    def snoozes(self) -> dict[str, dt.date]:
        return {p: dt.date.fromisoformat(u)
                for p, u in self.db.execute("SELECT person, until FROM snoozes")}

    # -- job runs -------------------------------------------------------------

    def job_claim(self, job: str, slot: str, now: dt.datetime) -> bool:
        """Claim a job's slot; False if that slot already ran (or is running)."""
        with self.transaction() as db:
            cur = db.execute("INSERT OR IGNORE INTO job_runs (job, slot, started_at) VALUES (?,?,?)",
                             (job, slot, iso(now)))
            return cur.rowcount == 1

    def job_release(self, job: str, slot: str) -> None:
        """Give a claimed slot back (the job was interrupted before doing anything)."""
        with self.transaction() as db:
            db.execute("DELETE FROM job_runs WHERE job = ? AND slot = ? AND finished_at IS NULL",
                       (job, slot))

    def job_reclaim(self, job: str, slot: str, now: dt.datetime, done: tuple[str, ...]) -> bool:
        """Claim a slot again whose last attempt did not end in one of the ``done``
        outcomes (it was interrupted, failed for now, or its runner died with
        finished_at still empty); False if it is done or was never claimed."""
        marks = ",".join("?" * len(done))
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE job_runs SET started_at = ?, finished_at = NULL, outcome = NULL "  # noqa: S608
                f"WHERE job = ? AND slot = ? AND (outcome IS NULL OR outcome NOT IN ({marks}))",
                (iso(now), job, slot, *done))
            return cur.rowcount == 1

    def job_finish(self, job: str, slot: str, now: dt.datetime, outcome: str,
                   detail: str = "") -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO job_runs (job, slot, started_at, finished_at, outcome, detail) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT(job, slot) DO UPDATE SET "
                "finished_at = excluded.finished_at, outcome = excluded.outcome, "
                "detail = excluded.detail", (job, slot, iso(now), iso(now), outcome, detail))

    def job_runs(self, job: str | None = None, limit: int = 20) -> list[JobRun]:
        sql = "SELECT job, slot, started_at, finished_at, outcome, detail FROM job_runs"
        args: tuple[Any, ...] = ()
        if job:
            sql += " WHERE job = ?"
            args = (job,)
        rows = self.db.execute(sql + " ORDER BY started_at DESC LIMIT ?", args + (limit,))
        return [JobRun(job=j, slot=slot, started_at=parse_iso(started),
                       finished_at=maybe_time(finished), outcome=outcome, detail=detail)
                for j, slot, started, finished, outcome, detail in rows]

    # -- weekly snapshots and small values ------------------------------------

    def put_snapshot(self, week: str, now: dt.datetime, data: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO snapshots VALUES (?,?,?)",
                       (week, iso(now), json.dumps(data, sort_keys=True)))

    def snapshots(self, limit: int = 12) -> list[tuple[str, dict[str, Any]]]:
        rows = self.db.execute("SELECT week, data FROM snapshots ORDER BY week DESC LIMIT ?",
                               (limit,)).fetchall()
        return [(w, json.loads(d)) for w, d in reversed(rows)]

    # -- the service's state ---------------------------------------------------

    def parked(self) -> Parked | None:
        row = self.db.execute("SELECT reason, fix, job, at FROM parked").fetchone()
        if row is None:
            return None
        reason, fix, job, at = row
        return Parked(reason=reason, fix=fix, job=job, at=maybe_time(at))

    def park(self, parked: Parked) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO parked VALUES (1,?,?,?,?)",
                       (parked.reason, parked.fix, parked.job,
                        iso(parked.at) if parked.at else ""))

    def unpark(self) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM parked")

    def last_run(self, what: str) -> LastRun | None:
        row = self.db.execute("SELECT at, job, outcome, detail, slot FROM last_runs "
                              "WHERE what = ?", (what,)).fetchone()
        if row is None:
            return None
        at, job, outcome, detail, slot = row
        return LastRun(at=parse_iso(at), job=job, outcome=outcome, detail=detail, slot=slot)

    def set_last_run(self, what: str, run: LastRun) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO last_runs VALUES (?,?,?,?,?,?)",
                       (what, iso(run.at), run.job, run.slot, run.outcome, run.detail))

    def daemon_state(self) -> DaemonState | None:
        row = self.db.execute("SELECT pid, running, config, started_at, updated_at, "
                              "reloaded_at, reload_error FROM daemon").fetchone()
        if row is None:
            return None
        pid, running, config, started, updated, reloaded, error = row
        nexts = {job: parse_iso(at) for job, at in self.db.execute("SELECT * FROM daemon_next")}
        return DaemonState(pid=pid, running=bool(running), config=config,
                           started_at=maybe_time(started), updated_at=maybe_time(updated),
                           reloaded_at=maybe_time(reloaded), reload_error=error, next=nexts)

    def set_daemon_state(self, state: DaemonState) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO daemon VALUES (1,?,?,?,?,?,?,?)",
                       (state.pid, int(state.running), state.config,
                        iso(state.started_at) if state.started_at else "",
                        iso(state.reloaded_at) if state.reloaded_at else None,
                        state.reload_error,
                        iso(state.updated_at) if state.updated_at else ""))
            db.execute("DELETE FROM daemon_next")
            db.executemany("INSERT INTO daemon_next VALUES (?,?)",
                           ((job, iso(at)) for job, at in state.next.items()))

    def crashes(self, job: str, slot: str) -> int:
        row = self.db.execute("SELECT count FROM job_crashes WHERE job = ? AND slot = ?",
                              (job, slot)).fetchone()
        return int(row[0]) if row else 0

    def set_crashes(self, job: str, slot: str, count: int | None) -> None:
        """Record how often a runner died during a job's slot (None: forget it)."""
        with self.transaction() as db:
            if count is None:
                db.execute("DELETE FROM job_crashes WHERE job = ? AND slot = ?", (job, slot))
            else:
                db.execute("INSERT OR REPLACE INTO job_crashes VALUES (?,?,?)", (job, slot, count))

    def delivery(self, week: str) -> Delivery | None:
        row = self.db.execute("SELECT delivered_at, location, forced FROM digests WHERE week = ?",
                              (week,)).fetchone()
        if row is None:
            return None
        return Delivery(week=week, delivered_at=parse_iso(row[0]), location=row[1],
                        forced=bool(row[2]))

    def record_delivery(self, delivery: Delivery) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO digests VALUES (?,?,?,?)",
                       (delivery.week, iso(delivery.delivered_at), delivery.location,
                        int(delivery.forced)))

    def giveback_memory(self) -> Memory:
        """The give-back suggestion of the newest digest (and the one before it)."""
        row = self.db.execute("SELECT week, person, text, prior FROM giveback_memory").fetchone()
        return Memory(*row) if row else Memory()

    def set_giveback_memory(self, memory: Memory) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO giveback_memory VALUES (1,?,?,?,?)",
                       (memory.week, memory.person, memory.text, memory.prior))

    def get_value(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_value(self, key: str, value: str | None) -> None:
        with self.transaction() as db:
            if value is None:
                db.execute("DELETE FROM kv WHERE key = ?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO kv VALUES (?,?)", (key, value))
