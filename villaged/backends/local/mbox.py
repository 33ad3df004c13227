"""An mbox file (Google Takeout, Thunderbird, mutt) as a source of contact.

The scanner reads only message headers and never parses a body. It reads the
file in fixed-size chunks, so its memory use does not depend on the size of
the file, and finds message boundaries with ``bytes.find``: like Python's
``mailbox.mbox``, any line starting with ``From `` (at the start of the file
or after a newline) starts a message. Google Takeout's separators
(``From 1781234567890123456@xxx Wed Nov 25 10:12:13 +0000 2020``) are such
lines too.

Incremental sync: the cursor remembers where the last message starts, the
file's size, mtime and inode, and hashes of its first 64 KiB and of the
64 KiB before that last message. An unchanged file is not opened. A file that
only grew is read from the start of its last message on, which may have been
still growing (re-reading it is harmless: interactions are upserted, and the
skip counts it contributed are taken back first). Anything else (truncated,
replaced, rewritten) is rescanned in full, and that rescan's first batch
replaces everything stored for the source.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BufferedIOBase
from pathlib import Path

from villaged.core.mailparse import classify_block, from_rule_out, header_end
from villaged.domain.village import Interaction
from villaged.ports.cursor import Cursor
from villaged.ports.source import SyncBatch, SyncContext, unreadable

log = logging.getLogger(__name__)

CHUNK = 1 << 20  # bytes per read
HEADER_CAP = 256 * 1024  # the most of one message's header block ever held
BATCH_BYTES = 16 << 20  # about this much of the file per SyncBatch
HASH_SPAN = 64 * 1024
SEP = b"\nFrom "
# re's search for a literal runs about 1.5 times as fast here as bytes.find, whose
# skip table keys on the needle's last byte: a space, common in text.
_SEP_AT = re.compile(re.escape(SEP))


def _find_sep(buf: bytes, start: int, end: int | None = None) -> int:
    """Index of the next message separator in ``buf[start:end]``, or -1."""
    found = _SEP_AT.search(buf, start) if end is None else _SEP_AT.search(buf, start, end)
    return -1 if found is None else found.start()

TRUNCATED = "truncated message"
PREAMBLE = "text before the first message"


def iter_headers(
    f: BufferedIOBase, start: int, end: int, chunk: int = CHUNK, cap: int = HEADER_CAP,
    rule_out: Callable[[bytes], bool] | None = None,
) -> Iterator[tuple[int, bytes, bool]]:
    """Yield ``(offset, header_block, complete)`` for each message in
    ``f[start:end]``; ``offset`` is where its ``From `` line starts.

    ``complete`` is False for a final message whose header block has no
    blank line before ``end`` (the file was cut, or is still being written).
    The header block excludes the ``From `` line and is at most ``cap``
    bytes. Text before the first message, if not blank, is reported as
    ``(-1, b"", False)``. Memory stays below ``chunk + cap`` bytes or so.

    With ``rule_out`` (see ``mailparse.from_rule_out``), the messages of each
    chunk are first sorted out in bulk (``_bulk_pass``): a message that is
    followed by another one in the chunk and whose first From header
    ``rule_out`` accepts is not yielded at all. Every other message is yielded
    exactly as without it; so is the file's last message, always.
    """
    f.seek(start)
    remaining = end - start
    # Pretend a newline precedes ``start`` so every message start, including
    # the first one in the file, is found as b"\nFrom ".
    buf = b"\n"
    eof = remaining <= 0
    room = bytearray()  # reused for every read: a fresh 1 MB object per read costs page faults

    def more(keep: int) -> bytes:
        """buf[keep:] followed by the next chunk of the file."""
        nonlocal remaining, eof, room
        tail = len(buf) - keep
        want = 0 if eof else min(chunk, remaining)
        if len(room) < tail + want:
            room = bytearray(tail + want)
        view = memoryview(room)
        view[:tail] = memoryview(buf)[keep:]
        got = f.readinto(view[tail:tail + want]) or 0 if want else 0
        remaining -= got
        if not got or remaining <= 0:
            eof = True
        return bytes(view[:tail + got])

    # The first message; anything before it is a preamble.
    base_shift = 0  # buf[0] is at file offset start - 1 + base_shift
    junk = False
    pos = 0
    while True:
        k = _find_sep(buf, pos)
        if k >= 0 or eof:
            break
        keep = max(len(buf) - (len(SEP) - 1), 0)
        junk = junk or bool(buf[:keep].strip())
        base_shift += keep
        buf = more(keep)
        pos = 0
    junk = junk or bool(buf[:k if k >= 0 else len(buf)].strip())
    if junk and start == 0:
        yield -1, b"", False
    if k < 0:
        return
    s = k + 1  # index in buf of the current message's "From "

    while True:
        if rule_out is not None:
            kept, s = _bulk_pass(buf, s, cap, rule_out)
            for at, block in kept:
                yield start - 1 + base_shift + at, block, True
        # 1. The header block: from the line after "From " to the blank line,
        # unless the next message (or the end) comes first.
        while True:
            nl = buf.find(b"\n", s, s + cap)
            if nl >= 0:
                hs = nl + 1
                he = header_end(buf, hs, hs + cap)
                limit = he if he >= 0 else min(len(buf), hs + cap)
                nxt = _find_sep(buf, hs - 1, limit)
                if nxt >= 0:  # a message with no body (or no blank line)
                    yield start - 1 + base_shift + s, buf[hs:nxt + 1], True
                    s = nxt + 1
                    break
                if he >= 0 or len(buf) >= hs + cap:  # (an over-long block is cut)
                    yield start - 1 + base_shift + s, buf[hs:limit], True
                    body = limit - 1 if he >= 0 else limit - len(SEP) + 1
                    s = -1
                    break
            elif len(buf) >= s + cap:  # a "From " line longer than the cap
                hs = s
                body = s + cap - len(SEP)
                s = -1
                yield start - 1 + base_shift + hs, b"", True
                break
            if eof:  # the final message stops inside its header block
                hs = nl + 1 if nl >= 0 else len(buf)
                yield start - 1 + base_shift + s, buf[hs:hs + cap], False
                return
            base_shift += s
            buf = more(s)
            s = 0
        if s >= 0:
            continue
        # 2. The body: skip to the next "\nFrom ".
        pos = body
        while True:
            k = _find_sep(buf, pos)
            if k >= 0:
                s = k + 1
                break
            if eof:
                return
            keep = max(len(buf) - (len(SEP) - 1), 0)
            base_shift += keep
            buf = more(keep)
            pos = 0


# Lines that may decide whether the cheap test applies: a line starting with
# "\r" or "\n" (perhaps the blank line ending the header block) or with "F"/"f"
# (perhaps a From header, in any spelling ``first_header`` accepts). A simple
# character class keeps the regex's scan fast.
_LINE_OF_NOTE = re.compile(rb"\n[\r\nFf]")
_FROM_NAME = re.compile(rb"[Ff][Rr][Oo][Mm][ \t]*:")


def _bulk_pass(
    buf: bytes, s: int, cap: int, rule_out: Callable[[bytes], bool],
) -> tuple[list[tuple[int, bytes]], int]:
    """Sort out the messages of ``buf`` from the one starting at ``buf[s]``:
    a message that ends inside ``buf`` (another one follows it) and whose first
    From header ``rule_out`` accepts is dropped; every other one is kept with
    its header block, exactly as ``iter_headers`` cuts it. Returns the kept
    ``(index, block)`` pairs and the start of the first message left for
    ``iter_headers``' own loop (the last one in ``buf``, or one that needs more
    of the file).

    Each byte is scanned once, by C code: up to its From header a message is
    scanned for lines that may matter (``_LINE_OF_NOTE``), after it for the next
    message start; a dropped message costs those two searches, a line-end
    search and a dict lookup."""
    kept: list[tuple[int, bytes]] = []
    find, startswith, of_note, from_name, next_start = (
        buf.find, buf.startswith, _LINE_OF_NOTE.search, _FROM_NAME.match, _SEP_AT.search)
    last = len(buf) - 1
    cur = s
    while True:
        # Find the message's first From header as first_header would: the first
        # line "From:" with no blank line, no other spelling of a From header and
        # no next message before it. Anything else goes to classify_block.
        pos, ruled_out = cur, False
        while True:
            line = of_note(buf, pos)
            if line is None:
                return kept, cur
            pos = line.start() + 1
            if startswith(b"From", pos):
                after = buf[pos + 4:pos + 5]
                if after == b":":
                    k = pos + 5  # just past the colon
                    vend = find(b"\n", k)
                    while 0 <= vend < last and buf[vend + 1] in (32, 9):  # folded
                        vend = find(b"\n", vend + 1)
                    if not 0 <= vend < last:
                        return kept, cur
                    ruled_out = vend - cur < cap and rule_out(buf[k:vend])
                    pos = vend
                    break
                if after == b" ":  # the next message starts: this one has no From header
                    pos -= 1
                    break
            if buf[pos] in (13, 10) or from_name(buf, pos):  # "\r", "\n", another spelling
                break
        found = next_start(buf, pos)
        if found is None:
            return kept, cur
        if not ruled_out:
            block = _block_at(buf, cur, cap)
            if block is None:
                return kept, cur
            kept.append((cur, block))
        cur = found.start() + 1


def _block_at(buf: bytes, s: int, cap: int) -> bytes | None:
    """The header block of the message starting at ``buf[s]``, exactly as step 1
    of ``iter_headers`` cuts it, when ``buf`` holds enough of the file to decide
    (another message starts in ``buf`` after it); else None."""
    nl = buf.find(b"\n", s, s + cap)
    if nl >= 0:
        hs = nl + 1
        he = header_end(buf, hs, hs + cap)
        limit = he if he >= 0 else min(len(buf), hs + cap)
        nxt = _find_sep(buf, hs - 1, limit)
        if nxt >= 0:
            return buf[hs:nxt + 1]
        if he >= 0 or len(buf) >= hs + cap:
            return buf[hs:limit]
        return None
    if len(buf) >= s + cap:
        return b""
    return None


def _sha256_at(fd: int, offset: int, length: int) -> str:
    return hashlib.sha256(os.pread(fd, length, offset)).hexdigest()


@dataclass(frozen=True)
class MboxCursor(Cursor):
    """Where the last message starts, and what identifies the file read so far."""

    KIND = "mbox"
    VERSION = 1

    offset: int  # where the last message read starts
    size: int  # the file's size when read
    mtime_ns: int
    inode: int
    head: str  # SHA-256 of the first HASH_SPAN bytes
    tail: str  # SHA-256 of the HASH_SPAN bytes before ``offset``
    tail_skipped: dict[str, int]  # skips counted for the last message (taken back on re-read)


class MboxSource:
    """One mbox file. ``name`` is "mbox:" + its absolute path."""

    def __init__(self, path: Path, batch_bytes: int = BATCH_BYTES, chunk: int = CHUNK) -> None:
        self.path = Path(os.path.abspath(path))
        self.batch_bytes = batch_bytes
        self.chunk = chunk

    @property
    def name(self) -> str:
        return f"mbox:{self.path}"

    def __repr__(self) -> str:
        return f"MboxSource({str(self.path)!r})"

    cursor_type = MboxCursor

    def sync(self, cursor: MboxCursor | None, ctx: SyncContext) -> Iterator[SyncBatch]:
        try:
            f = open(self.path, "rb")  # noqa: SIM115 - closed by the `with f:` below
        except OSError as exc:
            raise unreadable(self.path, "mbox file", "backend.mail", exc) from exc
        with f:
            yield from self._sync(f, cursor, ctx)

    def _sync(self, f: BufferedIOBase, cursor: MboxCursor | None,
              ctx: SyncContext) -> Iterator[SyncBatch]:
        fd = f.fileno()
        st = os.fstat(fd)
        size, identity = st.st_size, (st.st_mtime_ns, st.st_ino)
        start = self._resume_offset(fd, cursor, size, identity)
        if start is None:
            log.debug("%s: unchanged", self.name)
            return
        replace = start < 0
        start = max(start, 0)
        skipped: Counter[str] = Counter()
        if not replace:
            assert cursor is not None
            skipped.subtract(cursor.tail_skipped)
            log.info("%s: reading %d new bytes from offset %d", self.name, size - start, start)
        else:
            log.info("%s: full scan of %d bytes", self.name, size)

        matcher, limits, now, source = ctx.matcher, ctx.limits, ctx.now, self.name
        found: list[Interaction] = []
        batch_start = start
        last_offset = start
        last_reasons: Counter[str] = Counter()
        rule_out = from_rule_out(matcher)
        for offset, block, complete in iter_headers(f, start, size, self.chunk,
                                                    rule_out=rule_out):
            if offset < 0:  # until a message follows, this is the file's tail
                skipped[PREAMBLE] += 1
                last_reasons[PREAMBLE] += 1
                continue
            if offset - batch_start >= self.batch_bytes:
                cursor_now = self._cursor(fd, offset, offset, identity, Counter())
                yield SyncBatch(interactions=found, cursor=cursor_now,
                                skipped=_nonzero(skipped), replace=replace)
                ctx.progress(offset, size)
                found, skipped, replace, batch_start = [], Counter(), False, offset
            last_offset = offset
            last_reasons = Counter()
            reason: str | None
            if not complete:
                reason = TRUNCATED
            else:
                interactions, reason = classify_block(block, matcher, limits, now, source)
                found.extend(interactions)
            if reason:
                skipped[reason] += 1
                last_reasons[reason] += 1
        cursor_now = self._cursor(fd, last_offset, size, identity, last_reasons)
        yield SyncBatch(interactions=found, cursor=cursor_now, skipped=_nonzero(skipped),
                        replace=replace)
        ctx.progress(size, size)

    def _cursor(self, fd: int, offset: int, size: int, identity: tuple[int, int],
                tail_skipped: Counter[str]) -> MboxCursor:
        tail_from = max(0, offset - HASH_SPAN)
        return MboxCursor(
            offset=offset, size=size, mtime_ns=identity[0], inode=identity[1],
            head=_sha256_at(fd, 0, min(HASH_SPAN, size)),
            tail=_sha256_at(fd, tail_from, offset - tail_from),
            tail_skipped=dict(tail_skipped))

    def _resume_offset(self, fd: int, cursor: MboxCursor | None, size: int,
                       identity: tuple[int, int]) -> int | None:
        """Where to resume reading: None if nothing changed, -1 for a full scan."""
        if cursor is None:
            return -1
        try:
            c_size, offset = cursor.size, cursor.offset
            same_file = cursor.inode == identity[1]
            if same_file and c_size == size and cursor.mtime_ns == identity[0]:
                return None
            if not same_file or size < c_size or not 0 <= offset <= c_size:
                return -1
            if _sha256_at(fd, 0, min(HASH_SPAN, c_size)) != cursor.head:
                return -1
            tail_from = max(0, offset - HASH_SPAN)
            if _sha256_at(fd, tail_from, offset - tail_from) != cursor.tail:
                return -1
            # A message must start there (at 0: no text before it, counted or not).
            if offset == 0:
                if os.pread(fd, len(SEP) - 1, 0) != SEP[1:]:
                    return -1
            elif os.pread(fd, len(SEP), offset - 1) != SEP:
                return -1
        except (KeyError, TypeError, ValueError):
            return -1
        return offset


def _nonzero(counts: Counter[str]) -> Counter[str]:
    return Counter({k: v for k, v in counts.items() if v})
