"""Doctor checks of the IMAP + CalDAV backend: connection, login, folders, calendars.

Each check connects for real and reads only (LIST, no EXAMINE, no APPEND; a
PROPFIND for the calendars), so ``villaged doctor`` writes nothing. Each
problem is one message with its fix: the same VillagedError the sync itself
would raise.
"""

from __future__ import annotations

from villaged.backends.imap.calendar_source import CaldavAccount
from villaged.backends.imap.connection import ImapSession, connect
from villaged.backends.imap.drafts import drafts_folder
from villaged.backends.imap.mail_source import choose_folders
from villaged.backends.imap.secrets import load_secret, where
from villaged.backends.imap.settings import ImapBackend
from villaged.domain.errors import VillagedError
from villaged.ports.doctor import BackendCheckup, Finding, Level

CAPABILITIES = ("LIST-STATUS", "UIDPLUS", "CONDSTORE", "SPECIAL-USE")


def _problem(check: str, exc: VillagedError) -> Finding:
    return Finding(check, Level.PROBLEM, exc.message, exc.fix or "run `villaged doctor` again")


def checks(c: BackendCheckup) -> list[Finding]:
    backend: ImapBackend = c.settings
    return imap_checks(c, backend) + caldav_checks(c, backend)


def imap_checks(c: BackendCheckup, backend: ImapBackend) -> list[Finding]:
    s = backend.imap
    found = [Finding("imap", Level.INFO, f"{s.host}:{s.server_port}, tls {s.tls}, password from "
                     + where(s.credentials, "imap", s.username, s.host, c.state_dir))]
    try:
        session: ImapSession = connect(s, load_secret(s.credentials, "imap", s.username, s.host,
                                                      c.state_dir))
    except VillagedError as exc:
        return [*found, _problem("imap", exc)]
    try:
        found.append(Finding("imap", Level.OK, f"logged in to {s.host} as {s.username}"))
        offered = [cap for cap in CAPABILITIES if session.has(cap)]
        missing = [cap for cap in CAPABILITIES if cap not in offered]
        found.append(Finding("imap", Level.INFO, "server offers " + (", ".join(offered) or "none")
                             + (f"; lacks {', '.join(missing)} (villaged copes: "
                                "one STATUS per folder, a search after APPEND)" if missing else "")))
        try:
            folders = session.folders(status=False)
            chosen = choose_folders(folders, s.folders, s.drafts_folder)
            found.append(Finding("imap folders", Level.OK,
                                 "reading " + ", ".join(f.name for f in chosen)))
            if not chosen:
                found.append(Finding("imap folders", Level.PROBLEM, "no folder to read",
                                     'name them: [backend.imap] folders = ["INBOX", "Sent"]'))
            elif not any("\\sent" in f.flags for f in chosen) and not s.folders:
                found.append(Finding(
                    "imap folders", Level.PROBLEM,
                    "the server marks no folder as \\Sent: mail you sent will not count",
                    'name your sent folder: [backend.imap] folders = ["INBOX", "Sent Items"]'))
        except VillagedError as exc:
            found.append(_problem("imap folders", exc))
            folders = session.folders(status=False)
        try:
            name = drafts_folder(folders, s.drafts_folder)
            found.append(Finding("imap drafts", Level.OK, f"drafts go to {name}"))
        except VillagedError as exc:
            found.append(_problem("imap drafts", exc))
    except VillagedError as exc:
        found.append(_problem("imap", exc))
    finally:
        session.logout()
    return found


def caldav_checks(c: BackendCheckup, backend: ImapBackend) -> list[Finding]:
    s = backend.caldav
    if s is None:
        return [Finding("caldav", Level.INFO, "no [backend.caldav]: meetings are not read and "
                        "invitations see no busy times")]
    host = s.host
    account = CaldavAccount(s, lambda: load_secret(s.credentials, "caldav", s.username, host,
                                                   c.state_dir))
    try:
        calendars = account.calendars()
    except VillagedError as exc:
        return [_problem("caldav", exc)]
    finally:
        account.reset()
    names = ", ".join(repr(name or url) for url, name in calendars) or "(none)"
    found = [Finding("caldav", Level.OK, f"logged in to {host} as {s.username}; "
                     f"reading calendars {names}")]
    if not calendars:
        found.append(Finding("caldav", Level.PROBLEM, "the CalDAV account has no calendar",
                             "check url and username in [backend.caldav]"))
    return found
