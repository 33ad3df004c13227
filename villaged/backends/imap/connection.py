"""One IMAP connection through imapclient, with villaged's errors at the edge.

``connect`` opens the connection (implicit TLS, STARTTLS, or plain to a
loopback address), verifies the certificate (the system's CAs, or
``ca_file``), and logs in with the password or, given an OAuth2 access
token, with XOAUTH2 / OAUTHBEARER. Everything imapclient, imaplib, ssl and
socket can raise is turned into a ``VillagedError`` here: ``AuthError`` for a
refused login, ``TransientError`` for what a later round may not meet again
(a cut connection, a timeout, a server that is down), and a plain
``VillagedError`` with a fix for what only the owner can repair (an unknown
host, an untrusted or expired certificate, a missing folder).

``ImapSession`` adds the few protocol pieces villaged needs on top of
imapclient, still parsed by imapclient's own response parser: LIST with
``RETURN (SPECIAL-USE STATUS ...)`` (LIST-STATUS, RFC 5819: one command for
every folder's UIDVALIDITY and UIDNEXT), and UID FETCH of a UID range. It
counts the commands it sends (``commands``), which the benchmark reports.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from villaged.backends.imap.secrets import Secret
from villaged.backends.imap.settings import ImapSettings
from villaged.domain.errors import AuthError, Problem, TransientError, VillagedError

log = logging.getLogger(__name__)

STATUS_ITEMS = ("UIDVALIDITY", "UIDNEXT")


@dataclass(frozen=True)
class Folder:
    name: str
    flags: frozenset[str]  # lower-case: "\\sent", "\\noselect", ...
    uidvalidity: int | None = None
    uidnext: int | None = None

    @property
    def selectable(self) -> bool:
        return not ({"\\noselect", "\\nonexistent"} & self.flags)


def tls_context(ca_file: Any = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def certificate_problem(exc: ssl.SSLCertVerificationError, host: str, what: str,
                        key: str) -> VillagedError:
    reason = exc.verify_message or exc.reason or str(exc)
    if "expired" in reason.lower():
        return VillagedError(f"the {what} {host} presents a certificate that has expired",
                             fix="ask the server's administrator to renew it; until then "
                                 "villaged will not connect (an expired certificate cannot "
                                 "be told from an attack)")
    if "hostname" in reason.lower() or "ip address mismatch" in reason.lower():
        return VillagedError(f"the certificate of the {what} {host} is for another name "
                             f"({reason})",
                             fix=f"use the host name the certificate names in {key}")
    return VillagedError(f"the certificate of the {what} {host} is not trusted ({reason})",
                         fix=f"if the server uses its own CA, save that CA's certificate "
                             f"and set ca_file in {key}")


@contextlib.contextmanager
def imap_errors(settings: ImapSettings, doing: str) -> Iterator[None]:
    """Turn whatever the connection raises into villaged's errors."""
    host = f"{settings.host}:{settings.server_port}"
    import imapclient.exceptions as imapx

    try:
        yield
    except Problem:
        raise
    except imapx.LoginError as exc:
        if "UNAVAILABLE" in str(exc) or isinstance(exc.__context__, (imaplib.IMAP4.abort,
                                                                      OSError)):
            # RFC 5530's temporary failure, or a connection cut during LOGIN
            raise TransientError(f"the IMAP server {host} cannot log anybody in just now",
                                 fix="villaged retries next round") from exc
        if settings.oauth2_command:
            raise AuthError(f"the IMAP server {host} refused the access token of "
                            f"{settings.username}",
                            fix="check that oauth2_command prints a fresh access token for "
                                "this username (run it yourself; with oama, `oama authorize` "
                                "again if the grant was revoked), then run `villaged doctor`"
                            ) from exc
        raise AuthError(f"the IMAP server {host} refused the login of {settings.username}",
                        fix="check username and the password (an app password where the "
                            "provider requires one: iCloud, Fastmail, Gmail; README § Set-up "
                            "for common providers), then run `villaged doctor`") from exc
    except socket.gaierror as exc:
        raise VillagedError(f"cannot find the IMAP server {settings.host}: "
                            f"{exc.strerror or exc}",
                            fix="check host in [backend.imap] (and your network's DNS)") from exc
    except ssl.SSLCertVerificationError as exc:
        raise certificate_problem(exc, host, "IMAP server", "[backend.imap]") from exc
    except ssl.SSLError as exc:
        raise VillagedError(f"TLS with the IMAP server {host} failed ({exc.reason or exc})",
                            fix='check port and tls in [backend.imap]: tls = "implicit" '
                                'is usually port 993, "starttls" port 143') from exc
    except ConnectionRefusedError as exc:
        raise TransientError(f"the IMAP server {host} refused the connection",
                             fix="check host and port in [backend.imap]; villaged retries "
                                 "next round") from exc
    except TimeoutError as exc:
        raise TransientError(f"the IMAP server {host} did not answer while {doing}",
                             fix="villaged retries next round") from exc
    except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
        raise TransientError(f"the connection to the IMAP server {host} broke while {doing}",
                             fix="villaged retries next round") from exc
    except (imapx.IMAPClientError, imaplib.IMAP4.error) as exc:
        text = str(exc)
        if "UNAVAILABLE" in text or "SERVERBUG" in text or "LIMIT" in text:
            raise TransientError(f"the IMAP server {host} could not serve {doing}: {text[:200]}",
                                 fix="villaged retries next round") from exc
        raise VillagedError(f"the IMAP server {host} refused {doing}: {text[:200]}",
                            fix="run `villaged doctor` for the details") from exc


