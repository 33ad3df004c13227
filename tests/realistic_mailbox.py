"""A realistic owner's mailbox for the capture tests: a few hundred messages of direct,
list and mass mail, written as a real mbox file (deterministic: no wall clock, no randomness)."""

from __future__ import annotations

import datetime as dt
import mailbox
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

OWNER = "Dana Reyes <dana@uni.example>"
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)

CONFIG = '''# Dana's village: edited by hand, with comments that must survive `villaged add`.

[owner]
name = "Dana Reyes"
addresses = ["dana@uni.example"]
timezone = "America/Chicago"

[backend]
kind = "local"
mail = ["mail.mbox"]   # exported every week
drafts = "Maildir/.Drafts"

# -- the people -------------------------------------------------------------

[[person]]
name = "Ada Lovelace"
emails = ["ada@analytical.example"]
role = "mentor"   # since 2024
'''


def _message(n: int, sender: str, to: list[str], subject: str, when: dt.datetime,
             **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<m{n}@realistic.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("...")
    return msg


def messages() -> list[EmailMessage]:
    out: list[EmailMessage] = []

    def add(sender: str, to: list[str], subject: str, days_ago: float, **headers: str) -> None:
        out.append(_message(len(out), sender, to, subject, NOW - dt.timedelta(days=days_ago),
                            **headers))

    priya = '"Natarajan, Priya" <priya.n@med.example>'
    for i in range(10):
        add(priya, [OWNER], f"Grand rounds {i}", 200 - i * 15)
    for i in range(8):
        add(OWNER, ["Priya Natarajan <priya.n@med.example>"], f"Re: Grand rounds {i}", 199 - i * 15)
    for i in range(4):  # one person, two addresses, one display name
        add("Tomás Álvarez <talvarez@hosp.example>", [OWNER], f"Clinic schedule {i}", 120 - i * 20)
    for i in range(3):
        add(OWNER, ["Tomás Álvarez <tomas.alvarez@gmail.example>"], f"Weekend call {i}", 100 - i * 20)
    for i in range(3):
        add("Wei Chen <wchen@uni.example>", [OWNER], f"Manuscript {i}", 90 - i * 10)
    add(OWNER, ["Wei Chen <wchen@uni.example>"], "Re: Manuscript 0", 89)
    for i in range(5):  # the village's own mentor: never suggested
        add("Ada Lovelace <ada@analytical.example>", [OWNER], f"Notes {i}", 60 - i * 10)
    for i in range(40):  # a newsletter
        add("JAMA Digest <newsletter@journal.example>", [OWNER], f"This week {i}", 300 - i * 7,
            List_Unsubscribe="<mailto:leave@journal.example>")
    for i in range(30):  # notifications: one-way, a robot
        add("GitHub <noreply@github.example>", [OWNER], f"[repo] issue {i}", 250 - i * 8)
    for i in range(80):  # a mailing list with many posters
        add(f"Poster {i % 12} <poster{i % 12}@lists-members.example>",
            ["residents@lists.uni.example"], f"[residents] thread {i}", 330 - i * 4,
            List_Id="<residents.lists.uni.example>")
    everyone = [f"faculty{i}@uni.example" for i in range(60)] + [OWNER]
    for i in range(10):  # mass mail from the dean
        add("Dean's Office <dean@uni.example>", everyone, f"Announcement {i}", 280 - i * 25)
    for i in range(5):  # the owner posts to a list address that never writes back
        add(OWNER, ["residents@lists.uni.example"], f"Journal club {i}", 150 - i * 30)
    for i in range(6):  # long ago: outside the two-year lookback
        add("Old Friend <old.friend@past.example>", [OWNER], f"Hello {i}", 1000 + i)
        add(OWNER, ["old.friend@past.example"], f"Re: Hello {i}", 1001 + i)
    return out


def write_village(root: Path) -> Path:
    """The mbox, the drafts Maildir and the config; returns the config path."""
    root.mkdir(parents=True, exist_ok=True)
    box = mailbox.mbox(root / "mail.mbox")
    for msg in messages():
        box.add(msg)
    box.close()
    for sub in ("cur", "new", "tmp"):
        (root / "Maildir" / ".Drafts" / sub).mkdir(parents=True, exist_ok=True)
    config = root / "village.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return config
