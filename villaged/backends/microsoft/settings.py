"""``[backend.microsoft]``: the owner's app registration, tenant, token store, folders, calendars.

| key | default | what |
|---|---|---|
| client_id | (required) | the Application (client) ID of the owner's own app registration (public client) |
| tenant | "organizations" | a tenant id or domain, "organizations", "common" or "consumers" |
| token_store | "keyring" | "keyring", "file" or "systemd-credential", as for Google |
| folders | [] | mail folders read beside Inbox and Sent Items (well-known names or folder ids) |
| calendars | ["calendar"] | "calendar" (the default calendar) and/or calendar ids |
| graph_endpoint | https://graph.microsoft.com/v1.0 | for tests: a compatible server |
| authority | https://login.microsoftonline.com | for tests: a compatible identity endpoint |
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from villaged.schema.typed_table import TypedTable

GRAPH_ENDPOINT = "https://graph.microsoft.com/v1.0"
AUTHORITY = "https://login.microsoftonline.com"
TOKEN_STORES = ("keyring", "file", "systemd-credential")
BASE_FOLDERS = ("inbox", "sentitems")
KEYS = ("client_id", "tenant", "token_store", "folders", "calendars", "graph_endpoint", "authority")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class MicrosoftSettings:
    client_id: str
    tenant: str = "organizations"
    token_store: str = "keyring"
    folders: tuple[str, ...] = ()
    calendars: tuple[str, ...] = ("calendar",)
    graph_endpoint: str = GRAPH_ENDPOINT
    authority: str = AUTHORITY

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
    t.check_keys(KEYS)
    client_id = t.text(
        "client_id",
        required=chosen,
        nonempty=chosen,
        example='client_id = "<Application (client) ID of your app registration>"',
    )
    if chosen and not _GUID.fullmatch(client_id):
        t.fail(
            "client_id",
            f'"{client_id}" is not an Application (client) ID',
            fix="copy the GUID from Entra admin center → App registrations → villaged → Overview "
            "(the README's Microsoft 365 section shows how)",
        )
    tenant = t.text("tenant", default="organizations", nonempty=True, example='tenant = "organizations"')
    if not re.fullmatch(r"[A-Za-z0-9.-]+", tenant):
        t.fail(
            "tenant",
            f'"{tenant}" is not a tenant',
            fix='write a tenant id or domain, or "organizations", "common" or "consumers"',
        )
    default = MicrosoftSettings(client_id="")
    values = {}
    for key in ("graph_endpoint", "authority"):
        url = t.url(key, example=f'{key} = "{getattr(default, key)}"')
        if url is not None:
            if not url.startswith("https://"):
                t.fail(key, f'"{url}" is not an https:// URL', fix=f"remove {key} to use Microsoft's own")
            values[key] = url.rstrip("/")
    return MicrosoftSettings(
        client_id=client_id,
        tenant=tenant,
        token_store=t.choice(
            "token_store", TOKEN_STORES, default.token_store, example='token_store = "file"'
        ),
        folders=t.strings("folders", (), example='folders = ["archive"]'),
        calendars=t.strings(
            "calendars", default.calendars, nonempty=True, example='calendars = ["calendar"]'
        ),
        **values,
    )
