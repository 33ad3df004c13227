"""Helpers for the daemon, `run --once` and doctor tests: a real local village on
disk, the CLI in a subprocess, a notify socket to listen on, the store to look at.

The village: Dana (America/Chicago) and N mentors, each last heard from by
email on 2026-10-05, so on 2026-11-24 every one of them is cold and the
roulette (size N) drafts a check-in for each. Drafting day Monday 08:00,
digest Monday 07:30. 2026-11-23 is a Monday.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from villaged.store import Store

REPO = Path(__file__).resolve().parents[1]
TUESDAY = "2026-11-24T10:00:00-06:00"  # the day after a missed Monday slot
SLOT = "2026-11-23"
ENV_DROP = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "LISTEN_FDS",
            "VILLAGED_CONFIG", "VILLAGED_STATE_DIR", "INVOCATION_ID")


def mentor(n: int) -> tuple[str, str]:
    return f"Mentor Number{n}", f"mentor{n}@example.org"


def village_toml(people: int, roulette_size: int | None = None, sync_minutes: int = 15,
                 extra: str = "") -> str:
    size = people if roulette_size is None else roulette_size
    parts = [f'''
[owner]
name = "Dana Reyes"
addresses = ["dana@uni.example"]
timezone = "America/Chicago"

[backend]
kind = "local"
mail = ["mail/inbox.mbox"]
drafts = "Maildir/.Drafts"

[roulette]
day = "monday"
time = "08:00"
size = {size}

[digest]
day = "monday"
time = "07:30"

[daemon]
sync_minutes = {sync_minutes}
''']
    for n in range(people):
        name, email = mentor(n)
        parts.append(f'''
[[person]]
name = "{name}"
emails = ["{email}"]
role = "mentor"
''')
    parts.append(extra)
    return "".join(parts)


def mbox_text(people: int) -> str:
    messages = []
    for n in range(people):
        name, email = mentor(n)
        messages.append(
            f"From {email} Mon Oct  5 10:00:00 2026\n"
            f"From: {name} <{email}>\n"
            "To: Dana Reyes <dana@uni.example>\n"
            f"Subject: catching up {n}\n"
            "Date: Mon, 05 Oct 2026 10:00:00 -0500\n"
            f"Message-ID: <m{n}@example.org>\n"
            "\n"
            "Hello Dana!\n\n")
    return "".join(messages)


class Village:
    """A village on disk: config, mbox, Maildir with a Drafts folder, state dir."""

    def __init__(self, root: Path, people: int = 3, **kw: Any) -> None:
        self.root = root
        self.people = people
        self.config = root / "village.toml"
        self.state = root / "state"
        self.maildir = root / "Maildir"
        self.drafts_dir = self.maildir / ".Drafts"
        (root / "mail").mkdir(parents=True, exist_ok=True)
        (root / "mail" / "inbox.mbox").write_text(mbox_text(people))
        for sub in ("cur", "new", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
            (self.drafts_dir / sub).mkdir(parents=True, exist_ok=True)
        self.write_config(**kw)

    def write_config(self, **kw: Any) -> None:
        self.config.write_text(village_toml(self.people, **kw))

    # -- what a user would look at -------------------------------------------

    def draft_keys(self) -> list[str]:
        """X-Villaged-Key of every draft in the Drafts folder."""
        keys = []
        parser = BytesHeaderParser()
        for sub in ("cur", "new"):
            for path in (self.drafts_dir / sub).iterdir():
                with path.open("rb") as f:
                    keys.append(str(parser.parse(f).get("X-Villaged-Key", "")).strip())
        return keys

    def job_runs(self, job: str | None = None) -> list[Any]:
        if not (self.state / "villaged.sqlite3").exists():
            return []
        with Store.in_dir(self.state) as store:
            return store.job_runs(job)

    def ledger(self) -> list[Any]:
        with Store.in_dir(self.state) as store:
            return store.ledger()

    # -- running villaged ----------------------------------------------------------

    def argv(self, now: str | None, *args: str, draft_delay: float | None = None) -> list[str]:
        """villaged's command line; ``draft_delay`` runs it through tests/slow_drafts.py
        (every draft write waits that long, so a signal can land mid-round)."""
        launcher = ["villaged"] if draft_delay is None else \
            ["tests.slow_drafts", str(draft_delay)]
        argv = [sys.executable, "-m", *launcher, "--config", str(self.config),
                "--state-dir", str(self.state)]
        if now:
            argv += ["--now", now]
        return argv + list(args)

    def cli(self, now: str | None, *args: str, timeout: float = 30,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(now, *args), capture_output=True, text=True,
                              timeout=timeout, cwd=REPO, env=clean_env(env))

    def start(self, now: str | None, notify: Notify | None = None,
              env: dict[str, str] | None = None, log_name: str = "daemon.log",
              draft_delay: float | None = None) -> Daemon:
        extra = dict(env or {})
        if notify is not None:
            extra["NOTIFY_SOCKET"] = notify.address
        log = self.root / log_name
        return Daemon(subprocess.Popen(
            self.argv(now, "run", draft_delay=draft_delay), stdout=subprocess.DEVNULL, stderr=log.open("w"),
            cwd=REPO, env=clean_env(extra)), log)


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_DROP}
    env.update(extra or {})
    return env


class Daemon:
    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.proc = proc
        self.log_path = log

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def stop(self, signum: int = 15, timeout: float = 10) -> tuple[int, float]:
        """Send the signal; return (exit code, seconds it took)."""
        started = time.monotonic()
        self.proc.send_signal(signum)
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def wait_log(self, text: str, timeout: float = 15) -> None:
        wait_for(lambda: text in self.log, timeout, f"{text!r} in the daemon's log",
                 lambda: self.log)


class Notify:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET."""

    def __init__(self, path: Path | None = None, abstract: str | None = None) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            self.sock.bind("\0" + abstract)
            self.address = "@" + abstract
        else:
            assert path is not None
            self.sock.bind(str(path))
            self.address = str(path)
        self.messages: list[str] = []

    def close(self) -> None:
        self.sock.close()

    def _drain(self, timeout: float) -> None:
        self.sock.settimeout(timeout)
        try:
            while True:
                self.messages.append(self.sock.recv(65536).decode())
                self.sock.settimeout(0)
        except (TimeoutError, BlockingIOError):
            pass

    def fields(self) -> list[str]:
        return [line for m in self.messages for line in m.split("\n")]

    def count(self, field: str) -> int:
        return sum(1 for f in self.fields() if f == field)

    def wait(self, predicate: Callable[[list[str]], bool], timeout: float = 15,
             what: str = "a notify message") -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.fields()):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; got {self.messages!r}")
            self._drain(min(left, 0.2))

    def wait_field(self, field: str, times: int = 1, timeout: float = 15) -> None:
        self.wait(lambda fs: sum(1 for f in fs if f == field) >= times, timeout,
                  f"{field} x{times}")

    def wait_status(self, start: str, after: int = 0, timeout: float = 15) -> str:
        """The first STATUS= line starting with ``start`` among messages from index ``after`` on."""
        def found(_: list[str]) -> str | None:
            for message in self.messages[after:]:
                for line in message.split("\n"):
                    if line.startswith("STATUS=" + start):
                        return line
            return None

        self.wait(lambda fs: found(fs) is not None, timeout, f"STATUS={start}...")
        result = found([])
        assert result is not None
        return result


def wait_for(predicate: Callable[[], Any], timeout: float = 15, what: str = "a condition",
             detail: Callable[[], str] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}"
                                 + (f"\n{detail()}" if detail else ""))
        time.sleep(0.05)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
