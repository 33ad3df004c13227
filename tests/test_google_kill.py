"""kill -9 `villaged draft` (a real process) while it writes Gmail drafts, then rerun.

The smoke test of the real thing: a subprocess, a real SIGKILL, the real
client talking HTTP. The many kill points (before a draft is written, after
it is written but before the ledger records it, at each draft in turn) are
covered in process, for every outbox, by the outbox contract
(tests/contract/outbox.py, with tests/contract/faults.py).
"""

from __future__ import annotations

import datetime as dt
import email
import signal
import subprocess
import sys
import time
from email.policy import default as default_policy

from tests.google_api_server import GoogleApiServer
from tests.google_fixtures import NOW, OWNER, Setup, add_old_news

D = dt.timedelta


def draft_keys(server: GoogleApiServer) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for d in server.drafts():
        key = str(email.message_from_bytes(d.raw, policy=default_policy)["X-Villaged-Key"])
        found.setdefault(key, []).append(d.id)
    return found


def test_sigkill_while_drafting_then_a_rerun_leaves_one_draft_each(tmp_path):
    from villaged.service.round import run_round

    with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW, latency=0.05) as server:
        add_old_news(server)
        setup = Setup(server, tmp_path)
        proc = subprocess.Popen(
            [sys.executable, "-m", "villaged", "--now", NOW.isoformat(), "draft"],
            env=setup.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            # kill once the first draft has reached the server: mid-round, drafts to go
            while not server.drafts() and proc.poll() is None:
                assert time.monotonic() < deadline, "villaged draft never wrote a draft"
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the run finished before it was killed"
        assert len(draft_keys(server)) < 3
        server.clear_violations()  # a request cut by the kill is dropped unanswered

        village = setup.village()
        with setup.store() as store:
            result = run_round(village, store, setup.io(village), NOW, draft=True)
            rows = store.ledger()
        assert not result.interrupted
        on_server = draft_keys(server)
        assert len(on_server) == 3 and all(len(ids) == 1 for ids in on_server.values())
        assert not [r for r in rows if r.state.value == "creating"]
        assert {r.key: r.draft_id for r in rows} == {k: ids[0] for k, ids in on_server.items()}
        assert server.violations == [] and server.sent_messages() == []
