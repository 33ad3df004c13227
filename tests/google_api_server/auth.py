"""OAuth 2.0 endpoints (token refresh, tokeninfo) and bearer-token checks."""

from __future__ import annotations

import threading
import time
from typing import Any

from .errors import unauthenticated

GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
GMAIL_COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
CALENDAR_READONLY = "https://www.googleapis.com/auth/calendar.readonly"
DEFAULT_SCOPES = (GMAIL_READONLY, GMAIL_COMPOSE, CALENDAR_READONLY)
TOKEN_LIFETIME = 3600


class Auth:
    """Issues access tokens, knows which are still good, and which scopes are granted.

    Tokens the server never issued are accepted (tests may start from any token)
    unless `strict` is set; revoke() and expire_access_tokens() turn them bad.
    """

    def __init__(self, scopes: tuple[str, ...] | list[str] = DEFAULT_SCOPES, strict: bool = False) -> None:
        self.scopes = list(scopes)
        self.strict = strict
        self.revoked = False
        self.client_id: str | None = None
        self.client_secret: str | None = None
        self._lock = threading.Lock()
        self._issued: set[str] = set()
        self._seen: set[str] = set()
        self._bad: set[str] = set()
        self._counter = 0
        self.refreshes = 0
        # Some servers answer a refresh with the access token the client already
        # holds (only its lifetime is new): set this to that token to act like one.
        self.same_token: str | None = None

    # ------------------------------------------------------------- control

    def revoke(self) -> None:
        """The user revoked access: refresh answers invalid_grant, every token is bad."""
        with self._lock:
            self.revoked = True

    def restore(self) -> None:
        """Undo revoke()."""
        with self._lock:
            self.revoked = False

    def expire_access_tokens(self) -> None:
        """Every access token seen or issued so far now answers 401 (a refresh fixes it)."""
        with self._lock:
            self._bad |= self._issued | self._seen

    # ------------------------------------------------------------ endpoints

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """POST /token: refresh_token and authorization_code grants."""
        grant = form.get("grant_type")
        if self.client_id is not None and (
            form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret
        ):
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        if grant == "refresh_token":
            if not form.get("refresh_token"):
                return 400, {"error": "invalid_request", "error_description": "Missing required parameter: refresh_token"}
            if self.revoked:
                return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
            return 200, self._grant(with_refresh=False)
        if grant == "authorization_code":
            if not form.get("code"):
                return 400, {"error": "invalid_request", "error_description": "Missing required parameter: code"}
            with self._lock:
                self.revoked = False
            return 200, self._grant(with_refresh=True)
        return 400, {"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant}"}

    def _grant(self, with_refresh: bool) -> dict[str, Any]:
        with self._lock:
            self._counter += 1
            self.refreshes += 1
            token = self.same_token or f"ya29.local-{self._counter:06d}"
            self._issued.add(token)
        body: dict[str, Any] = {
            "access_token": token,
            "expires_in": TOKEN_LIFETIME,
            "scope": " ".join(self.scopes),
            "token_type": "Bearer",
        }
        if with_refresh:
            body["refresh_token"] = f"1//local-refresh-{self._counter:06d}"
        return body

    def tokeninfo(self, access_token: str | None) -> tuple[int, dict[str, Any]]:
        """GET /oauth2/v3/tokeninfo?access_token=... (values are strings, as Google sends them)."""
        if not access_token or not self._good(access_token):
            return 400, {"error": "invalid_token", "error_description": "Invalid Value"}
        return 200, {
            "azp": self.client_id or "local-client.apps.googleusercontent.com",
            "aud": self.client_id or "local-client.apps.googleusercontent.com",
            "scope": " ".join(self.scopes),
            "exp": str(int(time.time()) + TOKEN_LIFETIME),
            "expires_in": str(TOKEN_LIFETIME),
            "access_type": "offline",
        }

    # --------------------------------------------------------------- checks

    def check_bearer(self, authorization: str | None) -> None:
        """Raise a 401 ApiError unless the Authorization header carries a good token."""
        if not authorization or not authorization.startswith("Bearer "):
            raise unauthenticated()
        token = authorization[len("Bearer ") :].strip()
        if not self._good(token):
            raise unauthenticated()

    def _good(self, token: str) -> bool:
        with self._lock:
            if token not in self._issued:
                if self.strict:
                    return False
                self._seen.add(token)
            return not self.revoked and token not in self._bad

    def allows(self, method_scopes: tuple[str, ...]) -> bool:
        """Whether any granted scope covers a method declaring `method_scopes`."""
        return not method_scopes or any(s in self.scopes for s in method_scopes)
