"""How a config value is shown inside an error message."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string.

    >>> print(toml_string("Tomás"))
    "Tomás"
    """
    return json.dumps(text, ensure_ascii=False)


def describe(value: Any) -> str:
    """What a parsed TOML value is, in words: "the number 3", "a list".

    >>> describe(True), describe(3), describe("mentr")
    ('true (true/false)', 'the number 3', 'the text "mentr"')
    """
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {toml_string(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, dt.time):
        return "a time"
    return type(value).__name__
