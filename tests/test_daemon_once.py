"""`villaged run --once`, the timer's round, end to end in a subprocess."""

from __future__ import annotations

import mailbox

from tests.servicekit import SLOT, TUESDAY, Village


def test_run_once_syncs_drafts_and_delivers_then_does_nothing_twice(tmp_path):
    village = Village(tmp_path / "v", people=3)

    first = village.cli(TUESDAY, "run", "--once")
    assert first.returncode == 0, first.stderr
    assert f"drafting round ({SLOT}): ok: 3 interactions read, 3 draft(s) written" in first.stdout
    assert f"digest ({SLOT}): " in first.stdout
    # each mentor wrote in October and was never answered: one acknowledgement each
    assert sorted(k.rsplit(":", 1)[0] for k in village.draft_keys()) == \
        [f"reply:mentor-number{n}" for n in range(3)]
    runs = {r.job: r for r in village.job_runs()}
    assert runs["draft"].outcome == "ok" and runs["draft"].slot == SLOT
    assert runs["digest"].outcome in ("ok", "skipped") and runs["digest"].slot == SLOT
    if runs["digest"].outcome == "ok":  # the digest lands next to the drafts, for Dana
        inbox = mailbox.Maildir(village.maildir, create=False)
        assert [m["To"] for m in inbox] == ["Dana Reyes <dana@uni.example>"]

    again = village.cli("2026-11-24T10:15:00-06:00", "run", "--once")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("sync round: ok")
    assert "drafting round" not in again.stdout and "digest" not in again.stdout
    assert len(village.draft_keys()) == 3
    assert len(village.job_runs()) == 2

    status = village.cli("2026-11-24T10:20:00-06:00", "status")
    assert status.returncode == 0, status.stderr
    assert "service:    not running" in status.stdout
    assert "last round: sync round Tue 2026-11-24 10:15 CST: ok" in status.stdout
    assert "drafting round  slot 2026-11-23, Tue 2026-11-24 10:00 CST: ok" in status.stdout
    assert "Mon 2026-11-30 08:00 CST" in status.stdout  # the next drafting round


def test_run_once_with_a_broken_config_is_a_clear_error(tmp_path):
    village = Village(tmp_path / "v")
    text = village.config.read_text()
    village.config.write_text(text.replace('role = "mentor"', 'role = "mentr"', 1))
    result = village.cli(TUESDAY, "run", "--once")
    assert result.returncode == 2
    assert "mentr" in result.stderr and "fix:" in result.stderr
    assert "Traceback" not in result.stderr
