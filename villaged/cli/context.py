"""What every command shares: the context, error printing, the progress bar."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from villaged.domain.errors import Problem
from villaged.domain.village import Village
from villaged.ports.source import Progress, no_progress
from villaged.service import paths

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Context:
    config: Path | None
    state_dir: Path
    given_now: dt.datetime | None

    @property
    def now(self) -> dt.datetime:
        return self.given_now or dt.datetime.now(dt.UTC)

    def village(self) -> Village:
        from villaged.config import default_config_path, load_village

        return load_village(self.config or default_config_path())

    @contextmanager
    def store(self) -> Iterator[Any]:
        from villaged.store import Store

        with Store.in_dir(paths.ensure_private_dir(self.state_dir)) as store:
            yield store

    @contextmanager
    def reading_store(self) -> Iterator[Any]:
        """The store opened read-only, or None before the first sync: for dry runs and
        previews, which write nothing (not even the state directory)."""
        from villaged.store import DB_NAME, Store

        path = self.state_dir / DB_NAME
        if not path.exists():
            yield None
            return
        with Store.read_only(path) as store:
            yield store

    @contextmanager
    def writing_store(self, what: str) -> Iterator[Any]:
        """The store, with the state directory's write lock held (one writer at a time)."""
        from villaged.service import runlock
        from villaged.store import Store

        state = paths.ensure_private_dir(self.state_dir)
        with runlock.writer(state, what), Store.in_dir(state) as store:
            yield store


def parse_now(_: click.Context, __: click.Parameter, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use ISO 8601, e.g. 2026-11-23T08:00:00-06:00") from exc
    if when.tzinfo is None:
        raise click.BadParameter("include a UTC offset, e.g. 2026-11-23T08:00:00-06:00")
    return when.astimezone(dt.UTC)


def friendly(func: F) -> F:
    """Print villaged's own errors as one message with its fix (no traceback): exit 2
    for a problem the user can fix (VillagedError), 1 for one that needs only a
    retry later (TransientError)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Problem as exc:
            click.echo(f"villaged: {exc}", err=True)
            sys.exit(exc.exit_status)

    return wrapper  # type: ignore[return-value]


def progress_bar(label: str) -> Progress:
    """A progress bar on a terminal; silence when stderr is not one."""
    if not sys.stderr.isatty():
        return no_progress
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr)
            bar.__enter__()
            state["bar"] = bar
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)
            state.pop("bar")

    return update


pass_context = click.make_pass_decorator(Context)
