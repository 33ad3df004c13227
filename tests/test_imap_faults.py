"""Faults between villaged and real servers: cut connections, refused logins, bad settings.

A fault proxy (tests/servers/fault_proxy.py) sits between villaged and
Dovecot / Radicale and cuts connections mid-FETCH, mid-APPEND, after APPEND
before its OK, mid-REPORT, and refuses logins.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest

from tests.imap_kit import NOW, OWNER, imap_village, mail, rows, sync
from tests.servers.fault_proxy import FaultProxy
from tests.servers.tls import make_ca
from tests.test_imap_caldav import EVENTS, ME, event
from tests.test_imap_drafts import draft
from villaged.backends.imap.backend import ImapIO
from villaged.core.assess import assess
from villaged.domain.errors import AuthError, TransientError, VillagedError
from villaged.store import Store

DAY = dt.timedelta(days=1)
PEOPLE_MAIL = ["ada@example.org", "bob.kahn@gmail.com", "cyd@dance.example"]


def fill(account, count: int = 60) -> None:  # type: ignore[no-untyped-def]
    c = account.client()
    for n in range(count):
        who = PEOPLE_MAIL[n % 3]
        when = NOW - (n + 1) * DAY / 2
        if n % 4 == 0:
            c.append("Sent", mail(OWNER, [who], when, msgid=f"<out{n}@t>", subject=f"re {n}"))
        else:
            extra = {"List-Id": "<x.example>"} if n % 7 == 0 else None
            c.append("INBOX", mail(who, [OWNER], when, msgid=f"<in{n}@t>", subject=f"n {n}",
                                   extra=extra, body="x" * (200 * (n % 5))))
    c.logout()


def standings(village, store: Store) -> list[tuple[str, str, str | None]]:  # type: ignore[no-untyped-def]
    return [(s.person.key, s.temperature.value,
             s.last_contact.at.isoformat() if s.last_contact else None)
            for s in assess(village, store.interactions(), NOW)]


def until_done(action, attempts: int = 200):  # type: ignore[no-untyped-def]
    """Run ``action`` again after each transient failure, as the daemon's rounds would."""
    failures = Counter()
    for _ in range(attempts):
        try:
            return action(), failures
        except TransientError as exc:
            failures[exc.message.split(" while ")[0][:60]] += 1
    raise AssertionError(f"still failing after {attempts} attempts: {failures}")


def test_twenty_percent_faults_give_the_same_standings(imap_account, caldav_calendar,
                                                      tmp_path: Path):
    fill(imap_account)
    for ics in EVENTS:
        caldav_calendar.put(ics)
    clean_village = imap_village(imap_account, tmp_path / "clean", calendar=caldav_calendar)
    clean = Store(tmp_path / "clean.db")
    sync(clean_village, clean, tmp_path / "clean")

    imap_proxy = FaultProxy(imap_account.server.imap_port, faults=0.2, seed=7).start()
    dav_proxy = FaultProxy(caldav_calendar.server.port, faults=0.2, seed=8,
                           protocol="http").start()
    try:
        village = imap_village(
            imap_account, tmp_path / "faulty", calendar=caldav_calendar,
            imap={"tls": "none", "port": imap_proxy.port},
            caldav={"url": f"https://127.0.0.1:{dav_proxy.port}/"})
        store = Store(tmp_path / "faulty.db")
        io = ImapIO(village, village.backend, tmp_path / "faulty")
        try:
            until_done(lambda: sync(village, store, tmp_path / "faulty", io=io))
            # and the next round, after new mail, through the same faults
            imap_account.append("INBOX", mail("cyd@dance.example", [OWNER], NOW,
                                              msgid="<late@t>"))
            caldav_calendar.put(event("ada-late", "20261121T150000Z",
                                      [ME, ("ada@example.org", "ACCEPTED")]))
            until_done(lambda: sync(village, store, tmp_path / "faulty", io=io))
        finally:
            io.close()
    finally:
        imap_proxy.stop()
        dav_proxy.stop()
    sync(clean_village, clean, tmp_path / "clean")
    assert rows(store) == rows(clean)
    assert standings(village, store) == standings(clean_village, clean)
    assert imap_proxy.cuts + imap_proxy.stats["refused login"] >= 5, imap_proxy.stats
    assert dav_proxy.stats["connections"] >= 2


