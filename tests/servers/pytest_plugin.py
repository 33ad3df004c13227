"""pytest fixtures for the real servers: Dovecot (IMAP) and Radicale (CalDAV).

Enable with ``pytest_plugins = ["tests.servers.pytest_plugin"]`` in the root conftest.

- ``dovecot_server`` / ``radicale_server``: one server per test session (started
  once, stopped at the end), each unprivileged on 127.0.0.1 with its own CA.
- ``imap_account``: a fresh user (own empty mailbox) on the session's Dovecot.
- ``caldav_calendar``: a fresh, empty calendar on the session's Radicale.

A server that cannot run here is a skip on a developer's machine and a
*failure* under CI (``CI=true``): ``scripts/test`` installs Dovecot, and
``pip install -e '.[test]'`` installs Radicale.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import dovecot as dovecot_mod
from tests.servers import radicale as radicale_mod
from tests.servers.dovecot import DovecotServer
from tests.servers.radicale import RadicaleServer

PASSWORD = "correct horse battery"
USERS = 300
_serial = itertools.count(1)


def unavailable(why: str) -> None:
    """Skip, or fail under CI: in CI a missing server is a failure, never a skip."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI needs this server: {why}", pytrace=False)
    pytest.skip(why)


def server_root(prefix: str) -> Path:
    """A fresh directory directly under the temp dir (an unprivileged server must reach it)."""
    return Path(tempfile.mkdtemp(prefix=prefix))


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[DovecotServer]:
    why = dovecot_mod.missing()
    if why:
        unavailable(why)
    root = server_root("villaged-dovecot-")
    # users are made up front: Dovecot re-reads a changed passwd-file only now and then
    server = DovecotServer(root, users={f"user{n}": PASSWORD for n in range(1, USERS + 1)}).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def radicale_server() -> Iterator[RadicaleServer]:
    why = radicale_mod.missing()
    if why:
        unavailable(why)
    root = server_root("villaged-radicale-")
    server = RadicaleServer(root, users={"dana": PASSWORD}).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class ImapAccount:
    server: DovecotServer
    username: str
    password: str

    @property
    def ca(self) -> Path:
        assert self.server.certs is not None
        return self.server.certs.ca

    def client(self) -> object:
        """An imapclient connection for arranging the mailbox (not villaged's code)."""
        import imapclient

        from villaged.backends.imap.connection import tls_context

        c = imapclient.IMAPClient("127.0.0.1", port=self.server.imaps_port, ssl=True,
                                  ssl_context=tls_context(self.ca))
        c.login(self.username, self.password)
        return c

    def append(self, folder: str, raw: bytes, flags: tuple[str, ...] = ()) -> None:
        c = self.client()
        try:
            c.append(folder, raw, flags=flags)  # type: ignore[attr-defined]
        finally:
            c.logout()  # type: ignore[attr-defined]

    def messages(self, folder: str) -> dict[int, bytes]:
        """UID -> full message of every message in ``folder``."""
        c = self.client()
        try:
            c.select_folder(folder, readonly=True)  # type: ignore[attr-defined]
            uids = c.search("ALL")  # type: ignore[attr-defined]
            if not uids:
                return {}
            got = c.fetch(uids, ["BODY.PEEK[]"])  # type: ignore[attr-defined]
            return {uid: data[b"BODY[]"] for uid, data in got.items()}
        finally:
            c.logout()  # type: ignore[attr-defined]

    def flags(self, folder: str) -> dict[int, tuple[bytes, ...]]:
        c = self.client()
        try:
            c.select_folder(folder, readonly=True)  # type: ignore[attr-defined]
            uids = c.search("ALL")  # type: ignore[attr-defined]
            got = c.get_flags(uids) if uids else {}  # type: ignore[attr-defined]
            return {uid: tuple(f for f in flags if f != b"\\Recent")  # session-only
                    for uid, flags in got.items()}
        finally:
            c.logout()  # type: ignore[attr-defined]


@pytest.fixture
def imap_account(dovecot_server: DovecotServer) -> ImapAccount:
    n = next(_serial)
    assert n <= USERS, "raise USERS in tests/servers/pytest_plugin.py"
    return ImapAccount(dovecot_server, f"user{n}", PASSWORD)


@dataclass
class CaldavCalendar:
    server: RadicaleServer
    username: str
    password: str
    name: str
    url: str

    @property
    def ca(self) -> Path:
        assert self.server.certs is not None
        return self.server.certs.ca

    def _calendar(self) -> object:
        import caldav

        client = caldav.DAVClient(url=self.server.url, username=self.username,
                                  password=self.password, ssl_verify_cert=str(self.ca))
        return caldav.Calendar(client=client, url=self.url)

    def put(self, ics: str) -> None:
        """Store one event (a whole VCALENDAR), as a calendar app would (PUT)."""
        self._calendar().save_event(ics)  # type: ignore[attr-defined]

    def delete(self, uid: str) -> None:
        self._calendar().event_by_uid(uid).delete()  # type: ignore[attr-defined]


@pytest.fixture
def caldav_calendar(radicale_server: RadicaleServer) -> CaldavCalendar:
    import caldav

    name = f"cal{next(_serial)}"
    client = caldav.DAVClient(url=radicale_server.url, username="dana", password=PASSWORD,
                              ssl_verify_cert=str(radicale_server.certs.ca)
                              if radicale_server.certs else True)
    calendar = client.principal().make_calendar(name=name, cal_id=name)
    return CaldavCalendar(radicale_server, "dana", PASSWORD, name, str(calendar.url))
