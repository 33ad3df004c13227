"""Where the mbox scanner's time goes, and the least any pure-Python scanner spends.

    .venv/bin/python bench/mbox_floor.py MBOX [MBOX ...]

For each mailbox (``bench/mbox_scan.py`` builds them under
$TMPDIR/villaged-bench and calls this module for its two mixes), prints:

* the floor: the file read in 1 MB chunks and one C-level regex pass that finds
  every message start and every ``From:`` line, each value looked up in a dict.
  Nothing is cut, parsed or checked, so no exact scanner can cost less in
  Python: whatever it does per message comes on top;
* the scanner's own costs, by path: the bulk pass (which reads the file and
  drops mail from outside the village), the owner's own mail that its
  recipients rule out, and the messages parsed and classified in full.

Figures are CPU seconds of this process, the best of several runs, because the
machine may be shared. The last line printed is a JSON object.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from villaged.backends.local.mbox import CHUNK, iter_headers  # noqa: E402
from villaged.core.mailparse import classify_block, concerns_village, from_rule_out  # noqa: E402
from villaged.ports.source import SyncContext  # noqa: E402

RUNS = 5
# "\nFrom " starts a message; "\nFrom:" a From line (in a header or a body).
_STARTS_AND_FROM_LINES = re.compile(rb"\nFrom(?: |:([^\n]*))")


def _best(work: Callable[[], object], runs: int = RUNS) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def floor_pass(path: Path, chunk: int = CHUNK) -> int:
    """The floor described above; returns the number of message starts found."""
    seen: dict[bytes, int] = {}
    get = seen.get
    starts = 0
    room = bytearray(chunk)
    tail = b"\n"  # as if a newline came before the file: its first message counts
    with open(path, "rb", buffering=0) as f:
        while got := f.readinto(room):
            data = room if got == chunk else room[:got]
            # a start cut in two by the chunk boundary (5 bytes each side, so a
            # start wholly on one side is not counted here)
            starts += (tail + bytes(data[:5])).count(b"\nFrom ")
            for value in _STARTS_AND_FROM_LINES.findall(data):
                if not value:
                    starts += 1
                elif get(value) is None:
                    seen[value] = 1
            tail = bytes(data[-5:])
    return starts


def breakdown(path: Path, ctx: SyncContext) -> dict:
    """CPU seconds of each of the scanner's paths on ``path``, with counts."""
    size = path.stat().st_size
    matcher = ctx.matcher
    rule_out = from_rule_out(matcher)

    def bulk() -> list[bytes]:
        with open(path, "rb") as f:
            return [block for offset, block, _ in iter_headers(f, 0, size, rule_out=rule_out)
                    if offset >= 0]

    kept = bulk()
    concerning = [b for b in kept if concerns_village(b, matcher)]
    ruled_out = [b for b in kept if not concerns_village(b, matcher)]
    floor_s = _best(lambda: floor_pass(path))
    bulk_s = _best(bulk)
    owner_s = _best(lambda: [concerns_village(b, matcher) for b in ruled_out])
    full_s = _best(lambda: [classify_block(b, matcher, ctx.limits, ctx.now, "bench")
                            for b in concerning])
    messages = floor_pass(path)
    return {
        "file_mb": round(size / 1e6, 1),
        "messages": messages,
        "floor_cpu_s": round(floor_s, 4),
        "floor_messages_per_s": round(messages / floor_s),
        "floor_mb_per_s": round(size / 1e6 / floor_s, 1),
        "bulk_pass_cpu_s": round(bulk_s, 4),
        "bulk_pass_us_per_message": round(bulk_s * 1e6 / messages, 2),
        "ruled_out_by_recipients": len(ruled_out),
        "ruled_out_by_recipients_us_each": round(owner_s * 1e6 / max(len(ruled_out), 1), 1),
        "parsed_in_full": len(concerning),
        "parsed_in_full_us_each": round(full_s * 1e6 / max(len(concerning), 1), 1),
        "scanner_cpu_s_by_parts": round(bulk_s + owner_s + full_s, 4),
    }


def budget(figures: dict, messages_per_s: float | None = None,
           mb_per_s: float | None = None) -> dict:
    """What a speed target leaves after the floor: the CPU seconds the target
    allows, the floor's share of them, and what remains per message."""
    allowed = (figures["messages"] / messages_per_s if messages_per_s
               else figures["file_mb"] / mb_per_s if mb_per_s else None)
    if allowed is None:
        return {}
    left = allowed - figures["floor_cpu_s"]
    return {"allowed_cpu_s": round(allowed, 4),
            "floor_share_of_allowed": round(figures["floor_cpu_s"] / allowed, 2),
            "left_after_floor_us_per_message": round(left * 1e6 / figures["messages"], 2)}


def main() -> None:
    import mbox_scan  # the village and owner the benchmark mailboxes are made for

    ctx = mbox_scan.context()
    out = {}
    for arg in sys.argv[1:]:
        path = Path(arg)
        figures = breakdown(path, ctx)
        if "smallmix" in path.name:
            figures["budget"] = budget(
                figures, messages_per_s=mbox_scan.TARGETS["small_mix_messages_per_s"])
        else:
            figures["budget"] = budget(
                figures, mb_per_s=mbox_scan.TARGETS["existing_mix_mb_per_s_issue_9"])
        out[path.name] = figures
    print(json.dumps(out))


if __name__ == "__main__":
    main()
