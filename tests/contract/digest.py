"""The digest delivery contract: the digest reaches the owner, once, and nobody else."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import pytest

from tests.contract.village import ADA, OWNER, OWNER_ALIAS
from villaged.domain.village import KEY_HEADER
from villaged.ports.digest import RecipientRefused


class DigestHarness(Protocol):
    def deliver(self, message: EmailMessage) -> str:
        """The port call (``BackendIO.deliver_digest``)."""

    def delivered(self) -> list[tuple[str, ...]]:
        """The recipients of every message that arrived anywhere, as the world sees it."""


def digest(key: str = "digest:2026-W48", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["Subject"] = OWNER, "Your village this week"
    msg["Message-ID"] = f"<{key.replace(':', '.')}@uni.example>"
    msg[KEY_HEADER] = key
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("warm: 3")
    return msg


class DigestContract:
    """Subclass as ``TestXxxDigest(DigestContract)`` with a ``harness`` fixture."""

    @pytest.fixture
    def harness(self, tmp_path: Path) -> DigestHarness:
        raise NotImplementedError("a contract subclass provides the harness fixture")

    def test_the_digest_reaches_the_owner(self, harness):
        assert harness.deliver(digest(To=OWNER))
        assert harness.delivered() == [(OWNER,)]

    @pytest.mark.parametrize("headers", [
        {"To": ADA}, {"To": f"{OWNER}, {ADA}"}, {"To": OWNER, "Cc": ADA},
        {"To": OWNER, "Bcc": ADA}, {"To": OWNER, "Resent_To": ADA}, {"To": OWNER_ALIAS},
        {}], ids=["other", "two", "cc", "bcc", "resent", "alias", "nobody"])
    def test_the_digest_reaches_nobody_but_the_owner(self, harness, headers):
        with pytest.raises(RecipientRefused):
            harness.deliver(digest(**headers))
        assert harness.delivered() == []

    def test_a_rerun_after_a_kill_before_recording_delivers_once(self, harness):
        # run_digest records the week after delivery: killed in between, it delivers again
        first = harness.deliver(digest(To=OWNER))
        assert harness.deliver(digest(To=OWNER)) == first
        assert harness.delivered() == [(OWNER,)]
        harness.deliver(digest("digest:2026-W49", To=OWNER))  # next week's is a new one
        assert harness.delivered() == [(OWNER,), (OWNER,)]
