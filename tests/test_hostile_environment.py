"""A broken environment gets one clear message, never a traceback, and never advice
that loses the drafts ledger, the logged contacts or the gives (issue 9, items 3, 4, 8, 9).

The full disk is real: a small tmpfs mounted for the test (the test runs as
root in CI and here; see the README's test section), filled up with a file.
A read-only directory is the same tmpfs remounted read-only (root ignores
file modes, a read-only mount it cannot ignore). Everything else is real
files and real subprocesses.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servicekit import TUESDAY, Village
from villaged.store import Store

HARMFUL = ("move it aside", "rebuild it from your mail", "rm ")


@contextlib.contextmanager
def small_disk(where: Path, size: str = "2m") -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                              str(where)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.fail(f"these tests need to mount a small tmpfs (run them as root): "
                    f"{mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
    return filler


def remount(disk: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(disk)], check=True)


def clear_error(result: subprocess.CompletedProcess, *words: str, damaged: bool = False) -> str:
    """Exit 2, one message (with a fix), no traceback, no harmful advice (for a damaged
    file, moving it aside comes only as a last resort, after a copy, saying what is lost)."""
    err = result.stderr
    assert result.returncode == 2, (result.returncode, err)
    assert "Traceback" not in err and "fix:" in err, err
    assert err.startswith("villaged: "), err
    for word in words:
        assert word in err, err
    assert damaged or "drafts ledger" in err or "nothing was written" in err \
        or "cannot be created" in err or "cannot be written" in err, err
    if damaged:
        assert err.index("cp ") < err.index("last resort") < err.index("move it aside"), err
        assert "would be lost" in err
        err = err[:err.index("Only as a last resort")]
    for bad in HARMFUL:
        assert bad not in err.lower(), err
    return err


def more_mail(village: Village, count: int) -> None:
    with (village.root / "mail" / "inbox.mbox").open("a") as f:
        for n in range(count):
            f.write(f"From a@b Mon Oct  5 10:00:00 2026\nFrom: Mentor Number1 "
                    f"<mentor1@example.org>\nTo: dana@uni.example\nSubject: more {n}\n"
                    f"Message-ID: <more{n}@x>\nDate: Mon, 05 Oct 2026 10:00:00 -0500\n\n"
                    + "words " * 200 + "\n\n")


def test_a_full_disk_under_the_state_and_the_drafts(tmp_path):
    village = Village(tmp_path / "v", people=3)
    with small_disk(tmp_path / "disk") as disk:
        village.state = disk / "state"
        drafts = disk / "Drafts"
        village.config.write_text(village.config.read_text().replace(
            'drafts = "Maildir/.Drafts"', f'drafts = "{drafts}"'))
        village.drafts_dir = drafts
        assert village.cli(TUESDAY, "log", "Mentor Number0", "--give", "a letter").returncode == 0
        filler = fill(disk)
        more_mail(village, 300)
        for args in (("sync",), ("draft",), ("run", "--once"), ("digest",)):
            err = clear_error(village.cli(TUESDAY, *args), "full")
            assert "cannot rollback" not in err
        doctor = village.cli(TUESDAY, "doctor")
        assert "full" in doctor.stdout and "Traceback" not in doctor.stdout + doctor.stderr
        # room again: nothing was lost, nothing is doubled, no half-written file remains
        filler.unlink()
        drafted = village.cli(TUESDAY, "draft")
        assert drafted.returncode == 0, drafted.stderr
        assert len(village.draft_keys()) == 3 and len(set(village.draft_keys())) == 3
        assert os.listdir(drafts / "tmp") == []
        with Store.in_dir(village.state) as store:
            assert len(store.gives()) == 1


def test_a_full_drafts_folder_mid_round_leaves_no_half_draft_and_no_duplicate(tmp_path):
    village = Village(tmp_path / "v", people=3)
    with small_disk(tmp_path / "disk", "1m") as disk:
        drafts = disk / "Drafts"
        village.config.write_text(village.config.read_text().replace(
            'drafts = "Maildir/.Drafts"', f'drafts = "{drafts}"'))
        village.drafts_dir = drafts
        filler = fill(disk)
        err = clear_error(village.cli(TUESDAY, "draft"), "drafts folder", "full")
        assert str(drafts) in err
        filler.unlink()
        assert village.cli(TUESDAY, "draft").returncode == 0
        keys = village.draft_keys()
        assert len(keys) == 3 == len(set(keys))
        assert os.listdir(drafts / "tmp") == []


def test_a_read_only_state_directory_and_drafts_folder(tmp_path):
    village = Village(tmp_path / "v", people=3)
    with small_disk(tmp_path / "disk") as disk:
        village.state = disk / "state"
        assert village.cli(TUESDAY, "sync").returncode == 0
        remount(disk, "ro")
        for args in (("run", "--once"), ("draft",), ("log", "Mentor Number0")):
            clear_error(village.cli(TUESDAY, *args), "read-only")
        doctor = village.cli(TUESDAY, "doctor")
        assert "not writable" in doctor.stdout and "Traceback" not in doctor.stderr
        remount(disk, "rw")
    with small_disk(tmp_path / "disk2") as disk:
        drafts = disk / "Drafts"
        for sub in ("cur", "new", "tmp"):
            (drafts / sub).mkdir(parents=True)
        village.config.write_text(village.config.read_text().replace(
            'drafts = "Maildir/.Drafts"', f'drafts = "{drafts}"'))
        village.state = tmp_path / "state2"
        remount(disk, "ro")
        clear_error(village.cli(TUESDAY, "draft"), "drafts folder", "cannot be written")
        doctor = village.cli(TUESDAY, "doctor")
        assert "drafts folder" in doctor.stdout and "not writable" in doctor.stdout
        remount(disk, "rw")


def test_a_state_directory_that_cannot_be_created(tmp_path):
    village = Village(tmp_path / "v", people=3)
    (tmp_path / "a-file").write_text("")
    village.state = tmp_path / "a-file" / "state"
    for args in (("sync",), ("status",), ("run", "--once"), ("draft",)):
        clear_error(village.cli(TUESDAY, *args), "cannot be created")
    doctor = village.cli(TUESDAY, "doctor")
    assert "cannot be created" in doctor.stdout and "Traceback" not in doctor.stderr


def test_damaged_pages_are_one_message_that_keeps_a_copy_first(tmp_path):
    village = Village(tmp_path / "v", people=3)
    assert village.cli(TUESDAY, "draft").returncode == 0
    db = village.state / "villaged.sqlite3"
    with sqlite3.connect(db) as raw:  # fold the WAL in, so the pages are in the file
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    page = 4096
    for at in range(page * 2, len(data), page):  # keep the header page, spoil the rest
        data[at:at + 200] = os.urandom(200)
    db.write_bytes(bytes(data))
    for args in (("status",), ("draft",), ("run", "--once"), ("sync",)):
        clear_error(village.cli(TUESDAY, *args), "damaged", ".recover", "cp ",
                    damaged=True)
    doctor = village.cli(TUESDAY, "doctor")
    assert "damaged" in doctor.stdout and "Traceback" not in doctor.stdout + doctor.stderr
    assert "last resort" in doctor.stdout


def test_a_drafts_folder_that_is_an_empty_directory_gets_its_subfolders(tmp_path):
    village = Village(tmp_path / "v", people=3)
    for sub in ("cur", "new", "tmp"):
        (village.drafts_dir / sub).rmdir()
    assert village.cli(TUESDAY, "plan").returncode == 0
    assert os.listdir(village.drafts_dir) == []  # a dry run creates nothing
    drafted = village.cli(TUESDAY, "draft")
    assert drafted.returncode == 0, drafted.stderr
    assert len(village.draft_keys()) == 3


def test_stale_half_written_drafts_of_villaged_are_cleaned_and_others_kept(tmp_path):
    village = Village(tmp_path / "v", people=3)
    tmp = village.drafts_dir / "tmp"
    ours = tmp / "1700000000.M1P99Q1.villaged-deadbeef.host"
    ours.write_bytes(b"Subject: half a dr")
    fresh = tmp / "1700000001.M1P98Q1.villaged-cafe.host"
    fresh.write_bytes(b"being written right now")
    theirs = tmp / "1700000000.M2P7.mutt-host"
    theirs.write_bytes(b"mutt's")
    old = 1_700_000_000
    os.utime(ours, (old, old))
    os.utime(theirs, (old, old))
    assert village.cli(TUESDAY, "draft").returncode == 0
    assert sorted(os.listdir(tmp)) == sorted([fresh.name, theirs.name])


def test_files_holding_mail_data_are_0600_whatever_the_umask(tmp_path):
    village = Village(tmp_path / "v", people=3)
    result = subprocess.run(["sh", "-c", 'umask 000; exec "$@"', "sh",
                             *village.argv(TUESDAY, "run", "--once")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    files = [village.state / "villaged.sqlite3", *village.drafts_dir.glob("cur/*"),
             *(village.maildir / "new").iterdir()]
    assert len(files) == 1 + 3 + 1  # the database, three drafts, the delivered digest
    modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
    assert set(modes.values()) == {0o600}, modes
    # the daemon's case: its connection stays open, so -wal and -shm stay on disk
    old = os.umask(0)
    try:
        with Store.in_dir(tmp_path / "fresh") as store:
            store.set_value("k", "v")
            names = ("villaged.sqlite3", "villaged.sqlite3-wal", "villaged.sqlite3-shm")
            modes = {n: stat.S_IMODE((tmp_path / "fresh" / n).stat().st_mode) for n in names}
    finally:
        os.umask(old)
    assert set(modes.values()) == {0o600}, modes
