"""The one clock the service reads ``now`` from.

Without ``--now`` it is the system clock (aware, UTC). With ``--now`` it is
that moment plus the monotonic time elapsed since the clock was made, so a
daemon started "as if" at some moment keeps ticking from there. Everything
below the daemon gets ``now`` as an argument; only the daemon and ``run
--once`` hold a Clock.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable


class Clock:
    def __init__(self, anchor: dt.datetime | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if anchor is not None and anchor.tzinfo is None:
            raise ValueError("the clock's anchor must be timezone-aware")
        self._anchor = anchor.astimezone(dt.UTC) if anchor else None
        self._monotonic = monotonic
        self._start = monotonic()

    @property
    def injected(self) -> bool:
        return self._anchor is not None

    def now(self) -> dt.datetime:
        if self._anchor is None:
            return dt.datetime.now(dt.UTC)
        return self._anchor + dt.timedelta(seconds=self._monotonic() - self._start)
