"""`villaged auth` with ``[backend] kind = "microsoft"``: the device-code sign-in.

Called by the `auth` command (cli/google.py) when the village uses the
Microsoft 365 backend. Parse, call, render: the work is in
villaged.backends.microsoft.auth.
"""

from __future__ import annotations

import click

from villaged.cli.context import Context
from villaged.domain.village import Village
from villaged.service import paths


def sign_in(c: Context, village: Village) -> None:
    """Print Microsoft's code and URL, wait for the owner to sign in anywhere, keep the token cache."""
    from villaged.backends.microsoft.auth import CREDENTIAL_NAME, SCOPE_NAMES, MsalAuth, token_store_for

    settings = village.backend
    store = token_store_for(settings, village.owner.address, c.state_dir)  # type: ignore[arg-type]
    if store.writable:
        store.load()  # no keyring backend? say so before the owner signs in, not after
    auth = MsalAuth(settings, store, village.owner.address)  # type: ignore[arg-type]
    click.echo(
        f"villaged asks Microsoft 365 for: {', '.join(SCOPE_NAMES)} (read mail headers and write "
        "drafts; read your calendar's times and attendees). It never sends mail."
    )
    username = auth.sign_in(lambda text: click.echo(text + "\n(waiting for you to finish signing in …)"))
    if store.writable:
        click.echo(f"stored the sign-in in the {store.where}")
    else:
        target = paths.ensure_private_dir(c.state_dir) / CREDENTIAL_NAME
        auth.save_to(target)
        click.echo(
            f"wrote the sign-in to {target} (mode 0600). Hand it to systemd and delete it:\n"
            f"  systemd-creds encrypt --name={CREDENTIAL_NAME} {target} "
            f"~/.config/villaged/{CREDENTIAL_NAME}.cred\n"
            f"  # in the unit: LoadCredentialEncrypted={CREDENTIAL_NAME}:"
            f"%h/.config/villaged/{CREDENTIAL_NAME}.cred\n"
            f"  shred -u {target}"
        )
    owner = village.owner
    if username and username.lower() not in (a.lower() for a in owner.addresses):
        click.echo(
            f"warning: you signed in as {username}, which is not among your [owner] addresses "
            f"({', '.join(owner.addresses)}); add it, or sign in again as {owner.address}",
            err=True,
        )
    click.echo(
        f"villaged may now read {username or 'your mailbox'} and its calendar, and write drafts. "
        "Next: `villaged sync`."
    )
