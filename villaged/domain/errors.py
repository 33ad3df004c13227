"""The one exception type a user can fix.

The CLI prints a VillagedError as a single message without a traceback and
exits 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class VillagedError(Exception):
    """A problem the user can fix: what went wrong, and how to fix it."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message}\n  fix: {self.fix}"
        return self.message


class ConfigError(VillagedError):
    """The village config is invalid."""


class AuthError(VillagedError):
    """The Google grant is missing, revoked or expired."""


class TransientError(VillagedError):
    """A temporary failure (network, server): retry in a later round."""
