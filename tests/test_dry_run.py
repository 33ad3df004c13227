"""`villaged plan`, `villaged doctor` and the digest's previews (`digest --stdout`)
change nothing, on either backend.

The state directory (every file's bytes and mtime), the drafts folder and, for
Google, the local Google API server's write calls are compared before and
after, through real `villaged` subprocesses. A plan for a past week does not
write that week's trend snapshot either.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.google_api_server import GoogleApiServer
from tests.google_fixtures import NOW, OWNER, Setup, add_old_news, token_json
from tests.servicekit import REPO, clean_env
from tests.test_cli import run_in, village_dir  # noqa: F401 - the fixture

PAST = "2026-10-05T08:00:00-05:00"  # six weeks before the round below
WRITE_VERBS = {"create", "update", "patch", "delete", "send", "insert", "import", "modify",
               "trash", "untrash", "batchDelete", "batchModify", "move", "quickAdd", "clear",
               "watch", "stop"}


def tree(*roots: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file under the roots: (mode, mtime, bytes)."""
    found = {}
    for root in roots:
        for path in sorted(root.rglob("*")) if root.exists() else ():
            if path.is_file():
                st = path.stat()
                found[str(path)] = (st.st_mode, st.st_mtime_ns, path.read_bytes())
    return found


def weeks_with_a_snapshot(db: Path) -> set[str]:
    with sqlite3.connect(f"{db.as_uri()}?mode=ro&immutable=1", uri=True) as con:
        return {w for (w,) in con.execute("SELECT week FROM snapshots")}


def dry_runs(run) -> list[subprocess.CompletedProcess[str]]:
    return [run(None, "plan"), run(None, "plan", "--json"), run(PAST, "plan"),
            run(None, "doctor"), run(PAST, "doctor"),
            run(None, "digest", "--stdout"), run(PAST, "digest", "--stdout")]


# -- local: mbox, Maildir, .ics --------------------------------------------------------

def test_plan_doctor_and_digest_previews_write_nothing_locally(village_dir):  # noqa: F811
    state, drafts = village_dir / "state", village_dir / "Maildir" / ".Drafts"
    assert run_in(village_dir, "draft").returncode == 0
    # one draft discarded since: a round would record it, a dry run only says so
    cur = drafts / "cur"
    marie = next(p for p in cur.iterdir() if b"marie.curie@" in p.read_bytes())
    marie.unlink()
    weeks = weeks_with_a_snapshot(state / "villaged.sqlite3")
    before = tree(state, village_dir / "Maildir")

    def run(now: str | None, *args: str) -> subprocess.CompletedProcess[str]:
        if now is None:
            return run_in(village_dir, *args)
        root = village_dir
        return subprocess.run(
            [sys.executable, "-m", "villaged", "--config", str(root / "village.toml"),
             "--state-dir", str(state), "--now", now, *args],
            cwd=root, capture_output=True, text=True, timeout=120,
            env={k: v for k, v in os.environ.items() if not k.startswith("VILLAGED_")})

    results = dry_runs(run)
    for result in results:
        assert "Traceback" not in result.stderr, result.stderr
    plan, plan_json = results[0], results[1]
    assert plan.returncode == 0 and "planned from what the last sync stored" in plan.stdout
    marie_items = [i for i in json.loads(plan_json.stdout) if i["person"] == "marie-curie"]
    assert [i["action"] for i in marie_items] == ["skip"]  # the discard was seen, in memory
    preview = results[5]
    assert preview.returncode == 0 and "== This week ==" in preview.stdout, preview.stderr
    assert "not delivered (a preview)" in preview.stderr
    assert tree(state, village_dir / "Maildir") == before
    assert weeks_with_a_snapshot(state / "villaged.sqlite3") == weeks  # no 2026-W41 snapshot
    assert not list(state.glob("*-wal")) and not list(state.glob("*-shm"))


def test_a_plan_before_the_first_sync_creates_no_state(village_dir):  # noqa: F811
    result = run_in(village_dir, "plan")
    assert result.returncode == 0, result.stderr
    assert "planned from nothing synced yet" in result.stdout
    assert not (village_dir / "state").exists()
    assert not (village_dir / "Maildir" / ".Drafts" / "cur").exists()


# -- Google: Gmail, Calendar, Gmail drafts ------------------------------------------------

@pytest.fixture
def server():
    with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW) as srv:
        add_old_news(srv)
        yield srv


def test_plan_doctor_and_digest_previews_make_no_write_call_to_google(tmp_path, server):
    setup = Setup(server, tmp_path)
    when = "2026-11-23T08:00:00-06:00"

    def run(now: str | None, *args: str) -> subprocess.CompletedProcess[str]:
        env = clean_env({"VILLAGED_CONFIG": str(setup.config),
                         "VILLAGED_STATE_DIR": str(setup.state)})
        return subprocess.run([sys.executable, "-m", "villaged", "--now", now or when, *args],
                              capture_output=True, text=True, env=env, cwd=REPO, timeout=120)

    drafted = run(None, "draft")
    assert drafted.returncode == 0, drafted.stderr
    assert len(server.drafts()) == 3
    server.delete_draft(server.drafts()[0].id)  # the owner discarded one
    drafts_before = sorted((d.id, d.raw) for d in server.drafts())
    weeks = weeks_with_a_snapshot(setup.state / "villaged.sqlite3")
    # no access token left: every dry run refreshes one, and must not keep it
    from villaged.backends.google.token_store import TOKEN_FILE, write_private

    token_file = setup.state / TOKEN_FILE
    write_private(token_file, token_json(server, token=None).encode())
    before = tree(setup.state)
    server.reset_stats()

    results = dry_runs(run)
    for result in results:
        assert "Traceback" not in result.stderr, result.stderr
    assert results[0].returncode == 0 and results[2].returncode == 0
    assert results[5].returncode == 0 and "== This week ==" in results[5].stdout
    calls = dict(server.stats.calls)
    writes = {m: n for m, n in calls.items() if m.rsplit(".", 1)[-1] in WRITE_VERBS}
    assert writes == {}, calls
    assert calls.get("gmail.users.drafts.list", 0) >= 1  # it did look at the drafts folder
    assert sorted((d.id, d.raw) for d in server.drafts()) == drafts_before
    assert server.sent_messages() == []
    assert tree(setup.state) == before  # the refreshed access token was not written either
    assert weeks_with_a_snapshot(setup.state / "villaged.sqlite3") == weeks
    # a real run keeps the token it refreshed
    assert run(None, "sync").returncode == 0
    assert "ya29." in token_file.read_text()
