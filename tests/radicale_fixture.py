"""A real Radicale CalDAV server for the invitation tests (session-scoped, plain HTTP).

Started as ``python -m radicale`` with the interpreter running the tests
(Radicale is a test dependency: ``pip install -e '.[test]'``), on 127.0.0.1
at a port the OS picks, with filesystem storage in a fresh temporary
directory, no authentication and no rights checks (it is reachable from this
machine only and lives for one test session). ``caldav_collection`` makes an
empty calendar with MKCALENDAR and returns its URL.

A missing Radicale is a failure under CI, never a skip.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

_serial = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def radicale_url() -> Iterator[str]:
    if importlib.util.find_spec("radicale") is None:
        why = "radicale is not installed: `pip install -e '.[test]'` installs it"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI needs this server: {why}", pytrace=False)
        pytest.skip(why)
    root = Path(tempfile.mkdtemp(prefix="villaged-radicale-"))
    port = free_port()
    config = root / "radicale.conf"
    config.write_text(f"""\
[server]
hosts = 127.0.0.1:{port}

[auth]
type = none

[rights]
type = authenticated

[storage]
filesystem_folder = {root / 'collections'}

[logging]
level = warning
""")
    log = (root / "radicale.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            env={**os.environ, "HOME": str(root)})
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"radicale exited with {proc.returncode}: "
                                   f"{(root / 'radicale.log').read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("radicale did not listen within 20 s") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def caldav_collection(radicale_url: str) -> str:
    """A fresh, empty calendar collection; its URL ends with a slash."""
    url = f"{radicale_url}dana/calendar-{next(_serial)}/"
    answer = requests.request("MKCALENDAR", url, auth=("dana", "x"), timeout=10)
    assert answer.status_code == 201, answer.text
    return url
