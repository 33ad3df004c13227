"""Doctor checks of the Microsoft 365 backend: the sign-in, its permissions, the folders.

They write nothing: a token refreshed to run them stays in memory.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from villaged.domain.errors import AuthError, TransientError, VillagedError
from villaged.ports.doctor import BackendCheckup, Finding, Level

CHECK = "microsoft sign-in"


def checks(c: BackendCheckup) -> list[Finding]:
    from villaged.backends.microsoft.api import GraphClient, GraphError
    from villaged.backends.microsoft.auth import SCOPE_NAMES, MsalAuth, token_store_for

    settings = c.settings
    try:
        store = token_store_for(settings, c.village.owner.address, c.state_dir)
        auth = MsalAuth(settings, store, c.village.owner.address, persist=False)
        found = [Finding(CHECK, Level.INFO, f"token store in use: {store.where}")]
        account = auth.account()
        auth.access_token()
    except AuthError as exc:
        return [Finding(CHECK, Level.PROBLEM, exc.message, exc.fix or "run `villaged auth`")]
    except TransientError as exc:
        return [Finding(CHECK, Level.PROBLEM, exc.message, "check the network, then `villaged doctor` again")]
    except VillagedError as exc:
        return [
            Finding(
                CHECK,
                Level.PROBLEM,
                exc.message,
                exc.fix or "check the network, then `villaged doctor` again",
            )
        ]
    username = str(account.get("username") or "")
    found.append(
        Finding(CHECK, Level.OK, f"signed in as {username or 'an unnamed account'}; a token refresh worked")
    )
    owner = c.village.owner
    if username and username.lower() not in (a.lower() for a in owner.addresses):
        found.append(
            Finding(
                CHECK,
                Level.PROBLEM,
                f"the sign-in is {username}, not one of your [owner] addresses",
                f"add {username} to [owner] addresses, or run `villaged auth` as yourself",
            )
        )
    client = GraphClient(lambda force: auth.access_token(force_refresh=force), settings.graph_endpoint)
    start = c.now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    probes = {
        "Mail.ReadWrite": [f"/me/mailFolders/{quote(f)}?$select=displayName" for f in settings.mail_folders],
        "Calendars.ReadBasic": [
            f"/me/calendarView?startDateTime={start}&endDateTime={start}&$select=subject&$top=1"
        ],
    }
    try:
        for scope, urls in probes.items():
            for url in urls:
                try:
                    client.get(url)
                except GraphError as exc:
                    if exc.status == 404:
                        folder = url.split("/")[3].split("?")[0]
                        found.append(
                            Finding(
                                "microsoft folders",
                                Level.PROBLEM,
                                f"the mail folder {folder!r} does not exist",
                                "fix [backend.microsoft] folders (well-known names such as "
                                "archive, or folder ids)",
                            )
                        )
                    else:
                        found.append(
                            Finding(
                                CHECK,
                                Level.PROBLEM,
                                f"Graph refused {url.split('?')[0]}: {exc.code}",
                                "run `villaged auth` again",
                            )
                        )
                except AuthError as exc:
                    found.append(
                        Finding(
                            CHECK,
                            Level.PROBLEM,
                            f"{exc.message} (needs {scope})",
                            exc.fix or "run `villaged auth` again",
                        )
                    )
                    break
    except TransientError as exc:
        found.append(
            Finding(
                "endpoints",
                Level.PROBLEM,
                f"Microsoft Graph {settings.graph_endpoint} is not reachable: {exc.message}",
                "check the network (and [backend.microsoft] graph_endpoint)",
            )
        )
    finally:
        client.close()
    if not [f for f in found if f.level is Level.PROBLEM]:
        found.append(Finding(CHECK, Level.OK, "permissions work: " + ", ".join(SCOPE_NAMES)))
    return found
