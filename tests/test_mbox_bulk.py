"""Issue 9, speed on small mail: the mbox scanner sorts out the messages of each
chunk in bulk and parses only those whose sender (or, for the owner's own mail,
whose recipients) could be someone in the village. These tests check that what a
user sees (interactions, skip counts, the cursor) is exactly what an independent,
message-by-message reference gives, on realistic generated mailboxes and on
hostile shapes, at several chunk sizes."""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from villaged.backends.local.mbox import MboxSource, iter_headers
from villaged.core.contact import classify_email, date_problem
from villaged.core.mailparse import (
    MAX_HEADER_VALUE,
    classify_block,
    facts_or_skip,
    first_header,
    from_rule_out,
    might_name_person,
    parse_addresses,
)
from villaged.domain.addresses import AnyoneMatcher, Matcher
from villaged.domain.village import Person, Role, Thresholds
from villaged.ports.source import SyncContext

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import mbox_scan  # noqa: E402

NOW = dt.datetime(2025, 11, 25, 12, 0, tzinfo=dt.UTC)
OWNER = ("dana@example.org", "dana.scully@gmail.com")
PEOPLE = (
    Person("ada", "Ada Lovelace", ("ada.lovelace@gmail.com",), Role.MENTOR),
    Person("grace", "Grace Hopper", ("grace@example.com",), Role.SPONSOR),
    Person("kate", "Kate Bell", ("kate.bell@uni.example.edu",), Role.ALLY),
    Person("alan", "Alan Turing", ("Alan.Turing+work@Example.net",), Role.COACH),
)
DATE = "Mon, 06 Oct 2025 10:00:00 -0500"


def village() -> SyncContext:
    return SyncContext(matcher=Matcher.build(OWNER, PEOPLE), limits=Thresholds(), now=NOW)


# -- an independent reference: today's semantics, message by message -----------

def ref_first_header(block: bytes, name: bytes) -> bytes | None:
    lines = block.replace(b"\r\n", b"\n").split(b"\n")
    for i, line in enumerate(lines):
        if line[:len(name)].lower() == name and line[len(name):].lstrip(b" \t")[:1] == b":":
            parts = [line[len(name):].lstrip(b" \t")[1:]]
            for more in lines[i + 1:]:
                if more[:1] not in (b" ", b"\t"):
                    break
                parts.append(more)
            value = b" ".join(p.strip() for p in parts) if len(parts) > 1 else parts[0].strip()
            return value[:MAX_HEADER_VALUE]
    return None


def ref_concerns(block: bytes, matcher: Matcher) -> bool:
    senders = parse_addresses(ref_first_header(block, b"from"))
    if not senders or matcher.person_of(senders[0]) is not None:
        return True
    if not matcher.is_owner(senders[0]):
        return False
    recipients = sum((parse_addresses(ref_first_header(block, n)) for n in (b"to", b"cc", b"bcc")), ())
    return any(matcher.person_of(a) is not None for a in recipients)


def ref_scan(raw: bytes, ctx: SyncContext, chunk: int) -> tuple[list, Counter, int, Counter]:
    """Interactions, skip counts, the last message's offset and its skips."""
    found: list = []
    skipped: Counter[str] = Counter()
    last, last_reasons = 0, Counter()
    for offset, block, complete in iter_headers(io.BytesIO(raw), 0, len(raw), chunk):
        if offset < 0:
            skipped["text before the first message"] += 1
            last_reasons["text before the first message"] += 1
            continue
        last, last_reasons, reason = offset, Counter(), None
        if not complete:
            reason = "truncated message"
        elif ref_concerns(block, ctx.matcher):
            facts, reason = facts_or_skip(block)
            if facts is not None:
                reason = date_problem(facts.date, ctx.now)
                if reason is None:
                    found += classify_email(facts, ctx.matcher, ctx.limits, f"mbox:{ctx.now}")
        if reason:
            skipped[reason] += 1
            last_reasons[reason] += 1
    return found, skipped, last, last_reasons


def scan(path: Path, ctx: SyncContext, chunk: int) -> tuple[list, Counter, int, Counter]:
    found: list = []
    skipped: Counter[str] = Counter()
    cursor = None
    for batch in MboxSource(path, chunk=chunk, batch_bytes=1 << 16).sync(None, ctx):
        found += batch.interactions
        skipped.update(batch.skipped)
        cursor = batch.cursor
    assert cursor is not None
    return found, skipped, cursor.offset, Counter(cursor.tail_skipped)