class ImapSession:
    """A logged-in imapclient connection plus villaged's few helpers."""

    def __init__(self, client: Any, settings: ImapSettings) -> None:
        self.client = client
        self.settings = settings
        self.commands = 0
        self.selected: str | None = None
        imap = client._imap
        original = imap._new_tag  # every command, whichever way imapclient sends it

        def counted() -> Any:
            self.commands += 1
            return original()

        imap._new_tag = counted

    # -- capabilities ---------------------------------------------------------------

    def has(self, capability: str) -> bool:
        return bool(self.client.has_capability(capability))

    # -- folders ------------------------------------------------------------------

    def folders(self, status: bool) -> list[Folder]:
        """Every folder, with UIDVALIDITY/UIDNEXT when ``status`` (one command with
        LIST-STATUS; otherwise LIST and then one STATUS per selectable folder)."""
        with imap_errors(self.settings, "listing the folders"):
            if status and self.has("LIST-STATUS"):
                return self._list_status()
            listed = self._list()
            if not status:
                return listed
            out = []
            for folder in listed:
                if folder.selectable:
                    info = self.client.folder_status(folder.name, STATUS_ITEMS)
                    folder = Folder(folder.name, folder.flags, int(info[b"UIDVALIDITY"]),
                                    int(info[b"UIDNEXT"]))
                out.append(folder)
            return out

    def _list(self) -> list[Folder]:
        if self.has("SPECIAL-USE") and self.has("LIST-EXTENDED"):
            return self._list_extended(status=False)
        return [Folder(name, frozenset(_flag(f) for f in flags))
                for flags, _, name in self.client.list_folders()]

    def _list_status(self) -> list[Folder]:
        return self._list_extended(status=True)

    def _list_extended(self, status: bool) -> list[Folder]:
        from imapclient.response_parser import parse_response

        imap = self.client._imap
        returns = []
        if self.has("SPECIAL-USE"):
            returns.append("SPECIAL-USE")
        if status:
            returns.append(f"STATUS ({' '.join(STATUS_ITEMS)})")
        args = ['""', '"*"'] + (["RETURN", f"({' '.join(returns)})"] if returns else [])
        typ, data = imap._simple_command("LIST", *args)
        self.client._checkok("list", typ, data)
        _, listed = imap._untagged_response(typ, data, "LIST")
        statuses = imap.untagged_responses.pop("STATUS", [])
        folders = self.client._proc_folder_list(listed)
        info: dict[str, dict[bytes, int]] = {}
        for raw in statuses:
            parsed = parse_response([raw])
            name = parsed[0]
            if isinstance(name, bytes):
                from imapclient.imap_utf7 import decode as decode_utf7

                name = decode_utf7(name)
            items = parsed[-1]
            info[str(name)] = dict(zip(items[::2], items[1::2]))
        out = []
        for flags, _, name in folders:
            found = info.get(name, {})
            validity = found.get(b"UIDVALIDITY")
            nxt = found.get(b"UIDNEXT")
            out.append(Folder(name, frozenset(_flag(f) for f in flags),
                              int(validity) if validity is not None else None,
                              int(nxt) if nxt is not None else None))
        return out

    # -- messages -------------------------------------------------------------------

    def examine(self, folder: str) -> dict[bytes, Any]:
        """Select ``folder`` read-only (EXAMINE: no flag can change)."""
        with imap_errors(self.settings, f"opening the folder {folder}"):
            answer: dict[bytes, Any] = self.client.select_folder(folder, readonly=True)
        self.selected = folder
        return answer

    def select(self, folder: str) -> dict[bytes, Any]:
        with imap_errors(self.settings, f"opening the folder {folder}"):
            answer: dict[bytes, Any] = self.client.select_folder(folder)
        self.selected = folder
        return answer

    def uid_search(self, criteria: list[Any], doing: str) -> list[int]:
        with imap_errors(self.settings, doing):
            return sorted(int(u) for u in self.client.search(criteria))

    def fetch_range(self, uid_set: str, items: str, doing: str) -> dict[int, dict[bytes, Any]]:
        """``UID FETCH <uid_set> <items>`` parsed by imapclient; keyed by UID."""
        from imapclient.response_parser import parse_fetch_response

        with imap_errors(self.settings, doing):
            imap = self.client._imap
            tag = imap._command("UID", "FETCH", uid_set, items)
            typ, data = imap._command_complete("FETCH", tag)
            self.client._checkok("fetch", typ, data)
            typ, data = imap._untagged_response(typ, data, "FETCH")
            parsed: dict[int, dict[bytes, Any]] = parse_fetch_response(data, False, True)
            return parsed

    def delete_uids(self, folder: str, uids: list[int], doing: str) -> None:
        """Flag ``uids`` deleted in ``folder`` and expunge them (only them, with UIDPLUS)."""
        self.select(folder)
        with imap_errors(self.settings, doing):
            self.client.delete_messages(uids, silent=True)
            if self.has("UIDPLUS"):
                self.client.uid_expunge(uids)
            else:
                self.client.expunge()

    def logout(self) -> None:
        with contextlib.suppress(Exception):
            self.client.logout()
        with contextlib.suppress(Exception):
            self.client.shutdown()


