"""kill -9 `villaged draft` anywhere, then run a normal round: never a duplicate draft.

Each of the 30 trials starts from a fresh state directory against the same
server (its drafts folder emptied), runs `villaged draft` as a real
subprocess, SIGKILLs it at a random moment once it has started talking to
the server (so most kills land in sync, the drafts scan or between
drafts.create and the ledger commit), then runs a normal round in-process.
The server must hold exactly one draft per ledger row, and the ledger must
have no row left in ``creating``.
"""

from __future__ import annotations

import datetime as dt
import email
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from email.policy import default as default_policy

import pytest

from tests.google_api_server import GoogleApiServer
from tests.google_fixtures import NOW, OWNER, PEOPLE, Setup, raw_message

D = dt.timedelta
TRIALS = 30


def draft_keys(server: GoogleApiServer) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for d in server.drafts():
        key = str(email.message_from_bytes(d.raw, policy=default_policy)["X-Villaged-Key"])
        found.setdefault(key, []).append(d.id)
    return found


def check_consistent(setup: Setup, server: GoogleApiServer) -> None:
    on_server = draft_keys(server)
    assert all(len(ids) == 1 for ids in on_server.values()), on_server
    with setup.store() as store:
        rows = store.ledger()
    assert not [r for r in rows if r.state.value == "creating"]
    open_rows = {r.key: r.draft_id for r in rows if r.state.value in ("created", "pending")}
    assert open_rows == {k: ids[0] for k, ids in on_server.items()}


def wait_for_traffic(server: GoogleApiServer, proc: subprocess.Popen, start: int) -> None:
    deadline = time.monotonic() + 30
    while server.stats.round_trips == start and proc.poll() is None:
        if time.monotonic() > deadline:
            raise AssertionError("villaged draft never reached the server")
        time.sleep(0.002)


@pytest.mark.slow
def test_sigkill_during_draft_never_duplicates(tmp_path):
    from villaged.service.round import run_round

    rng = random.Random(20261123)
    outcomes: Counter[tuple] = Counter()  # (drafts on the server, ledger states) at the kill
    with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW, latency=0.01) as server:
        for n, (_, emails, _) in enumerate(PEOPLE):
            when = NOW - D(days=200 + n)
            server.add_message(raw_message(emails[0], OWNER, f"old news {n}", when),
                               internal_date=when)

        def trial(n: int, delay: float | None) -> float:
            root = tmp_path / f"t{n}"
            setup = Setup(server, root)
            for d in server.drafts():
                server.delete_draft(d.id)
            start = server.stats.round_trips
            proc = subprocess.Popen(
                [sys.executable, "-m", "villaged", "--now", NOW.isoformat(), "draft"],
                env=setup.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            wait_for_traffic(server, proc, start)
            began = time.monotonic()
            if delay is None:  # the reference run: how long the talking part takes
                _, err = proc.communicate(timeout=60)
                assert proc.returncode == 0, err
                return time.monotonic() - began
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
            # A client killed while writing leaves a truncated request, which the
            # server drops unanswered; the killed run may cause no violation at all.
            assert server.clear_violations() == []
            with setup.store() as store:
                states = Counter(r.state.value for r in store.ledger())
            outcomes[(len(server.drafts()), tuple(sorted(states.items())))] += 1
            village = setup.village()
            with setup.store() as store:
                result = run_round(village, store, setup.io(village), NOW, draft=True)
            assert not result.interrupted
            check_consistent(setup, server)
            assert len(draft_keys(server)) == 3  # the same as one clean run
            assert server.violations == []  # the normal round: no violation at all
            shutil.rmtree(root)
            return delay

        span = trial(0, None)
        assert len(draft_keys(server)) == 3
        for n in range(1, TRIALS + 1):
            trial(n, rng.uniform(0, span * 0.8))
    print("kill outcomes:", dict(outcomes))  # shown with -s
    mid_run = sum(c for (drafts, states), c in outcomes.items()
                  if drafts < 3 or "creating" in dict(states))
    assert mid_run >= 5  # most kills must land while villaged was still at work
