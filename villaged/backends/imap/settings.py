"""Settings of ``[backend] kind = "imap"``: any IMAP mail server, plus CalDAV calendars.

``[backend.imap]`` and the optional ``[backend.caldav]``. Each key is declared
once, here; the reader, the allowed keys and the example config are derived
from these fields. Checks that span keys (plain IMAP only to a loopback
address, one secret source, a CalDAV URL or bare host) are made in
``read_imap``, each failing at its key with a fix.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from villaged.domain.setting import setting
from villaged.schema import declared
from villaged.schema.typed_table import TypedTable

TLS_MODES = ("implicit", "starttls", "none")
SECRET_STORES = ("keyring", "file", "systemd-credential")
ALL_FOLDERS = "*"


@dataclass(frozen=True)
class Credentials:
    """Where a password (or an OAuth2 access token) comes from. Never the secret itself."""

    store: str = "keyring"  # keyring | file | systemd-credential
    password_command: str | None = None
    oauth2_command: str | None = None

    @property
    def oauth2(self) -> bool:
        return self.oauth2_command is not None


@dataclass(frozen=True)
class ImapSettings:
    """[backend.imap]: any IMAP mail server (Fastmail, iCloud, a university Dovecot...).

    With kind = "imap", villaged reads mail headers over IMAP, writes drafts into
    your IMAP drafts folder and puts the digest into your INBOX; it sends
    nothing. The password is never written here: see secret below (README,
    "Any IMAP mail server, with CalDAV calendars").
    """

    host: str = setting(required=True, nonempty=True, example='"imap.fastmail.com"',
                        doc="The IMAP server.")
    username: str = setting(required=True, nonempty=True, example='"dana@fastmail.com"',
                            doc="Your login on it.")
    port: int | None = setting(None, low=1, high=65535, example="993",
                               doc='993 with tls = "implicit", else 143 (the default).')
    tls: str = setting("implicit", choices=TLS_MODES,
                       doc='"implicit" (port 993), "starttls" (port 143), or "none": only to a '
                           "loopback address such as a local bridge.")
    ca_file: Path | None = setting(None, example='"~/.config/villaged/campus-ca.pem"',
                                   doc="Trust this CA (a server with its own certificate "
                                       "authority).")
    folders: tuple[str, ...] = setting(
        (), example='["INBOX", "Sent"]',
        doc='Folders to read. Default: INBOX and the folder marked \\Sent; ["*"]: every '
            "folder but \\Junk, \\Trash and \\Drafts.")
    drafts_folder: str | None = setting(None, example='"Drafts"',
                                        doc="Where drafts go. Default: the folder marked "
                                            "\\Drafts.")
    secret: str = setting("keyring", choices=SECRET_STORES,
                          doc='Where the password is: "keyring" (keyring set villaged '
                              'imap:USER@HOST), "file" (imap-password in the state '
                              'directory, 0600) or "systemd-credential".')
    password_command: str | None = setting(
        None, example='"pass show mail/fastmail"',
        doc="Or a command that prints the password (like mbsync's PassCmd). For OAuth2, "
            'write instead oauth2_command = "oama access you@example.org": a command that '
            "prints an access token (IMAP then logs in with XOAUTH2 / OAUTHBEARER).")
    oauth2_command: str | None = setting(None, example='"oama access dana@example.org"',
                                         in_example=False)
    timeout_seconds: int = setting(60, low=1, high=3600,
                                   doc="Give up on an unanswered command after this long.")

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.secret, self.password_command, self.oauth2_command)

    @property
    def server_port(self) -> int:
        return self.port or (993 if self.tls == "implicit" else 143)


@dataclass(frozen=True)
class CaldavSettings:
    """[backend.caldav]: your calendars on a CalDAV server.

    Optional, with kind = "imap" (Nextcloud, Radicale, Fastmail, iCloud...).
    Without it villaged reads no meetings and sees no busy times.
    """

    url: str = setting(required=True, nonempty=True, example='"https://caldav.fastmail.com/"',
                       doc="The server's URL, or just its host name (found through "
                           "/.well-known/caldav).")
    username: str = setting(required=True, nonempty=True, example='"dana@fastmail.com"',
                            doc="Your login on it.")
    ca_file: Path | None = setting(None, example='"~/.config/villaged/campus-ca.pem"',
                                   doc="Trust this CA.")
    calendars: tuple[str, ...] = setting((), example='["Work"]',
                                         doc="Calendars to read, by name or URL. Default: all "
                                             "of yours.")
    secret: str = setting("keyring", choices=SECRET_STORES,
                          doc='As for IMAP; the keyring user is caldav:USER@HOST, the file '
                              'caldav-password.')
    password_command: str | None = setting(
        None, example='"pass show cal/fastmail"',
        doc="Or a command that prints the password; or oauth2_command, as for IMAP "
            "(sent as a Bearer token).")
    oauth2_command: str | None = setting(None, example='"oama access dana@example.org"',
                                         in_example=False)

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.secret, self.password_command, self.oauth2_command)

    @property
    def host(self) -> str:
        url = self.url if "://" in self.url else f"https://{self.url}"
        return urlsplit(url).hostname or self.url


@dataclass(frozen=True)
class ImapBackend:
    imap: ImapSettings
    caldav: CaldavSettings | None = None
    kind: str = "imap"


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _one_secret(t: TypedTable, password_command: str | None, oauth2_command: str | None) -> None:
    if password_command and oauth2_command:
        t.fail("oauth2_command", "password_command and oauth2_command are both set",
               fix="keep one: oauth2_command for an OAuth2 access token, "
                   "password_command for a password")


def _imap(t: TypedTable) -> ImapSettings:
    imap: ImapSettings = declared.read_settings(ImapSettings, t)
    if imap.tls == "none" and not is_loopback(imap.host):
        t.fail("tls", f'tls = "none" would send your password to {imap.host} unencrypted',
               fix='use tls = "implicit" (port 993) or "starttls" (port 143); "none" is '
                   "only allowed to a loopback address such as 127.0.0.1 (a local bridge)")
    _one_secret(t, imap.password_command, imap.oauth2_command)
    return imap


def _caldav(t: TypedTable) -> CaldavSettings:
    caldav: CaldavSettings = declared.read_settings(CaldavSettings, t)
    url = caldav.url if "://" in caldav.url else f"https://{caldav.url.strip('/')}/"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        t.fail("url", f'"{caldav.url}" is not an http(s) URL or a host name',
               fix='write the server, e.g. url = "caldav.fastmail.com", or a full URL')
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        t.fail("url", f"http:// would send your password to {parts.hostname} unencrypted",
               fix="use https://; plain http is only allowed to a loopback address")
    _one_secret(t, caldav.password_command, caldav.oauth2_command)
    return caldav  # a bare host stays bare: the caldav library then discovers (RFC 6764)


def read_imap(backend: TypedTable, chosen: bool) -> ImapBackend | None:
    """[backend.imap] and [backend.caldav], checked whenever present."""
    imap_table = backend.table("imap", required=chosen,
                               example='[backend.imap]\nhost = "imap.example.org"')
    caldav_table = backend.table("caldav")
    imap = _imap(imap_table) if imap_table is not None else None
    caldav = _caldav(caldav_table) if caldav_table is not None else None
    if not chosen or imap is None:
        return None
    return ImapBackend(imap=imap, caldav=caldav)
