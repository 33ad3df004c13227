"""``villaged doctor``: is everything in place, and if not, what exactly to do.

Doctor is a list of check functions. Each takes the ``Checkup`` (what the
earlier checks found: the config, the store) and returns findings: ``ok``,
``problem`` (always with a concrete fix) or ``info``. A check that needs
something an earlier check could not provide returns nothing, so one root
cause is reported once. Each backend brings its own checks through the
registry (``BackendPlugin.doctor``).

Doctor is a dry run: it opens the state database read-only, plans without
syncing, and writes nothing (not the store, the drafts folder or an API).

Exit status: 0 when there is no problem, 1 otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from villaged.domain.errors import Problem, VillagedError
from villaged.domain.village import Skip, Village
from villaged.domain.vocabulary import Guard, Outcome
from villaged.ports.doctor import BackendCheckup, Finding, Level
from villaged.store import DB_NAME, Store

OK, PROBLEM, INFO = Level.OK, Level.PROBLEM, Level.INFO


@dataclass
class Checkup:
    config_path: Path
    state_dir: Path
    now: dt.datetime
    village: Village | None = None
    store: Store | None = None
    stack: ExitStack = field(default_factory=ExitStack)


Check = Callable[[Checkup], list[Finding]]


# -- the checks ----------------------------------------------------------------------

def check_config(c: Checkup) -> list[Finding]:
    from villaged.config import load_village

    if not c.config_path.exists():
        return [Finding("config", PROBLEM, f"no config at {c.config_path}",
                        "run `villaged init` and edit the file it writes, or pass --config")]
    try:
        c.village = load_village(c.config_path)
    except VillagedError as exc:
        return [Finding("config", PROBLEM, f"{c.config_path} is not valid: {exc.message}",
                        exc.fix or "correct the file, then run `villaged doctor` again")]
    v = c.village
    return [Finding("config", OK, f"{c.config_path} is valid: {len(v.people)} people, "
                    f"{v.backend.kind} backend, owner's zone {v.owner.timezone.key}")]


def check_state(c: Checkup) -> list[Finding]:
    """The state directory is there, writable, has room; the database opens and is intact.
    No fix here ever loses what mail cannot rebuild (the drafts ledger, logged contacts,
    gives): see villaged.store_errors."""
    import os

    from villaged.service.runlock import writing_now
    from villaged.store_errors import corrupt_error, free_bytes

    found: list[Finding] = []
    where = c.state_dir
    probe = where
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return [Finding("state", PROBLEM, f"the state directory {where} cannot be created: "
                        f"{probe} is not a directory",
                        "choose another directory with --state-dir or VILLAGED_STATE_DIR")]
    if not os.access(probe, os.W_OK | os.X_OK):
        verb = "is not writable" if probe == where else f"cannot be created ({probe} is not writable)"
        found.append(Finding("state", PROBLEM, f"the state directory {where} {verb}",
                             f"make {probe} writable by you (`ls -ld {probe}`), mount it "
                             "read-write, or choose another directory with --state-dir"))
    free = free_bytes(probe)
    if free is not None and free < 1024 * 1024:
        found.append(Finding("state", PROBLEM, f"the disk holding {where} is full "
                             f"({free // 1024} KB free)",
                             f"free some space (`df -h {probe}`); keep {DB_NAME}: it holds "
                             "the drafts ledger, logged contacts and gives"))
    holder = writing_now(where) if where.is_dir() else None
    if holder:
        found.append(Finding("state", INFO, f"`villaged {holder[1]}` (pid {holder[0]}) is "
                             "writing to the state directory right now"))
    path = where / DB_NAME
    if not path.exists():
        return found + [Finding("state", INFO, f"no state database yet at {path}; the first "
                                "`villaged sync` or `villaged run` creates it")]
    if found and any(f.level == PROBLEM for f in found):
        return found
    try:
        c.store = c.stack.enter_context(Store.read_only(path))  # doctor writes nothing
        verdict = c.store.integrity()
    except VillagedError as exc:
        c.store = None
        return found + [Finding("state", PROBLEM, exc.message, exc.fix or "")]
    if verdict != "ok":
        c.store = None
        damaged = corrupt_error(path, verdict)
        return found + [Finding("state", PROBLEM, damaged.message, damaged.fix or "")]
    return found + [Finding("state", OK, f"state database {path} is intact "
                            f"({c.store.interaction_count()} interactions)")]


def check_backend(c: Checkup) -> list[Finding]:
    """The configured backend's own checks (see villaged.backends.registry)."""
    if c.village is None:
        return []
    from villaged.backends.registry import plugin_for

    settings = c.village.backend
    return plugin_for(settings.kind).doctor(BackendCheckup(
        village=c.village, settings=settings, config_path=c.config_path,
        state_dir=c.state_dir, now=c.now))


