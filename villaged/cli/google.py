"""`villaged auth`: sign in to Google with your own OAuth client.

Registered by the import at the bottom of cli.py. Parse, call, render: the
work is in villaged.backends.google.auth.
"""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING

import click

from villaged.cli.context import Context, friendly, pass_context
from villaged.domain.errors import VillagedError
from villaged.service import paths

if TYPE_CHECKING:
    from villaged.backends.google.settings import GoogleBackend


def _can_open_browser() -> bool:
    from villaged.backends.google.auth import has_display

    if not has_display():
        return False
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


@click.command()
@click.option("--client-secrets", type=click.Path(path_type=Path, dir_okay=False),
              help="The client_secret.json of your Desktop-app OAuth client "
                   "(default: [backend.google] client_secrets).")
@click.option("--no-browser", is_flag=True,
              help="Print the sign-in URL (and an ssh -L hint) instead of opening a browser.")
@pass_context
@friendly
def auth(c: Context, client_secrets: Path | None, no_browser: bool) -> None:
    """Sign in to Google or Microsoft 365: read mail and calendar, write drafts (never send them)."""
    from villaged.backends.google import auth as google_auth
    from villaged.backends.google.settings import GoogleBackend
    from villaged.backends.google.token_store import CREDENTIAL_NAME, write_private

    village = c.village()
    backend = village.backend
    if backend.kind == "microsoft":
        from villaged.cli.microsoft import sign_in

        sign_in(c, village)
        return
    if not isinstance(backend, GoogleBackend):
        raise VillagedError("the village config does not use the Google backend",
                            fix='set [backend] kind = "google" (see README § Gmail and Google Calendar)')
    path = client_secrets or backend.client_secrets
    if path is None:
        raise VillagedError("no OAuth client file given",
                            fix="pass --client-secrets PATH, or set [backend.google] "
                                "client_secrets (how to create one: README § 1. Create the OAuth client)")
    config = google_auth.client_config(path, backend)
    store = google_auth.token_store_for(village, backend, c.state_dir)
    if store.writable:
        store.load()  # no keyring backend? say so before the owner signs in, not after
    credentials = google_auth.run_flow(config, open_browser=not no_browser and _can_open_browser())
    if store.writable:
        google_auth.save_grant(store, credentials)
        click.echo(f"stored the grant in the {store.where}")
    else:
        target = paths.ensure_private_dir(c.state_dir) / CREDENTIAL_NAME
        write_private(target, credentials.to_json().encode("utf-8"))
        click.echo(
            f"wrote the grant to {target} (mode 0600). Hand it to systemd and delete it:\n"
            f"  systemd-creds encrypt --name={CREDENTIAL_NAME} {target} "
            f"~/.config/villaged/{CREDENTIAL_NAME}.cred\n"
            f"  # in the unit: LoadCredentialEncrypted={CREDENTIAL_NAME}:"
            f"%h/.config/villaged/{CREDENTIAL_NAME}.cred\n"
            f"  shred -u {target}")
    address = _mailbox_address(backend, credentials)
    owner = village.owner
    if address and address.lower() not in (a.lower() for a in owner.addresses):
        click.echo(f"warning: you signed in as {address}, which is not among your [owner] "
                   f"addresses ({', '.join(owner.addresses)}); add it, or sign in again as "
                   f"{owner.address}", err=True)
    click.echo(f"villaged may now read {address or 'your mailbox'} and its calendar, and write "
               "drafts. Next: `villaged sync`.")


def _mailbox_address(backend: GoogleBackend, credentials: object) -> str | None:
    from villaged.backends.google.api import GoogleApi

    api = GoogleApi(credentials, gmail_endpoint=backend.gmail_endpoint,
                    calendar_endpoint=backend.calendar_endpoint)
    try:
        profile = api.execute(api.gmail.users().getProfile(userId="me", fields="emailAddress"))
    finally:
        api.close()
    address = profile.get("emailAddress")
    return address if isinstance(address, str) else None
