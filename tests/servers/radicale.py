"""A real Radicale CalDAV server for the tests, started as an unprivileged subprocess.

``RadicaleServer(root).start()`` writes a throwaway config under ``root`` (a
fresh directory): users from an htpasswd file (plain), filesystem storage,
owner-only rights, TLS from the tests' CA, listening on 127.0.0.1 on a random
port. It runs ``python -m radicale`` with the interpreter running the tests
(Radicale is a test dependency, installed by ``pip install -e '.[test]'``);
as root it runs as ``nobody`` through ``setpriv``.

Calendars are made and filled over CalDAV itself (MKCALENDAR, PUT), the way a
calendar app would, with the ``caldav`` library; ``url`` is the server root.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.dovecot import UNPRIVILEGED, free_port
from tests.servers.tls import CertFiles, make_ca


def missing() -> str | None:
    if importlib.util.find_spec("radicale") is None:
        return "radicale is not installed: `pip install -e '.[test]'` installs it"
    return None


@dataclass
class RadicaleServer:
    root: Path
    users: dict[str, str] = field(default_factory=lambda: {"dana": "correct horse"})
    certs: CertFiles | None = None
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def calendar_home(self, user: str) -> str:
        return f"{self.url}{user}/"

    @property
    def log(self) -> Path:
        return self.root / "radicale.log"

    def start(self) -> RadicaleServer:
        why = missing()
        if why:
            raise RuntimeError(why)
        self.root.mkdir(parents=True, exist_ok=True)
        if self.certs is None:
            self.certs = make_ca(self.root / "tls")
        self.port = self.port or free_port()
        (self.root / "users").write_text(
            "".join(f"{name}:{password}\n" for name, password in self.users.items()))
        (self.root / "collections").mkdir(exist_ok=True)
        config = self.root / "radicale.conf"
        config.write_text(f"""\
[server]
hosts = 127.0.0.1:{self.port}
ssl = True
certificate = {self.certs.cert}
key = {self.certs.key}

[auth]
type = htpasswd
htpasswd_filename = {self.root / 'users'}
htpasswd_encryption = plain
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = {self.root / 'collections'}

[logging]
level = warning
mask_passwords = True
""")
        argv = [sys.executable, "-m", "radicale", "--config", str(config)]
        if os.geteuid() == 0:
            entry = pwd.getpwnam(UNPRIVILEGED)
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
            argv = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}",
                    "--clear-groups", *argv]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         env={**os.environ, "HOME": str(self.root)})
        self._wait()
        return self

    def _wait(self, timeout: float = 20.0) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"radicale exited with {self.proc.returncode}:\n"
                                   f"{self.log.read_text(errors='replace')[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"radicale did not listen within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
