"""Gmail source against the local Google API server, over HTTP, with the real client."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.google_api_server import GoogleApiServer
from tests.google_fixtures import NOW, OWNER, OWNER_ALIAS, PEOPLE, Setup, raw_message, server, setup  # noqa: F401  (fixtures)

D = dt.timedelta
ADA, GRACE, ALAN, KJ = (p[1][0] for p in PEOPLE)


def deliver(server: GoogleApiServer, sender: str, to: str | list[str], subject: str,
            when: dt.datetime, *, sent: bool = False, **kw: object) -> str:
    labels = ("SENT",) if sent else ("INBOX",)
    return server.add_message(raw_message(sender, to, subject, when, **kw), labels=labels,
                              internal_date=when)


def newest(setup: Setup) -> dict[tuple[str, str], dt.datetime]:
    """(person, kind) → newest direct contact, as assess would see it."""
    found: dict[tuple[str, str], dt.datetime] = {}
    for _, _, person, at, kind, direct, _, _ in setup.interactions("gmail"):
        if direct and at > found.get((person, kind), dt.datetime.min.replace(tzinfo=dt.UTC)):
            found[(person, kind)] = at
    return found


def test_initial_sync_finds_newest_direct_message_each_way(server, setup):
    deliver(server, ADA, OWNER, "old", NOW - D(days=40))
    deliver(server, ADA, OWNER, "newer", NOW - D(days=3))
    deliver(server, OWNER, [ADA], "my reply", NOW - D(days=2), sent=True)
    deliver(server, OWNER_ALIAS, ["ghopper@gmail.com"], "from my alias", NOW - D(days=9), sent=True)
    deliver(server, "stranger@else.example", OWNER, "unrelated", NOW - D(days=1))
    setup.sync()
    assert newest(setup) == {
        ("ada-lovelace", "email_in"): NOW - D(days=3),
        ("ada-lovelace", "email_out"): NOW - D(days=2),
        ("grace-hopper", "email_out"): NOW - D(days=9),
    }


def test_initial_sync_pages_past_mass_mail_only_when_needed(server, setup):
    # Grace's newest messages are newsletters addressed to the owner (mass mail);
    # her last direct message is older. Alan's newest is direct: nothing more is read.
    deliver(server, GRACE, OWNER, "direct", NOW - D(days=30))
    for n in range(5):
        deliver(server, GRACE, OWNER, f"newsletter {n}", NOW - D(days=n + 1),
                list_id="all.navy.example")
    deliver(server, ALAN, OWNER, "hello", NOW - D(days=4))
    for n in range(5):
        deliver(server, ALAN, OWNER, f"older {n}", NOW - D(days=10 + n))
    server.reset_stats()
    setup.sync()
    assert newest(setup) == {("grace-hopper", "email_in"): NOW - D(days=30),
                             ("alan-turing", "email_in"): NOW - D(days=4)}
    # Grace: the newest, 1 more, 2 more, then the 2 left (the direct one among them); Alan: 1
    assert server.stats.calls["gmail.users.messages.get"] == (1 + 1 + 2 + 2) + 1
    # Mass mail seen is recorded, but not as contact
    statuses = {s for _, _, p, _, _, d, s, _ in setup.interactions("gmail") if p == "grace-hopper" and not d}
    assert statuses == {"bulk"}


def test_initial_sync_costs_the_same_whatever_the_mailbox_size(tmp_path):
    def run(extra: int, where) -> tuple[int, int]:
        with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW) as srv:
            rng = random.Random(1)
            for _, emails, _ in PEOPLE:
                deliver(srv, emails[0], OWNER, "hi", NOW - D(days=rng.randint(1, 50)))
                deliver(srv, OWNER, emails[0], "yo", NOW - D(days=rng.randint(1, 50)), sent=True)
            srv.add_messages(
                raw_message(f"noise{n}@spam.example", OWNER, f"noise {n}", NOW - D(minutes=n))
                for n in range(extra))
            s = Setup(srv, where)
            srv.reset_stats()
            s.sync()
            return srv.stats.quota_units, srv.stats.round_trips

    small = run(10, tmp_path / "small")
    large = run(3000, tmp_path / "large")
    assert small == large
    units, trips = large
    n = len(PEOPLE)
    assert units <= 20 * n + 50
    assert trips <= -(-4 * n // 50) + 6


def test_list_posts_not_addressed_to_the_owner_cost_nothing(tmp_path):
    """Issue 9, item 11: a person with many list posts and no mail to the owner made
    the inbound search page through all of them. The search now asks Gmail only for
    mail the owner received directly (to:/cc:/bcc:): ≤ 20·N + 50 units, same result."""
    def run(posts: int, where) -> tuple[dict, int]:
        with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW) as srv:
            deliver(srv, ADA, OWNER, "hi", NOW - D(days=20))
            deliver(srv, OWNER, GRACE, "yo", NOW - D(days=8), sent=True)
            deliver(srv, ALAN, [OWNER, "x@y.example"], "both", NOW - D(days=5), cc=[KJ])
            deliver(srv, KJ, ["someone@else.example"], "bcc'd", NOW - D(days=2),
                    headers=[("Bcc", OWNER)])
            for n in range(posts):  # Grace posts to a list; the owner only reads the list
                deliver(srv, GRACE, "fellows@lists.example", f"post {n}",
                        NOW - D(days=1, minutes=n), list_id="fellows.lists.example")
            s = Setup(srv, where)
            srv.reset_stats()
            s.sync()
            return newest(s), srv.stats.quota_units

    quiet, quiet_units = run(0, tmp_path / "quiet")
    busy, busy_units = run(23, tmp_path / "busy")
    assert busy == quiet == {("ada-lovelace", "email_in"): NOW - D(days=20),
                             ("grace-hopper", "email_out"): NOW - D(days=8),
                             ("alan-turing", "email_in"): NOW - D(days=5)}
    assert busy_units == quiet_units <= 20 * len(PEOPLE) + 50


def test_queries_exclude_chats_and_drafts_and_respect_the_lookback(server, setup):
    deliver(server, ADA, OWNER, "ancient", NOW - D(days=900))
    server.add_message(raw_message(ADA, OWNER, "chat", NOW - D(days=1)), labels=("CHAT",),
                       internal_date=NOW - D(days=1))
    server.add_message(raw_message(OWNER, ADA, "unsent draft", NOW - D(days=1)), labels=("DRAFT",),
                       internal_date=NOW - D(days=1))
    setup.sync()
    assert newest(setup) == {}


def test_incremental_sync_reads_history_and_records_sent_mail(server, setup):
    deliver(server, ADA, OWNER, "hi", NOW - D(days=20))
    setup.sync()
    server.reset_stats()
    later = NOW + D(days=1)
    deliver(server, ALAN, OWNER, "news", later - D(hours=2))
    deliver(server, OWNER, [KJ], "my note", later - D(hours=1), sent=True)
    deliver(server, "someone@else.example", OWNER, "noise", later - D(hours=1))
    setup.sync(later)
    assert newest(setup) == {
        ("ada-lovelace", "email_in"): NOW - D(days=20),
        ("alan-turing", "email_in"): later - D(hours=2),
        ("katherine-johnson", "email_out"): later - D(hours=1),
    }
    assert server.stats.calls["gmail.users.history.list"] == 1
    assert server.stats.calls["gmail.users.messages.list"] == 0
    assert server.stats.calls["gmail.users.messages.get"] == 3


def test_a_draft_the_owner_sends_counts_as_outbound(server, setup):
    setup.sync()
    server.add_message(raw_message(OWNER, [ADA], "check-in", NOW), labels=("DRAFT",),
                       internal_date=NOW)
    setup.sync(NOW + D(minutes=5))
    assert newest(setup) == {}  # a draft is not contact
    draft = server.mailbox.create_draft(raw_message(OWNER, [ADA], "check-in 2", NOW), None, NOW)[0]
    server.send_draft(draft)
    setup.sync(NOW + D(minutes=10))
    assert newest(setup) == {("ada-lovelace", "email_out"): NOW}


def test_expired_history_resyncs_per_person_with_the_same_result(server, tmp_path):
    def scenario(expire: bool, where) -> dict:
        with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW) as srv:
            s = Setup(srv, where)
            deliver(srv, ADA, OWNER, "hi", NOW - D(days=20))
            deliver(srv, OWNER, GRACE, "hello", NOW - D(days=15), sent=True)
            s.sync()
            deliver(srv, ADA, OWNER, "again", NOW - D(hours=5))
            deliver(srv, OWNER, ALAN, "ping", NOW - D(hours=4), sent=True)
            deliver(srv, GRACE, "all@navy.example", "list", NOW - D(hours=3), list_id="l.navy.example")
            if expire:
                srv.expire_history()
            srv.reset_stats()
            s.sync(NOW + D(hours=1))
            if expire:
                assert srv.stats.calls["gmail.users.getProfile"] == 1
                assert srv.stats.calls["gmail.users.messages.list"] == 2 * len(PEOPLE)
            else:
                assert srv.stats.calls["gmail.users.messages.list"] == 0
            after = newest(s)
            # and the next round is incremental again
            srv.reset_stats()
            s.sync(NOW + D(hours=2))
            assert srv.stats.calls["gmail.users.messages.list"] == 0
            return after

    assert scenario(True, tmp_path / "expired") == scenario(False, tmp_path / "kept")


def test_a_newcomer_to_the_village_is_searched_without_a_full_resync(server, tmp_path):
    s = Setup(server, tmp_path, people=PEOPLE[:2])
    deliver(server, ALAN, OWNER, "hi", NOW - D(days=8))
    s.sync()
    assert newest(s) == {}
    s.config.write_text(s.config.read_text() + '\n[[person]]\nname = "Alan Turing"\nemails = ["alan@bletchley.example"]\n'
        'role = "peer mentor"\n')
    server.reset_stats()
    s.sync(NOW + D(minutes=1))
    assert newest(s) == {("alan-turing", "email_in"): NOW - D(days=8)}
    assert server.stats.calls["gmail.users.messages.list"] == 2  # Alan's two searches only
    assert server.stats.calls["gmail.users.getProfile"] == 0


def test_malformed_headers_are_skipped_and_counted(server, setup):
    deliver(server, ADA, OWNER, "bad date", NOW - D(days=1), date_header="not a date at all")
    deliver(server, ADA, OWNER, "fine", NOW - D(days=2))
    deliver(server, GRACE, OWNER, "huge", NOW - D(days=1),
            headers=[("References", " ".join(f"<r{n}@x.example>" for n in range(20000)))])
    deliver(server, GRACE, OWNER, "fine", NOW - D(days=3))
    report = setup.sync()
    assert newest(setup) == {("ada-lovelace", "email_in"): NOW - D(days=2),
                             ("grace-hopper", "email_in"): NOW - D(days=3)}
    skipped = report.sources["gmail"].skipped
    assert skipped == {"unparseable Date header": 1, "oversized headers": 1}
    # an empty From arrives through history: skipped, counted, and the sync goes on
    deliver(server, "", OWNER, "no sender", NOW + D(hours=1))
    deliver(server, ALAN, OWNER, "ok", NOW + D(hours=2))
    report = setup.sync(NOW + D(hours=3))
    assert report.sources["gmail"].skipped == {"no sender address": 1}
    assert ("alan-turing", "email_in") in newest(setup)
    with setup.store() as store:
        assert store.skips()["gmail"] == {"unparseable Date header": 1, "oversized headers": 1,
                                          "no sender address": 1}


def test_random_faults_do_not_change_what_is_synced(tmp_path):
    people = [(f"Person {n}", (f"p{n}@uni{n % 3}.example", f"alt{n}@gmail.com"), "ally")
              for n in range(15)]

    def world(srv: GoogleApiServer) -> None:
        rng = random.Random(7)
        for _, emails, _ in people:
            for n in range(6):
                when = NOW - D(days=rng.randint(1, 300), minutes=n)
                if rng.random() < 0.5:
                    deliver(srv, emails[0], OWNER, f"m{n}", when,
                            list_id="l.example" if rng.random() < 0.4 else None)
                else:
                    deliver(srv, OWNER, emails[-1], f"m{n}", when, sent=True)
        srv.add_messages(raw_message(f"n{n}@x.example", OWNER, "noise", NOW - D(hours=n))
                         for n in range(200))

    def more(srv: GoogleApiServer, step: int) -> None:
        for n, (_, emails, _) in enumerate(people[step::3]):
            deliver(srv, emails[0], OWNER, "new", NOW + D(hours=step, minutes=10 + n))
            deliver(srv, OWNER, emails[0], "reply", NOW + D(hours=step, minutes=20 + n), sent=True)

    def run(rate: float, where) -> set:
        with GoogleApiServer(profile_email=OWNER, clock=lambda: NOW) as srv:
            world(srv)
            s = Setup(srv, where, people=people)
            srv.configure_faults(rate, kinds=("429", "403rate", "500", "503", "drop"), seed=3)
            s.sync()
            for step in range(1, 4):
                more(srv, step)
                s.sync(NOW + D(hours=step, minutes=59))
            if rate:
                assert sum(srv.stats.faults.values()) >= 15
            return s.interactions()

    clean = run(0.0, tmp_path / "clean")
    assert len(clean) >= 3 * len(people)
    assert run(0.2, tmp_path / "faulty") == clean


def test_a_forbidden_error_that_is_not_a_rate_limit_is_not_retried(server, setup):
    from villaged.domain.errors import AuthError

    deliver(server, ADA, OWNER, "hi", NOW - D(days=1))
    server.queue_fault("403", "gmail.users.getProfile", count=1)  # userRateLimitExceeded
    server.queue_fault("403rate", "gmail.users.getProfile", count=1)  # rateLimitExceeded
    setup.sync()
    assert server.stats.calls["gmail.users.getProfile"] == 1  # served once, after two retries
    assert ("ada-lovelace", "email_in") in newest(setup)
    server.granted_scopes = [s for s in server.granted_scopes if "gmail" not in s]
    server.reset_stats()
    with server.expect_violations(), pytest.raises(AuthError) as err:
        setup.sync(NOW + D(minutes=1))
    assert "run `villaged auth` again" in str(err.value)
    assert server.stats.round_trips == 1  # insufficientPermissions: not retried


def test_a_flood_of_new_mail_is_searched_per_person_instead_of_read(server, setup):
    deliver(server, ADA, OWNER, "hi", NOW - D(days=20))
    setup.sync()
    server.add_messages(raw_message(f"n{n}@noise.example", OWNER, "noise", NOW + D(seconds=n))
                        for n in range(6 * len(PEOPLE) + 1))
    deliver(server, GRACE, OWNER, "in the flood", NOW + D(minutes=30))
    server.reset_stats()
    setup.sync(NOW + D(hours=1))
    assert newest(setup) == {("ada-lovelace", "email_in"): NOW - D(days=20),
                             ("grace-hopper", "email_in"): NOW + D(minutes=30)}
    assert server.stats.calls["gmail.users.messages.get"] <= 2 * len(PEOPLE)
    server.reset_stats()
    setup.sync(NOW + D(hours=2))
    assert server.stats.calls["gmail.users.history.list"] == 1  # incremental again
    assert server.stats.calls["gmail.users.messages.list"] == 0


def test_progress_is_reported_in_people(server, setup):
    from villaged.domain.addresses import Matcher
    from villaged.ports.source import SyncContext

    for _, emails, _ in PEOPLE:
        deliver(server, emails[0], OWNER, "hi", NOW - D(days=3))
    village = setup.village()
    seen: list[tuple[int, int]] = []
    ctx = SyncContext(Matcher.build(village.owner.addresses, village.people), village.thresholds,
                      NOW, progress=lambda done, total: seen.append((done, total)))
    gmail = next(s for s in setup.io(village).sources() if s.name == "gmail")
    batches = list(gmail.sync(None, ctx))
    assert len(batches) == 1 and batches[0].replace
    assert seen[0] == (0, len(PEOPLE)) and seen[-1] == (len(PEOPLE), len(PEOPLE))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_villaged_status_does_not_import_the_google_client(setup):
    import subprocess
    import sys

    code = ("import sys\nfrom villaged.cli.main import main\n"
            "try:\n    main(['status'])\nexcept SystemExit:\n    pass\n"
            "print([m for m in sys.modules if m.split('.')[0] in "
            "('googleapiclient', 'google_auth_oauthlib', 'httplib2')])")
    result = subprocess.run([sys.executable, "-c", code], env=setup.env(), capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr
