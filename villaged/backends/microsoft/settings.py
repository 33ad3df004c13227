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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from villaged.domain.errors import ConfigError

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


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"[backend.microsoft] {key} must be a list of strings",
                          fix=f'e.g. {key} = ["{"Archive" if key == "folders" else "calendar"}"]')
    return tuple(v.strip() for v in value)


def parse_settings(table: Mapping[str, Any]) -> MicrosoftSettings:
    """Settings from the ``[backend.microsoft]`` table, or a ConfigError naming the key and the fix."""
    unknown = [k for k in table if k not in KEYS]
    if unknown:
        raise ConfigError(f"[backend.microsoft] has no key {unknown[0]!r}",
                          fix=f"use one of: {', '.join(KEYS)}")
    client_id = table.get("client_id")
    if not isinstance(client_id, str) or not _GUID.fullmatch(client_id.strip()):
        raise ConfigError("[backend.microsoft] client_id must be your app registration's "
                          "Application (client) ID, a GUID",
                          fix="copy it from Entra admin center → App registrations → villaged → Overview "
                              "(see the README's Microsoft 365 section)")
    store = table.get("token_store", "keyring")
    if store not in TOKEN_STORES:
        raise ConfigError(f"[backend.microsoft] token_store {store!r} is not a token store",
                          fix=f"use one of: {', '.join(TOKEN_STORES)}")
    tenant = table.get("tenant", "organizations")
    if not isinstance(tenant, str) or not re.fullmatch(r"[A-Za-z0-9.-]+", tenant):
        raise ConfigError("[backend.microsoft] tenant must be a tenant id, a domain, or "
                          '"organizations" / "common" / "consumers"', fix='e.g. tenant = "organizations"')
    values: dict[str, Any] = {"client_id": client_id.strip(), "tenant": tenant, "token_store": store}
    if "folders" in table:
        values["folders"] = _strings(table["folders"], "folders")
    if "calendars" in table:
        values["calendars"] = _strings(table["calendars"], "calendars") or ("calendar",)
    for key in ("graph_endpoint", "authority"):
        if key in table:
            value = table[key]
            if not isinstance(value, str) or not value.startswith("https://"):
                raise ConfigError(f"[backend.microsoft] {key} must be an https:// URL",
                                  fix=f"remove {key} to use Microsoft's own endpoint")
            values[key] = value.rstrip("/")
    return MicrosoftSettings(**values)
