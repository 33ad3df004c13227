"""Where a backend's grant (refresh token) lives: keyring, a 0600 file, or a systemd credential.

Shared by the backends that sign in (Google, Microsoft 365); each names its
own keyring service, file and credential, and its config section for the
messages. The stored value is JSON: never a pickle. Which store is used is
chosen explicitly by ``token_store`` in the backend's section; there is no
silent fallback from one to
another, so ``villaged doctor`` can say exactly where the grant is.

- ``keyring`` (default): the system keyring (Secret Service, macOS Keychain,
  Windows Credential Locker), service "villaged", user the owner's address.
- ``file``: ``<state dir>/google-token.json``, created with mode 0600 through
  ``os.open`` (never dependent on the umask) and replaced atomically.
- ``systemd-credential``: ``$CREDENTIALS_DIRECTORY/villaged-token``, read-only
  (``LoadCredential=`` / ``LoadCredentialEncrypted=`` in the unit). A refreshed
  access token is then kept in memory only.

No function here ever logs a token.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from villaged.domain.errors import AuthError

log = logging.getLogger(__name__)

KEYRING_SERVICE = "villaged"
STORES = ("keyring", "file", "systemd-credential")


class TokenStore(Protocol):
    kind: str

    @property
    def where(self) -> str:
        """Where the token lives, for humans (never the token itself)."""

    @property
    def writable(self) -> bool: ...

    def load(self) -> str | None:
        """The stored JSON, or None when there is none."""

    def save(self, data: str) -> None: ...

    def delete(self) -> None: ...


@dataclass
class KeyringStore:
    user: str
    service: str = KEYRING_SERVICE
    kind: str = "keyring"
    section: str = "[backend.google]"
    what: str = "the Google grant"

    @property
    def where(self) -> str:
        return f"keyring (service {self.service!r}, user {self.user!r}, {self._backend_name()})"

    @property
    def writable(self) -> bool:
        return True

    def _backend_name(self) -> str:
        import keyring

        backend = keyring.get_keyring()
        return f"{type(backend).__module__}.{type(backend).__name__}"

    def _no_backend(self, exc: Exception) -> AuthError:
        return AuthError(
            f"no usable keyring backend to hold {self.what} ({type(exc).__name__})",
            fix=f'on a headless machine set {self.section} token_store = "file" '
            '(a 0600 file in the state directory) or "systemd-credential", '
            "then run `villaged auth` again",
        )

    def load(self) -> str | None:
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(self.service, self.user)
        except (KeyringError, RuntimeError) as exc:
            raise self._no_backend(exc) from None

    def save(self, data: str) -> None:
        import keyring
        from keyring.errors import KeyringError

        try:
            keyring.set_password(self.service, self.user, data)
        except (KeyringError, RuntimeError) as exc:
            raise self._no_backend(exc) from None

    def delete(self) -> None:
        import keyring
        from keyring.errors import KeyringError, PasswordDeleteError

        with contextlib.suppress(PasswordDeleteError):
            try:
                keyring.delete_password(self.service, self.user)
            except KeyringError as exc:
                if not isinstance(exc, PasswordDeleteError):
                    raise self._no_backend(exc) from None
                raise


@dataclass
class FileStore:
    path: Path
    kind: str = "file"

    @property
    def where(self) -> str:
        return f"file {self.path} (mode 0600)"

    @property
    def writable(self) -> bool:
        return True

    def load(self) -> str | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        if st.st_mode & 0o077:
            log.warning("%s is readable by others; tightening it to 0600", self.path)
            os.chmod(self.path, 0o600)
        return self.path.read_text(encoding="utf-8")

    def save(self, data: str) -> None:
        write_private(self.path, data.encode("utf-8"))

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


@dataclass
class SystemdCredentialStore:
    """Read-only: systemd hands the token to the service; villaged never writes it."""

    directory: Path | None
    name: str = "villaged-token"
    kind: str = "systemd-credential"

    @property
    def path(self) -> Path | None:
        return self.directory / self.name if self.directory else None

    @property
    def where(self) -> str:
        if self.path is None:
            return f"systemd credential {self.name!r} ($CREDENTIALS_DIRECTORY is not set)"
        return f"systemd credential {self.path}"

    @property
    def writable(self) -> bool:
        return False

    def load(self) -> str | None:
        if self.path is None:
            return None
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except PermissionError as exc:
            raise AuthError(
                f"cannot read the systemd credential {self.path}",
                fix="check LoadCredential= in the villaged unit",
            ) from exc

    def save(self, data: str) -> None:
        raise AuthError(
            "the systemd credential store is read-only",
            fix="run `villaged auth`, then load the file it writes with "
            "LoadCredentialEncrypted= (see the README)",
        )

    def delete(self) -> None:
        self.save("")


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable and writable by the owner only.

    The temporary file is created by ``os.open`` with mode 0600 (exclusive,
    no symlink following) and fchmod-ed to 0600 as well, so the result never
    depends on the umask; it is fsynced and renamed over ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)  # the mode given to os.open is still subject to the umask
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
