"""Doctor checks of the Google backend: the grant, its scopes, the endpoints."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from villaged.domain.errors import VillagedError
from villaged.ports.doctor import BackendCheckup, Finding, Level

DEFAULT_ENDPOINTS = {
    "Gmail API": "https://gmail.googleapis.com/",
    "Calendar API": "https://www.googleapis.com/calendar/v3/",
    "OAuth token endpoint": "https://oauth2.googleapis.com/token",
}


def checks(c: BackendCheckup) -> list[Finding]:
    return check_token(c) + check_endpoints(c)


def check_token(c: BackendCheckup) -> list[Finding]:
    """The token store in use; whether a grant is there, refreshes, and has exactly
    villaged's scopes (villaged.backends.google.auth.check_auth does the work)."""
    from villaged.backends.google.auth import REAUTH_FIX, check_auth

    try:
        status = check_auth(c.village, c.settings, c.state_dir)
    except VillagedError as exc:
        return [Finding("google token", Level.PROBLEM, exc.message, exc.fix or "")]
    found = [Finding("google token", Level.INFO, f"token store in use: {status.where}")]
    if not status.present:
        return found + [Finding("google token", Level.PROBLEM, "no Google grant is stored",
                                "run `villaged auth` (see README § 3. Sign in: `villaged auth`)")]
    if status.valid:
        found.append(Finding("google token", Level.OK, "the grant is valid (a token refresh worked)"))
    if status.scopes is not None and not (status.missing_scopes or status.extra_scopes):
        found.append(Finding("google token", Level.OK, "scopes: " + ", ".join(
            s.rsplit("/", 1)[-1] for s in status.scopes)))
    for problem in status.problems:
        fix = "check the network, then `villaged doctor` again" \
            if status.valid is None and "reach" in problem else REAUTH_FIX
        found.append(Finding("google token", Level.PROBLEM, problem, fix))
    return found


def check_endpoints(c: BackendCheckup) -> list[Finding]:
    backend = c.settings
    urls = {"Gmail API": backend.gmail_endpoint, "Calendar API": backend.calendar_endpoint,
            "OAuth token endpoint": backend.token_uri}
    found = []
    for name, url in urls.items():
        url = url or DEFAULT_ENDPOINTS[name]
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname or "", port), timeout=5):
                pass
        except OSError as exc:
            found.append(Finding("endpoints", Level.PROBLEM, f"{name} {url} is not reachable: "
                                 f"{exc.strerror or exc}",
                                 "check the network, DNS, proxy or firewall; under systemd, "
                                 "check RestrictAddressFamilies= and IPAddressDeny= of the unit"))
        else:
            found.append(Finding("endpoints", Level.OK, f"{name} {url} is reachable"))
    return found