def same(raw: bytes, tmp: Path, ctx: SyncContext, chunks=(1 << 20, 4096, 777)) -> list:
    path = tmp / "box.mbox"
    path.write_bytes(raw)
    results = []
    for chunk in chunks:
        got = scan(path, ctx, chunk)
        want = ref_scan(raw, ctx, chunk)
        key = [(i.uid, i.person, i.at, i.kind, i.direct, i.status, i.subject, i.thread)
               for i in got[0]]
        assert key == [(i.uid, i.person, i.at, i.kind, i.direct, i.status, i.subject, i.thread)
                       for i in want[0]], chunk
        assert got[1:] == want[1:], chunk
        results.append(got)
    return results[0][0]


# -- hostile shapes ---------------------------------------------------------------

def msg(headers: str, body: str = "Hello.\n", crlf: bool = False, n: int = 0) -> bytes:
    text = f"From sender@x {n} Mon Oct  6 10:00:00 2025\n{headers}\n{body}\n"
    return (text.replace("\n", "\r\n") if crlf else text).encode()


def hostile() -> list[tuple[str, bytes]]:
    other = "Other Person <someone.else@gmail.com>"
    cases = {
        "upper case": f"From: ADA.LOVELACE@GMAIL.COM\nTo: dana@example.org\nDate: {DATE}\n",
        "+tag and googlemail": f"From: ada.lovelace+news@googlemail.com\nTo: dana@example.org\nDate: {DATE}\n",
        "gmail dots": f"From: a.d.a.l.o.v.e.l.a.c.e@gmail.com\nTo: dana@example.org\nDate: {DATE}\n",
        "folded From": f"From: Ada Lovelace\n <Ada.Lovelace@gmail.com>\nTo: dana@example.org\nDate: {DATE}\n",
        "folded inside the address": f"From: grace@example.\n com\nTo: dana@example.org\nDate: {DATE}\n",
        "FROM in capitals first": f"FROM: {other}\nFrom: grace@example.com\nTo: dana@example.org\nDate: {DATE}\n",
        "From with a space before the colon": f"From : grace@example.com\nTo: dana@example.org\nDate: {DATE}\n",
        "no From, a person as Sender": f"From: undisclosed\nSender: grace@example.com\nTo: dana@example.org\nDate: {DATE}\n",
        "From only after the blank line": f"To: dana@example.org\nDate: {DATE}\n\nFrom: grace@example.com\n",
        "owner to a person in Cc": f"From: dana@example.org\nTo: {other}\nCc: \"Hopper, G\" <GRACE@Example.COM>\nDate: {DATE}\n",
        "owner to a person in Bcc with a tag": f"From: Dana <dana.scully@gmail.com>\nTo: {other}\nBcc: grace+lists@example.com\nDate: {DATE}\n",
        "owner, a comment inside the local part": f"From: dana@example.org\nTo: gr(x)ace@example.com\nDate: {DATE}\n",
        "owner, spaces around the dots": f"From: dana@example.org\nTo: ada . lovelace @ gmail.com\nDate: {DATE}\n",
        "owner, a Kelvin sign": f"From: dana@example.org\nTo: \u212aate.bell@uni.example.edu\nDate: {DATE}\n",
        "owner, a folded recipient list": f"From: dana@example.org\nTo: {other},\n\tAlan <alan.turing@example.NET>\nDate: {DATE}\n",
        "owner to nobody": f"From: dana@example.org\nTo: {other}\nDate: {DATE}\n",
        "owner to a longer address that starts like a person's": f"From: dana@example.org\nTo: grace2@example.com\nDate: {DATE}\n",
        # the raw text has a person's local part, the parsed address is someone else's: not counted as skipped
        "owner to a look-alike, bad date": "From: dana@example.org\nTo: grace@other.example\nDate: soon\n",
        "owner to a look-alike, a chat": f"From: dana@example.org\nTo: grace@other.example\nX-Gmail-Labels: Chat\nDate: {DATE}\n",
        "owner to a person, bad date": "From: dana@example.org\nTo: grace@example.com\nDate: soon\n",
        "a person only in the body": f"From: {other}\nTo: dana@example.org\nDate: {DATE}\n",
        "a stranger": f"From: {other}\nTo: dana@example.org\nDate: {DATE}\n",
        "a person, bad date": "From: grace@example.com\nTo: dana@example.org\nDate: yesterday\n",
        "a person's chat": f"From: grace@example.com\nTo: dana@example.org\nX-Gmail-Labels: Chat\nDate: {DATE}\n",
        "a stranger's empty From": f"From:\nTo: dana@example.org\nDate: {DATE}\n",
    }
    out = [(name, msg(h, "Write to ada.lovelace@gmail.com.\n" if "body" in name else "Hello.\n",
                       n=i)) for i, (name, h) in enumerate(cases.items())]
    out.append(("CRLF, a person", msg(f"From: Grace <grace@example.com>\nTo: dana@example.org\nDate: {DATE}\n", crlf=True)))
    out.append(("CRLF, a stranger", msg(f"From: {other}\nTo: dana@example.org\nDate: {DATE}\n", crlf=True)))
    out.append(("no blank line", f"From x 1 Mon Oct  6 10:00:00 2025\nFrom: grace@example.com\nDate: {DATE}\n".encode()))
    out.append(("no blank line, a stranger", f"From x 1 Mon Oct  6 10:00:00 2025\nFrom: {other}\nDate: {DATE}\n".encode()))
    long_header = "X-Long: " + "y" * 1000 + "\n"
    out.append(("over-long header block", msg(long_header * 300 + f"From: grace@example.com\nDate: {DATE}\n")))
    out.append(("over-long header block, a stranger", msg(long_header * 300 + f"From: {other}\nDate: {DATE}\n")))
    out.append(("escaped From in the body", msg(f"From: {other}\nDate: {DATE}\n", ">From the archive\nFrom: grace@example.com\n")))
    return out


