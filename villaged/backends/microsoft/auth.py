"""Sign-in to Microsoft 365 with MSAL: the device-code flow, the token cache, and clear errors.

villaged is a *public client* of the owner's own app registration (no client
secret) and asks for two delegated Graph scopes:

- ``Mail.ReadWrite``: creating a draft needs it (Graph has no narrower scope
  that can write to Drafts), and it also covers reading the headers villaged
  needs, so ``Mail.ReadBasic`` would add nothing;
- ``Calendars.ReadBasic``: meetings (times, organiser, attendees and their
  answers, without bodies) and busy times for invitations.

MSAL adds ``openid``, ``profile`` and ``offline_access`` itself (sign-in and a
refresh token). Never ``Mail.Send``: the digest is placed in the owner's own
Inbox instead of being sent (see backend.py).

The MSAL token cache (JSON, holding the refresh token) lives in the same
secret stores as the Google grant: the keyring (service
``villaged-microsoft``), a 0600 file ``microsoft-token.json`` in the state
directory, or the systemd credential ``villaged-microsoft-token``. Nothing
here logs a token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from villaged.backends.microsoft.settings import MicrosoftSettings
from villaged.backends.token_store import (
    FileStore,
    KeyringStore,
    SystemdCredentialStore,
    TokenStore,
    write_private,
)
from villaged.domain.errors import AuthError, ConfigError, TransientError, UnreachableError, VillagedError

log = logging.getLogger(__name__)

GRAPH_RESOURCE = "https://graph.microsoft.com/"
SCOPE_NAMES = ("Mail.ReadWrite", "Calendars.ReadBasic")
SCOPES = tuple(GRAPH_RESOURCE + s for s in SCOPE_NAMES)
KEYRING_SERVICE = "villaged-microsoft"
TOKEN_FILE = "microsoft-token.json"
CREDENTIAL_NAME = "villaged-microsoft-token"
REAUTH = "run `villaged auth` again"
ADMIN_CONSENT_CODES = {65001, 65004, 90094, 90095, 90099, 500011}
CONDITIONAL_ACCESS_CODES = {53000, 53001, 53002, 53003, 53004, 530002, 530003}
REAUTH_CODES = {50076, 50079, 50078, 50173, 70000, 70008, 70043, 700082, 700084, 50132, 50133, 54005}


def token_store_for(settings: MicrosoftSettings, owner_address: str, state_dir: Path) -> TokenStore:
    """The store ``token_store`` names (no silent fallback from one to another)."""
    import os

    if settings.token_store == "keyring":
        return KeyringStore(
            user=owner_address,
            service=KEYRING_SERVICE,
            section="[backend.microsoft]",
            what="the Microsoft sign-in",
        )
    if settings.token_store == "file":
        return FileStore(state_dir / TOKEN_FILE)
    if settings.token_store == "systemd-credential":
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        return SystemdCredentialStore(Path(directory) if directory else None, name=CREDENTIAL_NAME)
    raise ConfigError(
        f"unknown [backend.microsoft] token_store {settings.token_store!r}",
        fix="use one of: keyring, file, systemd-credential",
    )


def _codes(result: dict[str, Any]) -> set[int]:
    codes = {int(c) for c in result.get("error_codes") or () if str(c).isdigit()}
    description = str(result.get("error_description") or "")
    if description.startswith("AADSTS"):
        head = description[6:].split(":", 1)[0]
        if head.isdigit():
            codes.add(int(head))
    return codes


def token_problem(result: dict[str, Any], settings: MicrosoftSettings) -> VillagedError | TransientError:
    """The one actionable message for an error answer of the identity platform."""
    error = str(result.get("error") or "")
    codes = _codes(result)
    code = f" (AADSTS{min(codes)})" if codes else ""
    if codes & ADMIN_CONSENT_CODES:
        return AuthError(
            f"your organisation requires an administrator to approve villaged's permissions{code}",
            fix=f"ask your Microsoft 365 administrator to grant admin consent for the app registration "
            f"{settings.client_id} (delegated Mail.ReadWrite and Calendars.ReadBasic), for example at "
            f"{settings.authority_url.rsplit('/', 1)[0]}/<your tenant>/adminconsent?client_id="
            f"{settings.client_id}; then run `villaged auth` (README § 1. Register the app)",
        )
    if codes & CONDITIONAL_ACCESS_CODES:
        return AuthError(
            f"a Conditional Access policy of your organisation blocks villaged's sign-in{code}",
            fix="ask your IT department to allow your app registration "
            f"{settings.client_id} for your account (or sign in from a device the policy accepts), "
            "then run `villaged auth`",
        )
    if error in ("invalid_grant", "interaction_required") or codes & REAUTH_CODES:
        return AuthError(
            f"Microsoft refused villaged's grant: it was revoked or has expired{code}", fix=REAUTH
        )
    if error in ("temporarily_unavailable", "server_error"):
        return TransientError(
            f"Microsoft's sign-in service failed for now{code}", fix="villaged retries next round"
        )
    if error in ("invalid_client", "unauthorized_client") or codes & {700016, 7000218, 50011}:
        return VillagedError(
            f"Microsoft does not accept the app registration {settings.client_id}{code}",
            fix="check [backend.microsoft] client_id, and in the app registration enable "
            "Authentication → Allow public client flows (see the README)",
        )
    return AuthError(f"Microsoft refused to issue a token ({error or 'no reason given'}){code}", fix=REAUTH)


@dataclass
class MsalAuth:
    """The owner's MSAL public client, its token cache, and the store the cache lives in."""

    settings: MicrosoftSettings
    store: TokenStore
    owner_address: str = ""
    persist: bool = True  # False: a refreshed token stays in memory (doctor writes nothing)
    _cache: Any = field(default=None, init=False, repr=False)

    @cached_property
    def app(self) -> Any:
        import msal

        self._cache = msal.SerializableTokenCache()
        text = self.store.load()
        if text:
            try:
                self._cache.deserialize(text)
            except ValueError:
                raise AuthError(
                    f"the stored Microsoft sign-in is unreadable ({self.store.where})", fix=REAUTH
                ) from None
        options: dict[str, Any] = {}
        if self.settings.custom_endpoints:
            options["instance_discovery"] = False  # a test server is not in Microsoft's list
        try:
            return msal.PublicClientApplication(
                self.settings.client_id,
                authority=self.settings.authority_url,
                token_cache=self._cache,
                **options,
            )
        except ValueError as exc:
            raise VillagedError(
                f"MSAL cannot use the authority {self.settings.authority_url}: {exc}",
                fix="check [backend.microsoft] tenant and authority",
            ) from None
        except OSError as exc:
            raise UnreachableError(
                f"cannot reach Microsoft's sign-in service ({type(exc).__name__})",
                fix="villaged retries next round; check the network",
            ) from None

    def _save(self) -> None:
        if self._cache is None or not self._cache.has_state_changed:
            return
        if not self.store.writable or not self.persist:
            return  # a systemd credential: refreshed tokens stay in memory
        try:
            self.store.save(self._cache.serialize())
            self._cache.has_state_changed = False
        except VillagedError as exc:
            log.warning("could not keep the refreshed Microsoft token: %s", exc.message)

    def account(self) -> Any:
        accounts = self._call(self.app.get_accounts)
        if not accounts:
            raise AuthError(
                f"villaged has no Microsoft sign-in yet ({self.store.where})", fix="run `villaged auth`"
            )
        wanted = self.owner_address.lower()
        return next((a for a in accounts if str(a.get("username", "")).lower() == wanted), accounts[0])

    def access_token(self, force_refresh: bool = False) -> str:
        """A valid access token (refreshed through the refresh token when needed)."""
        account = self.account()
        result = self._call(
            lambda: self.app.acquire_token_silent_with_error(
                list(SCOPES), account=account, force_refresh=force_refresh
            )
        )
        if not result:
            raise AuthError("the stored Microsoft sign-in holds no usable token", fix=REAUTH)
        if "access_token" not in result:
            raise token_problem(result, self.settings)
        self._save()
        return str(result["access_token"])

    def sign_in(self, show: Callable[[str], None]) -> str:
        """The device-code flow: ``show`` gets Microsoft's instructions (a URL and a code).
        Returns the account's username. The cache is written to the store."""
        flow = self._call(lambda: self.app.initiate_device_flow(scopes=list(SCOPES)))
        if "user_code" not in flow:
            raise token_problem(flow, self.settings)
        show(str(flow.get("message") or f"open {flow.get('verification_uri')} and enter {flow['user_code']}"))
        result = self._call(lambda: self.app.acquire_token_by_device_flow(flow))
        if "access_token" not in result:
            raise token_problem(result, self.settings)
        granted = {s.rsplit("/", 1)[-1] for s in str(result.get("scope", "")).split()}
        missing = [s for s in SCOPE_NAMES if s not in granted]
        if missing:
            raise AuthError(
                f"the sign-in did not grant {', '.join(missing)}",
                fix="run `villaged auth` again and accept every permission asked; if your "
                "organisation requires it, ask an administrator to consent for the app",
            )
        self._save()
        claims = result.get("id_token_claims") or {}
        return str(claims.get("preferred_username") or "")

    def cache_text(self) -> str:
        """The serialised token cache (for `villaged auth` with a systemd credential)."""
        self.app  # noqa: B018 - loads the cache
        return str(self._cache.serialize())

    def save_to(self, path: Path) -> None:
        write_private(path, self.cache_text().encode("utf-8"))

    def save(self) -> None:
        if self._cache is not None:
            self._cache.has_state_changed = True
        self._save()

    @staticmethod
    def _call(fn: Callable[[], Any]) -> Any:
        import requests

        try:
            return fn()
        except requests.RequestException as exc:
            raise UnreachableError(
                f"cannot reach Microsoft's sign-in service ({type(exc).__name__})",
                fix="villaged retries next round; check the network",
            ) from None
