"""The IMAP backend from the command line: config, doctor, sync, and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.imap_kit import NOW, OWNER, mail, password_file

REPO = Path(__file__).resolve().parents[1]


def write_config(root: Path, account, calendar=None, **imap: str) -> Path:  # type: ignore[no-untyped-def]
    settings = {"host": '"127.0.0.1"', "port": str(account.server.imaps_port),
                "username": f'"{account.username}"', "ca_file": f'"{account.ca}"',
                "secret": '"file"'}
    settings.update(imap)
    lines = "".join(f"{k} = {v}\n" for k, v in settings.items())
    caldav = ""
    if calendar is not None:
        caldav = (f'\n[backend.caldav]\nurl = "{calendar.server.url}"\n'
                  f'username = "{calendar.username}"\nca_file = "{calendar.ca}"\n'
                  f'secret = "file"\ncalendars = ["{calendar.name}"]\n')
    path = root / "village.toml"
    path.write_text(f'''[owner]
name = "Dana Reyes"
addresses = ["{OWNER}"]
timezone = "America/Chicago"

[backend]
kind = "imap"

[backend.imap]
{lines}{caldav}
[[person]]
name = "Ada Lovelace"
emails = ["ada@example.org"]
role = "mentor"
''')
    return path


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VILLAGED_")}
    return subprocess.run([sys.executable, "-m", "villaged", "--config", str(root / "village.toml"),
                           "--state-dir", str(root / "state"), "--now", NOW.isoformat(), *args],
                          capture_output=True, text=True, timeout=120, cwd=REPO, env=env)


def test_doctor_and_sync_on_a_healthy_setup(imap_account, caldav_calendar, tmp_path: Path):
    imap_account.append("INBOX", mail("ada@example.org", [OWNER], NOW, msgid="<a@t>"))
    password_file(tmp_path / "state", "imap", imap_account.password)
    password_file(tmp_path / "state", "caldav", caldav_calendar.password)
    write_config(tmp_path, imap_account, caldav_calendar)
    doctor = cli(tmp_path, "doctor")
    assert f"logged in to 127.0.0.1 as {imap_account.username}" in doctor.stdout
    assert "reading INBOX, Sent" in doctor.stdout
    assert "drafts go to Drafts" in doctor.stdout
    assert caldav_calendar.name in doctor.stdout
    synced = cli(tmp_path, "sync")
    assert synced.returncode == 0, synced.stderr
    status = cli(tmp_path, "status", "--json")
    assert '"last_inbound"' in status.stdout and "2026-11-23" in status.stdout


def test_wrong_password_and_missing_folder_are_one_message_each(imap_account, tmp_path: Path):
    password_file(tmp_path / "state", "imap", "wrong")
    write_config(tmp_path, imap_account)
    synced = cli(tmp_path, "sync")
    assert synced.returncode == 2
    assert "refused the login" in synced.stderr and "fix:" in synced.stderr
    assert "Traceback" not in synced.stderr
    doctor = cli(tmp_path, "doctor")
    assert doctor.returncode == 1 and "refused the login" in doctor.stdout

    password_file(tmp_path / "state", "imap", imap_account.password)
    write_config(tmp_path, imap_account, folders='["INBOX", "Archive"]')
    synced = cli(tmp_path, "sync")
    assert synced.returncode == 2, synced.stderr
    assert "'Archive' does not exist" in synced.stderr and "Traceback" not in synced.stderr
    doctor = cli(tmp_path, "doctor")
    assert "'Archive' does not exist" in doctor.stdout


def test_plain_imap_to_a_remote_host_is_refused_in_the_config(imap_account, tmp_path: Path):
    write_config(tmp_path, imap_account, host='"mail.example.org"', tls='"none"')
    synced = cli(tmp_path, "sync")
    assert synced.returncode == 2
    assert "unencrypted" in synced.stderr and "loopback" in synced.stderr
    assert "Traceback" not in synced.stderr
