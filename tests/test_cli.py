"""The CLI end to end, as a user runs it: real subprocesses in temporary dirs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.terminal import run_on_a_terminal
from villaged.cli.demo import example_dir

NOW = "2026-11-23T08:00:00-06:00"  # Monday morning in Chicago


def villaged(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("VILLAGED_", "NOTIFY_SOCKET", "JOURNAL_STREAM"))}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "villaged", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def village_dir(tmp_path: Path) -> Path:
    """A copy of the example village, with its own state directory."""
    root = tmp_path / "village"
    shutil.copytree(example_dir(), root)
    return root


def run_in(root: Path, *args: str) -> subprocess.CompletedProcess:
    return villaged("--config", str(root / "village.toml"), "--state-dir", str(root / "state"),
                    "--now", NOW, *args, cwd=root)


def test_sync_reports_what_it_read_and_what_it_skipped_and_why(village_dir):
    out = run_in(village_dir, "sync")
    assert out.returncode == 0, out.stderr
    assert "takeout.mbox: 7 contacts; 2 not counted as contact (2 list or mass mail)\n" \
        in out.stdout
    # the spam dated 1970 concerns nobody in the village: ruled out, not counted as a skip
    assert "date before 1980" not in out.stdout
    assert "calendar.ics: 22 contacts; 21 not counted as contact (1 declined meeting, " \
           "20 meetings too large)" in out.stdout
    assert "calendar.ics" in out.stdout
    again = run_in(village_dir, "sync")
    assert "takeout.mbox: 0 contacts" in again.stdout  # nothing new the second time


def test_status_json_has_the_documented_keys_and_iso_values(village_dir):
    run_in(village_dir, "sync")
    out = run_in(village_dir, "status", "--json")
    assert out.returncode == 0, out.stderr
    people = {p["name"]: p for p in json.loads(out.stdout)}
    ada = people["Ada Lovelace"]
    for key in ("name", "role", "emails", "temperature", "cadence_days", "last_contact",
                "last_inbound", "last_outbound", "last_meeting", "next_meeting", "due"):
        assert key in ada
    assert ada["last_meeting"].startswith("2026-10-20T15:00:00") and ada["last_meeting"].endswith("+00:00")
    assert ada["due"] == "2026-11-19" and ada["temperature"] == "cooling"
    assert people["Barbara McClintock"]["temperature"] == "unknown"  # mailing list only
    assert people["Marie Curie"]["last_meeting"] is None  # she declined the only meeting
    assert people["Katherine Johnson"]["temperature"] == "cold"  # grand rounds don't count
    assert people["Grace Hopper"]["next_meeting"].startswith("2026-12-02")


def test_status_table_and_village_map(village_dir):
    run_in(village_dir, "sync")
    out = run_in(village_dir, "status")
    assert "Rosalind Franklin" in out.stdout and "email to them" in out.stdout
    assert "peer mentor  Lise Meitner, Chien-Shiung Wu" in out.stdout


def test_plan_is_a_dry_run_with_a_reason_for_everyone(village_dir):
    run_in(village_dir, "sync")
    out = run_in(village_dir, "plan", "--json")
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)
    assert {i["person"] for i in items} >= {"grace-hopper", "emmy-noether", "barbara-mcclintock"}
    assert all(i["reason"] for i in items)
    by_person = {i["person"]: i for i in items if i["action"] == "skip"}
    assert "do_not_draft" in by_person["emmy-noether"]["reason"]
    assert "paused until 2027-01-15" in by_person["chien-shiung-wu"]["reason"]
    assert not (village_dir / "Maildir" / ".Drafts" / "cur").exists()  # nothing written


def test_draft_writes_drafts_once_per_week(village_dir):
    first = run_in(village_dir, "draft")
    assert first.returncode == 0, first.stderr
    drafts = list((village_dir / "Maildir" / ".Drafts" / "cur").iterdir())
    assert len(drafts) == 5 and all(d.name.endswith(":2,D") for d in drafts)
    second = run_in(village_dir, "draft")
    assert "no new drafts" in second.stdout
    assert len(list((village_dir / "Maildir" / ".Drafts" / "cur").iterdir())) == 5


def test_deleting_a_draft_marks_it_discarded_and_it_is_not_redrafted_that_week(village_dir):
    run_in(village_dir, "draft")
    cur = village_dir / "Maildir" / ".Drafts" / "cur"
    marie = next(p for p in cur.iterdir() if b"marie.curie@" in p.read_bytes())
    marie.unlink()
    out = run_in(village_dir, "plan", "--json")
    marie_items = [i for i in json.loads(out.stdout) if i["person"] == "marie-curie"]
    # Marie's April offer was never answered: villaged drafted one acknowledgement; once it is
    # discarded, it leaves her alone (no check-in either) until new contact happens
    assert [i["action"] for i in marie_items] == ["skip"]
    assert marie_items[0]["guard"] == "reply-discarded"
    assert "no check-in either" in marie_items[0]["reason"]


def test_log_records_an_offline_contact_that_warms_the_relationship(village_dir):
    out = run_in(village_dir, "log", "Katherine Johnson", "--date", "2026-11-20",
                 "--note", "hallway chat at the AAMC meeting")
    assert out.returncode == 0, out.stderr
    status = json.loads(run_in(village_dir, "status", "--json").stdout)
    kj = next(p for p in status if p["name"] == "Katherine Johnson")
    assert kj["temperature"] == "warm" and kj["last_contact"].startswith("2026-11-20")


def test_log_unknown_person_is_a_clear_error(village_dir):
    out = run_in(village_dir, "log", "Nobody Atall")
    assert out.returncode == 2
    assert "no one called 'Nobody Atall'" in out.stderr and "Traceback" not in out.stderr


def test_bad_config_is_one_clear_message_exit_2_no_traceback(village_dir):
    config = village_dir / "village.toml"
    config.write_text(config.read_text().replace('role = "coach"', 'role = "coatch"', 1))
    out = run_in(village_dir, "status")
    assert out.returncode == 2
    assert "village.toml, line" in out.stderr and "coatch" in out.stderr
    assert "fix:" in out.stderr and "Traceback" not in out.stderr


def test_missing_config_points_to_init(tmp_path):
    out = villaged("--config", str(tmp_path / "nope.toml"), "status", cwd=tmp_path)
    assert out.returncode == 2 and "villaged init" in out.stderr


def test_init_example_writes_the_commented_example_that_loads(tmp_path):
    target = tmp_path / "cfg" / "village.toml"
    out = villaged("--config", str(target), "init", "--example", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "[[person]]" in target.read_text()
    again = villaged("--config", str(target), "init", "--example", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr


def test_the_state_dir_comes_from_the_environment(village_dir, tmp_path):
    state = tmp_path / "elsewhere"
    out = villaged("--config", str(village_dir / "village.toml"), "--now", NOW, "sync",
                   cwd=village_dir, env={"VILLAGED_STATE_DIR": str(state)})
    assert out.returncode == 0, out.stderr
    assert (state / "villaged.sqlite3").exists()


def test_bad_now_is_a_usage_error(village_dir):
    out = villaged("--config", str(village_dir / "village.toml"), "--now", "yesterday",
                   "status", cwd=village_dir)
    assert out.returncode == 2 and "ISO 8601" in out.stderr


def test_a_long_scan_shows_progress_on_a_terminal_and_stays_quiet_in_a_pipe(village_dir):
    args = ["--config", str(village_dir / "village.toml"), "--state-dir",
            str(village_dir / "state"), "--now", NOW, "sync"]
    code, on_terminal = run_on_a_terminal(args, village_dir)
    assert code == 0, on_terminal
    assert "scanning" in on_terminal and "100%" in on_terminal
    shutil.rmtree(village_dir / "state")
    piped = villaged(*args, cwd=village_dir)
    assert "scanning" not in piped.stderr and "100%" not in piped.stderr


def test_demo_runs_the_real_pipeline_and_sends_nothing(tmp_path):
    out = villaged("demo", "--workdir", str(tmp_path / "demo"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for heading in ("== status ==", "== plan ==", "== drafts =="):
        assert heading in text
    assert "DRAFT invite   Ada Lovelace" in text
    assert "no contact on record" in text  # Barbara, seen only on a mailing list
    drafts = list((tmp_path / "demo" / "Maildir" / ".Drafts" / "cur").iterdir())
    # two invitations (Ada, Dr. Franklin), a check-in (Katherine) and two acknowledgements
    # of replies owed (Marie, Dorothy); Pat is one-way and gets nothing
    assert len(drafts) == 5
    assert "DRAFT invite   Dr. Rosalind Franklin" in text
    assert "one-way: they have never written back" in text
    assert "note: She offered to host me in her lab in April" in text
    assert "Nothing was sent" in text
    # the digest itself, on the terminal: what to do this week comes first
    digest = text.split("== digest ==")[1]
    assert digest.index("== This week ==") < digest.index("== Your village ==")
    assert "- Review the invitation to Ada Lovelace" in digest
    # three working days' notice: drafted Monday, the first meeting is on Thursday
    assert "First meeting Thu 26 Nov, 09:00, in 3 days; then every 4 weeks." in digest
    assert f"HTML version (open it in a browser): {tmp_path / 'demo' / 'digest.html'}" in digest


def test_every_registered_command_resolves_to_itself():
    import click

    from villaged.cli.main import COMMANDS, main

    ctx = click.Context(main)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name, name
    assert main.get_command(ctx, "statsu") is None
