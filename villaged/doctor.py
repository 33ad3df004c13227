"""``villaged doctor``: is everything in place, and if not, what exactly to do.

Doctor is a list of check functions. Each takes the ``Checkup`` (what the
earlier checks found: the config, the store) and returns findings: ``ok``,
``problem`` (always with a concrete fix) or ``info``. A check that needs
something an earlier check could not provide returns nothing, so one root
cause is reported once. The Google backend adds its own checks by putting
``doctor_checks()`` (returning more check functions) in
``villaged.google.auth``; ``CHECKS`` is also open to ``register``.

Exit status: 0 when there is no problem, 1 otherwise.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from villaged.errors import VillagedError
from villaged.store import DB_NAME, Store
from villaged.village import GoogleBackend, LocalBackend, Skip, Village

OK, PROBLEM, INFO = "ok", "problem", "info"
DEFAULT_ENDPOINTS = {
    "Gmail API": "https://gmail.googleapis.com/",
    "Calendar API": "https://www.googleapis.com/calendar/v3/",
    "OAuth token endpoint": "https://oauth2.googleapis.com/token",
}
NOT_BLOCKING = ("roulette-limit", "warm")  # plan skips that are not a guard blocking someone


@dataclass(frozen=True)
class Finding:
    check: str
    level: str  # ok | problem | info
    message: str
    fix: str = ""


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
    path = c.state_dir / DB_NAME
    if not path.exists():
        return [Finding("state", INFO, f"no state database yet at {path}; the first "
                        "`villaged sync` or `villaged run` creates it")]
    try:
        c.store = c.stack.enter_context(Store(path))
        verdict = c.store.integrity()
    except VillagedError as exc:
        c.store = None
        return [Finding("state", PROBLEM, exc.message, exc.fix or "")]
    except Exception as exc:  # noqa: BLE001 - sqlite raises DatabaseError subclasses
        c.store = None
        return [Finding("state", PROBLEM, f"the state database {path} is damaged ({exc})",
                        f"stop villaged, move {path} aside and run `villaged sync` to rebuild "
                        "it from your mail")]
    if verdict != "ok":
        return [Finding("state", PROBLEM, f"the state database {path} is damaged: {verdict}",
                        f"stop villaged, move {path} aside and run `villaged sync` to rebuild "
                        "it from your mail (drafts already written stay in your drafts folder)")]
    return [Finding("state", OK, f"state database {path} is intact "
                    f"({c.store.interaction_count()} interactions)")]


def check_local_paths(c: Checkup) -> list[Finding]:
    if c.village is None or not isinstance(c.village.backend, LocalBackend):
        return []
    backend, config = c.village.backend, c.config_path
    found = []
    for key, paths in (("mail", backend.mail), ("calendars", backend.calendars)):
        for path in paths:
            path = Path(path).expanduser()
            where = f"backend.{key}: {path}"
            if not path.exists():
                fix = f"correct or remove that entry of [backend] {key} in {config}"
                found.append(Finding("local backend", PROBLEM, f"{where} does not exist", fix))
            elif not os.access(path, os.R_OK):
                found.append(Finding("local backend", PROBLEM, f"{where} is not readable",
                                     f"give your account read access to {path}"))
            else:
                found.append(Finding("local backend", OK, where))
    found.append(_writable_folder("drafts folder", Path(backend.drafts).expanduser(),
                                  f"[backend] drafts in {config}"))
    digest = c.village.digest.maildir
    if digest is not None:
        found.append(_writable_folder("digest folder", Path(digest).expanduser(),
                                      f"[digest] maildir in {config}"))
    return found


def _writable_folder(what: str, folder: Path, key: str) -> Finding:
    """A Maildir folder villaged writes into (created when missing)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return Finding("local backend", PROBLEM, f"{what} {folder}: {probe} is not a directory",
                       f"point {key} at a folder, or move {probe} out of the way")
    targets = [folder / sub for sub in ("tmp", "cur", "new") if (folder / sub).is_dir()] or [probe]
    blocked = [t for t in [probe, *targets] if not os.access(t, os.W_OK | os.X_OK)]
    if blocked:
        hint = ("; under systemd also list it in ReadWritePaths= of the unit"
                if os.environ.get("INVOCATION_ID") else "")
        return Finding("local backend", PROBLEM, f"{what} {folder} is not writable ({blocked[0]})",
                       f"give your account write access to {blocked[0]}{hint}")
    state = "" if folder.exists() else " (created at the first draft)"
    return Finding("local backend", OK, f"{what} {folder} is writable{state}")


