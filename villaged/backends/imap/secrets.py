"""The IMAP and CalDAV secrets: a password, or an OAuth2 access token from a command.

Where the secret comes from is chosen in the config, never guessed:

- ``password_command`` / ``oauth2_command``: a shell command that prints the
  secret on its first line (mbsync's ``PassCmd``, aerc's ``source-cred-cmd``),
  so any password manager (``pass``, ``secret-tool``, ``op``, ``bw``) or OAuth2
  helper (``oama``, ``mutt_oauth2.py``) works. An access token from
  ``oauth2_command`` makes IMAP log in with XOAUTH2 (or OAUTHBEARER when the
  server offers only that) and CalDAV send it as a Bearer token.
- ``secret = "keyring"`` (default): the system keyring, service ``villaged``,
  user ``imap:<username>@<host>`` (or ``caldav:<username>@<host>``); store it
  once with ``keyring set villaged imap:dana@imap.example.org``.
- ``secret = "file"``: ``<state dir>/imap-password`` (``caldav-password``),
  which must be 0600 (villaged refuses a file others can read).
- ``secret = "systemd-credential"``: ``$CREDENTIALS_DIRECTORY/villaged-imap-password``
  (``villaged-caldav-password``), from ``LoadCredentialEncrypted=`` in the unit.

No function here logs a secret or a command's output.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from villaged.backends.imap.settings import Credentials
from villaged.domain.errors import AuthError

log = logging.getLogger(__name__)

KEYRING_SERVICE = "villaged"
COMMAND_TIMEOUT = 60


@dataclass(frozen=True)
class Secret:
    value: str
    oauth2: bool = False  # an OAuth2 access token rather than a password


def account(service: str, username: str, host: str) -> str:
    """The keyring user / file stem for one account: ``imap:dana@imap.example.org``."""
    return f"{service}:{username}@{host}"


def load_secret(credentials: Credentials, service: str, username: str, host: str,
                state_dir: Path) -> Secret:
    """The password or access token for ``service`` ("imap" or "caldav"), or AuthError."""
    if credentials.oauth2_command:
        return Secret(_run(credentials.oauth2_command, "oauth2_command", service), oauth2=True)
    if credentials.password_command:
        return Secret(_run(credentials.password_command, "password_command", service))
    if credentials.store == "file":
        return Secret(_from_file(state_dir / f"{service}-password", service))
    if credentials.store == "systemd-credential":
        return Secret(_from_credential(f"villaged-{service}-password", service))
    return Secret(_from_keyring(account(service, username, host), service))


def where(credentials: Credentials, service: str, username: str, host: str,
          state_dir: Path) -> str:
    """Where the secret is looked for, for humans (never the secret)."""
    if credentials.oauth2_command:
        return "the output of oauth2_command (an OAuth2 access token)"
    if credentials.password_command:
        return "the output of password_command"
    if credentials.store == "file":
        return str(state_dir / f"{service}-password")
    if credentials.store == "systemd-credential":
        return f"systemd credential villaged-{service}-password"
    return f"keyring (service {KEYRING_SERVICE!r}, user {account(service, username, host)!r})"


def _run(command: str, key: str, service: str) -> str:
    try:
        # a shell command by design (mbsync's PassCmd): it comes from the owner's own config
        done = subprocess.run(command, shell=True, capture_output=True, text=True,  # noqa: S602
                              timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AuthError(f"[backend.{service}] {key} did not finish within {COMMAND_TIMEOUT} s",
                        fix=f"run it by hand to see what it waits for: {command}") from exc
    if done.returncode != 0:
        # stderr may hold a hint but never the secret; keep it short
        hint = " ".join(done.stderr.split())[:200]
        raise AuthError(f"[backend.{service}] {key} failed with exit status {done.returncode}"
                        + (f": {hint}" if hint else ""),
                        fix=f"run it by hand and fix it: {command}")
    value = done.stdout.split("\n", 1)[0].strip()
    if not value:
        raise AuthError(f"[backend.{service}] {key} printed nothing",
                        fix=f"it must print the secret on its first line: {command}")
    return value


def _from_file(path: Path, service: str) -> str:
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise AuthError(f"no {service} password in {path}",
                        fix=f"write it there: install -m 600 /dev/null {path} && "
                            f"$EDITOR {path}") from exc
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise AuthError(f"{path} can be read by other users",
                        fix=f"chmod 600 {path}")
    return path.read_text().split("\n", 1)[0].strip()


def _from_credential(name: str, service: str) -> str:
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        raise AuthError(f"the systemd credential {name} is not available "
                        "($CREDENTIALS_DIRECTORY is not set)",
                        fix=f"add LoadCredentialEncrypted={name}:... to the unit, "
                            f"or choose another [backend.{service}] secret")
    path = Path(directory) / name
    try:
        return path.read_text().split("\n", 1)[0].strip()
    except OSError as exc:
        raise AuthError(f"cannot read the systemd credential {name}: {exc.strerror}",
                        fix=f"add LoadCredentialEncrypted={name}:... to the unit") from exc


def _from_keyring(user: str, service: str) -> str:
    try:
        import keyring
        import keyring.errors

        value = keyring.get_password(KEYRING_SERVICE, user)
    except Exception as exc:  # no backend, locked keyring, D-Bus missing...
        raise AuthError(f"no usable keyring to read the {service} password from "
                        f"({type(exc).__name__})",
                        fix=f'set [backend.{service}] password_command, or secret = "file" '
                            f'on a headless machine') from exc
    if not value:
        raise AuthError(f"no {service} password in the keyring for {user}",
                        fix=f"store it: keyring set {KEYRING_SERVICE} {user} "
                            "(README § The password or OAuth2 token)")
    return value
