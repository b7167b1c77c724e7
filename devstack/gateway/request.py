"""The request and response types shared by the REST and RPC handlers, and media-type negotiation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from werkzeug.http import parse_list_header, parse_options_header

from devstack.gateway.errors import ApiError, unsupported

JSON_TYPE = "application/json"
OBJECT_TYPE = "application/vnd.pgrst.object+json"
ARRAY_TYPE = "application/vnd.pgrst.array+json"


@dataclass
class ApiRequest:
    """One PostgREST request after the gateway: path without ``/rest/v1``, verified claims."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lowercased names
    body: bytes
    role: str
    claims: dict[str, Any]
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def authenticated(self) -> bool:
        """PostgREST's "authed": the role is not the anonymous role (42501 → 403 instead of 401)."""
        return self.role != "anon"

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def body_text(self) -> str:
        """The body as text (it parsed as JSON, so it is UTF-8)."""
        return self.body.decode("utf-8")

    def json_body(self) -> Any:
        """The parsed body, or PGRST102 when it is not JSON."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "PGRST102", "Empty or invalid json") from None


@dataclass
class ApiResponse:
    """What a handler answers: status, headers and the body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


@dataclass(frozen=True)
class MediaType:
    """The negotiated response media type."""

    singular: bool = False
    strip_nulls: bool = False

    @property
    def content_type(self) -> str:
        base = OBJECT_TYPE if self.singular else (ARRAY_TYPE if self.strip_nulls else JSON_TYPE)
        return base + ("; nulls=stripped" if self.strip_nulls else "") + "; charset=utf-8"


def negotiate(accept: str | None) -> MediaType:
    """Pick the first media type of ``Accept`` the stand-in produces, as PostgREST does."""
    if not accept:
        return MediaType()
    offered: list[str] = []
    for raw in parse_list_header(accept):  # in the order sent; werkzeug splits and unquotes
        name, params = parse_options_header(raw)
        mime = name.lower()
        if params.get("q", "").strip() == "0":
            continue
        strip = params.get("nulls", "").lower() == "stripped"
        if mime in (JSON_TYPE, "*/*", "application/*"):
            return MediaType()
        if mime in (OBJECT_TYPE, "application/vnd.pgrst.object"):
            return MediaType(singular=True, strip_nulls=strip)
        if mime in (ARRAY_TYPE, "application/vnd.pgrst.array"):
            return MediaType(strip_nulls=strip)
        offered.append(name)
    if any(m.lower() in ("text/csv", "application/geo+json", "application/octet-stream", "text/plain",
                         "text/xml") or m.lower().startswith("application/vnd.pgrst.plan")
           for m in offered):
        raise unsupported(f"The media type(s) {', '.join(offered)}")
    raise ApiError(406, "PGRST107", "None of these media types are available: " + ", ".join(offered))
