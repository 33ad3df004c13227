"""Give-back choice: warm, important, oldest last give, never the same suggestion twice in a row."""

import datetime as dt

from tests.conftest import NOW, person, seen, village
from villaged.core.assess import assess
from villaged.core.giveback import (
    Memory,
    choose_giveback,
    gives_summary,
    is_important,
    suggestions_for,
)
from villaged.domain.village import Agreement, Give, Role

DAY = dt.timedelta(days=1)


def choose(people, items, gives=(), avoid=None):
    v = village(people)
    return choose_giveback(v, assess(v, items, NOW), list(gives), avoid)


def give(key, days_ago, what="something"):
    return Give(key, NOW - days_ago * DAY, what)


def test_the_person_with_the_oldest_last_give_wins_and_never_given_is_oldest():
    people = [person("ada", Role.MENTOR), person("grace", Role.SPONSOR),
              person("kat", Role.ADVOCATE)]
    items = [seen("ada", 3), seen("grace", 3), seen("kat", 3)]
    gives = [give("ada", 90), give("grace", 30)]
    assert choose(people, items, gives).person.key == "kat"
    gives.append(give("kat", 10))
    choice = choose(people, items, gives)
    assert choice.person.key == "ada" and choice.last_give == gives[0]
    assert "your last give to them was 2026-08-25" in choice.reason


def test_only_warm_and_important_relationships_are_considered():
    people = [person("cold-mentor", Role.MENTOR), person("ally", Role.ALLY),
              person("peer", Role.PEER_MENTOR)]
    items = [seen("cold-mentor", 200), seen("ally", 3), seen("peer", 3)]
    assert choose(people, items) is None
    # an agreement or the owner's own ideas make anyone important
    formal = person("peer", Role.PEER_MENTOR,
                    agreement=Agreement(rrule="FREQ=MONTHLY", rhythm="monthly"))
    assert choose([people[0], people[1], formal], items).person.key == "peer"
    keen = person("ally", Role.ALLY, gives=("Invite her to the panel",))
    assert choose([people[0], keen, people[2]], items).text == "Invite her to the panel"


def test_ties_go_to_mentors_then_sponsors_then_config_order():
    people = [person("ally-with-ideas", Role.ALLY, gives=("x",)), person("grace", Role.SPONSOR),
              person("ada", Role.MENTOR)]
    items = [seen(p.key, 3) for p in people]
    assert choose(people, items).person.key == "ada"


def test_never_the_same_suggestion_twice_in_a_row():
    people = [person("grace", Role.SPONSOR, name="Grace Hopper")]
    items = [seen("grace", 3)]
    first = choose(people, items)
    assert first.text == "Nominate Grace for an award or honour in their field"
    second = choose(people, items, avoid=first.text)
    assert second.person.key == "grace" and second.text != first.text


def test_the_owners_own_ideas_come_first_and_done_ones_last():
    grace = person("grace", Role.SPONSOR, name="Grace Hopper",
                   gives=("Nominate Grace for the lifetime achievement award",))
    assert suggestions_for(grace)[0] == "Nominate Grace for the lifetime achievement award"
    done = [give("grace", 40, "nominate grace for the lifetime achievement award ")]
    choice = choose([grace], [seen("grace", 3)], done)
    assert choice.text == "Nominate Grace for an award or honour in their field"


def test_every_role_has_shipped_suggestions_naming_the_person():
    for role in Role:
        ideas = suggestions_for(person("x", role, name="Zora Neale"))
        assert len(ideas) >= 3 and all("Zora" in i for i in ideas)
    assert [r for r in Role if is_important(person("x", r))] == [
        Role.MENTOR, Role.SPONSOR, Role.ADVOCATE, Role.COACH]


def test_memory_keeps_a_weeks_suggestion_on_rerun_and_avoids_it_next_week():
    memory = Memory()
    assert memory.avoid("2026-W48") is None
    people = [person("grace", Role.SPONSOR, name="Grace Hopper")]
    choice = choose(people, [seen("grace", 3)])
    memory = memory.after("2026-W48", choice)
    assert memory.avoid("2026-W48") is None  # same week: keep this week's suggestion
    assert memory.avoid("2026-W49") == choice.text


def test_gives_summary_counts_and_days_since():
    v = village([person("ada"), person("grace")])
    rows = gives_summary(v, [give("ada", 30, "a"), give("ada", 3, "b")], NOW)
    assert [(r.person.key, r.count, r.days_since, r.last.what if r.last else None)
            for r in rows] == [("ada", 2, 3, "b"), ("grace", 0, None, None)]
