"""Settings of ``[backend] kind = "google"``: Gmail and Google Calendar."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from villaged.schema.typed_table import TypedTable


@dataclass(frozen=True)
class GoogleBackend:
    client_secrets: Path | None = None
    token_store: str = "keyring"  # keyring | file | systemd-credential
    gmail_endpoint: str | None = None
    calendar_endpoint: str | None = None
    token_uri: str | None = None
    calendars: tuple[str, ...] = ("primary",)
    quota_units_per_minute: int = 6000

    kind: str = "google"


TOKEN_STORES = ("keyring", "file", "systemd-credential")
KEYS = ("client_secrets", "token_store", "gmail_endpoint", "calendar_endpoint",
        "token_uri", "calendars", "quota_units_per_minute")  # fmt: skip


def read_google(backend: TypedTable, chosen: bool) -> GoogleBackend:
    """The [backend.google] table, checked whenever present (defaults when absent)."""
    t = backend.table("google")
    if t is None:
        return GoogleBackend()
    t.check_keys(KEYS)
    default = GoogleBackend()
    return GoogleBackend(
        client_secrets=t.path(
            "client_secrets", example='client_secrets = "~/.config/villaged/client_secret.json"'
        ),
        token_store=t.choice(
            "token_store", TOKEN_STORES, default.token_store, example='token_store = "keyring"'
        ),
        gmail_endpoint=t.url(
            "gmail_endpoint", example='gmail_endpoint = "https://gmail.googleapis.com/"'
        ),
        calendar_endpoint=t.url(
            "calendar_endpoint",
            example='calendar_endpoint = "https://www.googleapis.com/calendar/v3/"',
        ),
        token_uri=t.url("token_uri", example='token_uri = "https://oauth2.googleapis.com/token"'),
        calendars=t.strings(
            "calendars", default.calendars, nonempty=True, example='calendars = ["primary"]'
        ),
        quota_units_per_minute=t.integer(
            "quota_units_per_minute", default.quota_units_per_minute, low=1
        ),
    )
