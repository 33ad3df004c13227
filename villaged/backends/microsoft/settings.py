"""Settings of ``[backend] kind = "microsoft"``: Outlook mail and calendar, in ``[backend.microsoft]``.

Each key is declared once, on ``MicrosoftSettings``; the reader, the allowed keys and
the example config are derived from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from villaged.domain.setting import setting
from villaged.schema import declared
from villaged.schema.typed_table import TypedTable

GRAPH_ENDPOINT = "https://graph.microsoft.com/v1.0"
AUTHORITY = "https://login.microsoftonline.com"
TOKEN_STORES = ("keyring", "file", "systemd-credential")
BASE_FOLDERS = ("inbox", "sentitems")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class MicrosoftSettings:
    """[backend.microsoft]: Outlook mail and calendar through Microsoft Graph.

    With kind = "microsoft", villaged reads the mail and calendar of a Microsoft
    365 work or school account through Microsoft Graph and writes drafts into
    Outlook. Register your own app first (the README's Microsoft 365 section
    shows how), then uncomment this table:
    """

    client_id: str = setting(
        required=True, nonempty=True, example='"00000000-0000-0000-0000-000000000000"',
        doc="The Application (client) ID of your own app registration (a public client).")
    tenant: str = setting("organizations", nonempty=True,
                          doc='A tenant id or domain, "organizations", "common" or "consumers".')
    token_store: str = setting(
        "keyring", choices=TOKEN_STORES,
        doc='Where the grant is kept: "keyring", "file" or "systemd-credential".')
    folders: tuple[str, ...] = setting(
        (), example='["archive"]',
        doc="Mail folders read beside Inbox and Sent Items (well-known names or folder ids).")
    calendars: tuple[str, ...] = setting(
        ("calendar",), nonempty=True, doc='"calendar" (your default calendar) and/or calendar ids.')
    graph_endpoint: str = setting(GRAPH_ENDPOINT, kind="url",
                                  doc="For testing against another server (https URLs):")
    authority: str = setting(AUTHORITY, kind="url")

    kind: str = "microsoft"

    @property
    def mail_folders(self) -> tuple[str, ...]:
        """Inbox and Sent Items, then the configured folders, without repeats."""
        return tuple(dict.fromkeys((*BASE_FOLDERS, *self.folders)))

    @property
    def authority_url(self) -> str:
        return f"{self.authority.rstrip('/')}/{self.tenant}"

    @property
    def custom_endpoints(self) -> bool:
        return self.graph_endpoint != GRAPH_ENDPOINT or self.authority != AUTHORITY


def read_microsoft(backend: TypedTable, chosen: bool) -> MicrosoftSettings | None:
    """The [backend.microsoft] table, checked whenever present; required when chosen."""
    t = backend.table(
        "microsoft",
        required=chosen,
        example='[backend.microsoft]\nclient_id = "00000000-0000-0000-0000-000000000000"',
    )
    if t is None:
        return None
    t.check_keys(declared.allowed(MicrosoftSettings))
    values = declared.read_values(MicrosoftSettings, t, required=chosen)
    client_id = values.get("client_id", "")
    if chosen and not _GUID.fullmatch(client_id):
        t.fail(
            "client_id",
            f'"{client_id}" is not an Application (client) ID',
            fix="copy the GUID from Entra admin center → App registrations → villaged → Overview "
            "(the README's Microsoft 365 section shows how)",
        )
    if not re.fullmatch(r"[A-Za-z0-9.-]+", values["tenant"]):
        t.fail(
            "tenant",
            f'"{values["tenant"]}" is not a tenant',
            fix='write a tenant id or domain, or "organizations", "common" or "consumers"',
        )
    for key in ("graph_endpoint", "authority"):
        if key in t.data:
            if not values[key].startswith("https://"):
                t.fail(key, f'"{values[key]}" is not an https:// URL',
                       fix=f"remove {key} to use Microsoft's own")
            values[key] = values[key].rstrip("/")
    return MicrosoftSettings(**{"client_id": client_id, **values})
