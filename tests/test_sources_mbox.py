"""The mbox source against real files: Takeout exports, broken mail, growing files."""

from __future__ import annotations

import datetime as dt
import io
import mailbox
import os
import shutil
from email.utils import format_datetime, getaddresses, parsedate_to_datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from villaged.backends.local.mbox import MboxSource, iter_headers
from villaged.core.mailparse import fast_addresses, parse_addresses, parse_date, parse_facts
from villaged.domain.addresses import Matcher
from villaged.domain.errors import VillagedError
from villaged.domain.village import Kind, Person, Role, Thresholds
from villaged.ports.cursor import stored_cursor
from villaged.ports.source import SyncContext
from villaged.service.sync import sync_all
from villaged.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
NOW = dt.datetime(2025, 11, 25, 12, 0, tzinfo=dt.UTC)
OWNER = ("dana@example.org", "dana.scully@gmail.com")
PEOPLE = (
    Person("ada", "Ada Lovelace", ("ada@analytical.org",), Role.MENTOR),
    Person("grace", "Grace Hopper", ("grace.hopper@navy.example.mil",), Role.SPONSOR),
    Person("alan", "Alan Turing", ("alan@bletchley.example.uk",), Role.COACH),
    Person("katherine", "Katherine Johnson", ("kjohnson@nasa.example.gov",), Role.ALLY),
    Person("linus", "Linus Torvalds", ("linus@kernel.example.org",), Role.ROLE_MODEL),
)


def context(progress=None) -> SyncContext:
    ctx = SyncContext(matcher=Matcher.build(OWNER, PEOPLE), limits=Thresholds(), now=NOW)
    if progress:
        ctx = SyncContext(ctx.matcher, ctx.limits, ctx.now, progress)
    return ctx


def snapshot(store: Store) -> tuple[list, dict]:
    """What a user could see of a store: every interaction and the skip counts."""
    rows = sorted((i.source, i.uid, i.person, i.at, i.kind.value, i.direct, i.status, i.subject,
                   i.thread) for i in store.interactions())
    return rows, store.skips()


def full_scan(path: Path, tmp: Path, **kw) -> tuple[list, dict]:
    with Store(tmp / f"fresh-{os.urandom(4).hex()}.sqlite3") as fresh:
        sync_all(fresh, [MboxSource(path, **kw)], context())
        return snapshot(fresh)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "state.sqlite3") as s:
        yield s


def by_person(store: Store) -> dict[str, list]:
    out: dict[str, list] = {}
    for i in store.interactions():
        out.setdefault(i.person, []).append(i)
    return out


# -- what a user notices on real-world-shaped files ---------------------------

