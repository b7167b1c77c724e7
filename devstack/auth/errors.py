"""GoTrue's error responses (supabase/auth internal/api/errors.go, apierrors).

A request with ``X-Supabase-Api-Version: 2024-01-01`` or later (every current supabase-js /
supabase-py client sends it) gets ``{"code": "<error_code>", "message": ...}`` and the header echoed;
older callers get the legacy ``{"code": <status>, "error_code": ..., "msg": ...}``. Both carry the
``x-sb-error-code`` header. Weak passwords add ``weak_password.reasons``; OAuth-style token errors are
``{"error": ..., "error_description": ...}``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

API_VERSION_HEADER = "X-Supabase-Api-Version"
API_VERSION_2024 = "2024-01-01"


class AuthError(Exception):
    """An HTTPError of GoTrue: HTTP status, error_code, message."""

    def __init__(self, status: int, error_code: str, message: str, *,
                 weak_password_reasons: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.weak_password_reasons = weak_password_reasons


class OAuthError(Exception):
    """GoTrue's OAuthError: always 400, ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def bad_request(code: str, message: str) -> AuthError:
    return AuthError(400, code, message)


def forbidden(code: str, message: str) -> AuthError:
    return AuthError(403, code, message)


def unprocessable(code: str, message: str) -> AuthError:
    return AuthError(422, code, message)


def not_found(code: str, message: str) -> AuthError:
    return AuthError(404, code, message)


def uses_2024_format(request_version: str | None) -> bool:
    """True when the caller asked for API version 2024-01-01 or later (invalid: the initial one)."""
    if not request_version:
        return False
    try:
        asked = dt.date.fromisoformat(request_version.strip())
    except ValueError:
        return False
    return asked >= dt.date(2024, 1, 1)


def render(err: AuthError | OAuthError, request_version: str | None) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) for ``err`` as GoTrue sends it to a caller of ``request_version``."""
    headers = [("Content-Type", "application/json")]
    if isinstance(err, OAuthError):
        return 400, headers, json.dumps({"error": err.error, "error_description": err.description}).encode()
    headers.append(("x-sb-error-code", err.error_code))
    body: dict[str, Any]
    if uses_2024_format(request_version):
        headers.append((API_VERSION_HEADER, API_VERSION_2024))
        body = {"code": err.error_code, "message": err.message}
    else:
        body = {"code": err.status, "error_code": err.error_code, "msg": err.message}
    if err.weak_password_reasons is not None:
        body["weak_password"] = {"reasons": err.weak_password_reasons}
    return err.status, headers, json.dumps(body).encode()
