"""What a method handler receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .contract import MethodSpec


@dataclass
class Call:
    """One validated API call."""

    spec: MethodSpec
    params: dict[str, Any]  # typed query + path parameters (absent stays absent)
    body: Any  # parsed JSON request body (or upload metadata), or None
    media: bytes | None  # uploaded media (multipart/related or uploadType=media)
    now: datetime

    @property
    def now_ms(self) -> int:
        """`now` as epoch milliseconds."""
        return int(self.now.timestamp() * 1000)
