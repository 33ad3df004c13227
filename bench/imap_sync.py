"""Benchmark: villaged's IMAP + CalDAV sync against a local Dovecot and Radicale.

    .venv/bin/python bench/imap_sync.py [--m 100000] [--n 50] [--strategies search,all]

Starts the test suite's real servers (tests/servers: Dovecot as an unprivileged
process on 127.0.0.1 with TLS, Radicale likewise), writes a generated mailbox
of M messages straight into the Dovecot user's Maildir (INBOX 80 %, Sent
20 %, realistic header sets: Received chains, DKIM and ARC signatures,
Authentication-Results, mailing-list headers; 5 % of the mail involves the
village of N people, both ways, some of it list traffic) and lets Dovecot
index it, then measures, each in a fresh child process (so peak RSS is
villaged's alone):

* the initial sync (mail + calendar) with each strategy: ``search`` (what
  villaged uses: one UID SEARCH per folder over the village's domains, then
  the needed header fields of the hits) and ``all`` (the needed header fields
  of every message in the lookback);
* a naive client that fetches every message's full header block
  (``BODY.PEEK[HEADER]``);
* a no-change round (mail + calendar);
* the round after 100 new messages (delivered to INBOX with doveadm).

Bytes are counted by a pass-through TCP proxy between villaged and Dovecot
(plain IMAP over loopback, ``tls = "none"``: the byte counts then exclude TLS
framing); commands are counted by villaged's IMAP session (tagged commands
after login) and CalDAV requests by its HTTP client.

Progress goes to stderr; the last line printed is a JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers.dovecot import DovecotServer  # noqa: E402
from tests.servers.fault_proxy import FaultProxy  # noqa: E402
from tests.servers.radicale import RadicaleServer  # noqa: E402

NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
OWNER = "dana@uni.example"
PASSWORD = "bench password"
ORGS = ["uni.example", "med.example.org", "hospital.example", "gmail.com", "lab.example.net",
        "inst.example", "college.example.edu", "foundation.example"]


SIGNATURES = ["".join(random.Random(k).choice(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(344))
    for k in range(64)]


def people(n: int) -> list[tuple[str, str, str]]:
    """(key, name, address) of the village."""
    return [(f"p{i}", f"Person Number{i}", f"person{i}@{ORGS[i % len(ORGS)]}") for i in range(n)]


def stderr(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


# -- the mailbox ---------------------------------------------------------------------------

def headers(rng: random.Random, sender: str, to: list[str], when: dt.datetime, n: int,
            listy: bool) -> str:
    date = format_datetime(when)
    domain = sender.rpartition("@")[2]
    received = "".join(
        f"Received: from mx{k}.{domain} (mx{k}.{domain} [192.0.2.{rng.randint(1, 254)}])\n"
        f"\tby imap.uni.example (Postfix) with ESMTPS id {rng.getrandbits(40):010X}\n"
        f"\tfor <{OWNER}>; {date}\n" for k in range(3))
    sig = SIGNATURES[n % len(SIGNATURES)]
    block = (
        f"Return-Path: <{sender}>\n{received}"
        f"Authentication-Results: imap.uni.example; dkim=pass header.d={domain}; spf=pass "
        f"smtp.mailfrom={sender}; dmarc=pass header.from={domain}\n"
        f"ARC-Seal: i=1; a=rsa-sha256; t={int(when.timestamp())}; cv=none; d={domain}; s=arc;\n"
        f"\tb={sig[:172]}\n\t{sig[172:]}\n"
        f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=s1;\n"
        f"\th=from:to:subject:date:message-id:mime-version:content-type;\n"
        f"\tbh={sig[:44]};\n\tb={sig}\n"
        f"From: Sender {n} <{sender}>\nTo: {', '.join(to)}\n"
        f"Subject: Message number {n} about the quarterly schedule and the next steps\n"
        f"Date: {date}\nMessage-ID: <bench.{n}.{rng.getrandbits(32):08x}@{domain}>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 7bit\nX-Mailer: Bench Mailer 1.0\n")
    if listy:
        block += (f"List-Id: <news.{domain}>\nList-Unsubscribe: <mailto:leave@{domain}>, "
                  f"<https://{domain}/unsubscribe?u={n}>\nPrecedence: bulk\n")
    return block


def generate(maildir: Path, m: int, village: list[tuple[str, str, str]], seed: int = 1) -> None:
    rng = random.Random(seed)
    inbox = maildir / "cur"
    sent = maildir / ".Sent" / "cur"
    for folder in (maildir, maildir / ".Sent"):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    start = NOW - dt.timedelta(days=700)
    body = ("Hello,\n\nThis is the body of a generated message. villaged never reads it.\n"
            * 4)
    for n in range(m):
        when = start + dt.timedelta(seconds=int(700 * 86400 * n / m))
        outgoing = n % 5 == 0
        involved = rng.random() < 0.05
        other = f"someone{rng.randint(0, 5000)}@{rng.choice(ORGS)}"
        other = other.replace("@gmail.com", "@mail.example")  # keep the village's gmail apart
        if outgoing:
            to = [village[rng.randrange(len(village))][2] if involved else other]
            block = headers(rng, OWNER, to, when, n, False)
            path = sent / f"{1700000000 + n}.M{n}P1.bench:2,S"
        else:
            sender = village[rng.randrange(len(village))][2] if involved else other
            listy = rng.random() < (0.15 if involved else 0.4)
            to = [OWNER] if not listy else [f"news@{sender.rpartition('@')[2]}"]
            block = headers(rng, sender, to, when, n, listy)
            path = inbox / f"{1700000000 + n}.M{n}P1.bench:2,S"
        path.write_text(block + "\n" + body)


# -- one measured phase, in a child process -------------------------------------------------

def child(spec: dict[str, Any]) -> dict[str, Any]:
    from villaged.backends.imap.backend import ImapIO
    from villaged.backends.imap.mail_source import ImapMailSource
    from villaged.backends.imap.settings import (
        CaldavSettings,
        ImapBackend,
        ImapSettings,
    )
    from villaged.domain.addresses import Matcher
    from villaged.domain.village import Owner, Person, Role, Village
    from villaged.ports.source import SyncContext
    from villaged.service.sync import sync_all
    from villaged.store import Store

    state = Path(spec["state"])
    imap = ImapSettings(host="127.0.0.1", port=spec["imap_port"], username="dana", tls="none",
                        secret="file", timeout_seconds=600)
    caldav = CaldavSettings(url=spec["caldav_url"], username="dana", ca_file=Path(spec["ca"]),
                            secret="file")
    village = Village(
        owner=Owner(name="Dana Reyes", addresses=(OWNER,), timezone=__import__(
            "zoneinfo").ZoneInfo("America/Chicago")),
        people=tuple(Person(key=k, name=name, emails=(email,), role=Role.MENTOR)
                     for k, name, email in spec["people"]),
        backend=ImapBackend(imap=imap, caldav=caldav))
    io = ImapIO(village, village.backend, state)
    ctx = SyncContext(matcher=Matcher.build(village.owner.addresses, village.people),
                      limits=village.thresholds, now=NOW)
    result: dict[str, Any] = {}
    started = time.perf_counter()
    if spec["phase"] == "naive":
        session = io.connection.session()
        fetched = 0
        for folder in ("INBOX", "Sent"):
            session.examine(folder)
            uids = session.uid_search(["ALL"], "listing")
            for i in range(0, len(uids), 5000):
                chunk = uids[i:i + 5000]
                got = session.fetch_range(f"{chunk[0]}:{chunk[-1]}", "(BODY.PEEK[HEADER])", "naive")
                fetched += len(got)
        result["messages"] = fetched
    else:
        with Store.in_dir(state) as store:
            sources = io.sources()
            if spec.get("strategy") == "all":
                sources[0] = ImapMailSource(io.connection.session, imap, village.owner.addresses,
                                            village.people, strategy="all",
                                            reset=io.connection.reset)
            report = sync_all(store, sources, ctx)
            result["interactions"] = report.new
            result["stored"] = len(store.interactions())
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["imap_commands"] = io.connection.commands
    result["caldav_requests"] = io.caldav.requests if io.caldav else 0
    io.close()
    result["peak_rss_mb"] = round(peak_rss_kb() / 1024, 1)
    return result


def peak_rss_kb() -> int:
    """This process image's peak RSS: VmHWM on Linux (ru_maxrss also carries the parent's
    high-water mark across fork and exec, here the generator's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_child(spec: dict[str, Any], proxy: FaultProxy) -> dict[str, Any]:
    before = proxy.bytes_down
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["imap_bytes_received"] = proxy.bytes_down - before
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--m", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--strategies", default="search,all")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive client")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    village = people(args.n)
    dovecot_root = Path(tempfile.mkdtemp(prefix="villaged-bench-dovecot-"))
    radicale_root = Path(tempfile.mkdtemp(prefix="villaged-bench-radicale-"))
    work = Path(tempfile.mkdtemp(prefix="villaged-bench-"))
    dovecot = DovecotServer(dovecot_root, users={"dana": PASSWORD})
    radicale = RadicaleServer(radicale_root, users={"dana": PASSWORD})
    proxy: FaultProxy | None = None
    try:
        dovecot.root.mkdir(parents=True, exist_ok=True)
        stderr(f"generating {args.m} messages...")
        t0 = time.perf_counter()
        generate(dovecot.maildir("dana"), args.m, village)
        stderr(f"  {time.perf_counter() - t0:.1f} s")
        dovecot.start()  # hands the tree to the unprivileged user
        stderr("letting Dovecot index the mailbox (a server's normal state)...")
        t0 = time.perf_counter()
        dovecot.doveadm("index", "-u", "dana", "INBOX")
        dovecot.doveadm("index", "-u", "dana", "Sent")
        dovecot.doveadm("mailbox", "status", "-u", "dana", "messages", "INBOX", "Sent")
        stderr(f"  {time.perf_counter() - t0:.1f} s")
        radicale.start()
        import caldav

        client = caldav.DAVClient(url=radicale.url, username="dana", password=PASSWORD,
                                  ssl_verify_cert=str(radicale.certs.ca) if radicale.certs else True)
        calendar = client.principal().make_calendar(name="Work", cal_id="work")
        for i, (_, _, email) in enumerate(village[:20]):
            start = (NOW - dt.timedelta(days=3 * i + 1)).strftime("%Y%m%dT%H%M%SZ")
            calendar.save_event(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:bench\r\nBEGIN:VEVENT\r\n"
                f"UID:bench-{i}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{start}\r\n"
                f"DURATION:PT45M\r\nSUMMARY:Meeting {i}\r\nORGANIZER:mailto:{OWNER}\r\n"
                f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{email}\r\n"
                + ("RRULE:FREQ=WEEKLY;COUNT=20\r\n" if i % 4 == 0 else "")
                + "END:VEVENT\r\nEND:VCALENDAR\r\n")
        proxy = FaultProxy(dovecot.imap_port, faults=0.0).start()
        base = {"imap_port": proxy.port, "caldav_url": radicale.url,
                "ca": str(radicale.certs.ca) if radicale.certs else "", "people": village}
        results: dict[str, Any] = {"m": args.m, "n": args.n}
        for strategy in args.strategies.split(","):
            state = work / f"state-{strategy}"
            state.mkdir()
            for service in ("imap", "caldav"):
                (state / f"{service}-password").write_text(PASSWORD)
                (state / f"{service}-password").chmod(0o600)
            stderr(f"initial sync, strategy {strategy}...")
            results[f"initial_{strategy}"] = run_child(
                {**base, "state": str(state), "phase": "initial", "strategy": strategy}, proxy)
            stderr(f"  {results[f'initial_{strategy}']}")
        if not args.no_naive:
            stderr("naive client: every message's full header block...")
            results["naive"] = run_child({**base, "state": str(work / "state-search"),
                                          "phase": "naive"}, proxy)
            stderr(f"  {results['naive']}")
        state = str(work / "state-search")
        stderr("no-change round...")
        results["no_change"] = run_child({**base, "state": state, "phase": "round"}, proxy)
        stderr(f"  {results['no_change']}")
        stderr("100 new messages...")
        new = work / "new"
        new.mkdir()
        for i in range(100):
            who = village[i % len(village)][2]
            raw = headers(random.Random(i), who, [OWNER], NOW - dt.timedelta(minutes=i),
                          10_000_000 + i, False) + "\nNew message.\n"
            (new / f"{i}.eml").write_text(raw)
        c = __import__("imapclient").IMAPClient("127.0.0.1", port=dovecot.imap_port, ssl=False)
        c.login("dana", PASSWORD)
        for i in range(100):
            c.append("INBOX", (new / f"{i}.eml").read_bytes().replace(b"\n", b"\r\n"))
        c.logout()
        results["new_100"] = run_child({**base, "state": state, "phase": "round"}, proxy)
        stderr(f"  {results['new_100']}")
        search = results["initial_search"]
        naive = results.get("naive")
        results["summary"] = {
            "initial_seconds": search["seconds"],
            "initial_bytes_vs_naive": round(search["imap_bytes_received"]
                                            / max(naive["imap_bytes_received"], 1), 4)
            if naive else None,
            "no_change_round_trips": results["no_change"]["imap_commands"]
            + results["no_change"]["caldav_requests"],
            "new_100_round_trips": results["new_100"]["imap_commands"]
            + results["new_100"]["caldav_requests"],
            "peak_rss_mb": max(r["peak_rss_mb"] for k, r in results.items()  # villaged's own
                               if isinstance(r, dict) and "peak_rss_mb" in r and k != "naive"),
        }
        print(json.dumps(results))
    finally:
        if proxy is not None:
            proxy.stop()
        dovecot.stop()
        radicale.stop()
        for d in (dovecot_root, radicale_root, work):
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