def test_hostile_shapes_give_exactly_the_reference_result(tmp_path: Path) -> None:
    cases = hostile()
    raw = b"A preamble.\n" + b"".join(raw for _, raw in cases)
    found = same(raw, tmp_path, village())
    people = Counter(i.person for i in found)
    # the shapes that name a person really are found (not merely "the same as the reference")
    assert people["ada"] >= 4 and people["grace"] >= 6 and people["kate"] == 1 and people["alan"] == 1
    # each case alone, as the file's only message and followed by a stranger's
    stranger = msg(f"From: x@y.example\nDate: {DATE}\n")
    for name, one in cases:
        same(one, tmp_path, village(), chunks=(1 << 20,))
        same(stranger + one + stranger, tmp_path, village(), chunks=(1 << 20, 300))


def test_a_truncated_last_message_and_the_cursor_are_unchanged(tmp_path: Path) -> None:
    strangers = b"".join(msg(f"From: s{i}@y.example\nDate: {DATE}\n", n=i) for i in range(50))
    cut = b"From x Mon Oct  6 10:00:00 2025\nFrom: grace@example.com\nDa"
    same(strangers + cut, tmp_path, village())
    same(strangers + msg(f"From: grace@example.com\nDate: {DATE}\n"), tmp_path, village())
    same(strangers, tmp_path, village())


@pytest.mark.parametrize("small", [True, False])
def test_generated_mailboxes_give_exactly_the_reference_result(tmp_path: Path, small: bool) -> None:
    corpus = mbox_scan.Corpus(mbox_scan.SEED, small=small,
                              village_share=mbox_scan.SMALL_VILLAGE_SHARE if small else 0.3)
    raw = b"".join(corpus.message(n) + b"\n" for n in range(400 if small else 60))
    ctx = mbox_scan.context()
    found = same(raw, tmp_path, ctx, chunks=(1 << 20, 8192))
    assert found  # the village is in there
    assert from_rule_out(ctx.matcher) is not None


def test_the_bulk_pass_drops_only_what_classify_block_rules_out() -> None:
    corpus = mbox_scan.Corpus(mbox_scan.SEED, small=True, village_share=mbox_scan.SMALL_VILLAGE_SHARE)
    raw = b"".join(corpus.message(n) + b"\n" for n in range(600)) + b"".join(r for _, r in hostile())
    ctx = mbox_scan.context()
    plain = list(iter_headers(io.BytesIO(raw), 0, len(raw)))
    # with nothing ruled out, the bulk pass cuts every header block exactly as the plain loop
    for chunk, cap in ((1 << 20, 256 * 1024), (5000, 256 * 1024), (1 << 20, 2000), (3000, 900)):
        want = list(iter_headers(io.BytesIO(raw), 0, len(raw), chunk, cap))
        assert list(iter_headers(io.BytesIO(raw), 0, len(raw), chunk, cap,
                                 rule_out=lambda value: False)) == want
    kept = list(iter_headers(io.BytesIO(raw), 0, len(raw), rule_out=from_rule_out(ctx.matcher)))
    assert set(kept) <= set(plain)
    dropped = [(o, b) for o, b, _ in plain if (o, b, True) not in set(kept)]
    assert len(dropped) > len(plain) * 0.8  # most small mail concerns nobody
    for _, block in dropped:
        assert classify_block(block, ctx.matcher, ctx.limits, ctx.now, "x") == ([], None)
        assert not ref_concerns(block, ctx.matcher)
    assert kept[-1][0] == plain[-1][0]  # the last message is always read in full


