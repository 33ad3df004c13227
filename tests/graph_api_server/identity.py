"""A Microsoft identity platform stand-in for MSAL: discovery, device code, tokens.

Served under ``<server>/<tenant>/...`` (the authority MSAL is given is
``<server>/<tenant>``):

- ``GET  /<tenant>/v2.0/.well-known/openid-configuration``
- ``POST /<tenant>/oauth2/v2.0/devicecode``   (client_id, scope)
- ``POST /<tenant>/oauth2/v2.0/token``        (device_code and refresh_token grants)

The device code is approved after ``pending_polls`` polls, as if the owner had
signed in on another device. ``mode`` makes the token endpoint answer as
Entra ID does when the tenant requires admin consent (AADSTS65001), when the
grant was revoked (AADSTS70000 invalid_grant), or when conditional access
blocks the sign-in (AADSTS53003).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
USER_OID = "00000000-0000-0000-66f3-3332eca7ea81"
ERRORS = {
    "admin_consent": ("invalid_grant", 65001, "AADSTS65001: The user or administrator has not consented "
                      "to use the application with ID '{client}'. Send an interactive authorization "
                      "request for this user and resource.", "consent_required"),
    "revoked": ("invalid_grant", 70000, "AADSTS70000: The provided value for the 'refresh_token' is not "
                "valid. The user might have changed or reset their password.", None),
    "conditional_access": ("interaction_required", 53003, "AADSTS53003: Access has been blocked by "
                           "Conditional Access policies. The access policy does not allow token issuance.",
                           "basic_action"),
}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@dataclass
class Grant:
    scopes: tuple[str, ...]
    client_id: str


@dataclass
class Identity:
    owner: str
    granted: tuple[str, ...] = ()  # scopes the owner consents to; () = whatever is asked
    pending_polls: int = 1
    mode: str | None = None  # None | admin_consent | revoked | conditional_access
    token_lifetime: int = 3600
    tokens: dict[str, tuple[str, ...]] = field(default_factory=dict)  # access token -> scopes
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    device_codes: dict[str, tuple[Grant, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def discovery(self, base: str, tenant: str) -> dict[str, Any]:
        root = f"{base}/{tenant}"
        return {
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
            "issuer": f"{base}/{TENANT_ID}/v2.0",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                      "client_secret_basic"],
        }

    def _scopes(self, asked: str) -> tuple[str, ...]:
        wanted = [s for s in asked.split() if s not in ("openid", "profile", "offline_access")]
        short = [s.rsplit("/", 1)[-1] for s in wanted]
        if self.granted:
            return tuple(s for s in short if s in self.granted)
        return tuple(short)

    def device_code(self, form: dict[str, str], base: str) -> tuple[int, dict[str, Any]]:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.device_codes[code] = (Grant(self._scopes(form.get("scope", "")), form.get("client_id", "")), 0)
        return 200, {"device_code": code, "user_code": "VILLAGE1", "verification_uri": f"{base}/devicelogin",
                     "expires_in": 900, "interval": 0,
                     "message": f"To sign in, use a web browser to open the page {base}/devicelogin "
                                "and enter the code VILLAGE1 to authenticate."}

    def token(self, form: dict[str, str], base: str) -> tuple[int, dict[str, Any]]:
        grant_type = form.get("grant_type", "")
        client = form.get("client_id", "")
        if self.mode:
            error, code, description, suberror = ERRORS[self.mode]
            body = {"error": error, "error_description": description.format(client=client),
                    "error_codes": [code], "timestamp": "2026-11-28 00:00:00Z",
                    "trace_id": secrets.token_hex(8), "correlation_id": secrets.token_hex(8)}
            if suberror:
                body["suberror"] = suberror
            return 400, body
        with self.lock:
            if grant_type == "urn:ietf:params:oauth:grant-type:device_code":
                entry = self.device_codes.get(form.get("device_code", ""))
                if entry is None:
                    return 400, {"error": "expired_token", "error_description": "AADSTS70020: expired"}
                grant, polls = entry
                if polls < self.pending_polls:
                    self.device_codes[form["device_code"]] = (grant, polls + 1)
                    return 400, {"error": "authorization_pending",
                                 "error_description": "AADSTS70016: OAuth 2.0 device flow error. "
                                                      "Authorization is pending."}
                del self.device_codes[form["device_code"]]
            elif grant_type == "refresh_token":
                grant_or_none = self.refresh_tokens.get(form.get("refresh_token", ""))
                if grant_or_none is None:
                    return 400, {"error": "invalid_grant", "error_codes": [70000],
                                 "error_description": ERRORS["revoked"][2]}
                grant = grant_or_none
            else:
                return 400, {"error": "unsupported_grant_type",
                             "error_description": f"AADSTS70003: {grant_type} is not supported"}
            access = secrets.token_urlsafe(32)
            refresh = secrets.token_urlsafe(32)
            self.tokens[access] = grant.scopes
            self.refresh_tokens[refresh] = grant
        now = int(time.time())
        claims = {"aud": client, "iss": f"{base}/{TENANT_ID}/v2.0", "iat": now, "nbf": now,
                  "exp": now + 3600, "name": "Owner", "oid": USER_OID, "preferred_username": self.owner,
                  "sub": "owner-sub", "tid": TENANT_ID, "ver": "2.0"}
        id_token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
        return 200, {"token_type": "Bearer", "scope": " ".join(
            [f"https://graph.microsoft.com/{s}" for s in grant.scopes] + ["openid", "profile", "offline_access"]),
            "expires_in": self.token_lifetime, "ext_expires_in": self.token_lifetime,
            "access_token": access, "refresh_token": refresh, "id_token": id_token,
            "client_info": _b64({"uid": USER_OID, "utid": TENANT_ID})}

    def scopes_of(self, access_token: str) -> tuple[str, ...] | None:
        with self.lock:
            return self.tokens.get(access_token)

    def revoke(self) -> None:
        """The owner (or an admin) revoked villaged: refresh -> invalid_grant, calls -> 401."""
        with self.lock:
            self.tokens.clear()
            self.refresh_tokens.clear()

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def issue(self, scopes: tuple[str, ...]) -> str:
        """An access token for tests that talk to Graph without MSAL."""
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = scopes
        return token