def check_parked(c: Checkup) -> list[Finding]:
    if c.store is None:
        return []
    from villaged.service.jobs import parked

    why = parked(c.store)
    if not why:
        return []
    return [Finding("jobs", PROBLEM, f"the jobs are parked since {why.at.isoformat() if why.at else '?'}: "
                    f"{why.reason}",
                    (why.fix or "fix the grant") + "; then `systemctl --user reload "
                    "villaged` (or restart `villaged run`)")]


def check_jobs(c: Checkup) -> list[Finding]:
    if c.village is None or c.store is None:
        return []
    from villaged.service.status import service_view

    view = service_view(c.village, c.store, c.now, c.state_dir)
    tz = c.village.owner.timezone
    found = []
    if view.daemon:
        found.append(Finding("jobs", INFO, f"the daemon is running (pid {view.daemon.pid})"))
        if view.daemon.reload_error:
            found.append(Finding("config", PROBLEM, "the running daemon could not reload the "
                                 f"config and still uses the previous one: "
                                 f"{view.daemon.reload_error}",
                                 "correct the config, then `systemctl --user reload villaged`"))
    else:
        found.append(Finding("jobs", INFO, "the daemon is not running"))
    for job in view.jobs:
        last = "never run"
        if job.last_at:
            last = f"last {job.last_at.astimezone(tz):%Y-%m-%d %H:%M %Z} {job.last_outcome}"
            if job.last_detail:
                last += f" ({job.last_detail})"
        message = f"{job.label}: {last}; next {job.next_text}"
        if job.problem and job.last_outcome != Outcome.PARKED:
            found.append(Finding("jobs", PROBLEM, message,
                                 "see the log (`journalctl --user -u villaged`); the job is "
                                 "retried automatically with backoff"))
        else:
            found.append(Finding("jobs", INFO, message))
    return found


def check_blocked(c: Checkup) -> list[Finding]:
    """Who the plan leaves alone because of a guard, and why (a dry run: writes nothing)."""
    if c.village is None or c.store is None:
        return []
    from villaged.backends.registry import open_backend
    from villaged.service.round import preview

    try:
        result = preview(c.village, c.store, open_backend(c.village, c.state_dir, read_only=True), c.now)
    except Problem as exc:
        return [Finding("plan", PROBLEM, f"cannot plan: {exc.message}", exc.fix or "")]
    names = {p.key: p.name for p in c.village.people}
    skips = [i for i in result.plan if isinstance(i, Skip)]
    blocked = [s for s in skips if s.guard not in (Guard.WARM, Guard.ROULETTE_LIMIT)]
    found = [Finding("blocked", INFO, f"{names.get(s.person, s.person)}: {s.guard}: {s.reason}")
             for s in blocked]
    rest = len(skips) - len(blocked)
    actions = len(result.plan) - len(skips)
    found.append(Finding("blocked", INFO, f"{len(blocked)} blocked by a guard, {rest} warm or "
                         f"not picked this week, {actions} would be drafted by a round now"))
    return found


CHECKS: list[Check] = [check_config, check_state, check_backend, check_parked, check_jobs,
                       check_blocked]


def run_checks(config_path: Path, state_dir: Path, now: dt.datetime) -> Iterator[Finding]:
    checkup = Checkup(config_path=config_path, state_dir=state_dir, now=now)
    with checkup.stack:
        for check in list(CHECKS):
            try:
                yield from check(checkup)
            except Exception as exc:  # noqa: BLE001 - one broken check must not hide the rest
                yield Finding(check.__name__.removeprefix("check_"), PROBLEM,
                              f"the check itself failed: {type(exc).__name__}: {exc}",
                              "this is a villaged bug; please report it with this output")


def render(findings: list[Finding]) -> str:
    marks = {OK: "ok  ", PROBLEM: "FAIL", INFO: "    "}
    lines = []
    for f in findings:
        lines.append(f"{marks[f.level]}  {f.check}: {f.message}")
        if f.level == PROBLEM and f.fix:
            lines.append(f"      fix: {f.fix}")
    problems = sum(1 for f in findings if f.level == PROBLEM)
    lines.append("")
    lines.append("no problems found" if not problems else
                 f"{problems} problem{'s' if problems != 1 else ''} found")
    return "\n".join(lines)
