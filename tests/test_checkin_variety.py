"""Check-in tone and variety: formal for agreements, rotation, owner overrides."""

import dataclasses
from pathlib import Path

from tests.conftest import NOW, person, village
from villaged.compose.checkin import checkin_folder, compose_checkin
from villaged.compose.templating import environment, variants
from villaged.domain.village import Action, Agreement, Role

AGREEMENT = Agreement(rrule="FREQ=WEEKLY;INTERVAL=4", rhythm="every 4 weeks")


def body(p, variant, config_dir=None):
    v = dataclasses.replace(village([p]),
                            config_path=config_dir / "village.toml" if config_dir else None)
    act = Action(person=p.key, action="checkin", reason="r", key=f"checkin:{p.key}:w{variant}",
                 week="2026-W48", variant=variant)
    msg = compose_checkin(v, act, environment(v.config_dir), NOW)
    return msg["Subject"], msg.get_content()


def test_several_phrasings_ship_for_each_tone():
    env = environment(None)
    assert len(variants(env, "checkin/casual")) >= 5
    assert len(variants(env, "checkin/formal")) >= 3


def test_consecutive_checkins_never_repeat_the_text():
    for p in (person("ada", Role.SPONSOR, interests=("radio",)),
              person("bo", Role.MENTOR, agreement=AGREEMENT)):
        texts = [body(p, n) for n in range(12)]
        assert all(a != b for a, b in zip(texts, texts[1:]))


def test_formal_mentors_get_the_agreement_note_even_with_role_phrasings(tmp_path: Path):
    folder = tmp_path / "templates" / "checkin" / "mentor"
    folder.mkdir(parents=True)
    (folder / "1.txt.j2").write_text("Subject: Mentor hi\n\nHi mentor {{ first_name }}\n")
    formal = person("ada", Role.MENTOR, name="Ada Lovelace", agreement=AGREEMENT)
    casual = person("bo", Role.MENTOR, name="Bo Diddley")
    env = environment(tmp_path)
    assert checkin_folder(env, formal) == "checkin/formal"
    assert checkin_folder(env, casual) == "checkin/mentor"
    subject, text = body(formal, 0, tmp_path)
    assert "every 4 weeks" in text and "mentoring" in subject.lower()
    assert body(casual, 0, tmp_path) == ("Mentor hi", "Hi mentor Bo\n")
    # everyone else keeps the light roulette message
    assert checkin_folder(env, person("cy", Role.ALLY)) == "checkin/casual"
