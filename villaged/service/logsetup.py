"""Logging to stderr: journald-friendly under systemd, plain otherwise.

Under systemd ($JOURNAL_STREAM set) each line starts with a syslog level
prefix such as ``<4>`` and carries no timestamp (the journal adds one).
"""

from __future__ import annotations

import logging
import os
import sys

SYSLOG_LEVEL = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
                logging.CRITICAL: 2}


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{SYSLOG_LEVEL.get(record.levelno, 6)}>"
        return prefix + super().format(record).replace("\n", "\n" + prefix)


def configure(verbosity: int = 0) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("googleapiclient.discovery_cache", "googleapiclient.discovery"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # the client warns about every error answer and retry it sees; villaged says what
    # matters itself, as one message with a fix (shown again with -vv)
    logging.getLogger("googleapiclient.http").setLevel(
        logging.DEBUG if verbosity >= 2 else logging.ERROR)
