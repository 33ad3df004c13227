"""XOAUTH2 / OAUTHBEARER against a Dovecot that checks every token, as a provider's server does.

Dovecot's oauth2 passdb asks a token-info endpoint (here a small HTTP server in the
test, standing in for the provider's) about each access token that villaged's
`oauth2_command` prints. A good token reads the mailbox; a token the provider
refuses is one clear message with a fix, and no traceback.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.imap_kit import NOW, OWNER, imap_village, mail, sync
from tests.servers import dovecot as dovecot_mod
from tests.servers.dovecot import DovecotServer
from tests.servers.pytest_plugin import ImapAccount, server_root, unavailable
from villaged.domain.errors import AuthError
from villaged.store import Store

GOOD = "ya29.a-good-access-token"


class TokenInfo:
    """The provider's token-info endpoint: knows one token, for the user "dana"."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        info = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                token = parse_qs(urlsplit(self.path).query).get("access_token", [""])[0]
                info.asked.append(token)
                ok = token == GOOD
                body = json.dumps({"email": "dana", "expires_in": 3599} if ok
                                  else {"error": "invalid_token"}).encode()
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tokeninfo?access_token="
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def oauth_account() -> Iterator[tuple[ImapAccount, TokenInfo]]:
    why = dovecot_mod.missing()
    if why:
        unavailable(why)
    info = TokenInfo()
    root = server_root("villaged-dovecot-oauth-")
    server = DovecotServer(root, users={"dana": "a password villaged never uses"},
                           oauth2_tokeninfo_url=info.url).start()
    try:
        yield ImapAccount(server, "dana", "a password villaged never uses"), info
    finally:
        server.stop()
        info.close()
        shutil.rmtree(root, ignore_errors=True)


def test_an_oauth2_command_logs_in_with_a_token_the_server_checks(oauth_account, tmp_path: Path):
    account, info = oauth_account
    account.append("INBOX", mail("ada@example.org", [OWNER], NOW, "lab visit"))
    command = tmp_path / "token"
    command.write_text(f"#!/bin/sh\necho {GOOD}\n")
    command.chmod(0o700)
    village = imap_village(account, tmp_path / "state",
                           imap={"secret": "keyring", "oauth2_command": str(command)})
    store = Store(tmp_path / "s.db")
    report = sync(village, store, tmp_path / "state")
    assert report.new >= 1
    assert {i.person for i in store.interactions()} == {"ada"}
    assert GOOD in info.asked  # Dovecot asked the provider about the token villaged sent


def test_a_token_the_provider_refuses_is_one_message_with_a_fix(oauth_account, tmp_path: Path):
    account, info = oauth_account
    command = tmp_path / "token"
    command.write_text("#!/bin/sh\necho an-expired-token\n")
    command.chmod(0o700)
    village = imap_village(account, tmp_path / "state",
                           imap={"secret": "keyring", "oauth2_command": str(command)})
    with pytest.raises(AuthError) as refused:
        sync(village, Store(tmp_path / "s.db"), tmp_path / "state")
    assert "an-expired-token" in info.asked
    assert "an-expired-token" not in str(refused.value)  # never the secret in a message
    assert refused.value.fix and "oauth2_command" in refused.value.fix, refused.value.fix