def test_thirty_cut_connections_while_drafting_leave_no_duplicate(imap_account, tmp_path: Path):
    proxy = FaultProxy(imap_account.server.imap_port, faults=0.35, seed=3, max_cuts=30).start()
    village = imap_village(imap_account, tmp_path / "state",
                           imap={"tls": "none", "port": proxy.port})
    io = ImapIO(village, village.backend, tmp_path / "state")
    keys = []
    try:
        n = 0
        while proxy.cuts < 30 and n < 300:
            key = f"checkin:p{n}:2026-W48"
            keys.append(key)
            until_done(lambda: io.outbox.put(key, draft(key), None))  # noqa: B023
            n += 1
        assert proxy.cuts >= 30, proxy.stats
        assert proxy.stats["cut after APPEND, before its OK"] >= 3, proxy.stats
        assert proxy.stats["cut mid-APPEND"] >= 3, proxy.stats
        found, _ = until_done(io.outbox.existing)
    finally:
        io.close()
        proxy.stop()
    from email.parser import BytesHeaderParser

    stored = Counter(str(BytesHeaderParser().parsebytes(raw)["X-Villaged-Key"])
                     for raw in imap_account.messages("Drafts").values())
    assert stored == Counter({k: 1 for k in keys})  # every draft once: 0 duplicates
    assert set(found) == set(keys)


# -- one clear message, with a fix, for what only the owner can repair ---------------------

def test_wrong_password(imap_account, tmp_path: Path):
    village = imap_village(imap_account, tmp_path / "state")
    (tmp_path / "state" / "imap-password").write_text("not the password\n")
    with pytest.raises(AuthError) as caught:
        sync(village, Store(tmp_path / "s.db"), tmp_path / "state")
    assert "refused the login" in caught.value.message and "password" in (caught.value.fix or "")


def test_unknown_host(imap_account, tmp_path: Path):
    village = imap_village(imap_account, tmp_path / "state",
                           imap={"host": "no-such-host.invalid"})
    with pytest.raises(VillagedError) as caught:
        sync(village, Store(tmp_path / "s.db"), tmp_path / "state")
    assert "cannot find the IMAP server no-such-host.invalid" in caught.value.message
    assert "host" in (caught.value.fix or "")


def test_untrusted_certificate(imap_account, tmp_path: Path):
    other = make_ca(tmp_path / "other-ca")
    village = imap_village(imap_account, tmp_path / "state", imap={"ca_file": other.ca})
    with pytest.raises(VillagedError) as caught:
        sync(village, Store(tmp_path / "s.db"), tmp_path / "state")
    assert "not trusted" in caught.value.message and "ca_file" in (caught.value.fix or "")


def test_expired_certificate(tmp_path: Path):
    """A Dovecot of its own, serving a certificate that expired yesterday."""
    import shutil
    import tempfile

    from tests.servers import dovecot as dovecot_mod
    from tests.servers.dovecot import DovecotServer
    from tests.servers.pytest_plugin import ImapAccount, unavailable

    why = dovecot_mod.missing()
    if why:
        unavailable(why)
    root = Path(tempfile.mkdtemp(prefix="villaged-dovecot-expired-"))
    server = DovecotServer(root, users={"dana": "pw"}, certs=make_ca(root / "tls", expired=True))
    server.start()
    try:
        account = ImapAccount(server, "dana", "pw")
        village = imap_village(account, tmp_path / "state")
        with pytest.raises(VillagedError) as caught:
            sync(village, Store(tmp_path / "s.db"), tmp_path / "state")
        assert "has expired" in caught.value.message
        assert caught.value.fix
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
