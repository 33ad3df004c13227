import dataclasses
import email
import email.policy
from pathlib import Path

import pytest

from tests.conftest import NOW, person, seen, village
from villaged.compose.checkin import compose_checkin
from villaged.compose.templating import environment
from villaged.domain.errors import VillagedError
from villaged.domain.village import KEY_HEADER, Action, Agreement, Kind, Role


def action(key="ada", variant=0, reply=None):
    return Action(person=key, action="checkin", reason="r", key=f"checkin:{key}:2026-W48",
                  week="2026-W48", variant=variant, reply_to=reply)


def compose(people, act, config_dir=None):
    v = dataclasses.replace(village(people), config_path=config_dir / "village.toml" if config_dir else None)
    msg = compose_checkin(v, act, environment(v.config_dir), NOW)
    return email.message_from_bytes(bytes(msg), policy=email.policy.default)


def test_casual_checkin_follows_the_source_wording_and_adds_the_homework_line():
    msg = compose([person("ada", name="Ada Lovelace", interests=("computing history",))], action())
    body = msg.get_content()
    assert body.startswith("Hi Ada,\n\nIt has been a while since we last spoke")
    assert "I'd love to hear what's new with computing history." in body
    assert msg["To"].addresses[0].addr_spec == "ada@example.org"
    assert msg["From"].addresses[0].addr_spec == "dana@uni.example"
    assert msg[KEY_HEADER] == "checkin:ada:2026-W48"


def test_every_role_has_its_own_phrasings_and_paragraphs_are_separated():
    for role in Role:
        msg = compose([person("x", role, name="Xi Yang", interests=("jazz",))], action("x"))
        body = msg.get_content()
        assert "jazz" in body and "\n\n" in body
        assert body.rstrip().endswith("\nDana Reyes" if role in (Role.SPONSOR, Role.ROLE_MODEL)
                                      else "\nDana")
    sponsor = compose([person("x", Role.SPONSOR, name="Xi Yang")], action("x", variant=1))
    ally = compose([person("x", Role.ALLY, name="Xi Yang")], action("x", variant=1))
    assert sponsor.get_content() != ally.get_content()


def test_no_homework_line_without_interests():
    body = compose([person("ada", name="Ada Lovelace")], action()).get_content()
    assert "Last time we talked" not in body


def test_formal_mentor_gets_a_note_about_the_agreement():
    agreement = Agreement(rrule="FREQ=WEEKLY;INTERVAL=4", rhythm="every 4 weeks")
    msg = compose([person("ada", name="Ada Lovelace", agreement=agreement)], action())
    assert "every 4 weeks" in msg.get_content()
    assert "mentoring" in msg["Subject"].lower()


def test_phrasings_rotate_so_the_same_text_is_never_sent_twice_in_a_row():
    people = [person("ada", name="Ada Lovelace")]
    bodies = [compose(people, action(variant=n)).get_content() for n in range(4)]
    assert all(a != b for a, b in zip(bodies, bodies[1:]))


def test_reply_goes_inside_the_last_direct_thread():
    reply = seen("ada", 40, Kind.EMAIL_IN, uid="<m2@example.org>", subject="Re: grant")
    reply = dataclasses.replace(reply, thread="<m1@example.org>")
    msg = compose([person("ada")], action(reply=reply))
    assert msg["Subject"] == "Re: grant"
    assert msg["In-Reply-To"] == "<m2@example.org>"
    assert msg["References"] == "<m1@example.org> <m2@example.org>"


def test_header_injection_from_mail_data_is_neutralised():
    hostile = "Hi\r\nBcc: victim@evil.example\r\nX-Evil: 1"
    reply = seen("ada", 40, Kind.EMAIL_IN, uid="<m@x>", subject=hostile)
    p = person("ada", name="Ada\r\nBcc: evil@evil.example")
    raw = bytes(compose_checkin(village([p]), action(reply=reply),
                                environment(None), NOW))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["ada@example.org"]


def test_non_ascii_names_are_encoded_properly():
    raw = bytes(compose_checkin(village([person("jose", name="José Núñez")]), action("jose"),
                                environment(None), NOW))
    assert b"Jos=C3=A9" in raw or b"=?utf-8?" in raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["To"].addresses[0].display_name == "José Núñez"


def test_owner_can_override_templates_from_the_config_directory(tmp_path: Path):
    folder = tmp_path / "templates" / "checkin" / "mentor"
    folder.mkdir(parents=True)
    for n in (1, 2, 3):
        (folder / f"{n}.txt.j2").write_text("Subject: Yo {{ first_name }}\n\nCustom {{ first_name }}\n")
    msg = compose([person("ada", name="Ada Lovelace")], action(), config_dir=tmp_path)
    assert msg["Subject"] == "Yo Ada" and msg.get_content().strip() == "Custom Ada"


def test_a_broken_override_is_a_clear_error(tmp_path: Path):
    folder = tmp_path / "templates" / "checkin" / "mentor"
    folder.mkdir(parents=True)
    (folder / "1.txt.j2").write_text("Subject: x\n\n{{ no_such_variable }}\n")
    with pytest.raises(VillagedError, match="1.txt.j2"):
        compose([person("ada")], action(), config_dir=tmp_path)