def _flag(flag: Any) -> str:
    return (flag.decode("ascii", "replace") if isinstance(flag, bytes) else str(flag)).lower()


def uid_set(uids: list[int]) -> str:
    """A compact UID set: ``1:5,7,9:12`` (``uids`` sorted ascending)."""
    parts: list[str] = []
    start = prev = None
    for uid in uids:
        if start is None:
            start = prev = uid
        elif uid == prev + 1:  # type: ignore[operator]
            prev = uid
        else:
            parts.append(f"{start}:{prev}" if start != prev else str(start))
            start = prev = uid
    if start is not None:
        parts.append(f"{start}:{prev}" if start != prev else str(start))
    return ",".join(parts)


def connect(settings: ImapSettings, secret: Secret) -> ImapSession:
    """A logged-in session, or a VillagedError saying what to fix."""
    import imapclient

    context = tls_context(settings.ca_file)
    with imap_errors(settings, "connecting"):
        client = imapclient.IMAPClient(settings.host, port=settings.server_port,
                                       ssl=settings.tls == "implicit", ssl_context=context,
                                       timeout=settings.timeout_seconds)
    try:
        with imap_errors(settings, "starting TLS"):
            if settings.tls == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise VillagedError(
                        f"the IMAP server {settings.host}:{settings.server_port} does not offer STARTTLS",
                        fix='use tls = "implicit" with port 993')
                client.starttls(context)
        with imap_errors(settings, "logging in"):
            if secret.oauth2:
                if client.has_capability("AUTH=OAUTHBEARER") and not client.has_capability(
                        "AUTH=XOAUTH2"):
                    client.oauthbearer_login(settings.username, secret.value)
                else:
                    client.oauth2_login(settings.username, secret.value)
            else:
                client.login(settings.username, secret.value)
    except BaseException:
        with contextlib.suppress(Exception):
            client.shutdown()
        raise
    return ImapSession(client, settings)
