"""Benchmark: villaged's Gmail + Calendar sync against a large synthetic mailbox.

    .venv/bin/python bench/gmail_sync.py [--m 100000] [--m-small 10000] [--n 50]
                                         [--latency 0.05] [--naive-m 100000]

Runs the real GoogleIO (google-api-python-client over HTTP) against the local
Google API server (tests/google_api_server) with ``--latency`` seconds added
to every HTTP round trip, and reports what the server counted: quota units
(Google's published per-method table, batch parts counted one by one) and
round trips.

The synthetic mailbox holds M messages: a village of N people with direct
mail both ways, a few whose newest mail is mailing-list traffic (so the
per-person search has to look further back), a few the owner never wrote
to, and otherwise noise from non-village senders (newsletters included),
spread over two years. The calendar holds meetings with village people.

Cases:

* initial sync (mail + calendar) at M and at M-small: the cost must not
  depend on M;
* a no-change incremental round (mail + calendar);
* 100 new messages (mail; with the calendar's no-change call as well);
* a naive client in the same run: list every message, then get each one
  (format=metadata) in batches of 50, classified by the same rules.

Progress goes to stderr; the last line printed is a JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import logging
import math
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.google_api_server import GoogleApiServer  # noqa: E402
from tests.google_api_server.client import build_service, new_batch  # noqa: E402
from tests.google_fixtures import OWNER, raw_message, token_json, village_toml  # noqa: E402

log = logging.getLogger("bench.gmail_sync")
UTC = dt.UTC
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
D = dt.timedelta
ROLES = ("mentor", "sponsor", "advocate", "coach", "ally", "role model", "peer mentor")
GOOGLE_PER_USER_UNITS_PER_SECOND = 250  # Gmail's per-user rate limit


def village_people(n: int) -> list[tuple[str, tuple[str, ...], str]]:
    people = []
    for k in range(n):
        emails = (f"person{k}@org{k % 7}.example",)
        if k % 3 == 0:
            emails += (f"person.{k}@gmail.com",)
        people.append((f"Person{k} Example", emails, ROLES[k % len(ROLES)]))
    return people


def mailbox_items(m: int, people: list[tuple[str, tuple[str, ...], str]],
                  seed: int = 1) -> list[dict[str, Any]]:
    """M messages as GoogleApiServer.add_message keyword arguments."""
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []

    def add(sender: str, to: list[str], subject: str, when: dt.datetime, sent: bool = False,
            **kw: Any) -> None:
        items.append({"raw": raw_message(sender, to, subject, when, **kw),
                      "labels": ("SENT",) if sent else ("INBOX",), "internal_date": when})

    for k, (_, emails, _) in enumerate(people):
        for j in range(rng.randint(3, 8)):
            when = NOW - D(days=rng.uniform(5, 700))
            add(rng.choice(emails), [OWNER], f"from {k} #{j}", when)
        if k % 10 != 9:  # one in ten: the owner never wrote to them
            for j in range(rng.randint(2, 5)):
                when = NOW - D(days=rng.uniform(5, 700))
                add(OWNER, [emails[0]], f"to {k} #{j}", when, sent=True)
        if k % 12 == 0:  # the newest thing from them is list mail: search further back
            add(emails[0], ["all@list.example"], f"list post {k}", NOW - D(days=1, minutes=k),
                list_id="all.list.example")
        if k % 25 == 0:  # ... twice over
            add(emails[0], ["all@list.example"], f"list post 2 {k}", NOW - D(days=2, minutes=k),
                list_id="all.list.example")
    noise = m - len(items)
    if noise < 0:
        raise SystemExit(f"M={m} is smaller than the village's own mail ({len(items)})")
    for j in range(noise):
        when = NOW - D(seconds=rng.uniform(60, 730 * 86400))
        sender = f"sender{rng.randint(0, 5000)}@noise{j % 50}.example"
        if j % 4 == 0:
            add(sender, [OWNER], f"newsletter {j}", when, list_id=f"n{j % 50}.noise.example")
        else:
            add(sender, [OWNER], f"note {j}", when)
    rng.shuffle(items)
    return items


def seed_calendar(server: GoogleApiServer, people: list[tuple[str, tuple[str, ...], str]]) -> None:
    rng = random.Random(2)
    for k, (_, emails, _) in enumerate(people[:30]):
        start = NOW + D(days=rng.uniform(-300, 50))
        server.add_event("primary", {
            "summary": f"coffee {k}",
            "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "end": {"dateTime": (start + D(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")},
            "attendees": [{"email": OWNER, "responseStatus": "accepted"},
                          {"email": emails[0], "responseStatus": "accepted"}]})


class World:
    """A server with the mailbox, and a village pointed at it."""

    def __init__(self, m: int, n: int, latency: float, workdir: Path) -> None:
        self.people = village_people(n)
        self.server = GoogleApiServer(profile_email=OWNER, clock=lambda: NOW).start()
        started = time.perf_counter()
        self.server.add_messages(mailbox_items(m, self.people))
        seed_calendar(self.server, self.people)
        log.info("M=%d: mailbox built in %.1f s", m, time.perf_counter() - started)
        # The server shares this process: keep its M long-lived messages out of the
        # cyclic GC's way, or every collection the client triggers scans them too.
        gc.freeze()
        self.server.latency = latency
        self.root = workdir / f"m{m}"
        self.state = self.root / "state"
        self.state.mkdir(parents=True)
        (self.root / "village.toml").write_text(village_toml(self.server, self.people))
        from villaged.backends.google.token_store import TOKEN_FILE, write_private
        from villaged.config import load_village

        write_private(self.state / TOKEN_FILE, token_json(self.server).encode())
        self.village = load_village(self.root / "village.toml")

    def stop(self) -> None:
        self.server.stop()

    def measure(self, now: dt.datetime, only: str | None = None) -> dict[str, Any]:
        """Sync (every source, or the one named) and what the server counted."""
        from villaged.backends.google.backend import GoogleIO
        from villaged.domain.addresses import Matcher
        from villaged.ports.source import SyncContext
        from villaged.service.sync import sync_source
        from villaged.store import Store

        io = GoogleIO(self.village, self.village.backend, self.state)
        ctx = SyncContext(Matcher.build(self.village.owner.addresses, self.village.people),
                          self.village.thresholds, now)
        stats = self.server.stats
        stats.reset()
        started = time.perf_counter()
        with Store.in_dir(self.state) as store:
            for source in io.sources():
                if only is None or source.name == only:
                    sync_source(store, source, ctx)
        seconds = time.perf_counter() - started
        return {"units": stats.quota_units, "round_trips": stats.round_trips - stats.token_requests,
                "token_requests": stats.token_requests, "seconds": round(seconds, 3),
                "calls": dict(stats.calls)}

    def newest(self) -> dict[str, str]:
        """Person → their newest direct mail (either way), as synced."""
        from villaged.store import Store

        newest: dict[str, dt.datetime] = {}
        with Store.in_dir(self.state) as store:
            for i in store.interactions():
                if i.source == "gmail" and i.direct and i.at > newest.get(i.person, i.at - D(1)):
                    newest[i.person] = i.at
        return {k: v.isoformat() for k, v in newest.items()}


def naive(world: World, limit: int | None) -> dict[str, Any]:
    """List every message, then get each (format=metadata) in batches of 50."""
    from villaged.backends.google.gmail_message import MESSAGE_FIELDS, METADATA_HEADERS, classify_message
    from villaged.domain.addresses import Matcher

    server = world.server
    gmail = build_service(server, "gmail")
    matcher = Matcher.build(world.village.owner.addresses, world.village.people)
    stats = server.stats
    stats.reset()
    started = time.perf_counter()
    ids: list[str] = []
    token = None
    while True:
        page = gmail.users().messages().list(userId="me", maxResults=500, pageToken=token,
                                             fields="messages(id),nextPageToken").execute()
        ids.extend(m["id"] for m in page.get("messages", []))
        token = page.get("nextPageToken")
        if not token or (limit and len(ids) >= limit):
            break
    listed = len(ids)
    if limit:
        ids = ids[:limit]
    newest: dict[str, dt.datetime] = {}

    def collect(_: str, response: Any, exception: Exception | None) -> None:
        if exception is not None:
            return
        found, _ = classify_message(response, matcher, world.village.thresholds, NOW, "naive")
        for i in found:
            if i.direct and i.at > newest.get(i.person, dt.datetime.min.replace(tzinfo=UTC)):
                newest[i.person] = i.at

    for start in range(0, len(ids), 50):
        batch = new_batch(server, "gmail", collect)
        for msg_id in ids[start:start + 50]:
            batch.add(gmail.users().messages().get(
                userId="me", id=msg_id, format="metadata", metadataHeaders=list(METADATA_HEADERS),
                fields=MESSAGE_FIELDS))
        batch.execute()
        if start // 50 % 200 == 0:
            log.info("naive: %d/%d messages fetched", start, len(ids))
    seconds = time.perf_counter() - started
    return {"units": stats.quota_units, "round_trips": stats.round_trips - stats.token_requests,
            "seconds": round(seconds, 3), "messages": len(ids), "listed": listed,
            "newest": {k: v.isoformat() for k, v in newest.items()}}


def sync_case(m: int, n: int, latency: float, workdir: Path, full: bool) -> dict[str, Any]:
    world = World(m, n, latency, workdir)
    try:
        out: dict[str, Any] = {"initial": world.measure(NOW)}
        log.info("M=%d initial: %s", m, {k: v for k, v in out["initial"].items() if k != "calls"})
        if full:
            out["noop"] = world.measure(NOW + D(minutes=15))
            for j in range(100):
                k = j % n
                sender = world.people[k][1][0] if j % 2 else f"fresh{j}@noise.example"
                when = NOW + D(minutes=16, seconds=j)
                world.server.add_message(raw_message(sender, OWNER, f"new {j}", when),
                                         internal_date=when)
            out["new100_mail"] = world.measure(NOW + D(minutes=30), only="gmail")
            out["new100_calendar"] = world.measure(NOW + D(minutes=30), only="gcalendar:primary")
            out["newest"] = world.newest()
            out["world"] = world
        return out
    finally:
        if not full:
            world.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--m", type=int, default=100_000)
    parser.add_argument("--m-small", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--naive-m", type=int, default=None,
                        help="fetch only this many messages in the naive run (default: all M)")
    parser.add_argument("--naive-latency", type=float, default=None,
                        help="latency for the naive run (default: --latency)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("villaged").setLevel(logging.WARNING)

    n = args.n
    with tempfile.TemporaryDirectory(prefix="villaged-bench-") as tmp:
        workdir = Path(tmp)
        small = sync_case(args.m_small, n, args.latency, workdir, full=False)
        big = sync_case(args.m, n, args.latency, workdir, full=True)
        world: World = big.pop("world")
        try:
            world.server.latency = args.latency if args.naive_latency is None else args.naive_latency
            slow = naive(world, args.naive_m)
        finally:
            world.stop()

    initial, noop = big["initial"], big["noop"]
    new_mail, new_cal = big["new100_mail"], big["new100_calendar"]
    naive_capped = slow["messages"] < args.m
    naive_latency = world.server.latency
    result = {
        "M": args.m,
        "N": n,
        "latency_s": args.latency,
        "initial_units": initial["units"],
        "initial_round_trips": initial["round_trips"],
        "initial_seconds": initial["seconds"],
        "initial_calls": initial["calls"],
        "initial_units_m_small": small["initial"]["units"],
        "initial_round_trips_m_small": small["initial"]["round_trips"],
        "initial_seconds_m_small": small["initial"]["seconds"],
        "M_small": args.m_small,
        "same_cost_whatever_M": (small["initial"]["units"], small["initial"]["round_trips"])
        == (initial["units"], initial["round_trips"]),
        "noop_units": noop["units"],
        "noop_round_trips": noop["round_trips"],
        "noop_seconds": noop["seconds"],
        "new100_round_trips": new_mail["round_trips"],
        "new100_units": new_mail["units"],
        "new100_seconds": new_mail["seconds"],
        "new100_round_trips_with_calendar": new_mail["round_trips"] + new_cal["round_trips"],
        "token_requests": initial["token_requests"] + noop["token_requests"],
        "naive_units": slow["units"],
        "naive_round_trips": slow["round_trips"],
        "naive_seconds": slow["seconds"],
        "naive_messages_fetched": slow["messages"],
        "naive_capped": naive_capped,
        "naive_latency_s": naive_latency,
        # the naive client, reading everything, finds the same newest mail per person
        "naive_agrees": big["newest"] == slow["newest"] if not naive_capped else None,
        "naive_min_seconds_at_google_quota": round(
            slow["units"] / GOOGLE_PER_USER_UNITS_PER_SECOND, 1),
        "targets": {
            "initial_units_max": 20 * n + 50,
            "initial_round_trips_max": math.ceil(4 * n / 50) + 6,
            "noop_round_trips_max": 2,
            "noop_units_max": 5,
            "new100_round_trips_max": 3,
        },
    }
    if naive_capped:
        scale = args.m / slow["messages"]
        result["naive_units_full_M_estimate"] = round(slow["units"] * scale)
        result["naive_round_trips_full_M_estimate"] = round(slow["round_trips"] * scale)
        result["naive_seconds_full_M_estimate"] = round(slow["seconds"] * scale, 1)
    t = result["targets"]
    result["targets_met"] = (
        result["initial_units"] <= t["initial_units_max"]
        and result["initial_round_trips"] <= t["initial_round_trips_max"]
        and result["same_cost_whatever_M"]
        and result["noop_round_trips"] <= t["noop_round_trips_max"]
        and result["noop_units"] <= t["noop_units_max"]
        and result["new100_round_trips"] <= t["new100_round_trips_max"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
