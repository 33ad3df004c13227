"""`villaged status`'s service part: the daemon, the jobs, the last round."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from villaged.cli.render import table
from villaged.domain.village import Village
from villaged.service.jobs import LABELS, SYNC
from villaged.service.status import service_view, when_text
from villaged.store import Store


def service_text(village: Village, store: Store, now: dt.datetime, state_dir: Path) -> str:
    view = service_view(village, store, now, state_dir)
    tz = village.owner.timezone
    lines = []
    if view.daemon:
        since = when_text(view.daemon.started_at, tz) if view.daemon.started_at else "?"
        lines.append(f"service:    running (pid {view.daemon.pid}) since {since}")
        if view.daemon.reload_error:
            lines.append(f"            last config reload failed, previous config in use: "
                         f"{view.daemon.reload_error}")
        elif view.daemon.reloaded_at:
            when = when_text(view.daemon.reloaded_at, tz)
            lines.append(f"            config reloaded {when}")
    elif view.runner_pid is not None:
        pid = f"pid {view.runner_pid}" if view.runner_pid > 0 else "pid unknown"
        lines.append(f"service:    a round is running ({pid})")
    else:
        lines.append("service:    not running (start it with `villaged run` or "
                     "`systemctl --user enable --now villaged`)")
    if view.parked:
        since = when_text(view.parked.at, tz) if view.parked.at else "?"
        lines.append(f"PARKED:     {view.parked.reason} (since {since}); the jobs wait")
        if view.parked.fix:
            lines.append(f"  fix:      {view.parked.fix}")
    if view.last_round:
        r = view.last_round
        what = LABELS.get(r.job, r.job or "?")
        if r.slot:
            what += f" ({r.slot})"
        lines.append(f"last round: {what} {when_text(r.at, tz)}: {r.outcome}"
                     + (f" ({r.detail})" if r.detail else ""))
    else:
        lines.append("last round: none yet")
    rows = []
    for job in view.jobs:
        last = "never"
        if job.last_at:
            last = when_text(job.last_at, tz)
            if job.last_slot and job.name != SYNC:
                last = f"slot {job.last_slot}, {last}"
            last += f": {job.last_outcome}"
        rows.append([job.label, last, job.next_text])
    lines += ["", table(rows, ["job", "last run", "next run"])]
    return "\n".join(lines)
