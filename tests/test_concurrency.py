"""Every writing command against every other one, at the same moment, on both backends.

Real subprocesses (`python -m villaged ...`), a real SQLite file, a real
Maildir, and the real Google client against the local Google API server.
Each round starts from a fresh state directory (so two first runs also race
to create the schema) and launches two of each writing command at once:
sync, draft, digest, log and run --once. That is every pair of writing
commands (a command with itself included) running simultaneously, once per
round; ROUNDS rounds per backend (5 in the test command: about a minute;
VILLAGED_STRESS_ROUNDS=20 gives the issue's 20). Afterwards: no draft twice, no digest
twice, no give twice, and every process either succeeded or exited 2 with
the holder's pid and a fix; never a traceback.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time
from email.parser import BytesHeaderParser

import pytest

from tests.google_api_server import GoogleApiServer
from tests.google_fixtures import NOW, OWNER, Setup, raw_message
from tests.servicekit import REPO, TUESDAY, Village, clean_env

ROUNDS = int(os.environ.get("VILLAGED_STRESS_ROUNDS", "5"))
COMMANDS: dict[str, tuple[str, ...]] = {
    "sync": ("sync",),
    "draft": ("draft",),
    "digest": ("digest",),
    "log": ("log", "PERSON", "--give", "a reference letter"),
    "run": ("run", "--once"),
}

pytestmark = pytest.mark.slow


def launch(argv_for, env: dict[str, str], person: str) -> list[tuple[str, subprocess.Popen]]:
    # cached bytecode: 10 interpreters start at once, every round
    env = {**env, "PYTHONDONTWRITEBYTECODE": ""}
    procs = []
    for _copy in range(2):
        for name, args in COMMANDS.items():
            args = tuple(person if a == "PERSON" else a for a in args)
            procs.append((name, subprocess.Popen(
                argv_for(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                cwd=REPO, env=clean_env(env))))
    return procs


def outcomes(procs: list[tuple[str, subprocess.Popen]]) -> list[str]:
    """One problem string per process that did not end well."""
    problems = []
    for name, proc in procs:
        out, err = proc.communicate(timeout=240)
        if "Traceback" in err or proc.returncode not in (0, 2):
            problems.append(f"{name}: exit {proc.returncode}\n{err[-2000:]}")
        elif proc.returncode == 2 and not ("pid" in err and "fix:" in err):
            problems.append(f"{name}: exit 2 without the holder's pid and a fix:\n{err}")
    return problems


def duplicates(keys: list[str]) -> dict[str, int]:
    return {k: n for k, n in collections.Counter(keys).items() if n > 1}


def test_every_writing_command_against_every_other_on_the_local_backend(tmp_path):
    total_drafts = 0
    waits = []
    for n in range(ROUNDS):
        village = Village(tmp_path / f"round{n}", people=3)
        procs = launch(lambda *a, v=village: v.argv(TUESDAY, *a), {}, "Mentor Number0")
        started = time.monotonic()
        problems = outcomes(procs)
        waits.append(time.monotonic() - started)
        assert problems == [], f"round {n}"
        keys = village.draft_keys()
        assert duplicates(keys) == {}, f"round {n}: duplicate drafts"
        assert len(keys) == 3, f"round {n}: {keys}"
        total_drafts += len(keys)
        digests = [p for p in (village.maildir / "new").iterdir()]
        assert len(digests) == 1, f"round {n}: {len(digests)} digests delivered"
        ledger = village.ledger()
        assert sorted(r.key for r in ledger) == sorted(keys)
        assert all(r.draft_id for r in ledger)
        from villaged.store import Store

        with Store.in_dir(village.state) as store:
            assert len(store.gives()) == 1
    assert total_drafts == 3 * ROUNDS


@pytest.fixture
def google_server():
    with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW) as srv:
        yield srv


def gmail_people():
    return (("Ada Lovelace", ("ada@analytical.example",), "mentor"),
            ("Grace Hopper", ("grace@navy.example",), "sponsor"),
            ("Alan Turing", ("alan@bletchley.example",), "mentor"))


def test_every_writing_command_against_every_other_on_the_google_backend(tmp_path):
    import datetime as dt

    parser = BytesHeaderParser()
    for n in range(ROUNDS):
        with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW) as server:
            for k, (_, emails, _) in enumerate(gmail_people()):
                when = NOW - dt.timedelta(days=200 + k)
                server.add_message(raw_message(emails[0], OWNER, f"old news {k}", when),
                                   internal_date=when)
            setup = Setup(server, tmp_path / f"round{n}", gmail_people())
            env = {"VILLAGED_CONFIG": str(setup.config), "VILLAGED_STATE_DIR": str(setup.state)}
            argv = lambda *a: [sys.executable, "-m", "villaged", "--now", TUESDAY, *a]  # noqa: E731
            problems = outcomes(launch(argv, env, "Ada Lovelace"))
            assert problems == [], f"round {n}"
            keys = [str(parser.parsebytes(d.raw).get("X-Villaged-Key", "")) for d in server.drafts()]
            assert duplicates(keys) == {}, f"round {n}: duplicate drafts in Gmail"
            assert len(keys) == 3, f"round {n}: {keys}"
            assert len(server.sent_messages()) == 1, f"round {n}: digests sent"
            with setup.store() as store:
                assert len(store.gives()) == 1
                assert sorted(r.key for r in store.ledger()) == sorted(keys)
            assert server.violations == []


def test_a_loser_that_cannot_wait_exits_2_with_the_holders_pid_and_a_fix(tmp_path):
    from villaged.service import runlock

    village = Village(tmp_path / "v", people=3)
    village.state.mkdir(parents=True, exist_ok=True)
    # this process plays a `villaged draft` that is busy writing
    with runlock.writer(village.state, "draft"):
        for args in (("draft",), ("sync",), ("log", "Mentor Number1"), ("digest",),
                     ("run", "--once")):
            quick = village.cli(TUESDAY, *args, env={"VILLAGED_LOCK_WAIT": "0.2"})
            assert quick.returncode == 2, (args, quick.stderr)
            assert f"`villaged draft` (pid {os.getpid()})" in quick.stderr, quick.stderr
            assert "fix:" in quick.stderr and "Traceback" not in quick.stderr
        # `status` and `plan` only read: they are never turned away
        assert village.cli(TUESDAY, "status").returncode == 0
        assert village.cli(TUESDAY, "plan").returncode == 0
        assert village.draft_keys() == []
    # a loser that waits long enough gets its turn
    slow = subprocess.Popen(village.argv(TUESDAY, "draft"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO, env=clean_env())
    with runlock.writer(village.state, "sync"):
        time.sleep(1.0)
        assert slow.poll() is None  # still waiting for the lock
    slow.communicate(timeout=120)
    assert slow.returncode == 0
    assert len(village.draft_keys()) == 3
