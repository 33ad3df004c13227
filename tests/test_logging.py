"""Logs: journald-friendly under systemd, and never a secret."""

import logging
import re
import shutil

from tests.test_cli import NOW, villaged
from villaged.cli.demo import example_dir
from villaged.service import logsetup


def test_under_systemd_lines_carry_a_level_prefix_and_no_timestamp(tmp_path):
    root = tmp_path / "v"
    shutil.copytree(example_dir(), root)
    args = ("-v", "--config", str(root / "village.toml"), "--state-dir", str(root / "state"),
            "--now", NOW, "sync")
    journal = villaged(*args, cwd=root, env={"JOURNAL_STREAM": "8:12345"})
    lines = [line for line in journal.stderr.splitlines() if line]
    assert lines and all(re.match(r"<[0-7]>", line) for line in lines), lines
    assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", journal.stderr)
    shutil.rmtree(root / "state")
    plain = villaged(*args, cwd=root, env={})
    assert plain.stderr and not re.search(r"^<[0-7]>", plain.stderr, re.M)
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d", plain.stderr, re.M)


def test_warning_maps_to_syslog_level_4():
    record = logging.LogRecord("villaged", logging.WARNING, __file__, 1, "careful", None, None)
    assert logsetup.JournalFormatter("%(message)s").format(record) == "<4>careful"
