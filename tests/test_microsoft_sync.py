"""Outlook mail and calendar through the real MicrosoftIO, MSAL and requests, against the local
Graph server (every response checked against Graph's CSDL; any violation fails the test)."""

from __future__ import annotations

from tests.graph_api_server import GraphServer
from tests.graph_fixtures import NOW, OWNER, OWNER_ALIAS, PEOPLE, D, Setup, graph, ms  # noqa: F401

ADA, GRACE, ALAN, KJ = "ada@analytical.example", "grace@navy.example", "alan@bletchley.example", "kj@nasa.example"


def seed_mail(g: GraphServer) -> None:
    g.add_message(sender=ADA, to=(OWNER,), subject="lunch?", when=NOW - D(days=40))
    g.add_message(sender=ADA, to=(OWNER,), subject="older", when=NOW - D(days=90))
    g.add_message(folder="sentitems", sender=OWNER, to=(ALAN,), subject="hi alan", when=NOW - D(days=10))
    g.add_message(folder="sentitems", sender=OWNER, to=("x@y.example",), bcc=("ghopper@gmail.com",),
                  subject="bcc grace", when=NOW - D(days=8))
    g.add_message(sender=KJ, to=(OWNER,), subject="newsletter", when=NOW - D(days=5),
                  headers={"List-Id": "<news.nasa.example>"})
    g.add_message(sender=GRACE, to=("x@y.example",), bcc=(OWNER,), subject="bcc only", when=NOW - D(days=3))
    g.add_message(sender=ALAN, to=tuple(f"p{n}@uni.example" for n in range(11)) + (OWNER,),
                  subject="to everyone", when=NOW - D(days=2))


def by_person(setup: Setup) -> dict[str, set[tuple[str, bool, str]]]:
    found: dict[str, set[tuple[str, bool, str]]] = {}
    for _, _, person, _, kind, direct, status in setup.interactions():
        found.setdefault(person, set()).add((kind, direct, status))
    return found


def test_initial_sync_applies_the_contact_rules(graph, ms):
    seed_mail(graph)
    ms.sync()
    people = by_person(ms)
    assert ("email_in", True, "ok") in people["ada-lovelace"]
    assert ("email_out", True, "ok") in people["alan-turing"]
    assert ("email_in", False, "too-many-recipients") in people["alan-turing"]
    assert ("email_out", True, "ok") in people["grace-hopper"]  # Bcc from the owner counts
    assert ("email_in", False, "not-addressed-to-owner") in people["grace-hopper"]
    assert people["katherine-johnson"] == {("email_in", False, "bulk")}


def test_a_round_with_nothing_new_is_two_round_trips_and_100_new_messages_three(graph, ms):
    seed_mail(graph)
    ms.sync()
    graph.stats.reset()
    ms.sync(NOW + D(minutes=15))
    assert graph.stats.round_trips <= 2
    for n in range(100):
        graph.add_message(sender=ADA if n % 2 else GRACE, to=(OWNER,), subject=f"n{n}",
                          when=NOW + D(minutes=16, seconds=n))
    graph.stats.reset()
    report = ms.sync(NOW + D(minutes=30))
    assert graph.stats.round_trips <= 3
    assert report.sources["outlook-mail"].new == 100


def test_an_expired_delta_link_resyncs_to_the_same_standings(graph, ms, tmp_path):
    seed_mail(graph)
    ms.sync()
    graph.add_message(sender=ADA, to=(OWNER,), subject="while away", when=NOW + D(hours=1))
    graph.expire_delta_tokens("syncStateNotFound")
    ms.sync(NOW + D(hours=2))
    other = Setup(graph, tmp_path / "fresh")
    other.sync(NOW + D(hours=2))
    newest = lambda s: {(p, k, d): max(a for (_, _, p2, a, k2, d2, _) in s.interactions()  # noqa: E731
                                        if (p2, k2, d2) == (p, k, d))
                        for (_, _, p, _, k, d, _) in s.interactions()}
    assert newest(ms) == newest(other)
    assert newest(ms)[("ada-lovelace", "email_in", True)] == NOW + D(hours=1)


