"""Settings of ``[backend] kind = "google"``: Gmail and Google Calendar, in ``[backend.google]``.

Each key is declared once, here; the reader, the allowed keys and the example
config are derived from these fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from villaged.domain.setting import setting
from villaged.schema import declared
from villaged.schema.typed_table import TypedTable

TOKEN_STORES = ("keyring", "file", "systemd-credential")


@dataclass(frozen=True)
class GoogleBackend:
    """[backend.google]: Gmail and Google Calendar.

    With kind = "google", villaged reads Gmail and Google Calendar instead and
    writes drafts into Gmail; mail, calendars and drafts above are then not
    needed. Bring your own OAuth client (a "Desktop app" client from the Google
    Cloud console), then uncomment this table:
    """

    client_secrets: Path | None = setting(
        None, example='"~/.config/villaged/client_secret.json"',
        doc="The OAuth client's JSON file, downloaded from the console.")
    token_store: str = setting("keyring", choices=TOKEN_STORES,
                               doc='Where the grant is kept: "keyring", "file" or "systemd-credential".')
    gmail_endpoint: str | None = setting(
        None, kind="url", example='"https://gmail.googleapis.com/"',
        doc="For testing against another server (http or https URLs):")
    calendar_endpoint: str | None = setting(
        None, kind="url", example='"https://www.googleapis.com/calendar/v3/"')
    token_uri: str | None = setting(None, kind="url", example='"https://oauth2.googleapis.com/token"')
    calendars: tuple[str, ...] = setting(("primary",), nonempty=True, doc="Calendar ids to read.")
    quota_units_per_minute: int = setting(
        6000, low=1, high=15000,
        doc="At most this many Gmail API units a minute; Gmail allows 15000 per user.")

    kind: str = "google"


def read_google(backend: TypedTable, chosen: bool) -> GoogleBackend:
    """The [backend.google] table, checked whenever present (defaults when absent)."""
    return declared.read_settings(GoogleBackend, backend.table("google"))
