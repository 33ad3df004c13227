"""One garbage .ics costs only the invitations that need it (issue 9, item 7).

A village where one person has an agreement (an invitation needs a free slot,
so busy times are read) and the configured calendar is garbage: `sync`
tolerates it, `draft` still writes everyone's check-ins, and the plan and the
digest say why there is no invitation this week.
"""

from __future__ import annotations

from tests.servicekit import TUESDAY, Village

AGREEMENT = '''
[person.agreement]
rhythm = "every 2 weeks"
'''


def test_a_garbage_calendar_costs_only_the_invitation(tmp_path):
    village = Village(tmp_path / "v", people=3)
    (village.root / "cal.ics").write_bytes(b"BEGIN:VCALENDAR\n\x00\xff garbage \nEND:NOTHING\n")
    text = village.config.read_text().replace(
        'drafts = "Maildir/.Drafts"', 'drafts = "Maildir/.Drafts"\ncalendars = ["cal.ics"]')
    village.config.write_text(text + AGREEMENT)  # the agreement goes to the last person
    synced = village.cli(TUESDAY, "sync")
    assert synced.returncode == 0, synced.stderr
    plan = village.cli(TUESDAY, "plan")
    assert plan.returncode == 0, plan.stderr
    assert "cannot tell when you are free" in plan.stdout and "cal.ics" in plan.stdout
    drafted = village.cli(TUESDAY, "draft")
    assert drafted.returncode == 0, drafted.stderr
    keys = village.draft_keys()
    assert len(keys) >= 2, keys  # everyone's check-ins (or replies) are drafted
    assert not any("invite" in k for k in keys), keys
    digest = village.cli(TUESDAY, "digest", "--no-deliver", "--stdout")
    assert digest.returncode == 0, digest.stderr
    assert "cannot tell when you are free" in digest.stdout
    assert "cal.ics" in digest.stdout
