"""Benchmark: villaged's Microsoft 365 sync (Outlook mail + calendar through Graph) on a large mailbox.

    .venv/bin/python bench/graph_sync.py [--m 100000] [--n 50] [--latency 0.05]

The local Graph server (tests/graph_api_server) holds M messages (70% in the
Inbox, 30% in Sent Items, over two years: a village of N people writing both
ways, some of them on mailing lists, and noise from other senders) and a
calendar of meetings; ``--latency`` seconds are added to every HTTP round trip.
villaged itself runs as a real `villaged sync` subprocess (so its peak RSS is
its own, read from the child's rusage), signed in through MSAL.

Cases:

* villaged's initial sync (per-person queries + a delta link per folder that
  starts now), at M and at M/10: requests, seconds, bytes;
* a no-change round (mail + calendar) and the round after 100 new messages;
* a naive client that pages through every message (no $select, $top=1000);
* whole-folder delta with villaged's $select (the design not chosen), to
  measure which initial sync is cheaper.

Every message also carries an HTML body of about 4 KB (what a real message
holds and villaged's $select leaves on the server). The server's own CPU
time (Python, filtering and rendering on the same machine) is included in
the seconds; the 50 ms latency is the only modelled network cost. Progress goes to stderr; the last line is JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.graph_api_server import GraphServer  # noqa: E402
from tests.graph_fixtures import OWNER, Setup  # noqa: E402

log = logging.getLogger("bench.graph_sync")
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
D = dt.timedelta
ROLES = ("mentor", "sponsor", "advocate", "coach", "ally", "role model", "peer mentor")
SELECT = ("from,sender,toRecipients,ccRecipients,bccRecipients,receivedDateTime,sentDateTime,"
          "internetMessageId,conversationId,subject,isDraft,internetMessageHeaders")
TARGETS = {"no_change_round_trips": 2, "new_100_round_trips": 3, "peak_rss_mb": 150}
# `villaged ...` in a child that writes its own peak RSS (VmHWM, which exec resets; ru_maxrss of a
# forked child would count the parent's pages, this process holding the whole mailbox)
CHILD = ("import atexit, os, runpy, sys\n"
         "def peak():\n"
         "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
         "    open(os.environ['BENCH_RSS_FILE'], 'w').write(hwm)\n"
         "atexit.register(peak)\n"
         "sys.argv = ['villaged'] + sys.argv[1:]\n"
         "runpy.run_module('villaged', run_name='__main__')\n")
BODY = "<html><body>" + "<p>Dear colleague, a realistic paragraph of a message body. </p>" * 60 + "</body></html>"


def people(n: int) -> list[tuple[str, tuple[str, ...], str]]:
    return [(f"Person {k}", (f"person{k}@uni{k % 7}.example",), ROLES[k % len(ROLES)]) for k in range(n)]


def seed(g: GraphServer, m: int, village: list[tuple[str, tuple[str, ...], str]], rng: random.Random) -> None:
    addresses = [p[1][0] for p in village]
    strangers = [f"someone{k}@elsewhere{k % 40}.example" for k in range(2000)]
    gc.disable()
    try:
        for k in range(m):
            when = NOW - D(seconds=rng.randrange(730 * 86400))
            village_mail = rng.random() < 0.3
            other = rng.choice(addresses) if village_mail else rng.choice(strangers)
            headers = {"List-Id": "<news.example>"} if not village_mail and rng.random() < 0.3 else None
            if rng.random() < 0.7:
                mid = g.add_message(sender=other, to=(OWNER,), subject=f"m{k}", when=when, headers=headers)
            else:
                mid = g.add_message(folder="sentitems", sender=OWNER, to=(other,), subject=f"m{k}", when=when)
            # what a real message also holds, which villaged's $select leaves on the server
            stored = g.store.find_message(mid)
            assert stored is not None
            stored[1]["body"] = {"contentType": "html", "content": BODY}
            stored[1]["bodyPreview"] = BODY[12:267]
        for k in range(300):
            g.add_event(start=NOW - D(days=rng.randrange(700)) + D(days=30), subject=f"meeting {k}",
                        attendees=((rng.choice(addresses), rng.choice(("accepted", "declined"))),))
    finally:
        gc.enable()


def run_sync(setup: Setup, now: dt.datetime) -> dict[str, Any]:
    g = setup.server
    g.stats.reset()
    began = time.monotonic()
    rss = setup.root / "peak-rss-kb"
    done = subprocess.run([sys.executable, "-c", CHILD, "--now", now.isoformat(), "sync"],
                          env={**setup.env(), "BENCH_RSS_FILE": str(rss)}, capture_output=True, text=True,
                          cwd=ROOT, check=False)
    seconds = time.monotonic() - began
    if done.returncode != 0:
        raise SystemExit(f"villaged sync failed: {done.stderr[-2000:]}")
    return {"round_trips": g.stats.round_trips, "requests": g.stats.calls, "seconds": round(seconds, 2),
            "mb": round(g.stats.bytes_out / 1e6, 2), "peak_rss_mb": round(int(rss.read_text()) / 1024, 1)}


def page_through(g: GraphServer, urls: list[str], headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Follow every nextLink from each start URL; what the server counted."""
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + g.token()
    g.stats.reset()
    began = time.monotonic()
    messages = 0
    for url in urls:
        while url:
            page = session.get(url, headers=headers or {}).json()
            messages += len(page.get("value") or ())
            url = page.get("@odata.nextLink")
    return {"round_trips": g.stats.round_trips, "seconds": round(time.monotonic() - began, 2),
            "mb": round(g.stats.bytes_out / 1e6, 2), "messages": messages}


