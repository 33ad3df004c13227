"""Where the Google grant (refresh token) lives: keyring, a 0600 file, or a systemd credential.

The stores are shared with the other backends that sign in
(villaged.backends.token_store); this module names Google's: keyring
service "villaged", ``google-token.json``, the credential ``villaged-token``.
The stored value is the JSON of ``google.oauth2.credentials.Credentials``
(``to_json()``): never a pickle.
"""

from __future__ import annotations

import os
from pathlib import Path

from villaged.backends.token_store import (
    STORES,
    FileStore,
    KeyringStore,
    SystemdCredentialStore,
    TokenStore,
    write_private,
)
from villaged.domain.errors import ConfigError

__all__ = ["CREDENTIAL_NAME", "STORES", "TOKEN_FILE", "FileStore", "KeyringStore",
           "SystemdCredentialStore", "TokenStore", "open_token_store", "write_private"]

TOKEN_FILE = "google-token.json"
CREDENTIAL_NAME = "villaged-token"


def open_token_store(kind: str, owner_address: str, state_dir: Path) -> TokenStore:
    """The store the config names (``keyring`` when it names none)."""
    if kind == "keyring":
        return KeyringStore(user=owner_address)
    if kind == "file":
        return FileStore(state_dir / TOKEN_FILE)
    if kind == "systemd-credential":
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        return SystemdCredentialStore(Path(directory) if directory else None)
    raise ConfigError(f"unknown [backend.google] token_store {kind!r}",
                      fix=f"use one of: {', '.join(STORES)}")
