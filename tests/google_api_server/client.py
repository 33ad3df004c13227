"""Client-side conveniences: credentials and services wired to a GoogleApiServer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import GoogleApiServer

CLIENT_ID = "local-client.apps.googleusercontent.com"
CLIENT_SECRET = "local-secret"


def credentials(server: GoogleApiServer, token: str | None = "ya29.initial",
                refresh_token: str = "1//local-refresh") -> Any:
    """google.oauth2 Credentials whose refresh goes to the server's /token."""
    from google.oauth2.credentials import Credentials

    return Credentials(
        token=token,
        refresh_token=refresh_token,
        token_uri=server.token_uri,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=list(server.granted_scopes),
    )


def build_service(server: GoogleApiServer, api: str, creds: Any = None) -> Any:
    """googleapiclient service for "gmail" (v1) or "calendar" (v3), as villaged builds it."""
    from googleapiclient.discovery import build

    version = {"gmail": "v1", "calendar": "v3"}[api]
    return build(api, version, credentials=creds or credentials(server), static_discovery=True,
                 cache_discovery=False, client_options={"api_endpoint": server.url})


def new_batch(server: GoogleApiServer, api: str, callback: Any = None) -> Any:
    """BatchHttpRequest aimed at the server's batch endpoint for `api`."""
    from googleapiclient.http import BatchHttpRequest

    return BatchHttpRequest(callback=callback, batch_uri=server.batch_uri(api))
