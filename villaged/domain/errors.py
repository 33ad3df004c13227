"""villaged's own errors: what a user can fix, and what only needs a retry later.

Two families, never mixed:

* ``VillagedError``: a problem the user can fix (a config value, a grant, a
  wrong endpoint, a forbidden call). The CLI prints its one message and fix
  without a traceback and exits 2; the service records it as an error and
  backs off (an ``AuthError`` parks the jobs instead).
* ``TransientError``: the network or a server failing for now, a rate limit
  that outlasted the retries. Nothing to fix; the next round retries. The CLI
  prints the message and exits 1; the service backs off and retries.

Both derive from ``Problem`` (message + fix), which is what the CLI and the
service catch. Backends translate their library's exceptions into these at the
edge: nothing above a backend catches a library exception or compares class
names. Anything else is a bug and keeps its traceback.

Every ``fix`` that points at documentation names a README section that exists
(tests/test_error_docs.py checks it).
"""

from __future__ import annotations


class Problem(Exception):
    """Something villaged can explain in one message with a fix (not a bug)."""

    exit_status = 2

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message}\n  fix: {self.fix}"
        return self.message


class VillagedError(Problem):
    """A problem the user can fix: what went wrong, and how to fix it (exit 2)."""


class ConfigError(VillagedError):
    """The village config is invalid."""


class AuthError(VillagedError):
    """The grant is missing, revoked, expired or lacks a scope: the jobs park."""


class RemoteError(VillagedError):
    """A service answered a call with a refusal the user must look at.

    ``status`` is the HTTP status (0 when there is none); ``what`` names the call.
    """

    def __init__(self, message: str, fix: str | None = None, *, status: int = 0,
                 what: str = "") -> None:
        super().__init__(message, fix)
        self.status = status
        self.what = what


class NotFoundError(RemoteError):
    """The thing asked for does not exist (404): a wrong endpoint, id or calendar."""


class GoneError(RemoteError):
    """The thing asked for existed and is gone for good (410)."""


class ForbiddenError(RemoteError):
    """The service refuses the call for this account (403, not a rate limit)."""


class TransientError(Problem):
    """A temporary failure (network, server): retry in a later round (exit 1)."""

    exit_status = 1


class RateLimitedError(TransientError):
    """The service kept answering "slow down" (429, or a rate-limit 403) past the retries."""


class UnreachableError(TransientError):
    """The service cannot be reached at all (DNS, refused connection, timeout)."""
