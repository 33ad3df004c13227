"""A last line of defence: scrub anything token-shaped from log records.

No villaged code logs a token, but a long-running service also logs
exception messages and tracebacks from libraries (an HTTP error that quotes
a URL, say). The filter rewrites each record's message and traceback text
before any handler formats it.

>>> redact("refresh failed for ya29.a0AfB_byC-123 at https://x/?access_token=abc&b=1")
'refresh failed for ya29.[redacted] at https://x/?access_token=[redacted]&b=1'
>>> redact('{"refresh_token": "1//0gXyz-abc", "token_type": "Bearer"}')
'{"refresh_token": "[redacted]", "token_type": "Bearer"}'
>>> redact("Authorization: Bearer abc.def-123")
'Authorization: Bearer [redacted]'
"""

from __future__ import annotations

import logging
import re

_PATTERNS = (
    (re.compile(r"\bya29\.[\w.\-]+"), "ya29.[redacted]"),
    (re.compile(r"\b1//[\w\-]{6,}"), "[redacted]"),
    (re.compile(r"(?i)\b(bearer\s+)[\w.\-~+/]{6,}=*"), r"\1[redacted]"),
    (re.compile(r"\b4/0[\w\-]{10,}"), "[redacted]"),  # an OAuth authorization code
    (re.compile(r"(?i)\b((?:access|refresh|id)_token|client_secret|password)"
                r"(\"?\s*[:=]\s*\"?)([^\s\"'&,;}]+)"), r"\1\2[redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install() -> None:
    """Add the filter to every handler of the root logger (once)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactTokens) for f in handler.filters):
            handler.addFilter(RedactTokens())