def test_resync_required_is_honoured_too(graph, ms):
    seed_mail(graph)
    ms.sync()
    graph.expire_delta_tokens("resyncRequired")
    report = ms.sync(NOW + D(hours=1))
    assert report.sources["outlook-mail"].batches == 1


def test_a_person_added_later_is_looked_up(graph, ms):
    seed_mail(graph)
    ms.sync()
    graph.add_message(sender="mae@nasa.example", to=(OWNER,), subject="hello", when=NOW - D(days=20))
    extra = PEOPLE + (("Mae Jemison", ("mae@nasa.example",), "role model"),)
    ms.config.write_text(ms.config.read_text().replace('[[person]]', '[[person]]', 1), encoding="utf-8")
    from tests.graph_fixtures import village_toml

    ms.config.write_text(village_toml(graph, extra), encoding="utf-8")
    ms.sync(NOW + D(minutes=15))
    assert ("email_in", True, "ok") in by_person(ms)["mae-jemison"]


def test_throttling_with_retry_after_is_waited_out(graph, ms):
    seed_mail(graph)
    graph.queue_fault("429", route="message.list", count=3, retry_after=1)
    graph.queue_fault("503", route="batch", count=1, retry_after=1)
    ms.sync()
    assert ("email_in", True, "ok") in by_person(ms)["ada-lovelace"]


def test_meetings_declined_cancelled_large_and_future(graph, ms):
    graph.add_event(start=NOW - D(days=3), subject="1:1", attendees=((ADA, "accepted"),))
    graph.add_event(start=NOW - D(days=4), subject="declined by grace", attendees=((GRACE, "declined"),))
    graph.add_event(start=NOW - D(days=5), subject="i declined", organizer=ALAN, response="declined",
                    attendees=((OWNER, "none"), (ALAN, "organizer")))
    graph.add_event(start=NOW - D(days=6), subject="cancelled", cancelled=True, attendees=((KJ, "accepted"),))
    graph.add_event(start=NOW - D(days=7), subject="grand rounds",
                    attendees=tuple((f"d{n}@uni.example", "accepted") for n in range(12)) + ((KJ, "accepted"),))
    for week in range(3):  # a weekly series: Graph returns each occurrence
        graph.add_event(start=NOW - D(days=7 * week + 1), subject="weekly", series="series-1",
                        attendees=((ALAN, "accepted"),))
    graph.add_event(start=NOW + D(days=3), subject="soon", attendees=((GRACE, "accepted"),))
    ms.sync()
    meetings = {(p, s) for (_, _, p, _, k, _, s) in ms.interactions() if k == "meeting"}
    assert ("ada-lovelace", "ok") in meetings
    assert ("grace-hopper", "declined") in meetings
    assert ("alan-turing", "declined") in meetings
    assert ("katherine-johnson", "cancelled") in meetings
    assert ("katherine-johnson", "too-many-attendees") in meetings
    assert ("grace-hopper", "ok") in meetings  # the future one: scheduled contact
    weekly = [i for i in ms.interactions() if i[2] == "alan-turing" and i[6] == "ok"]
    assert len(weekly) == 3


def test_a_deleted_event_takes_its_contact_back(graph, ms):
    event_id = graph.add_event(start=NOW - D(days=3), subject="1:1", attendees=((ADA, "accepted"),))
    ms.sync()
    assert any(i[2] == "ada-lovelace" for i in ms.interactions())
    graph.store.remove_event(None, event_id)
    ms.sync(NOW + D(minutes=15))
    assert not any(i[2] == "ada-lovelace" for i in ms.interactions())


def test_busy_times_come_from_the_calendar(graph, ms):
    graph.add_event(start=NOW + D(days=1), end=NOW + D(days=1, hours=1), subject="busy")
    graph.add_event(start=NOW + D(days=1, hours=3), subject="free", show_as="free")
    graph.add_event(start=NOW + D(days=2), subject="declined", organizer=ADA, response="declined")
    busy = ms.io().busy(NOW, NOW + D(days=7))
    assert busy == [(NOW + D(days=1), NOW + D(days=1, hours=1))]
