"""The HTTP edge shared by the four functions: method, size, content type, JSON, errors, CORS.

`serve` runs one function's handler and turns every outcome into a JSON response:
a `FunctionError` becomes its status and ``{"error": {...}}`` body; anything else is a bug, logged
with its traceback and answered with a bare 500 (``internal_error``, no details).

Order of checks on every request: 405 (method) -> 413 (Content-Length, then bytes read) ->
400 (Content-Type) -> the handler (authenticate -> parse JSON (400) -> validate (422) -> one RPC).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import flask
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from functions._errors import (
    BadRequest,
    FunctionError,
    MethodNotAllowed,
    PayloadTooLarge,
    UpstreamError,
    ValidationFailed,
)

log = logging.getLogger("functions")

JSON_MEDIA_TYPE = "application/json"
#: Most 422 details listed in one response (the message says how many there were).
MAX_ERROR_DETAILS = 50
CORS_ALLOW_HEADERS = "authorization, x-client-info, apikey, content-type, idempotency-key"
#: Response headers a browser script may read (a replayed publish says so).
CORS_EXPOSE_HEADERS = "Idempotent-Replayed"
CORS_MAX_AGE_SECONDS = "86400"

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Endpoint:
    """What a function accepts: its methods, its body limit (None: no body), browser access."""

    methods: tuple[str, ...]
    max_body_bytes: int | None
    cors: bool = True

    @property
    def allow(self) -> tuple[str, ...]:
        """The methods for the ``Allow`` header."""
        return (*self.methods, "OPTIONS") if self.cors else self.methods


@dataclass
class Reply:
    """A successful response: status, JSON body, extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[flask.Request, bytes], Reply]


def _is_json(mimetype: str) -> bool:
    """``application/json`` or a ``+json`` structured syntax type."""
    return mimetype == JSON_MEDIA_TYPE or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def read_body(request: flask.Request, limit: int) -> bytes:
    """The raw body, if it is JSON-typed and at most ``limit`` bytes (413 / 400 otherwise)."""
    too_large = PayloadTooLarge(f"the body must be at most {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    if not _is_json(request.mimetype):
        raise BadRequest(
            f"Content-Type must be {JSON_MEDIA_TYPE}", code="unsupported_content_type"
        )
    request.max_content_length = limit  # also bounds chunked bodies without Content-Length
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise too_large from None
    if len(body) > limit:
        raise too_large
    return body


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def parse_json(body: bytes) -> Any:
    """The JSON value of a UTF-8 body, or 400."""
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise BadRequest("the body is not valid UTF-8") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise BadRequest("the body is not valid JSON") from None


def _field(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a dotted path (``events.3.action``); ``body`` for the root."""
    return ".".join(str(part) for part in loc) or "body"


def validate(model: type[Model], data: Any) -> Model:
    """``data`` as ``model``, or 422 naming every failing field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        details = [
            {"field": _field(err["loc"]), "message": err["msg"].removeprefix("Value error, ")}
            for err in errors
        ]
        first = details[0]
        extra = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
        raise ValidationFailed(
            f"{first['field']}: {first['message']}{extra}", details=details[:MAX_ERROR_DETAILS]
        ) from None


def shape(model: type[Model], data: Any, status: int) -> Reply:
    """A reply with the RPC result's fields of ``model``, as the database wrote them, after
    checking them against the model (502 when the result does not fit)."""
    try:
        model.model_validate(data)
        body = {name: data[name] for name in model.model_fields}
    except ValidationError:
        log.error("%s: the RPC returned an unexpected result: %.500r", model.__name__, data)
        raise UpstreamError("the database returned an unexpected result") from None
    return Reply(status, body)


def _cors_headers(endpoint: Endpoint) -> dict[str, str]:
    """Headers that let browsers call the function with a bearer token (no cookies)."""
    if not endpoint.cors:
        return {}
    return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS}


def _preflight(endpoint: Endpoint) -> Reply:
    """204 answer to a CORS preflight."""
    return Reply(204, {}, {
        "Access-Control-Allow-Methods": ", ".join(endpoint.allow),
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
        "Access-Control-Max-Age": CORS_MAX_AGE_SECONDS,
        "Allow": ", ".join(endpoint.allow),
    })


def _response(reply: Reply, endpoint: Endpoint, body_read: bool) -> flask.Response:
    """The WSGI response for ``reply``.

    When the request body was not read (early errors, GET), the body is returned as an iterator
    with an explicit Content-Length: functions-framework then skips its after-request
    ``get_data()``, which would otherwise read (or fail on) a body this function refused.
    """
    data = b"" if reply.status == 204 else json.dumps(reply.body, separators=(",", ":")).encode()
    headers = {**_cors_headers(endpoint), **reply.headers, "Content-Length": str(len(data))}
    content = data if body_read else iter([data])
    return flask.Response(content, status=reply.status, headers=headers, mimetype=JSON_MEDIA_TYPE)


def _error_reply(exc: FunctionError) -> Reply:
    """The contract's error body for ``exc``; 5xx are logged."""
    if exc.status >= 500:
        log.error("%s %s: %s", exc.status, exc.code, exc.message)
        message = "the function is misconfigured" if exc.code == "misconfigured" else exc.message
        return Reply(exc.status, {"error": {"code": exc.code, "message": message}}, exc.headers)
    return Reply(exc.status, exc.body(), exc.headers)


def serve(request: flask.Request, endpoint: Endpoint, handler: Handler) -> flask.Response:
    """Run ``handler`` for ``request`` and turn any outcome into a JSON response."""
    body_read = False
    try:
        if request.method == "OPTIONS" and endpoint.cors:
            reply = _preflight(endpoint)
        elif request.method not in endpoint.methods:
            raise MethodNotAllowed(request.method, endpoint.allow)
        else:
            body = b""
            if endpoint.max_body_bytes is not None:
                body = read_body(request, endpoint.max_body_bytes)
                body_read = True
            reply = handler(request, body)
    except FunctionError as exc:
        reply = _error_reply(exc)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        reply = Reply(500, {"error": {"code": "internal_error", "message": "internal error"}})
    return _response(reply, endpoint, body_read)
