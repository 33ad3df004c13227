"""kill -9 `villaged draft` against a real Dovecot anywhere, then a normal round: no duplicate.

Each trial starts from a fresh state directory against the same mailbox (its
Drafts folder emptied), runs `villaged draft` (``[backend] kind = "imap"``) as
a real subprocess, SIGKILLs it at a random moment once it has started
talking to the server (a byte-counting proxy tells when), then runs a normal
round in-process. The Drafts folder must hold exactly one draft per ledger
row, and no ledger row may be left in ``creating``.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest

from tests.imap_kit import NOW, OWNER, mail, password_file
from tests.servers.fault_proxy import FaultProxy

TRIALS = 6
PEOPLE = [("Ada Lovelace", "ada@example.org"), ("Bob Kahn", "bob@example.net"),
          ("Cyd Charisse", "cyd@dance.example")]


def config(root: Path, account, port: int) -> Path:  # type: ignore[no-untyped-def]
    people = "".join(f'\n[[person]]\nname = "{name}"\nemails = ["{email}"]\nrole = "mentor"\n'
                     for name, email in PEOPLE)
    path = root / "village.toml"
    root.mkdir(parents=True, exist_ok=True)
    path.write_text(f'''
[owner]
name = "Dana Reyes"
addresses = ["{OWNER}"]
timezone = "America/Chicago"

[backend]
kind = "imap"

[backend.imap]
host = "127.0.0.1"
port = {port}
tls = "none"
username = "{account.username}"
secret = "file"
''' + people)
    return path


def drafts(account) -> Counter[str]:  # type: ignore[no-untyped-def]
    parser = BytesHeaderParser()
    return Counter(str(parser.parsebytes(raw).get("X-Villaged-Key", ""))
                   for raw in account.messages("Drafts").values())


def empty_drafts(account) -> None:  # type: ignore[no-untyped-def]
    c = account.client()
    c.select_folder("Drafts")
    uids = c.search("ALL")
    if uids:
        c.delete_messages(uids)
        c.expunge()
    c.logout()


@pytest.mark.slow
def test_sigkill_during_imap_draft_never_duplicates(imap_account, tmp_path: Path):
    from villaged.backends.registry import open_backend
    from villaged.config import load_village
    from villaged.service.round import run_round
    from villaged.store import Store

    for n, (_, email) in enumerate(PEOPLE):
        imap_account.append("INBOX", mail(email, [OWNER], NOW - dt.timedelta(days=200 + n),
                                          msgid=f"<old{n}@t>"))
    proxy = FaultProxy(imap_account.server.imap_port, faults=0.0).start()
    rng = random.Random(20261123)
    outcomes: Counter[tuple[int, tuple[tuple[str, int], ...]]] = Counter()

    def trial(n: int, delay: float | None) -> float:
        root = tmp_path / f"t{n}"
        state = root / "state"
        password_file(state, "imap", imap_account.password)
        path = config(root, imap_account, proxy.port)
        empty_drafts(imap_account)
        start = proxy.bytes_up
        proc = subprocess.Popen(
            [sys.executable, "-m", "villaged", "--config", str(path), "--state-dir", str(state),
             "--now", NOW.isoformat(), "draft"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if not k.startswith("VILLAGED_")})
        deadline = time.monotonic() + 30
        while proxy.bytes_up == start and proc.poll() is None:
            assert time.monotonic() < deadline, "villaged draft never reached the server"
            time.sleep(0.002)
        began = time.monotonic()
        if delay is None:  # the reference run: how long the talking part takes
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            return time.monotonic() - began
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        with Store.in_dir(state) as store:
            states = Counter(r.state.value for r in store.ledger())
        outcomes[(sum(drafts(imap_account).values()), tuple(sorted(states.items())))] += 1
        village = load_village(path)
        io = open_backend(village, state)
        try:
            with Store.in_dir(state) as store:
                result = run_round(village, store, io, NOW, draft=True)
                rows = store.ledger()
        finally:
            io.close()
        assert not result.interrupted
        on_server = drafts(imap_account)
        assert all(count == 1 for count in on_server.values()), on_server
        assert not [r for r in rows if r.state.value == "creating"]
        assert {r.key for r in rows if r.state.value in ("created", "pending")} == set(on_server)
        assert len(on_server) == 3  # the same as one clean run
        return delay

    try:
        span = trial(0, None)
        assert len(drafts(imap_account)) == 3
        for n in range(1, TRIALS + 1):
            trial(n, rng.uniform(0, span * 0.6))
    finally:
        proxy.stop()
    print("kill outcomes:", dict(outcomes))  # shown with -s
    mid_run = sum(c for (count, states), c in outcomes.items()
                  if count < 3 or "creating" in dict(states))
    assert mid_run >= 2  # kills must land while villaged was still at work
