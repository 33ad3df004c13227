"""A real Dovecot IMAP server for the tests, started as an unprivileged process.

``DovecotServer(root).start()`` writes a throwaway config under ``root`` (a
fresh directory), with users from a passwd-file, Maildir mailboxes with the
special-use folders Sent, Drafts, Junk and Trash, TLS from a CA the tests make
(``tests.servers.tls``), and two listeners on 127.0.0.1 on random ports: one
with implicit TLS (``imaps_port``) and one plain that offers STARTTLS
(``imap_port``). Dovecot runs in the foreground (``-F``) as a child process
and is stopped with SIGTERM.

Unprivileged: as an ordinary user Dovecot runs as that user; as root (CI runs
as root) it runs as ``nobody`` through ``setpriv``, with ``root`` handed to
that user, so no part of the server ever has root.

``DOVECOT`` and ``DOVEADM`` name the binaries (default: ``dovecot`` on PATH
or in /usr/sbin). ``missing()`` says why Dovecot cannot run here, or None.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.tls import CertFiles, make_ca

SBIN = ("/usr/sbin", "/usr/local/sbin")
UNPRIVILEGED = "nobody"


def binary(name: str) -> str | None:
    env = os.environ.get(name.upper())
    if env:
        return env
    found = shutil.which(name)
    if found:
        return found
    for folder in SBIN:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


def missing() -> str | None:
    """Why the Dovecot fixtures cannot run here (None when they can)."""
    if binary("dovecot") is None:
        return ("dovecot is not installed: `apt-get install dovecot-imapd` "
                "(scripts/test installs it)")
    if binary("doveadm") is None:
        return "doveadm is not installed: `apt-get install dovecot-core`"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dovecot exited with {proc.returncode}:\n"
                               f"{_tail(log)}\n{proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not listen on {port} within {timeout} s:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class DovecotServer:
    root: Path
    users: dict[str, str] = field(default_factory=lambda: {"dana": "correct horse"})
    certs: CertFiles | None = None
    imap_port: int = 0
    imaps_port: int = 0
    host: str = "127.0.0.1"
    proc: subprocess.Popen[bytes] | None = None
    # XOAUTH2 / OAUTHBEARER: Dovecot checks each token at this URL (token appended), as
    # it would at a provider's; the JSON answer's "email" must be the login name
    oauth2_tokeninfo_url: str | None = None

    # -- who runs it ---------------------------------------------------------------

    @property
    def run_as(self) -> tuple[str, int, int]:
        """(user, uid, gid) the server runs as: never root."""
        if os.geteuid() != 0:
            entry = pwd.getpwuid(os.geteuid())
            return entry.pw_name, entry.pw_uid, os.getegid()
        entry = pwd.getpwnam(UNPRIVILEGED)
        return entry.pw_name, entry.pw_uid, entry.pw_gid

    def _as_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        _, uid, gid = self.run_as
        return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *argv]

    # -- config ----------------------------------------------------------------------

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def log(self) -> Path:
        return self.root / "dovecot.log"

    def _oauth2_passdb(self) -> str:
        if not self.oauth2_tokeninfo_url:
            return ""
        conf = self.root / "oauth2.conf.ext"
        conf.write_text(f"tokeninfo_url = {self.oauth2_tokeninfo_url}\n"
                        "username_attribute = email\n")
        return ("passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                f"  args = {conf}\n}}\n")

    def _write_config(self) -> None:
        user, uid, gid = self.run_as
        group = grp.getgrgid(gid).gr_name
        assert self.certs is not None
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir(exist_ok=True)
        passwd = "".join(
            f"{name}:{{PLAIN}}{password}:{uid}:{gid}::{self.root / 'home' / name}::\n"
            for name, password in self.users.items())
        (self.root / "passwd").write_text(passwd)
        (self.root / "passwd").chmod(0o600)
        self.config.write_text(f"""\
# villaged test server: throwaway, 127.0.0.1 only
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.log}
info_log_path = {self.log}
protocols = imap
listen = 127.0.0.1
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
auth_mechanisms = plain login{" xoauth2 oauthbearer" if self.oauth2_tokeninfo_url else ""}
disable_plaintext_auth = no
auth_failure_delay = 0
login_trusted_networks =
ssl = yes
ssl_cert = <{self.certs.cert}
ssl_key = <{self.certs.key}
ssl_min_protocol = TLSv1.2
mail_location = maildir:~/Maildir
mail_fsync = never
maildir_very_dirty_syncs = yes
imap_capability = +LIST-STATUS
mail_max_userip_connections = 200
{self._oauth2_passdb()}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.root}/passwd
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
}}
service imap-login {{
  chroot =
  user = {user}
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
  process_min_avail = 1
}}
service imap {{
  process_limit = 200
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
service stats {{
  chroot =
}}
service log {{
  chroot =
}}
service config {{
  chroot =
}}
service dict {{
  chroot =
}}
service dict-async {{
  chroot =
}}
""")

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> DovecotServer:
        why = missing()
        if why:
            raise RuntimeError(why)
        self.root.mkdir(parents=True, exist_ok=True)
        if self.certs is None:
            self.certs = make_ca(self.root / "tls")
        self.imap_port = self.imap_port or free_port()
        self.imaps_port = self.imaps_port or free_port()
        self._write_config()
        if os.geteuid() == 0:
            _, uid, gid = self.run_as
            self.root.chmod(0o700)
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, uid, gid)
        dovecot = binary("dovecot")
        assert dovecot is not None
        self.proc = subprocess.Popen(self._as_user([dovecot, "-F", "-c", str(self.config)]),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        _wait_port(self.imaps_port, self.proc, self.log)
        _wait_port(self.imap_port, self.proc, self.log)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None

    # -- administration (what a mail admin would do) ----------------------------------

    def doveadm(self, *args: str) -> str:
        doveadm = binary("doveadm")
        assert doveadm is not None
        done = subprocess.run(self._as_user([doveadm, "-c", str(self.config), *args]),
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def set_uidvalidity(self, user: str, mailbox: str, value: int) -> None:
        """Change a folder's UIDVALIDITY, as a server migration or restore would."""
        self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(value), mailbox)

    def maildir(self, user: str) -> Path:
        return self.root / "home" / user / "Maildir"

    def add_user(self, name: str, password: str) -> None:
        """Add a user (the passwd-file is re-read on each login)."""
        self.users[name] = password
        self._write_config()
        if os.geteuid() == 0:
            _, uid, gid = self.run_as
            os.chown(self.root / "passwd", uid, gid)