def measure(m: int, n: int, latency: float, full: bool) -> dict[str, Any]:
    rng = random.Random(m)
    village = people(n)
    with GraphServer(owner=OWNER, clock=lambda: NOW) as g, tempfile.TemporaryDirectory() as tmp:
        os.environ["REQUESTS_CA_BUNDLE"] = str(g.ca_file)
        log.info("seeding %d messages", m)
        seed(g, m, village, rng)
        setup = Setup(g, Path(tmp), village)
        g.latency = latency
        log.info("initial sync at M=%d", m)
        out: dict[str, Any] = {"initial": run_sync(setup, NOW)}
        if not full:
            return out
        out["no_change"] = run_sync(setup, NOW + D(minutes=15))
        for k in range(100):
            g.add_message(sender=village[k % n][1][0], to=(OWNER,), subject=f"new {k}",
                          when=NOW + D(minutes=16, seconds=k))
        out["new_100"] = run_sync(setup, NOW + D(minutes=30))
        base = g.graph_url
        log.info("naive client: every message, no $select")
        out["naive"] = page_through(g, [f"{base}/me/mailFolders/inbox/messages?$top=1000",
                                        f"{base}/me/mailFolders/sentitems/messages?$top=1000"])
        log.info("whole-folder delta with $select")
        out["whole_folder_delta"] = page_through(
            g, [f"{base}/me/mailFolders/{f}/messages/delta?$select={SELECT}" for f in ("inbox", "sentitems")],
            {"Prefer": "odata.maxpagesize=1000"})
        return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--m", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    big = measure(args.m, args.n, args.latency, full=True)
    small = measure(max(args.m // 10, 1000), args.n, args.latency, full=False)
    result = {
        "m": args.m, "n": args.n, "latency_s": args.latency,
        "initial": big["initial"], "initial_at_m_over_10": small["initial"],
        "no_change": big["no_change"], "new_100": big["new_100"],
        "naive": big["naive"], "whole_folder_delta": big["whole_folder_delta"],
        "targets": TARGETS,
        "met": {
            "no_change_round_trips": big["no_change"]["round_trips"] <= TARGETS["no_change_round_trips"],
            "new_100_round_trips": big["new_100"]["round_trips"] <= TARGETS["new_100_round_trips"],
            "initial_independent_of_m": big["initial"]["round_trips"] == small["initial"]["round_trips"],
            "peak_rss_mb": max(big["initial"]["peak_rss_mb"], big["new_100"]["peak_rss_mb"])
            <= TARGETS["peak_rss_mb"],
        },
    }
    rows = [("initial sync, M", big["initial"]), ("initial sync, M/10", small["initial"]),
            ("no-change round", big["no_change"]), ("100 new messages", big["new_100"]),
            ("naive: every message", big["naive"]), ("whole-folder delta + $select", big["whole_folder_delta"])]
    for name, r in rows:
        print(f"{name:32} {r['round_trips']:>6} round trips {r['seconds']:>8} s {r['mb']:>9} MB", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