def check_google_token(c: Checkup) -> list[Finding]:
    """The token store in use; whether a grant is there, refreshes, and has exactly
    villaged's scopes (villaged.google.auth.check_auth does the work)."""
    if c.village is None or not isinstance(c.village.backend, GoogleBackend):
        return []
    try:
        from villaged.google.auth import REAUTH_FIX, check_auth
    except ModuleNotFoundError:
        return [Finding("google token", PROBLEM, "this build has no Google backend",
                        "install a villaged release with the Google backend")]
    try:
        status = check_auth(c.village, c.village.backend, c.state_dir)
    except VillagedError as exc:
        return [Finding("google token", PROBLEM, exc.message, exc.fix or "")]
    found = [Finding("google token", INFO, f"token store in use: {status.where}")]
    if not status.present:
        return found + [Finding("google token", PROBLEM, "no Google grant is stored",
                                "run `villaged auth` (see docs/google.md)")]
    if status.valid:
        found.append(Finding("google token", OK, "the grant is valid (a token refresh worked)"))
    if status.scopes is not None and not (status.missing_scopes or status.extra_scopes):
        found.append(Finding("google token", OK, "scopes: " + ", ".join(
            s.rsplit("/", 1)[-1] for s in status.scopes)))
    for problem in status.problems:
        fix = "check the network, then `villaged doctor` again" \
            if status.valid is None and "reach" in problem else REAUTH_FIX
        found.append(Finding("google token", PROBLEM, problem, fix))
    return found


def check_endpoints(c: Checkup) -> list[Finding]:
    if c.village is None or not isinstance(c.village.backend, GoogleBackend):
        return []
    backend = c.village.backend
    urls = {"Gmail API": backend.gmail_endpoint, "Calendar API": backend.calendar_endpoint,
            "OAuth token endpoint": backend.token_uri}
    found = []
    for name, url in urls.items():
        url = url or DEFAULT_ENDPOINTS[name]
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname or "", port), timeout=5):
                pass
        except OSError as exc:
            found.append(Finding("endpoints", PROBLEM, f"{name} {url} is not reachable: "
                                 f"{exc.strerror or exc}",
                                 "check the network, DNS, proxy or firewall; under systemd, "
                                 "check RestrictAddressFamilies= and IPAddressDeny= of the unit"))
        else:
            found.append(Finding("endpoints", OK, f"{name} {url} is reachable"))
    return found


def check_parked(c: Checkup) -> list[Finding]:
    if c.store is None:
        return []
    from villaged.jobs import parked

    why = parked(c.store)
    if not why:
        return []
    return [Finding("jobs", PROBLEM, f"the jobs are parked since {why.get('at', '?')}: "
                    f"{why.get('reason', '')}",
                    (why.get("fix") or "fix the grant") + "; then `systemctl --user reload "
                    "villaged` (or restart `villaged run`)")]


def check_jobs(c: Checkup) -> list[Finding]:
    if c.village is None or c.store is None:
        return []
    from villaged.service_status import service_view

    view = service_view(c.village, c.store, c.now, c.state_dir)
    tz = c.village.owner.timezone
    found = []
    if view.daemon:
        found.append(Finding("jobs", INFO, f"the daemon is running (pid {view.daemon['pid']})"))
        if view.daemon.get("reload_error"):
            found.append(Finding("config", PROBLEM, "the running daemon could not reload the "
                                 f"config and still uses the previous one: "
                                 f"{view.daemon['reload_error']}",
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
        if job.problem and job.last_outcome != "parked":
            found.append(Finding("jobs", PROBLEM, message,
                                 "see the log (`journalctl --user -u villaged`); the job is "
                                 "retried automatically with backoff"))
        else:
            found.append(Finding("jobs", INFO, message))
    return found


def check_blocked(c: Checkup) -> list[Finding]:
    """Who the plan leaves alone because of a guard, and why (no sync, no drafts)."""
    if c.village is None or c.store is None:
        return []
    from villaged.backends import open_backend
    from villaged.round import run_round

    try:
        result = run_round(c.village, c.store, open_backend(c.village, c.state_dir), c.now,
                           sync=False, draft=False)
    except VillagedError as exc:
        return [Finding("plan", PROBLEM, f"cannot plan: {exc.message}", exc.fix or "")]
    except Exception as exc:  # noqa: BLE001 - e.g. the network is down
        return [Finding("plan", PROBLEM, f"cannot plan: {type(exc).__name__}: {exc}",
                        "fix the problems above, then run `villaged doctor` again")]
    names = {p.key: p.name for p in c.village.people}
    skips = [i for i in result.plan if isinstance(i, Skip)]
    blocked = [s for s in skips if s.guard not in NOT_BLOCKING]
    found = [Finding("blocked", INFO, f"{names.get(s.person, s.person)}: {s.guard}: {s.reason}")
             for s in blocked]
    rest = len(skips) - len(blocked)
    actions = len(result.plan) - len(skips)
    found.append(Finding("blocked", INFO, f"{len(blocked)} blocked by a guard, {rest} warm or "
                         f"not picked this week, {actions} would be drafted by a round now"))
    return found


CHECKS: list[Check] = [check_config, check_state, check_local_paths, check_google_token,
                       check_endpoints, check_parked, check_jobs, check_blocked]


def register(check: Check, before: Check | None = check_jobs) -> None:
    """Add a check (e.g. from the Google backend), by default before the job report."""
    if check in CHECKS:
        return
    CHECKS.insert(CHECKS.index(before) if before in CHECKS else len(CHECKS), check)


def _extra_checks() -> list[Check]:
    try:
        auth = importlib.import_module("villaged.google.auth")
    except ModuleNotFoundError:
        return []
    hook = getattr(auth, "doctor_checks", None)
    return list(hook()) if callable(hook) else []


def run_checks(config_path: Path, state_dir: Path, now: dt.datetime) -> Iterator[Finding]:
    for check in _extra_checks():
        register(check)
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
