"""The Maildir source against real Maildir trees in temporary directories."""

from __future__ import annotations

import datetime as dt
import os
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import villaged.backends.local.maildir as maildir_module
from villaged.backends.local.maildir import MaildirSource, read_header, unique_part
from villaged.domain.addresses import Matcher
from villaged.domain.errors import VillagedError
from villaged.domain.village import Person, Role, Thresholds
from villaged.ports.cursor import storable
from villaged.ports.source import SyncContext
from villaged.service.sync import sync_all
from villaged.store import Store

NOW = dt.datetime(2025, 11, 25, 12, 0, tzinfo=dt.UTC)
OWNER = ("dana@example.org",)
PEOPLE = (
    Person("ada", "Ada Lovelace", ("ada@analytical.org",), Role.MENTOR),
    Person("grace", "Grace Hopper", ("grace.hopper@navy.example.mil",), Role.SPONSOR),
    Person("linus", "Linus Torvalds", ("linus@kernel.example.org",), Role.ROLE_MODEL),
)
CTX = SyncContext(matcher=Matcher.build(OWNER, PEOPLE), limits=Thresholds(), now=NOW)


def make_maildir(path: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def raw(n: int, sender: str, to: str = "dana@example.org", days_ago: int = 1,
        body: bytes = b"Hello.\n", extra: str = "") -> bytes:
    head = (f"Return-Path: <{sender}>\nFrom: Someone <{sender}>\nTo: {to}\n"
            f"Date: {format_datetime(NOW - dt.timedelta(days=days_ago, minutes=n))}\n"
            f"Subject: note {n}\nMessage-ID: <n{n}@example.org>\n{extra}")
    return head.encode() + b"\n" + body


def deliver(folder: Path, n: int, data: bytes, where: str = "new", flags: str = "") -> Path:
    name = f"17000000{n:02d}.M{n}P42Q1.host"
    if where == "cur":
        name += f":2,{flags}"
    path = folder / where / name
    path.write_bytes(data)
    return path


def snapshot(store: Store) -> tuple[list, dict]:
    rows = sorted((i.source, i.uid, i.person, i.at, i.kind.value, i.direct, i.status)
                  for i in store.interactions())
    return rows, store.skips()


def full_scan(root: Path, tmp: Path, exclude=()) -> tuple[list, dict]:
    with Store(tmp / f"fresh-{os.urandom(4).hex()}.sqlite3") as fresh:
        sync_all(fresh, [MaildirSource(root, exclude=exclude)], CTX)
        return snapshot(fresh)


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "state.sqlite3") as s:
        yield s


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The message files the source opens."""
    opened: list[str] = []
    real = maildir_module.read_header

    def spy(path: str, *args, **kwargs):
        opened.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(maildir_module, "read_header", spy)
    return opened


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """INBOX with Maildir++ folders, a plainly nested archive, and Drafts."""
    root = make_maildir(tmp_path / "Mail")
    deliver(root, 1, raw(1, "ada@analytical.org"), "new")
    deliver(root, 2, raw(2, "grace.hopper@navy.example.mil"), "cur", "S")
    (root / "tmp" / "1700000099.M9P1.host").write_bytes(raw(99, "ada@analytical.org"))
    mentors = make_maildir(root / ".Mentors.Ada")
    deliver(mentors, 3, raw(3, "ada@analytical.org", days_ago=40), "cur", "RS")
    archive = make_maildir(root / "Archive" / "2024")
    deliver(archive, 4, raw(4, "dana@example.org", to="Ada <ada@analytical.org>",
                            days_ago=300), "cur", "S")
    lists = make_maildir(root / ".Lists")
    deliver(lists, 5, raw(5, "linus@kernel.example.org", to="announce@lists.example.org",
                          extra="List-Id: <announce.lists.example.org>\n"), "new")
    deliver(lists, 6, raw(6, "ada@analytical.org", extra="Date: whenever\n").replace(
        b"Date: " + format_datetime(NOW - dt.timedelta(days=1, minutes=6)).encode() + b"\n", b""),
        "new")
    drafts = make_maildir(root / ".Drafts")
    deliver(drafts, 7, raw(7, "dana@example.org", to="grace.hopper@navy.example.mil",
                           days_ago=0), "cur", "D")
    return root


def test_reads_every_folder_but_tmp_and_drafts(tree: Path, store: Store) -> None:
    source = MaildirSource(tree, exclude=[tree / ".Drafts"])
    report = sync_all(store, [source], CTX)
    got = sorted((i.person, i.kind.value, i.direct, i.uid) for i in store.interactions())
    assert got == [
        ("ada", "email_in", True, "<n1@example.org>"),
        ("ada", "email_in", True, "<n3@example.org>"),
        ("ada", "email_out", True, "<n4@example.org>"),
        ("grace", "email_in", True, "<n2@example.org>"),
        ("linus", "email_in", False, "<n5@example.org>"),  # list mail only: never direct
    ]
    # The draft Dana is writing to Grace is not contact; tmp/ is not mail yet.
    assert report.sources[source.name].skipped == {"missing or unparseable date": 1}
    assert source.name == f"maildir:{tree}"
    assert [key for key, _ in source.folders()] == ["", ".Lists", ".Mentors.Ada",
                                                   "Archive/2024"]


def test_second_run_reads_no_file(tree: Path, store: Store, reads: list[str]) -> None:
    source = MaildirSource(tree, exclude=[tree / ".Drafts"])
    sync_all(store, [source], CTX)
    assert len(reads) == 6
    before = snapshot(store)
    reads.clear()
    report = sync_all(store, [source], CTX)
    assert reads == [] and report.sources[source.name].batches == 0
    assert snapshot(store) == before


def test_flag_changes_and_moves_to_cur_are_not_new_mail(tree: Path, store: Store,
                                                         reads: list[str]) -> None:
    source = MaildirSource(tree, exclude=[tree / ".Drafts"])
    sync_all(store, [source], CTX)
    reads.clear()
    for path in (tree / "new").iterdir():  # the mail client saw it
        path.rename(tree / "cur" / (path.name + ":2,S"))
    for path in (tree / "cur").iterdir():
        if path.name.endswith(":2,S") and "M2P" in path.name:
            path.rename(path.with_name(path.name + "R"))  # replied
    sync_all(store, [source], CTX)
    assert reads == []


def test_only_new_files_are_read(tree: Path, store: Store, reads: list[str]) -> None:
    source = MaildirSource(tree, exclude=[tree / ".Drafts"])
    sync_all(store, [source], CTX)
    reads.clear()
    new = deliver(tree / ".Mentors.Ada", 8, raw(8, "ada@analytical.org", days_ago=0), "new")
    sync_all(store, [source], CTX)
    assert reads == [str(new)]
    assert "<n8@example.org>" in {i.uid for i in store.interactions("ada")}
    assert snapshot(store) == full_scan(tree, tree.parent, exclude=[tree / ".Drafts"])


def test_only_the_header_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(raw(1, "ada@analytical.org", body=b"A" * 5_000_000))
    block = read_header(str(path))
    assert block.endswith(b"\n\n") and b"AAAA" not in block
    crlf = tmp_path / "crlf"
    crlf.write_bytes(raw(1, "ada@analytical.org").replace(b"\n", b"\r\n"))
    assert read_header(str(crlf)).endswith(b"\r\n\r\n")
    headless = tmp_path / "headless"
    headless.write_bytes(b"From: a@b\nTo: c@d")  # no blank line, no body
    assert read_header(str(headless)) == b"From: a@b\nTo: c@d"


def test_unique_part() -> None:
    assert unique_part("1700000001.M1P42Q1.host:2,RS") == "1700000001.M1P42Q1.host"
    assert unique_part("1700000001.M1P42Q1.host") == "1700000001.M1P42Q1.host"
    assert unique_part("1700000001.M1P42Q1.host!2,S") == "1700000001.M1P42Q1.host"


def test_missing_maildir_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(VillagedError, match="missing"):
        list(MaildirSource(tmp_path / "nope").sync(None, CTX))


def test_deleted_mail_still_counts_and_leaves_the_cursor(tree: Path, store: Store) -> None:
    source = MaildirSource(tree, exclude=[tree / ".Drafts"])
    sync_all(store, [source], CTX)
    for path in (tree / ".Mentors.Ada" / "cur").iterdir():
        path.unlink()
    sync_all(store, [source], CTX)
    assert store.cursor(source.name)["folders"][".Mentors.Ada"] == []
    assert "<n3@example.org>" in {i.uid for i in store.interactions("ada")}


FOLDERS = ["", ".Sub", "nested/deeper", ".Drafts"]


@st.composite
def mail_actions(draw):
    count = draw(st.integers(0, 10))
    return [
        (n, draw(st.sampled_from(FOLDERS)), draw(st.sampled_from(["new", "cur"])),
         draw(st.sampled_from(["ada@analytical.org", "grace.hopper@navy.example.mil",
                               "dana@example.org", "linus@kernel.example.org"])),
         draw(st.integers(0, 1000)))
        for n in range(count)
    ]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(actions=mail_actions(), split=st.integers(0, 10), moves=st.booleans(),
       batch=st.sampled_from([1, 3, 2000]))
def test_incremental_equals_a_full_rescan(tmp_path: Path, actions, split, moves, batch) -> None:
    root = tmp_path / os.urandom(6).hex() / "Mail"
    for folder in FOLDERS:
        make_maildir(root / folder)
    exclude = [root / ".Drafts"]
    with Store(root.parent / "inc.sqlite3") as inc:
        source = MaildirSource(root, exclude=exclude, batch_files=batch)
        for n, folder, where, sender, days in actions[:split]:
            deliver(root / folder, n, raw(n, sender, days_ago=days), where)
        sync_all(inc, [source], CTX)
        if moves:  # the mail client files away and flags what it has seen
            for folder in FOLDERS:
                for path in (root / folder / "new").iterdir():
                    path.rename(root / folder / "cur" / (path.name + ":2,S"))
        for n, folder, where, sender, days in actions[split:]:
            deliver(root / folder, n, raw(n, sender, days_ago=days), where)
        sync_all(inc, [source], CTX)
        assert snapshot(inc) == full_scan(root, root.parent, exclude)
        assert all(i.source == source.name for i in inc.interactions())
        drafts = {f"<n{n}@example.org>" for n, folder, *_ in actions if folder == ".Drafts"}
        assert not drafts & {i.uid for i in inc.interactions()}


def test_batches_carry_a_cursor_that_resumes(tree: Path, store: Store,
                                             reads: list[str]) -> None:
    source = MaildirSource(tree, exclude=[tree / ".Drafts"], batch_files=2)
    batches = source.sync(None, CTX)
    first = next(batches)  # written, then the process dies
    store.apply_sync(source.name, first.interactions, storable(first.cursor),
                     first.removed_uids, first.skipped, first.replace)
    batches.close()
    reads.clear()
    sync_all(store, [source], CTX)
    assert len(reads) == 4  # the two read before the crash are not read again
    assert snapshot(store) == full_scan(tree, tree.parent, exclude=[tree / ".Drafts"])
