"""`villaged doctor` on a healthy and on broken setups, as a subprocess."""

from __future__ import annotations

import datetime as dt

from tests.servicekit import TUESDAY, Village
from villaged.store import Parked, Store

LATER = "2026-11-24T11:00:00-06:00"


def healthy(tmp_path) -> Village:
    village = Village(tmp_path / "v", people=3, roulette_size=1)
    village.config.write_text(village.config.read_text() + '''
[[person]]
name = "Emmy Noether"
emails = ["emmy@goettingen.example"]
role = "coach"
do_not_draft = true
''')
    assert village.cli(TUESDAY, "run", "--once").returncode == 0
    return village


def test_a_healthy_setup(tmp_path):
    village = healthy(tmp_path)
    result = village.cli(LATER, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "ok    config: " in out and "is valid: 4 people, local backend" in out
    assert "ok    state: state database" in out and "is intact" in out
    assert "ok    local backend: backend.mail: " in out
    assert "drafts folder" in out and "is writable" in out
    # last and next run of each job
    assert "jobs: drafting round: last 2026-11-24 10:00 CST ok" in out
    assert "next Mon 2026-11-30 08:00 CST" in out
    assert "jobs: digest: last 2026-11-24 10:00 CST" in out
    assert "jobs: the daemon is not running" in out
    # who is blocked by which guard, and why
    assert "blocked: Emmy Noether: do-not-draft: do_not_draft is set for them in the config" in out
    assert "pending-draft: a villaged draft for them is still awaiting your review" in out
    assert out.rstrip().endswith("no problems found")
    assert "FAIL" not in out


def test_an_invalid_config(tmp_path):
    village = healthy(tmp_path)
    village.config.write_text(village.config.read_text().replace('timezone = "America/Chicago"',
                                                                 'timezone = "America/Chicgo"'))
    result = village.cli(LATER, "doctor")
    assert result.returncode == 1
    assert "FAIL  config: " in result.stdout and "America/Chicgo" in result.stdout
    assert "      fix: " in result.stdout
    assert "ok    state: " in result.stdout  # the other checks still run
    assert result.stdout.rstrip().endswith("1 problem found")


def test_missing_mail_an_unwritable_drafts_folder_and_a_damaged_database(tmp_path):
    village = healthy(tmp_path)
    (village.root / "mail" / "inbox.mbox").unlink()
    (village.root / "Maildir").rename(village.root / "Maildir.old")
    (village.root / "Maildir").write_text("not a folder")  # the drafts folder cannot be made
    db = village.state / "villaged.sqlite3"
    for extra in ("-wal", "-shm"):
        (village.state / f"villaged.sqlite3{extra}").unlink(missing_ok=True)
    db.write_bytes(b"SQLite format 3\0" + b"\x13" * 4096)
    result = village.cli(LATER, "doctor")
    out = result.stdout
    assert result.returncode == 1, out
    assert "FAIL  local backend: backend.mail: " in out and "inbox.mbox does not exist" in out
    assert "fix: correct or remove that entry of [backend] mail in" in out
    assert "FAIL  local backend: drafts folder" in out and "is not a directory" in out
    assert "FAIL  state: " in out and "fix: " in out
    assert "Traceback" not in out + result.stderr


def test_parked_jobs_and_a_failed_reload_are_problems(tmp_path):
    village = healthy(tmp_path)
    with Store.in_dir(village.state) as store:
        store.park(Parked(reason="the Google grant was revoked", fix="run `villaged auth` again",
                          job="sync", at=dt.datetime(2026, 11, 24, 16, 30, tzinfo=dt.UTC)))
    result = village.cli(LATER, "doctor")
    assert result.returncode == 1
    assert "FAIL  jobs: the jobs are parked since 2026-11-24T16:30:00+00:00: the Google grant " \
           "was revoked" in result.stdout
    assert "fix: run `villaged auth` again" in result.stdout
    status = village.cli(LATER, "status")
    assert "PARKED:     the Google grant was revoked" in status.stdout
    assert "  fix:      run `villaged auth` again" in status.stdout
