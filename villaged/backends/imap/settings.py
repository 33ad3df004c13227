"""Settings of ``[backend] kind = "imap"``: any IMAP mail server plus a CalDAV calendar.

```toml
[backend]
kind = "imap"

[backend.imap]
host = "imap.fastmail.com"
username = "dana@fastmail.com"
# port = 993                      # 993 for tls = "implicit", 143 otherwise
# tls = "implicit"                # "implicit", "starttls", or "none" (loopback only)
# ca_file = "~/ca.pem"            # trust this CA (a self-signed server)
# folders = ["INBOX", "Sent"]     # default: INBOX and the \\Sent folder; ["*"]: every
#                                 # folder but \\Junk, \\Trash and \\Drafts
# drafts_folder = "Drafts"        # default: the \\Drafts folder
# secret = "keyring"              # keyring | file | systemd-credential
# password_command = "pass show mail/fastmail"
# oauth2_command = "oama access dana@example.org"

[backend.caldav]
url = "https://caldav.fastmail.com/"
username = "dana@fastmail.com"
# calendars = ["Work"]            # display names or URLs; default: all of yours
```

The CalDAV table is optional: without it villaged reads mail only (and has no
busy times for invitations).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from villaged.schema.typed_table import TypedTable

TLS_MODES = ("implicit", "starttls", "none")
SECRET_STORES = ("keyring", "file", "systemd-credential")
ALL_FOLDERS = "*"
IMAP_KEYS = ("host", "port", "username", "tls", "ca_file", "folders", "drafts_folder",
             "secret", "password_command", "oauth2_command", "timeout_seconds")
CALDAV_KEYS = ("url", "username", "ca_file", "calendars", "secret", "password_command",
               "oauth2_command")


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
    host: str
    username: str
    port: int = 993
    tls: str = "implicit"
    ca_file: Path | None = None
    folders: tuple[str, ...] = ()  # () = INBOX + \Sent; ("*",) = all but junk/trash/drafts
    drafts_folder: str | None = None  # None = the \Drafts special-use folder
    credentials: Credentials = Credentials()
    timeout_seconds: int = 60


@dataclass(frozen=True)
class CaldavSettings:
    url: str
    username: str
    ca_file: Path | None = None
    calendars: tuple[str, ...] = ()  # () = all of the owner's
    credentials: Credentials = Credentials()


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


def _credentials(t: TypedTable) -> Credentials:
    password_command = t.text("password_command", nonempty=True,
                              example='password_command = "pass show mail/work"') or None
    oauth2_command = t.text("oauth2_command", nonempty=True,
                            example='oauth2_command = "oama access dana@example.org"') or None
    if password_command and oauth2_command:
        t.fail("oauth2_command", "password_command and oauth2_command are both set",
               fix="keep one: oauth2_command for an OAuth2 access token, "
                   "password_command for a password")
    store = t.choice("secret", SECRET_STORES, "keyring", example='secret = "keyring"')
    return Credentials(store=store, password_command=password_command,
                       oauth2_command=oauth2_command)


def read_imap_settings(t: TypedTable) -> ImapSettings:
    t.check_keys(IMAP_KEYS)
    host = t.text("host", required=True, nonempty=True, example='host = "imap.fastmail.com"')
    tls = t.choice("tls", TLS_MODES, "implicit", example='tls = "implicit"')
    if tls == "none" and not is_loopback(host):
        t.fail("tls", f'tls = "none" would send your password to {host} unencrypted',
               fix='use tls = "implicit" (port 993) or "starttls" (port 143); "none" is '
                   "only allowed to a loopback address such as 127.0.0.1 (a local bridge)")
    port = t.integer("port", 993 if tls == "implicit" else 143, low=1, high=65535,
                     example="port = 993")
    folders = t.strings("folders", (), example='folders = ["INBOX", "Sent"]')
    drafts = t.text("drafts_folder", nonempty=True, example='drafts_folder = "Drafts"') or None
    return ImapSettings(
        host=host,
        username=t.text("username", required=True, nonempty=True,
                        example='username = "dana@example.org"'),
        port=port,
        tls=tls,
        ca_file=t.path("ca_file", example='ca_file = "~/.config/villaged/ca.pem"'),
        folders=folders,
        drafts_folder=drafts,
        credentials=_credentials(t),
        timeout_seconds=t.integer("timeout_seconds", 60, low=1, high=3600),
    )


def read_caldav_settings(t: TypedTable) -> CaldavSettings:
    t.check_keys(CALDAV_KEYS)
    url = t.text("url", required=True, nonempty=True, example='url = "https://caldav.fastmail.com/"')
    if "://" not in url:  # a bare host: discovery through /.well-known/caldav
        url = f"https://{url}/"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        t.fail("url", f'"{url}" is not an http(s) URL or a host name',
               fix='write the server, e.g. url = "caldav.fastmail.com", or a full URL')
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        t.fail("url", f"http:// would send your password to {parts.hostname} unencrypted",
               fix="use https://; plain http is only allowed to a loopback address")
    return CaldavSettings(
        url=url,
        username=t.text("username", required=True, nonempty=True,
                        example='username = "dana@example.org"'),
        ca_file=t.path("ca_file", example='ca_file = "~/.config/villaged/ca.pem"'),
        calendars=t.strings("calendars", (), example='calendars = ["Work"]'),
        credentials=_credentials(t),
    )


def read_imap(backend: TypedTable, chosen: bool) -> ImapBackend | None:
    """[backend.imap] and [backend.caldav], checked whenever present."""
    imap_table = backend.table("imap", required=chosen, example='[backend.imap]\nhost = "..."')
    caldav_table = backend.table("caldav")
    imap = read_imap_settings(imap_table) if imap_table is not None else None
    caldav = read_caldav_settings(caldav_table) if caldav_table is not None else None
    if not chosen or imap is None:
        return None
    return ImapBackend(imap=imap, caldav=caldav)
