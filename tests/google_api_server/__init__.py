"""A faithful local Google API server (Gmail v1, Calendar v3) for tests and benchmarks.

    from tests.google_api_server import GoogleApiServer, assert_no_violations

    with GoogleApiServer(profile_email="me@example.com") as server:
        server.add_message(raw_bytes)
        ...  # point googleapiclient at server.url
        assert_no_violations(server)
"""

from .auth import CALENDAR_READONLY, DEFAULT_SCOPES, GMAIL_COMPOSE, GMAIL_READONLY
from .client import build_service, credentials, new_batch
from .mailbox import DraftView, SentMessage
from .server import GoogleApiServer
from .verify import assert_no_violations, running_server

__all__ = [
    "CALENDAR_READONLY",
    "DEFAULT_SCOPES",
    "GMAIL_COMPOSE",
    "GMAIL_READONLY",
    "DraftView",
    "GoogleApiServer",
    "SentMessage",
    "assert_no_violations",
    "build_service",
    "credentials",
    "new_batch",
    "running_server",
]
