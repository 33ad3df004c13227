"""Server-side page snapshots, so later pages stay consistent while state changes."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any


class PageCache:
    """Maps opaque page tokens to (remaining snapshot, extra)."""

    def __init__(self, capacity: int = 512) -> None:
        self._pages: OrderedDict[str, tuple[list[Any], int, Any]] = OrderedDict()
        self._counter = 0
        self._capacity = capacity

    def page(self, items: list[Any], offset: int, size: int, extra: Any = None) -> tuple[list[Any], str | None]:
        """Slice one page; return it and the token for the next page (None on the last)."""
        chunk = items[offset : offset + size]
        if offset + size >= len(items):
            return chunk, None
        self._counter += 1
        token = hashlib.sha1(f"page{self._counter}".encode()).hexdigest()[:20]
        self._pages[token] = (items, offset + size, extra)
        if len(self._pages) > self._capacity:
            self._pages.popitem(last=False)
        return chunk, token

    def resume(self, token: str) -> tuple[list[Any], int, Any] | None:
        """(snapshot, offset, extra) for a token this cache issued, else None."""
        return self._pages.get(token)
