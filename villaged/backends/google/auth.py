"""OAuth for the Google backend: the installed-app flow, loading the grant, doctor's checks.

villaged uses the owner's own OAuth client (a "Desktop app" client whose
client_secret.json the owner downloads; see README § 1. Create the OAuth client) and asks for
exactly three scopes:

- gmail.readonly: read headers to learn when you last had contact (never
  gmail.metadata, which disables ``q`` search even next to other scopes);
- gmail.compose: write drafts, and send the weekly digest to yourself;
- calendar.readonly: meetings, and free/busy for invitations.

Never the full-mail scope. The grant is kept by a TokenStore (token_store.py)
as JSON; no token is ever logged.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from villaged.backends.google.settings import GoogleBackend
from villaged.backends.google.token_store import TokenStore, open_token_store
from villaged.domain.errors import AuthError, TransientError, VillagedError
from villaged.domain.village import Village

log = logging.getLogger(__name__)

GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
GMAIL_COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
CALENDAR_READONLY = "https://www.googleapis.com/auth/calendar.readonly"
SCOPES: tuple[str, ...] = (GMAIL_READONLY, GMAIL_COMPOSE, CALENDAR_READONLY)

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
GOOGLE_TOKENINFO_URI = "https://www.googleapis.com/oauth2/v3/tokeninfo"

REAUTH_FIX = ("run `villaged auth` again; if this recurs every 7 days, your OAuth app is in "
              "Testing mode: publish it (Google Cloud console → OAuth consent screen → "
              "Publish app) so its grants stop expiring")


def refresh_problem(exc: Exception) -> AuthError | TransientError:
    """The one actionable message for a refresh that failed."""
    data = next((a for a in getattr(exc, "args", ()) if isinstance(a, dict)), {})
    error = data.get("error") if isinstance(data, dict) else None
    if error == "invalid_grant":
        return AuthError("Google refused villaged's grant: it was revoked or has expired",
                         fix=REAUTH_FIX)
    if getattr(exc, "retryable", False):
        return TransientError("Google's token endpoint failed for now",
                              fix="villaged retries next round")
    what = f" ({error})" if isinstance(error, str) and error.isidentifier() else ""
    return AuthError(f"Google refused to refresh villaged's access token{what}", fix=REAUTH_FIX)


# -- the stored grant ----------------------------------------------------------

def token_store_for(village: Village, backend: GoogleBackend, state_dir: Path) -> TokenStore:
    return open_token_store(backend.token_store, village.owner.address, state_dir)


def credentials_from_json(text: str, backend: GoogleBackend) -> Any:
    """Credentials from the stored JSON. Unlike ``from_authorized_user_info``,
    the stored token_uri is kept (and the config's ``token_uri`` wins)."""
    from google.oauth2.credentials import Credentials

    try:
        info = json.loads(text)
        if not isinstance(info, dict):
            raise ValueError("not an object")
        missing = {"refresh_token", "client_id", "client_secret"} - info.keys()
        if missing:
            raise ValueError(f"missing {', '.join(sorted(missing))}")
        expiry = None
        if info.get("expiry"):
            # google-auth keeps expiry as a naive UTC datetime
            expiry = dt.datetime.strptime(info["expiry"].rstrip("Z").split(".")[0],  # noqa: DTZ007
                                          "%Y-%m-%dT%H:%M:%S")
    except (ValueError, TypeError, AttributeError) as exc:
        raise AuthError(f"the stored Google grant is unreadable ({exc})",
                        fix="run `villaged auth` again") from None
    scopes = info.get("scopes")
    if isinstance(scopes, str):
        scopes = scopes.split()
    return Credentials(
        token=info.get("token"),
        refresh_token=info["refresh_token"],
        token_uri=backend.token_uri or info.get("token_uri") or GOOGLE_TOKEN_URI,
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        scopes=scopes or list(SCOPES),
        expiry=expiry,
        account=info.get("account", ""),
    )


def load_credentials(store: TokenStore, backend: GoogleBackend) -> Any:
    text = store.load()
    if not text:
        raise AuthError(f"villaged has no Google grant yet ({store.where})",
                        fix="run `villaged auth`")
    return credentials_from_json(text, backend)


def saver(store: TokenStore) -> Callable[[Any], None]:
    """A callback keeping a refreshed access token, when the store can be written."""

    def save(credentials: Any) -> None:
        if not store.writable:
            return
        try:
            store.save(credentials.to_json())
        except VillagedError as exc:  # keep working with the token in memory
            log.warning("could not keep the refreshed access token: %s", exc.message)

    return save


# -- the installed-app flow ---------------------------------------------------

def client_config(path: Path, backend: GoogleBackend) -> dict[str, Any]:
    """The "installed" client config from client_secret.json, validated."""
    try:
        data = json.loads(path.expanduser().read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VillagedError(f"the OAuth client file {path} does not exist",
                            fix="download it from the Google Cloud console (APIs & Services → "
                                "Credentials → your Desktop app client → Download JSON)") from None
    except (OSError, ValueError) as exc:
        raise VillagedError(f"cannot read the OAuth client file {path}: {exc}",
                            fix="download the client's JSON again") from None
    if isinstance(data, dict) and "web" in data and "installed" not in data:
        raise VillagedError(f"{path} is a 'Web application' OAuth client",
                            fix="create an OAuth client of type 'Desktop app' and use its JSON")
    installed = data.get("installed") if isinstance(data, dict) else None
    if not isinstance(installed, dict) or not {"client_id", "client_secret"} <= installed.keys():
        raise VillagedError(f"{path} is not an OAuth client_secret.json",
                            fix="download the JSON of a 'Desktop app' OAuth client")
    installed = dict(installed)
    installed.setdefault("auth_uri", "https://accounts.google.com/o/oauth2/auth")
    installed["token_uri"] = backend.token_uri or installed.get("token_uri") or GOOGLE_TOKEN_URI
    return {"installed": installed}


def has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prompt_text(port: int, browser: bool) -> str:
    """What to tell the owner; ``{url}`` is filled in by the flow."""
    host = socket.gethostname()
    lines = ["Open this URL in a browser to let villaged read your mail and calendar "
             "and write drafts:", "", "    {url}", ""]
    if not browser:
        lines += [
            f"villaged is waiting for Google's answer on http://localhost:{port}/ on this machine.",
            "If your browser runs on another computer, forward that port first, from the",
            "computer with the browser:",
            "",
            f"    ssh -L {port}:localhost:{port} {host}",
            "",
            "then open the URL there.",
        ]
    # the flow formats this text with url=…, so literal braces must be doubled
    return "\n".join(line if line == "    {url}" else line.replace("{", "{{").replace("}", "}}")
                     for line in lines)


def run_flow(config: dict[str, Any], *, open_browser: bool, port: int | None = None,
             timeout: float | None = None) -> Any:
    """The installed-app flow on loopback; returns Credentials with exactly SCOPES."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    # Let the token exchange succeed when the owner unticks a scope, so that the
    # check below can say which one is missing instead of oauthlib's warning.
    os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    flow = InstalledAppFlow.from_client_config(config, scopes=list(SCOPES))
    port = port or free_port()
    try:
        credentials = flow.run_local_server(
            host="localhost", bind_addr="127.0.0.1", port=port,
            open_browser=open_browser, authorization_prompt_message=prompt_text(port, open_browser),
            success_message="villaged is authorised. You can close this window.",
            timeout_seconds=timeout, prompt="consent", access_type="offline")
    except flow_errors() as exc:
        raise flow_problem(exc) from None
    check_granted(credentials.granted_scopes or _scopes_of(credentials))
    if not credentials.refresh_token:
        raise AuthError("Google sent no refresh token",
                        fix="remove villaged at https://myaccount.google.com/permissions "
                            "and run `villaged auth` again")
    return credentials


def flow_errors() -> tuple[type[BaseException], ...]:
    """What the installed-app flow raises when the sign-in fails (imported lazily)."""
    from google_auth_oauthlib.flow import WSGITimeoutError
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error

    return (OAuth2Error, WSGITimeoutError, OSError, ValueError)


def flow_problem(exc: BaseException) -> AuthError:
    """villaged's message for a flow that failed with one of ``flow_errors()``."""
    from google_auth_oauthlib.flow import WSGITimeoutError
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error

    if isinstance(exc, OAuth2Error):
        return AuthError(f"Google refused the authorisation: {exc.error}",
                         fix="run `villaged auth` again and allow every permission asked")
    if isinstance(exc, WSGITimeoutError):
        return AuthError("no answer came back from the browser in time",
                         fix="run `villaged auth` again (see the ssh -L hint for a headless machine)")
    # OSError (the loopback port), ValueError (the token exchange came back without a token)
    return AuthError(f"the sign-in failed: {exc}", fix="run `villaged auth` again")


def _scopes_of(credentials: Any) -> list[str]:
    return list(credentials.scopes or ())


def check_granted(granted: Any) -> None:
    missing = [s for s in SCOPES if s not in set(granted or ())]
    if missing:
        names = ", ".join(s.rsplit("/", 1)[-1] for s in missing)
        raise AuthError(f"the grant lacks {names}",
                        fix="run `villaged auth` again and tick every box on Google's consent screen")


def save_grant(store: TokenStore, credentials: Any) -> None:
    store.save(credentials.to_json())


# -- doctor -------------------------------------------------------------------

@dataclass
class AuthStatus:
    """What doctor reports about the Google grant. Never holds a token."""

    store: str  # keyring | file | systemd-credential
    where: str
    present: bool = False
    valid: bool | None = None  # None: not checked
    scopes: tuple[str, ...] | None = None
    missing_scopes: tuple[str, ...] = ()
    extra_scopes: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.present and self.valid is not False and not self.missing_scopes \
            and not self.extra_scopes and not self.problems


def tokeninfo_uri(backend: GoogleBackend, token_uri: str | None) -> str:
    """tokeninfo next to the configured token endpoint (for test servers), else Google's."""
    if backend.token_uri or (token_uri and token_uri != GOOGLE_TOKEN_URI):
        parts = urlsplit(backend.token_uri or token_uri or "")
        return f"{parts.scheme}://{parts.netloc}/oauth2/v3/tokeninfo"
    return GOOGLE_TOKENINFO_URI


def granted_scopes(credentials: Any, uri: str, timeout: float = 30.0) -> tuple[str, ...]:
    """The scopes Google says the access token carries (POSTed, so the token
    never appears in a URL or a log line)."""
    import requests

    try:
        r = requests.post(uri, data={"access_token": credentials.token}, timeout=timeout)
    except requests.RequestException as exc:
        raise TransientError(f"cannot reach Google's tokeninfo ({type(exc).__name__})",
                             fix="check the network") from None
    if r.status_code != 200:
        raise AuthError(f"Google's tokeninfo rejected the access token (HTTP {r.status_code})",
                        fix=REAUTH_FIX)
    return tuple(str(r.json().get("scope", "")).split())


def refresh(credentials: Any) -> None:
    """Refresh the access token now (raises AuthError / TransientError)."""
    import google.auth.exceptions
    from google.auth.transport.requests import Request

    try:
        credentials.refresh(Request())
    except google.auth.exceptions.RefreshError as exc:
        raise refresh_problem(exc) from None
    except google.auth.exceptions.TransportError:
        raise TransientError("cannot reach Google's token endpoint",
                             fix="check the network") from None


def check_auth(village: Village, backend: GoogleBackend, state_dir: Path,
               remote: bool = True) -> AuthStatus:
    """Which store is used, whether a grant is there, whether refreshing works
    and whether the granted scopes are exactly villaged's (``remote`` checks
    talk to Google)."""
    store = token_store_for(village, backend, state_dir)
    status = AuthStatus(store=store.kind, where=store.where)
    try:
        text = store.load()
    except VillagedError as exc:
        status.problems.append(exc.message)
        return status
    status.present = bool(text)
    if not text:
        status.problems.append("no Google grant is stored")
        return status
    try:
        credentials = credentials_from_json(text, backend)
    except VillagedError as exc:
        status.problems.append(exc.message)
        return status
    if not remote:
        return status
    try:
        refresh(credentials)  # kept in memory only: doctor writes nothing
        status.valid = True
        scopes = granted_scopes(credentials, tokeninfo_uri(backend, credentials.token_uri))
    except AuthError as exc:
        status.valid = False
        status.problems.append(exc.message)
        return status
    except TransientError as exc:
        status.problems.append(exc.message)
        return status
    status.scopes = scopes
    status.missing_scopes = tuple(s for s in SCOPES if s not in scopes)
    status.extra_scopes = tuple(s for s in scopes if s not in SCOPES)
    if status.extra_scopes:
        status.problems.append("the grant carries more than villaged needs: "
                               f"{', '.join(status.extra_scopes)}")
    if status.missing_scopes:
        status.problems.append(f"the grant lacks {', '.join(status.missing_scopes)}")
    return status
