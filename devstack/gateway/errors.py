"""Errors of the stand-in and PostgREST's mapping of SQLSTATEs to HTTP statuses.

Every error leaves the gateway as PostgREST's body ``{"code", "message", "details", "hint"}`` with
``Proxy-Status: PostgREST; error=<code>``. The SQLSTATE table is PostgREST's own
(``PostgREST.Error.mapSQLtoHTTP``), a superset of the rows in supabase-notes.
"""

from __future__ import annotations

import json
from typing import Any

#: Code of the stand-in's own "this part of PostgREST's grammar is not implemented here" errors.
#: Distinct from every real PostgREST code, so nobody mistakes it for a limitation of PostgREST.
UNSUPPORTED_CODE = "PGRSTX01"


class ApiError(Exception):
    """An error response in PostgREST's shape; ``status`` is the HTTP status."""

    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 hint: Any = None, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint
        self.headers = list(headers or [])

    def body(self) -> bytes:
        """The JSON body PostgREST sends for this error."""
        return json.dumps({"code": self.code, "details": self.details, "hint": self.hint,
                           "message": self.message}).encode()


def unsupported(what: str) -> ApiError:
    """400 for a part of PostgREST's grammar the local stand-in does not implement."""
    return ApiError(400, UNSUPPORTED_CODE, f"{what} is not supported by the local PostgREST stand-in",
                    details="Use real PostgREST (supabase start or a hosted project) for this feature.",
                    hint="See devstack/README.md for what the stand-in supports.")


def parse_error(message: str, details: str | None = None) -> ApiError:
    """PostgREST's PGRST100 for a query string it cannot parse."""
    return ApiError(400, "PGRST100", message, details=details)


def invalid_body(message: str) -> ApiError:
    """PostgREST's PGRST102 for a body that is not the JSON it needs."""
    return ApiError(400, "PGRST102", message)


def status_for_sqlstate(code: str, message: str, authenticated: bool) -> int:
    """The HTTP status PostgREST answers for an error raised by the database."""
    c = code or ""
    if c.startswith("08"):
        return 503
    if c.startswith("09"):
        return 500
    if c.startswith(("0L", "0P")):
        return 403
    if c in ("23503", "23505"):
        return 409
    if c == "25006":
        return 405
    if c == "21000":
        return 400 if message.endswith("requires a WHERE clause") else 500
    if c == "22023":
        return 401 if message.startswith("role") and message.endswith("does not exist") else 400
    if c.startswith("25"):
        return 500
    if c.startswith("28"):
        return 403
    if c.startswith(("2D", "38", "39", "3B", "40")):
        return 500
    if c == "53400":
        return 500
    if c.startswith("53"):
        return 503
    if c.startswith(("54", "55")):
        return 500
    if c == "57P01":
        return 503
    if c.startswith(("57", "58", "F0", "HV")):
        return 500
    if c == "P0001":
        return 400
    if c.startswith(("P0", "XX")):
        return 500
    if c == "42883":
        return 406 if message.startswith("function xmlagg(") else 404
    if c == "42P01":
        return 404
    if c == "42P17":
        return 500
    if c == "42501":
        return 403 if authenticated else 401
    if c.startswith("PT"):
        try:
            status = int(c[2:])
        except ValueError:
            return 500
        return status if 100 <= status <= 999 else 500
    return 400


def from_database(code: str, message: str, details: str | None, hint: str | None,
                  authenticated: bool) -> ApiError:
    """Turn an error the database raised into PostgREST's response for it.

    ``raise sqlstate 'PGRST' using message = '{json}', detail = '{json}'`` gives full control of
    the response, as in PostgREST: the message JSON has code/message/details/hint, the detail JSON
    has status, status_text and headers.
    """
    if code == "PGRST":
        return _raise_pgrst(message, details)
    status = status_for_sqlstate(code, message, authenticated)
    headers = [("WWW-Authenticate", "Bearer")] if status == 401 else []
    return ApiError(status, code, message, details=details, hint=hint, headers=headers)


def _raise_pgrst(message: str, details: str | None) -> ApiError:
    """PostgREST's ``RAISE SQLSTATE 'PGRST'`` convention, or its PGRST121 when malformed."""
    try:
        msg = json.loads(message)
        if not isinstance(msg, dict) or "code" not in msg or "message" not in msg:
            raise ValueError
    except ValueError:
        return ApiError(500, "PGRST121", 'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error',
                        details=f"Invalid JSON value for MESSAGE: '{message}'",
                        hint="MESSAGE must be a JSON object with obligatory keys: 'code', 'message' "
                             "and optional keys: 'details', 'hint'.")
    try:
        if details is None:
            raise LookupError
        det = json.loads(details)
        if not isinstance(det, dict) or "status" not in det or "headers" not in det:
            raise ValueError
    except (ValueError, LookupError) as exc:
        detail_text = ("DETAIL is missing in the RAISE statement" if isinstance(exc, LookupError)
                       else f"Invalid JSON value for DETAIL: '{details}'")
        return ApiError(500, "PGRST121", 'Could not parse JSON in the "RAISE SQLSTATE \'PGRST\'" error',
                        details=detail_text,
                        hint="DETAIL must be a JSON object with obligatory keys: 'status', 'headers' "
                             "and optional key: 'status_text'.")
    headers = [(str(k), str(v)) for k, v in dict(det.get("headers") or {}).items()]
    return ApiError(int(det["status"]), str(msg["code"]), str(msg["message"]),
                    details=msg.get("details"), hint=msg.get("hint"), headers=headers)


def connection_error(detail: str | None) -> ApiError:
    """PostgREST's 503 PGRST000 when the database cannot be reached."""
    return ApiError(503, "PGRST000", "Database connection error. Retrying the connection.",
                    details=detail)


def pool_timeout() -> ApiError:
    """PostgREST's 504 PGRST003 when no pooled connection frees up in time."""
    return ApiError(504, "PGRST003", "Timed out acquiring connection from connection pool.")


def jwt_error(message: str, details: str | None = None) -> ApiError:
    """PostgREST's 401 PGRST301 for a JWT it cannot accept."""
    challenge = f'Bearer error="invalid_token", error_description={json.dumps(message)}'
    return ApiError(401, "PGRST301", message, details=details,
                    headers=[("WWW-Authenticate", challenge)])