def test_takeout_export(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "All mail Including Spam and Trash.mbox"
    shutil.copy(FIXTURES / "takeout.mbox", path)
    report = sync_all(store, [MboxSource(path)], context())
    found = by_person(store)

    ada = found["ada"]
    assert [(i.kind, i.direct) for i in ada] == [(Kind.EMAIL_IN, True), (Kind.EMAIL_OUT, True)]
    assert ada[0].at == dt.datetime(2025, 11, 3, 14, 2, 10, tzinfo=dt.UTC)
    assert ada[0].uid == "<CAAda-2025-11-03@mail.gmail.com>"
    assert ada[1].thread == ada[0].message_id  # the reply is in Ada's thread
    # Dana wrote from her googlemail alias to Ada and Grace: both count.
    assert [(i.kind, i.direct) for i in found["grace"]] == [(Kind.EMAIL_OUT, True)]
    # Alan wrote to undisclosed recipients, Cc Dana's +tag address: direct.
    assert [(i.subject, i.direct) for i in found["alan"]] == [("Re: Résumé feedback", True)]
    # A CRLF message at the end of the file.
    assert [i.subject for i in found["katherine"]] == ["Orbit numbers"]
    # The chat transcript is not contact, and says so.
    assert report.sources[MboxSource(path).name].skipped == {"chat transcript": 1}
    assert store.skips() == {f"mbox:{path}": {"chat transcript": 1}}
    assert all(i.source == f"mbox:{path}" for i in store.interactions())


def test_mailing_list_only_correspondent_never_counts(tmp_path: Path, store: Store) -> None:
    sync_all(store, [MboxSource(FIXTURES / "takeout.mbox")], context())
    linus = store.interactions("linus")
    assert linus and all(not i.direct and i.status == "bulk" for i in linus)


def test_malformed_messages_degrade_and_are_counted(store: Store) -> None:
    source = MboxSource(FIXTURES / "malformed.mbox")
    sync_all(store, [source], context())
    assert store.skips()[source.name] == {
        "missing or unparseable date": 2,  # none at all, and "sometime last week"
        "date before 1980": 1,
        "date in the far future": 1,
        "truncated message": 1,  # the file ends inside the last header block
    }
    found = by_person(store)
    # Bad encoded words and broken MIME do not hide Ada's message.
    assert [(i.uid, i.direct) for i in found["ada"]] == [("<ada-broken-mime@analytical.org>", True)]
    # No Message-ID: a content hash is the uid; a folded From still parses.
    (grace,) = found["grace"]
    assert grace.uid.startswith("sha1:") and grace.subject == "no message id"
    assert grace.at == dt.datetime(2025, 11, 19, 12, 5, tzinfo=dt.UTC)
    assert "alan" not in found


def test_undecodable_header_bytes_become_text() -> None:
    facts = parse_facts(b"From: Ren\xe9e <renee@example.fr>\nSubject: caf\xe9 \xff\n"
                        b"To: =?x-unknown?Q?D?= <dana@example.org>\n")
    assert facts.senders == ("renee@example.fr",)
    assert facts.to == ("dana@example.org",)
    assert facts.subject.startswith("café")


def test_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(VillagedError, match="missing"):
        list(MboxSource(tmp_path / "gone.mbox").sync(None, context()))


# -- incremental -------------------------------------------------------------

def test_second_run_reads_nothing(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "mail.mbox"
    shutil.copy(FIXTURES / "takeout.mbox", path)
    source = MboxSource(path)
    sync_all(store, [source], context())
    before = snapshot(store)
    assert list(source.sync(stored_cursor(source, store.cursor(source.name)), context())) == []
    report = sync_all(store, [source], context())
    assert report.sources[source.name].batches == 0
    assert snapshot(store) == before


def test_appended_mail_is_read_from_the_last_message_on(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "mail.mbox"
    shutil.copy(FIXTURES / "takeout.mbox", path)
    source = MboxSource(path)
    sync_all(store, [source], context())
    cursor = stored_cursor(source, store.cursor(source.name))
    with open(path, "ab") as f:
        f.write(message(99, "grace.hopper@navy.example.mil", "dana@example.org"))
    (batch,) = source.sync(cursor, context())
    assert not batch.replace
    # Only the last old message (Katherine's, which might have been growing)
    # and the new one are read again.
    assert sorted(i.person for i in batch.interactions) == ["grace", "katherine"]
    sync_all(store, [source], context())
    assert snapshot(store) == full_scan(path, tmp_path)


def test_a_message_still_being_written_is_finished_next_time(tmp_path: Path,
                                                            store: Store) -> None:
    path = tmp_path / "mail.mbox"
    whole = (FIXTURES / "takeout.mbox").read_bytes() + message(7, "ada@analytical.org",
                                                               "dana@example.org")
    cut = whole.rfind(b"Message-ID:")
    path.write_bytes(whole[:cut])  # the writer stopped inside the headers
    source = MboxSource(path)
    sync_all(store, [source], context())
    assert store.skips()[source.name]["truncated message"] == 1
    path.write_bytes(whole)
    sync_all(store, [source], context())
    assert "truncated message" not in store.skips()[source.name]
    assert snapshot(store) == full_scan(path, tmp_path)


def test_changed_prefix_triggers_a_full_rescan(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "mail.mbox"
    shutil.copy(FIXTURES / "takeout.mbox", path)
    source = MboxSource(path)
    sync_all(store, [source], context())
    assert store.interactions("ada")
    # Another export replaces the file: Ada's first message is gone, the file
    # is longer than before, but its head differs.
    data = (FIXTURES / "takeout.mbox").read_bytes()
    second = data.find(b"\nFrom ", 1) + 1
    path.write_bytes(data[second:] + message(1, "grace.hopper@navy.example.mil",
                                             "dana@example.org") * 20)
    batches = list(source.sync(stored_cursor(source, store.cursor(source.name)), context()))
    assert batches[0].replace
    sync_all(store, [source], context())
    assert "<CAAda-2025-11-03@mail.gmail.com>" not in {i.uid for i in store.interactions()}
    assert snapshot(store) == full_scan(path, tmp_path)


def test_a_shorter_file_is_rescanned(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "mail.mbox"
    shutil.copy(FIXTURES / "takeout.mbox", path)
    source = MboxSource(path)
    sync_all(store, [source], context())
    data = path.read_bytes()
    path.write_bytes(data[:data.find(b"\nFrom ", 1) + 1])  # mail was deleted
    sync_all(store, [source], context())
    assert snapshot(store) == full_scan(path, tmp_path)
    assert {i.person for i in store.interactions()} == {"ada"}


def test_progress_is_reported_in_bytes(tmp_path: Path) -> None:
    path = tmp_path / "mail.mbox"
    path.write_bytes(b"".join(message(n, "ada@analytical.org", "dana@example.org",
                                      body=b"y" * 500) for n in range(30)))
    seen: list[tuple[int, int]] = []
    list(MboxSource(path, batch_bytes=4000).sync(None, context(lambda d, t: seen.append((d, t)))))
    size = path.stat().st_size
    assert len(seen) > 2 and seen[-1] == (size, size)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_a_huge_header_block_is_capped_and_the_next_message_still_found(tmp_path: Path,
                                                                       store: Store) -> None:
    path = tmp_path / "mail.mbox"
    junk = b"X-Junk: " + b"z" * 70 + b"\n"
    path.write_bytes(b"From x Mon Jan  1 00:00:00 2025\n" + junk * 6000 + b"\n"
                     + message(2, "ada@analytical.org", "dana@example.org"))
    sync_all(store, [MboxSource(path, chunk=4096)], context())
    assert [i.person for i in store.interactions()] == ["ada"]
    assert store.skips()[f"mbox:{path}"] == {"no sender address": 1}


def test_text_before_the_first_message_is_counted(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "mail.mbox"
    path.write_bytes(b"This is not mail.\n" + message(1, "ada@analytical.org", "dana@example.org"))
    sync_all(store, [MboxSource(path)], context())
    assert store.skips()[f"mbox:{path}"] == {"text before the first message": 1}
    assert len(store.interactions("ada")) == 1


# -- properties ----------------------------------------------------------------

SENDERS = ["ada@analytical.org", "grace.hopper@navy.example.mil", "dana@example.org",
           "stranger@example.com", "linus@kernel.example.org"]


def message(n: int, sender: str, to: str, body: bytes = b"Hello.\n", date: str | None = None,
            bulk: bool = False, msgid: bool = True) -> bytes:
    when = date or format_datetime(NOW - dt.timedelta(days=n % 700, minutes=n))
    head = [f"From {n}@xxx Mon Nov 24 10:00:00 +0000 2025", f"From: Someone <{sender}>",
            f"To: {to}", f"Date: {when}", f"Subject: message {n}"]
    if msgid:
        head.append(f"Message-ID: <m{n}@example.org>")
    if bulk:
        head.append("List-Id: <l.example.org>")
    return ("\n".join(head) + "\n\n").encode() + body + b"\n"


messages = st.lists(
    st.builds(
        message,
        n=st.integers(0, 10_000),
        sender=st.sampled_from(SENDERS),
        to=st.sampled_from(["dana@example.org", "ada@analytical.org, grace.hopper@navy.example.mil",
                            "list@example.org"]),
        body=st.sampled_from([b"", b"Hi.\n", b">From the past\n", b"\n\n", b"=" * 5000 + b"\n",
                              b"Re: From here\n"]),
        date=st.sampled_from([None, None, None, "Thu, 01 Jan 1970 00:00:00 +0000", "garbage"]),
        bulk=st.booleans(),
        msgid=st.booleans(),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(msgs=messages, split=st.integers(0, 12), cut=st.integers(0, 400),
       chunk=st.sampled_from([16, 100, 4096]))
def test_incremental_after_appending_equals_a_full_rescan(tmp_path: Path, msgs, split, cut,
                                                          chunk) -> None:
    whole = b"".join(msgs)
    # The first run sees a prefix that may end in the middle of a message.
    prefix = b"".join(msgs[:split])
    prefix += whole[len(prefix):len(prefix) + cut]
    work = tmp_path / os.urandom(6).hex()
    work.mkdir()
    path = work / "mail.mbox"
    path.write_bytes(prefix)
    with Store(work / "inc.sqlite3") as inc:
        source = MboxSource(path, chunk=chunk, batch_bytes=700)
        sync_all(inc, [source], context())
        with open(path, "ab") as f:
            f.write(whole[len(prefix):])
        sync_all(inc, [source], context())
        assert snapshot(inc) == full_scan(path, work, chunk=chunk)


def toc(raw: bytes, tmp: Path) -> list[int]:
    path = tmp / f"{os.urandom(6).hex()}.mbox"
    path.write_bytes(raw)
    box = mailbox.mbox(str(path), create=False)
    try:
        box._lookup()  # the table of contents: where each message starts
        return [box._toc[k][0] for k in sorted(box._toc)]
    finally:
        box.close()


lines = st.sampled_from([b"From a@b Mon Jan  1 00:00:00 2025", b"From: x@y", b"", b"body",
                         b"From", b">From x", b"Subject: From here", b"\r", b"x" * 90])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(lines, max_size=40), trailing=st.booleans(),
       chunk=st.sampled_from([7, 64, 1 << 20]), cap=st.sampled_from([40, 256 * 1024]))
def test_message_boundaries_match_mailbox_mbox(tmp_path: Path, parts, trailing, chunk,
                                               cap) -> None:
    raw = b"\n".join(parts) + (b"\n" if trailing else b"")
    starts = toc(raw, tmp_path)
    found = [o for o, _, _ in iter_headers(io.BytesIO(raw), 0, len(raw), chunk, cap) if o >= 0]
    assert found == starts
    for start in starts:  # resuming at any message start finds the rest
        rest = [o for o, _, _ in iter_headers(io.BytesIO(raw), start, len(raw), chunk, cap)
                if o >= 0]
        assert rest == [s for s in starts if s >= start]


def test_header_blocks_stop_at_the_blank_line() -> None:
    raw = (b"From a Mon Jan  1 00:00:00 2025\nFrom: a@b\nTo: c@d\n\nbody\nTo: e@f\n"
           b"From b Mon Jan  1 00:00:00 2025\r\nFrom: g@h\r\n\r\nbody\r\n")
    found = list(iter_headers(io.BytesIO(raw), 0, len(raw)))
    assert [(b.replace(b"\r", b""), ok) for _, b, ok in found] == [
        (b"From: a@b\nTo: c@d\n\n", True), (b"From: g@h\n\n", True)]


atoms = st.text(alphabet=st.sampled_from(list("abcXY09._-+=?!#$%&'*/^`{|}~é")), min_size=1,
                max_size=6)
addr = st.builds(lambda local, domain: f"{local}@{domain}", atoms, atoms)
phrase = st.one_of(
    st.text(alphabet=st.sampled_from(list("ab Xé.=?-'")), max_size=8),
    st.builds(lambda t: f'"{t}"', st.text(alphabet=st.sampled_from(list('ab ,<>@.;:()\\é')),
                                          max_size=8)))
item = st.one_of(addr, st.builds(lambda p, a, sp: f"{p}{sp}<{a}>", phrase, addr,
                                 st.sampled_from(["", " "])))
address_lists = st.one_of(
    st.builds(lambda items, sep: sep.join(items), st.lists(item, max_size=4),
              st.sampled_from([",", ", ", " ,", ",\t"])),
    st.text(alphabet=st.sampled_from(list('abXY09 "\'<>@,.;:()\\[]é=?\t')), max_size=30))


@settings(max_examples=500, deadline=None)
@given(address_lists)
def test_fast_address_parsing_agrees_with_email_utils(value: str) -> None:
    expected = tuple(a for _, a in getaddresses([value]) if "@" in a)
    fast = fast_addresses(value)
    assert fast is None or fast == expected
    assert parse_addresses(value.encode()) == expected


@settings(max_examples=250, deadline=None)
@given(when=st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
       offset=st.integers(-24 * 60 + 1, 24 * 60 - 1), weekday=st.booleans(),
       comment=st.booleans())
def test_fast_date_parsing_agrees_with_email_utils(when, offset, weekday, comment) -> None:
    when = when.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset)), microsecond=0)
    text = format_datetime(when)[0 if weekday else 5:] + (" (UTC)" if comment else "")
    try:
        expected = parsedate_to_datetime(text)
        expected = expected.replace(tzinfo=expected.tzinfo or dt.UTC)
        expected = expected.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        expected = None
    assert parse_date(text.encode()) == expected


def test_a_replaced_file_is_rescanned(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "mail.mbox"
    shutil.copy(FIXTURES / "takeout.mbox", path)
    source = MboxSource(path)
    sync_all(store, [source], context())
    # A new export with the same start is written beside it and renamed over it.
    fresh = tmp_path / "mail.mbox.new"
    fresh.write_bytes(path.read_bytes() + message(3, "ada@analytical.org", "dana@example.org"))
    os.replace(fresh, path)
    (batch,) = source.sync(stored_cursor(source, store.cursor(source.name)), context())
    assert batch.replace


def test_ruling_out_mail_that_concerns_nobody_changes_no_interaction():
    """Issue 9 (speed on small mail): classify_block rules out a message cheaply when
    its sender is neither a person nor the owner (or the owner wrote to nobody in the
    village); the interactions must be exactly those of the full parse, message by
    message, on both benchmark mixes and on every mail fixture."""
    import sys as _sys

    _sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import mbox_scan

    from villaged.core.contact import classify_email, date_problem
    from villaged.core.mailparse import classify_block, concerns_village, facts_or_skip

    ctx = mbox_scan.context()

    def full(block: bytes):
        facts, reason = facts_or_skip(block)
        if facts is None or date_problem(facts.date, ctx.now):
            return []
        return classify_email(facts, ctx.matcher, ctx.limits, "x")

    blocks = []
    for corpus in (mbox_scan.Corpus(mbox_scan.SEED),
                   mbox_scan.Corpus(mbox_scan.SEED, small=True,
                                    village_share=mbox_scan.SMALL_VILLAGE_SHARE)):
        for n in range(1500):
            raw = corpus.message(n)
            raw = raw[raw.index(b"\n") + 1:]  # the header block follows the From_ line
            blocks.append(raw[:raw.index(b"\n\n") + 1])
    from villaged.backends.local.mbox import iter_headers

    for path in sorted((Path(__file__).parent / "fixtures" / "mail").rglob("*.mbox")):
        with path.open("rb") as f:
            blocks += [b for offset, b, _ in iter_headers(f, 0, path.stat().st_size) if offset >= 0]
    # hostile shapes: case, folding, CRLF, a second From, the owner writing to a person in Bcc
    person = ctx.matcher.people and next(iter(ctx.matcher.people))
    blocks += [
        f"FROM: x@y.example\nfrom: {person}\nDate: Mon, 05 Oct 2025 10:00:00 -0500\n".encode(),
        f"X-From: {person}\nFrom:\n {person}\nDate: Mon, 05 Oct 2025 10:00:00 -0500\n".encode(),
        f"From: dana@example.org\r\nTo: a@b.example\r\nBCC: {person}\r\n"
        "Date: Mon, 05 Oct 2025 10:00:00 -0500\r\n".encode(),
        f"Sender: {person}\nFrom: undisclosed\nDate: Mon, 05 Oct 2025 10:00:00 -0500\n".encode(),
    ]
    ruled_out = 0
    for block in blocks:
        got, _ = classify_block(block, ctx.matcher, ctx.limits, ctx.now, "x")
        assert got == full(block), block[:300]
        ruled_out += not concerns_village(block, ctx.matcher)
    assert ruled_out > len(blocks) // 3  # the cheap path really is taken