def test_first_header_agrees_with_the_reference() -> None:
    corpus = mbox_scan.Corpus(mbox_scan.SEED, small=True)
    blocks = [b for _, b, _ in iter_headers(io.BytesIO(b"".join(corpus.message(n) for n in range(200))), 0, 10**9)]
    blocks += [r[r.index(b"\n") + 1:] for _, r in hostile()]
    for block in blocks:
        lf = block.replace(b"\r\n", b"\n")
        for name in (b"from", b"to", b"cc", b"bcc", b"sender", b"date"):
            assert first_header(lf, name) == ref_first_header(lf, name), (name, block[:200])


@pytest.mark.parametrize(("value", "names_someone"), [
    (b"grace@example.com", True),
    (b"Grace Hopper <GRACE@EXAMPLE.COM>", True),
    (b"grace+x@example.com", True),
    (b"g.r.a.c.e@example.com", True),  # (dots do not matter to this cheap test)
    (b"gr ace@example.com", True),  # a cautious yes: the full parse keeps that space
    (b"gr(comment)ace@example.com", True),
    (b"ada . lovelace @ gmail.com", True),
    (b"\xe2\x84\xaaate.bell@uni.example.edu", True),
    (b"grace2@example.com, someone@else.example", False),
    (b"tom@example.com", False),
])
def test_might_name_person(value: bytes, names_someone: bool) -> None:
    ctx = village()
    from villaged.core.mailparse import _person_keys

    assert might_name_person((value,), _person_keys(ctx.matcher)) is names_someone
    if not names_someone:  # its "no" is exact
        assert not any(ctx.matcher.person_of(a) for a in parse_addresses(value))


def test_correspondents_matcher_keeps_the_exact_path(tmp_path: Path) -> None:
    anyone = SyncContext(matcher=AnyoneMatcher.build(OWNER, []),
                         limits=Thresholds(), now=NOW)
    assert from_rule_out(anyone.matcher) is None
    raw = b"".join(r for _, r in hostile())
    found = same(raw, tmp_path, anyone, chunks=(1 << 20,))
    assert len({i.person for i in found}) >= 3
    assert re.search(r"someone", " ".join(i.person for i in found))


def test_the_one_address_shortcut_agrees_with_parse_addresses() -> None:
    """from_rule_out keys its cache on the address alone when the From value's shape
    makes parse_addresses certain; check that certainty on every From value of the
    generated mailboxes and on tricky ones."""
    from villaged.core.mailparse import _ONE_ADDRESS, _unfold

    values = [b"a@b.com", b" Ada <a@b.com> ", b'"Last, First" <a@b.com>', b"<a@b.c>",
              b'"a\\"b, c" <x+y@gmail.com>', b"=?UTF-8?B?w6k=?= <x.y@gmail.com>",
              b"Z\xc3\xab <z@y.example>", b"Z\xeb <z@y.example>", b"\t<a@b.c>\t",
              b'"unclosed <a@b.c>', b"Ada (x) <a@b>", b"a@b, c@d", b"a@.b", b"<a@b.c> x",
              b'"" <a@b.c>', b"'Ada' <a@b.c>", b"a@b.c (Ada)", b"Ada\xc2\xa0 <a@b.c>"]
    for small in (True, False):
        corpus = mbox_scan.Corpus(mbox_scan.SEED, small=small)
        for n in range(300):
            values += re.findall(rb"\nFrom:([^\n]*)", corpus.message(n))
    matched = 0
    for value in values:
        one = _ONE_ADDRESS.fullmatch(value)
        if one is not None:
            matched += 1
            assert parse_addresses(_unfold(value))[:1] == ((one.group(1) or one.group(2)).decode(),), value
    assert matched > len(values) * 0.8


def test_the_benchmark_floor_and_breakdown_count_what_the_scanner_sees(tmp_path: Path) -> None:
    """bench/mbox_floor.py backs the README's account of where the time goes:
    its floor must find every message, and its paths must split them as the
    scanner does."""
    import mbox_floor

    corpus = mbox_scan.Corpus(mbox_scan.SEED, small=True, village_share=0.2)
    raw = b"".join(corpus.message(n) + b"\n" for n in range(300))
    path = tmp_path / "mix.mbox"
    path.write_bytes(raw)
    ctx = mbox_scan.context()
    blocks = [b for o, b, _ in iter_headers(io.BytesIO(raw), 0, len(raw)) if o >= 0]
    assert mbox_floor.floor_pass(path) == len(blocks) == 300
    assert mbox_floor.floor_pass(path, chunk=777) == 300  # starts cut by chunk boundaries
    figures = mbox_floor.breakdown(path, ctx)
    assert figures["parsed_in_full"] == sum(ref_concerns(b, ctx.matcher) for b in blocks) > 0
    assert figures["ruled_out_by_recipients"] > 0
    budget = mbox_floor.budget(figures, messages_per_s=150_000)
    assert budget["allowed_cpu_s"] == pytest.approx(300 / 150_000, abs=1e-4)
