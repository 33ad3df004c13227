"""The [backend] table: local files (Maildir, mbox, .ics) or Google."""

from __future__ import annotations

from villaged.config import allowed_keys
from villaged.config.typed_table import TypedTable
from villaged.village import Backend, GoogleBackend, LocalBackend

_TOKEN_STORES = ("keyring", "file", "systemd-credential")


def read_backend(t: TypedTable) -> Backend:
    t.check_keys(allowed_keys.BACKEND)
    kind = t.choice("kind", ("local", "google"), "local", example='kind = "local"')
    # Both halves are checked whenever present, so switching kind is one line.
    local = _local_backend(t, required=kind == "local")
    google_table = t.table("google")
    google = _google_backend(google_table) if google_table is not None else GoogleBackend()
    if kind == "google":
        return google
    assert local is not None
    return local


def _local_backend(t: TypedTable, *, required: bool) -> LocalBackend | None:
    mail = t.paths("mail", example='mail = ["~/Maildir"]')
    calendars = t.paths("calendars", example='calendars = ["~/cal/export.ics"]')
    drafts = t.path("drafts", required=required, example='drafts = "~/Maildir/.Drafts"')
    if not required:
        return None
    if not mail and not calendars:
        t.fail(
            "mail",
            "the local backend has no mail and no calendars to read",
            fix='list at least one, e.g. mail = ["~/Maildir"] or calendars = ["~/cal/export.ics"]',
        )
    assert drafts is not None
    return LocalBackend(mail=mail, calendars=calendars, drafts=drafts)


def _google_backend(t: TypedTable) -> GoogleBackend:
    t.check_keys(allowed_keys.GOOGLE)
    default = GoogleBackend()
    return GoogleBackend(
        client_secrets=t.path(
            "client_secrets", example='client_secrets = "~/.config/villaged/client_secret.json"'
        ),
        token_store=t.choice(
            "token_store", _TOKEN_STORES, default.token_store, example='token_store = "keyring"'
        ),
        gmail_endpoint=t.url(
            "gmail_endpoint", example='gmail_endpoint = "https://gmail.googleapis.com/"'
        ),
        calendar_endpoint=t.url(
            "calendar_endpoint",
            example='calendar_endpoint = "https://www.googleapis.com/calendar/v3/"',
        ),
        token_uri=t.url("token_uri", example='token_uri = "https://oauth2.googleapis.com/token"'),
        calendars=t.strings(
            "calendars", default.calendars, nonempty=True, example='calendars = ["primary"]'
        ),
        quota_units_per_minute=t.integer(
            "quota_units_per_minute", default.quota_units_per_minute, low=1
        ),
    )
