"""The one exception family of the functions: each error carries its HTTP status and error code.

Raise a subclass anywhere on a function's data path; the HTTP layer (`functions._http`) turns it
into ``{"error": {"code", "message", "details"?}}`` with the status. Messages are written for the
caller and never contain SQL text or internal details.
"""

from __future__ import annotations

from typing import Any


class FunctionError(Exception):
    """Base class: an error that becomes an HTTP response with ``status`` and ``code``."""

    status: int = 500
    code: str = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON error body of the contract."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class BadRequest(FunctionError):
    """400: the body is not JSON, not UTF-8, or not sent as application/json."""

    status = 400
    code = "invalid_json"


class Unauthorized(FunctionError):
    """401: missing, forged or expired JWT; missing, bad or stale webhook signature."""

    status = 401
    code = "unauthorized"


class Forbidden(FunctionError):
    """403: the caller is authenticated but not allowed to do this."""

    status = 403
    code = "forbidden"


class NotFound(FunctionError):
    """404: an id that does not exist or that the caller cannot see."""

    status = 404
    code = "not_found"


class MethodNotAllowed(FunctionError):
    """405: wrong HTTP method; carries the ``Allow`` header."""

    status = 405
    code = "method_not_allowed"

    def __init__(self, method: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"method {method} is not allowed; use {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )


class Conflict(FunctionError):
    """409: the request conflicts with the current state (deleted prompt, mass deactivation)."""

    status = 409
    code = "conflict"


class PayloadTooLarge(FunctionError):
    """413: the body is larger than the function's documented limit."""

    status = 413
    code = "payload_too_large"


class ValidationFailed(FunctionError):
    """422: valid JSON that fails the request schema; ``details`` names each failing field."""

    status = 422
    code = "validation_error"


class FeatureDisabled(FunctionError):
    """503: the Prompt Manager feature flag is off."""

    status = 503
    code = "feature_disabled"


class ServiceUnavailable(FunctionError):
    """503: the database or API cannot be reached or timed out; retry later."""

    status = 503
    code = "service_unavailable"


class UpstreamError(FunctionError):
    """502: the API answered with something this function does not expect (logged)."""

    status = 502
    code = "upstream_error"


class Misconfigured(FunctionError):
    """500: a required setting is missing or invalid; the message names it (never sent)."""

    status = 500
    code = "misconfigured"
