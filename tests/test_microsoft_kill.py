"""kill -9 `villaged draft` anywhere with the Microsoft 365 backend, then run a normal round:
never a duplicate draft in Outlook (10 trials in the test command, VILLAGED_KILL_TRIALS=30 for
the issue's 30; the same protocol as the Gmail trials).

Each trial starts from a fresh state directory (and a fresh sign-in) against the same
local Graph server, its Drafts folder emptied; `villaged draft` runs as a real
subprocess and is SIGKILLed at a random moment once it talks to Graph (during the
sync, the Drafts scan, between the MIME create and the PATCH that marks the draft, or
between the create and the ledger commit). A normal round follows in-process. The
server must then hold exactly one draft per key, every one marked with villaged's
property, and the ledger no row left in ``creating``.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.graph_api_server import GraphServer
from tests.graph_fixtures import NOW, OWNER, PEOPLE, D, Setup

TRIALS = int(os.environ.get("VILLAGED_KILL_TRIALS", "10"))


def keys_on_server(graph: GraphServer) -> dict[str, list[str]]:
    from villaged.backends.microsoft.drafts import key_of

    found: dict[str, list[str]] = {}
    for draft in graph.drafts():
        found.setdefault(key_of(draft) or "?", []).append(draft["id"])
    return found


def check_consistent(setup: Setup, graph: GraphServer) -> None:
    on_server = keys_on_server(graph)
    assert all(len(ids) == 1 for ids in on_server.values()), on_server
    with setup.store() as store:
        rows = store.ledger()
    assert not [r for r in rows if r.state.value == "creating"]
    open_rows = {r.key: r.draft_id for r in rows if r.state.value in ("created", "pending")}
    assert open_rows == {k: ids[0] for k, ids in on_server.items()}
    # a draft the kill left unmarked (killed between the create and the PATCH) is still known
    # by its X-Villaged-Key header property; the next put of a drafting round marks it
    assert "?" not in on_server


@pytest.mark.slow
def test_sigkill_during_draft_never_duplicates(tmp_path, monkeypatch):
    from villaged.service.round import run_round

    rng = random.Random(20261123)
    outcomes: Counter[tuple[int, tuple[tuple[str, int], ...]]] = Counter()
    with GraphServer(owner=OWNER, clock=lambda: NOW, latency=0.01) as graph:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(graph.ca_file))
        for n, (_, emails, _) in enumerate(PEOPLE):
            graph.add_message(sender=emails[0], to=(OWNER,), subject=f"old news {n}", when=NOW - D(days=200 + n))

        def trial(n: int, delay: float | None) -> float:
            root = tmp_path / f"t{n}"
            setup = Setup(graph, root)
            for draft in graph.drafts():
                graph.delete_message(draft["id"])
            start = graph.stats.round_trips
            proc = subprocess.Popen([sys.executable, "-m", "villaged", "--now", NOW.isoformat(), "draft"],
                                    env=setup.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 60
            while graph.stats.round_trips == start and proc.poll() is None:
                assert time.monotonic() < deadline, "villaged draft never reached the server"
                time.sleep(0.002)
            began = time.monotonic()
            if delay is None:  # the reference run: how long the talking part takes
                _, err = proc.communicate(timeout=120)
                assert proc.returncode == 0, err
                return time.monotonic() - began
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
            assert graph.violations == []
            with setup.store() as store:
                states = Counter(r.state.value for r in store.ledger())
            outcomes[(len(graph.drafts()), tuple(sorted(states.items())))] += 1
            village = setup.village()
            with setup.store() as store:
                result = run_round(village, store, setup.io(village), NOW, draft=True)
            assert not result.interrupted
            check_consistent(setup, graph)
            assert len(keys_on_server(graph)) == 3  # the same as one clean run
            assert graph.violations == []
            shutil.rmtree(root)
            return delay

        span = trial(0, None)
        assert len(keys_on_server(graph)) == 3
        for n in range(1, TRIALS + 1):
            trial(n, rng.uniform(0, span * 0.8))
    print("kill outcomes:", dict(outcomes))  # shown with -s
    mid_run = sum(c for (drafts, states), c in outcomes.items() if drafts < 3 or "creating" in dict(states))
    assert mid_run >= max(2, TRIALS // 6)  # most kills must land while villaged was still at work
