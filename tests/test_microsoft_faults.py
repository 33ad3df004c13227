"""The 20%-fault run: with one Graph call in five failing (429 and 503 with Retry-After, 500, dropped
connections), the initial sync, the incremental rounds and a drafting round reach the same
standings and the same drafts as a fault-free run, with no duplicate draft."""

from __future__ import annotations

from typing import Any

import pytest

from tests.graph_api_server import GraphServer
from tests.graph_fixtures import NOW, OWNER, D, Setup, graph  # noqa: F401  (fixture)

MORE_PEOPLE = tuple((f"Person {n}", (f"p{n}@uni{n % 3}.example",), ("mentor", "sponsor", "ally", "coach")[n % 4])
                    for n in range(12))


def seed(g: GraphServer) -> None:
    for n, (_, (address,), _) in enumerate(MORE_PEOPLE):
        for k in range(3):
            when = NOW - D(days=30 * (n % 5) + 7 * k + 1)
            g.add_message(sender=address, to=(OWNER,), subject=f"from {n}.{k}", when=when)
            if k == 1:
                g.add_message(folder="sentitems", sender=OWNER, to=(address,), subject=f"re {n}", when=when + D(hours=2))
        if n % 4 == 0:
            g.add_message(sender=address, to=(OWNER,), subject="list", when=NOW - D(days=1),
                          headers={"List-Unsubscribe": "<mailto:x@y>"})
        if n % 3 == 0:
            g.add_event(start=NOW - D(days=n + 2), subject=f"meet {n}", attendees=((address, "accepted"),))
            g.add_event(start=NOW + D(days=n + 2), subject=f"soon {n}", attendees=((address, "accepted"),))


def standings(setup: Setup, now: Any) -> list[tuple[Any, ...]]:
    from villaged.core.assess import assess

    village = setup.village()
    with setup.store() as store:
        found = assess(village, store.interactions(), now)
    return [(s.person.key, s.temperature, s.last_contact and s.last_contact.at,
             s.last_inbound and s.last_inbound.at, s.last_outbound and s.last_outbound.at,
             s.next_meeting and s.next_meeting.at) for s in found]


def rounds(setup: Setup, g: GraphServer) -> list[list[tuple[Any, ...]]]:
    from villaged.service.round import run_round

    seen = []
    setup.sync(NOW)
    seen.append(standings(setup, NOW))
    for n in range(3):
        g.add_message(sender=MORE_PEOPLE[n][1][0], to=(OWNER,), subject=f"new {n}", when=NOW + D(hours=n + 1))
    setup.sync(NOW + D(hours=4))
    seen.append(standings(setup, NOW + D(hours=4)))
    village = setup.village()
    with setup.store() as store:
        result = run_round(village, store, setup.io(village), NOW + D(hours=5), draft=True)
    assert not result.interrupted
    return seen


@pytest.mark.slow
def test_a_20_percent_fault_run_reaches_the_same_standings_and_drafts(tmp_path, monkeypatch):
    from villaged.backends.microsoft.drafts import key_of

    results = []
    drafts = []
    for faults in (False, True):
        with GraphServer(owner=OWNER, clock=lambda: NOW) as g:
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(g.ca_file))
            seed(g)
            setup = Setup(g, tmp_path / f"faults-{faults}", MORE_PEOPLE)
            if faults:
                g.configure_faults(0.2, kinds=("429", "503", "500", "drop"), seed=7, retry_after=0)
            results.append(rounds(setup, g))
            if faults:
                assert g.stats.faults >= 10  # the faults really happened
            keys = [key_of(d) for d in g.drafts()]
            assert len(keys) == len(set(keys)) and None not in keys
            drafts.append(sorted(k.split(":", 1)[-1] for k in keys if k))
            assert g.violations == []
    assert results[0] == results[1]
    assert drafts[0] == drafts[1] and drafts[0]
