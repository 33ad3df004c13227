"""Google-shaped API errors: the JSON bodies the real services answer with."""

from __future__ import annotations

from typing import Any

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    410: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An error answered to the client as Google's `{"error": {...}}` body."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str,
        *,
        domain: str = "global",
        status: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code} {reason}: {message}")
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.status = status if status is not None else _STATUS.get(code, "UNKNOWN")
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        """The JSON body Google sends for this error."""
        item = {"message": self.message, "domain": self.domain, "reason": self.reason}
        item.update(self.extra)
        error: dict[str, Any] = {"code": self.code, "message": self.message, "errors": [item]}
        if self.status:
            error["status"] = self.status
        return {"error": error}


def bad_request(message: str, reason: str = "invalidArgument") -> ApiError:
    """400, as Google answers a malformed request."""
    return ApiError(400, message, reason)


def not_found(message: str = "Requested entity was not found.") -> ApiError:
    """404 notFound."""
    return ApiError(404, message, "notFound")


def unauthenticated() -> ApiError:
    """401 for a missing, expired or revoked access token."""
    return ApiError(
        401,
        "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential.",
        "authError",
        extra={"location": "Authorization", "locationType": "header"},
    )


def insufficient_scopes() -> ApiError:
    """403 when no granted scope covers the method."""
    return ApiError(403, "Request had insufficient authentication scopes.", "insufficientPermissions")


def full_sync_required() -> ApiError:
    """410 Gone for an expired Calendar sync token."""
    return ApiError(
        410,
        "Sync token is no longer valid, a full sync is required.",
        "fullSyncRequired",
        domain="calendar",
        status="",
    )


def fault(kind: str) -> ApiError:
    """The error an injected fault of `kind` ("429", "403", "500", "503") answers."""
    if kind == "429":
        return ApiError(429, "Too many concurrent requests for user.", "rateLimitExceeded")
    if kind in ("403", "403user"):
        return ApiError(403, "User Rate Limit Exceeded", "userRateLimitExceeded", domain="usageLimits")
    if kind == "403rate":
        return ApiError(403, "Rate Limit Exceeded", "rateLimitExceeded", domain="usageLimits")
    if kind == "403forbidden":
        return ApiError(403, "The caller does not have permission", "forbidden")
    if kind == "404":
        return not_found()
    if kind == "500":
        return ApiError(500, "Internal error encountered.", "backendError")
    if kind == "503":
        return ApiError(503, "The service is currently unavailable.", "backendError")
    raise ValueError(f"unknown fault kind {kind!r}")
