"""The state database's schema: one SQL script per version, applied in order.

``user_version`` is the number of scripts applied. A script is never edited
once released; a change is a new script (a migration that keeps what is there).
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema
    """
    CREATE TABLE interactions (
        source TEXT NOT NULL, uid TEXT NOT NULL, person TEXT NOT NULL,
        at TEXT NOT NULL, kind TEXT NOT NULL, direct INTEGER NOT NULL,
        thread TEXT, subject TEXT NOT NULL DEFAULT '', message_id TEXT,
        series TEXT, status TEXT NOT NULL DEFAULT 'ok',
        PRIMARY KEY (source, uid, person)
    );
    CREATE INDEX interactions_person ON interactions (person, at);
    CREATE TABLE cursors (source TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE skips (source TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
                        PRIMARY KEY (source, reason));
    CREATE TABLE ledger (
        key TEXT PRIMARY KEY, person TEXT NOT NULL, kind TEXT NOT NULL, week TEXT NOT NULL,
        state TEXT NOT NULL, draft_id TEXT, subject TEXT NOT NULL DEFAULT '',
        variant INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE INDEX ledger_person ON ledger (person, created_at);
    CREATE TABLE gives (id INTEGER PRIMARY KEY, person TEXT NOT NULL, at TEXT NOT NULL,
                        what TEXT NOT NULL, UNIQUE (person, at, what));
    CREATE TABLE job_runs (
        job TEXT NOT NULL, slot TEXT NOT NULL, started_at TEXT NOT NULL,
        finished_at TEXT, outcome TEXT, detail TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (job, slot)
    );
    CREATE TABLE snapshots (week TEXT PRIMARY KEY, taken_at TEXT NOT NULL, data TEXT NOT NULL);
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: an invitation's proposed first meeting, for the digest
    """
    ALTER TABLE ledger ADD COLUMN slot TEXT;
    """,
    # 3: snoozes set with `villaged snooze`, and a log of manual entries for `log --undo`
    """
    CREATE TABLE snoozes (person TEXT PRIMARY KEY, until TEXT NOT NULL, set_at TEXT NOT NULL);
    CREATE TABLE manual_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT NOT NULL, person TEXT NOT NULL,
        ref TEXT NOT NULL, day TEXT NOT NULL, text TEXT NOT NULL DEFAULT '',
        recorded_at TEXT NOT NULL
    );
    """,
    # 4: the service's state gets tables with real columns; the JSON blobs that held
    # it in kv are moved over (kept as they were) and removed from kv
    """
    CREATE TABLE parked (
        id INTEGER PRIMARY KEY CHECK (id = 1), reason TEXT NOT NULL, fix TEXT NOT NULL,
        job TEXT NOT NULL, at TEXT NOT NULL
    );
    INSERT INTO parked
        SELECT 1, coalesce(json_extract(value, '$.reason'), ''),
               coalesce(json_extract(value, '$.fix'), ''),
               coalesce(json_extract(value, '$.job'), ''),
               coalesce(json_extract(value, '$.at'), '')
        FROM kv WHERE key = 'parked' AND json_valid(value);
    CREATE TABLE last_runs (
        what TEXT PRIMARY KEY CHECK (what IN ('round', 'sync')), at TEXT NOT NULL,
        job TEXT NOT NULL, slot TEXT, outcome TEXT NOT NULL, detail TEXT NOT NULL DEFAULT ''
    );
    INSERT INTO last_runs
        SELECT 'round', json_extract(value, '$.at'), coalesce(json_extract(value, '$.job'), ''),
               json_extract(value, '$.slot'), coalesce(json_extract(value, '$.outcome'), ''),
               coalesce(json_extract(value, '$.detail'), '')
        FROM kv WHERE key = 'last-round' AND json_valid(value)
              AND json_extract(value, '$.at') IS NOT NULL;
    INSERT INTO last_runs
        SELECT 'sync', json_extract(value, '$.at'), 'sync', NULL,
               coalesce(json_extract(value, '$.outcome'), ''),
               coalesce(json_extract(value, '$.detail'), '')
        FROM kv WHERE key = 'last-sync' AND json_valid(value)
              AND json_extract(value, '$.at') IS NOT NULL;
    CREATE TABLE daemon (
        id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, running INTEGER NOT NULL,
        config TEXT NOT NULL, started_at TEXT NOT NULL, reloaded_at TEXT, reload_error TEXT,
        updated_at TEXT NOT NULL
    );
    INSERT INTO daemon
        SELECT 1, coalesce(json_extract(value, '$.pid'), 0),
               coalesce(json_extract(value, '$.running'), 0),
               coalesce(json_extract(value, '$.config'), ''),
               coalesce(json_extract(value, '$.started_at'), ''),
               json_extract(value, '$.reloaded_at'), json_extract(value, '$.reload_error'),
               coalesce(json_extract(value, '$.updated_at'), '')
        FROM kv WHERE key = 'daemon' AND json_valid(value);
    CREATE TABLE daemon_next (job TEXT PRIMARY KEY, at TEXT NOT NULL);
    INSERT INTO daemon_next
        SELECT n.key, n.value FROM kv, json_each(kv.value, '$.next') AS n
        WHERE kv.key = 'daemon' AND json_valid(kv.value) AND n.value IS NOT NULL;
    CREATE TABLE job_crashes (
        job TEXT NOT NULL, slot TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (job, slot)
    );
    INSERT INTO job_crashes
        SELECT substr(key, 9, instr(substr(key, 9), ':') - 1),
               substr(key, 9 + instr(substr(key, 9), ':')), CAST(value AS INTEGER)
        FROM kv WHERE key LIKE 'crashes:%:%';
    CREATE TABLE digests (
        week TEXT PRIMARY KEY, delivered_at TEXT NOT NULL, location TEXT,
        forced INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO digests
        SELECT substr(key, 8), json_extract(value, '$.delivered_at'), json_extract(value, '$.id'),
               coalesce(json_extract(value, '$.forced'), 0)
        FROM kv WHERE key LIKE 'digest:%' AND json_valid(value)
              AND json_extract(value, '$.delivered_at') IS NOT NULL;
    CREATE TABLE giveback_memory (
        id INTEGER PRIMARY KEY CHECK (id = 1), week TEXT NOT NULL, person TEXT NOT NULL,
        text TEXT NOT NULL, prior TEXT NOT NULL
    );
    INSERT INTO giveback_memory
        SELECT 1, coalesce(json_extract(value, '$.week'), ''),
               coalesce(json_extract(value, '$.person'), ''),
               coalesce(json_extract(value, '$.text'), ''),
               coalesce(json_extract(value, '$.prior'), '')
        FROM kv WHERE key = 'giveback:last' AND json_valid(value);
    DELETE FROM kv WHERE key IN ('parked', 'last-round', 'last-sync', 'daemon', 'giveback:last')
        OR key LIKE 'crashes:%' OR key LIKE 'digest:%';
    """,
)
