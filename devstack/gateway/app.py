"""The WSGI app: Supabase's API gateway (Kong) in front of the PostgREST stand-in and the functions.

Gateway behaviour copied from the Supabase CLI's Kong configuration:
- CORS preflight (OPTIONS with Origin + Access-Control-Request-Method) is answered for every route
  before any key check; every response carries ``Access-Control-Allow-Origin: *``.
- ``/rest/v1``: key-auth on the ``apikey`` header (anon or service_role key), then the request
  transformer: without an ``Authorization`` header, ``Authorization: Bearer <apikey>`` is added, so
  the key's own ``role`` claim selects the role.
- ``/functions/v1/<name>``: no key check; the function sees the request unchanged.
- ``/auth/v1`` and ``/_devstack/mailbox``: the Auth stand-in (devstack/auth), which does its own
  key-auth (Kong's open routes ``/verify``, ``/callback``, ``/authorize`` need no key).

WSGI plumbing (headers, cookies, body, status lines, Content-Length, HEAD and 204 bodies) is
werkzeug's ``Request``/``Response``; every route answers with a WSGI app.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from devstack.gateway import rest, rpc
from devstack.gateway.auth import JwtVerifier, bearer_token
from devstack.gateway.catalog import Catalog
from devstack.gateway.db import Database
from devstack.gateway.errors import ApiError, unsupported
from devstack.gateway.functions import Functions
from devstack.gateway.kong import key_auth_refusal
from devstack.gateway.request import ApiRequest, ApiResponse

log = logging.getLogger("devstack.gateway")
access_log = logging.getLogger("devstack.gateway.access")

ANON_ROLE = "anon"
CORS_ALLOW_HEADERS = ("authorization, x-client-info, apikey, content-type, prefer, range, accept, "
                      "accept-profile, content-profile, x-upsert, x-retry-count")
CORS_ALLOW_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT"
EXPOSE_HEADERS = ("Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, "
                  "Server, Transfer-Encoding, Range-Unit, Preference-Applied, Proxy-Status")
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class _Response(Response):
    """werkzeug's Response without a default media type: PostgREST's bodies name their own, and
    an ``Allow`` answer or a 204 has none."""

    default_mimetype = None


class Gateway:
    """The whole local API: gateway checks, PostgREST stand-in and functions."""

    def __init__(self, db: Database, *, anon_key: str, service_role_key: str, verifier: JwtVerifier,
                 functions: Functions | None = None, max_rows: int | None = 1000,
                 auth: Any = None) -> None:
        self.db = db
        self.catalog = Catalog(db.connection)
        self.ctx = rest.Context(db, self.catalog, max_rows)
        self.api_keys = (anon_key, service_role_key)
        self.verifier = verifier
        self.functions = functions
        self.auth = auth  # devstack.auth.app.AuthApp: /auth/v1 and the local mailbox

    # -- WSGI entry point ----------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        request = Request(environ)
        status_holder: list[str] = []

        def tracking_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status_holder.append(status)
            if not any(k.lower() == "access-control-allow-origin" for k, _ in headers):
                headers = [*headers, ("Access-Control-Allow-Origin", "*")]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            return self._route(request)(environ, tracking_start)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            status = status_holder[-1].split(" ", 1)[0] if status_holder else "-"
            query = environ.get("QUERY_STRING")
            access_log.info("%s %s%s %s %.1fms", request.method, request.path, f"?{query}" if query else "",
                            status, elapsed_ms)

    def _route(self, request: Request) -> WSGIApp:
        """The WSGI app that answers ``request``."""
        method, path = request.method, request.path
        if method == "OPTIONS" and request.origin and "access-control-request-method" in request.headers:
            return _preflight(request)
        if path == "/rest/v1" or path.startswith("/rest/v1/"):
            return self._rest(request, path[len("/rest/v1"):])
        if path.startswith("/functions/v1/"):
            name, _, rest_path = path[len("/functions/v1/"):].partition("/")
            if self.functions is None:
                return _json(404, {"error": {"code": "not_found", "message": "functions are not served"}})
            functions, sub_path = self.functions, "/" + rest_path if rest_path else "/"
            return lambda environ, start_response: functions(environ, start_response, name, sub_path)
        if self.auth is not None and self.auth.serves(path):
            return self.auth
        if path == "/_devstack/health":
            return self._health()
        if path.startswith(("/auth/v1", "/storage/v1", "/realtime/v1", "/graphql/v1")):
            return _json(404, {"message": f"{path.split('/')[1]} is not served by the local stand-in"})
        return _json(404, {"message": "no Route matched with those values"})

    # -- /rest/v1 -------------------------------------------------------------------------------
    def _rest(self, request: Request, sub_path: str) -> WSGIApp:
        headers = {name.lower(): value for name, value in request.headers.items()}
        apikey = headers.get("apikey")
        refusal = key_auth_refusal(apikey, self.api_keys)
        if refusal is not None:
            return _respond(401, [("Content-Type", "application/json")], refusal)
        if "authorization" not in headers:
            headers["authorization"] = f"Bearer {apikey}"
        method = request.method
        try:
            req = self._api_request(request, sub_path or "/", headers)
            response = self._dispatch(req)
        except ApiError as err:
            response = _error_response(err)
        except RecursionError:  # a JSON body or logic tree nested deeper than Python parses
            response = _error_response(unsupported("nesting deeper than about 900 levels (JSON body or "
                                                   "logic tree)"))
        except Exception:  # noqa: BLE001 - the stand-in must answer, not drop the connection
            log.exception("unhandled error in %s %s", method, sub_path)
            response = _error_response(ApiError(500, "PGRSTX00", "Internal error in the local PostgREST stand-in"))
        extra = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", EXPOSE_HEADERS)]
        return _respond(response.status, response.headers + extra, response.body)

    def _api_request(self, request: Request, sub_path: str, headers: dict[str, str]) -> ApiRequest:
        token = bearer_token(headers.get("authorization"))
        if token is None:
            claims: dict[str, Any] = {}
        else:
            claims = dict(self.verifier.claims(token))
        role = claims.get("role", ANON_ROLE)
        if not isinstance(role, str):
            role = json.dumps(role)
        claims["role"] = role
        method = request.method
        body = b"" if method in ("GET", "HEAD", "DELETE") else request.get_data(cache=False)
        # parse_qsl, not request.args: PostgREST reads parameters in the order they were sent.
        query = parse_qsl(request.environ.get("QUERY_STRING", ""), keep_blank_values=True)
        return ApiRequest(method, sub_path, query, headers, body, role, claims, request.cookies.to_dict())

    def _dispatch(self, req: ApiRequest) -> ApiResponse:
        parts = [p for p in req.path.split("/") if p != ""]
        if not parts:
            if req.method in ("GET", "HEAD"):
                return self._root(req)
            raise ApiError(404, "PGRST125", "Invalid path specified in request URL")
        if parts[0] == "rpc" and len(parts) == 2:
            if req.method == "OPTIONS":
                return _allow("OPTIONS,GET,HEAD,POST")
            return rpc.handle_rpc(self.ctx, req, parts[1])
        if len(parts) != 1:
            raise ApiError(404, "PGRST125", "Invalid path specified in request URL")
        table = parts[0]
        if req.method in ("GET", "HEAD"):
            return rest.handle_read(self.ctx, req, table)
        if req.method in ("POST", "PATCH", "DELETE"):
            return rest.handle_write(self.ctx, req, table)
        if req.method == "OPTIONS":
            rest.find_table(self.ctx, table)
            return _allow("OPTIONS,GET,HEAD,POST,PATCH,DELETE")
        if req.method == "PUT":
            raise unsupported("PUT (single-row upsert by primary key)")
        raise ApiError(405, "PGRST117", f"Unsupported HTTP method: {req.method}")

    def _root(self, req: ApiRequest) -> ApiResponse:
        """A minimal OpenAPI description (real PostgREST describes every column; this lists paths)."""
        snap = self.catalog.snapshot
        paths: dict[str, dict[str, Any]] = {"/": {}}
        for name in sorted(snap.tables):
            paths[f"/{name}"] = {}
        for name in sorted(snap.routines):
            paths[f"/rpc/{name}"] = {}
        doc = {"swagger": "2.0", "info": {"title": "PostgREST API (local stand-in)", "version": "stand-in"},
               "basePath": "/", "paths": paths}
        return ApiResponse(200, [("Content-Type", "application/openapi+json; charset=utf-8")],
                           json.dumps(doc).encode())

    def _health(self) -> WSGIApp:
        try:
            with self.db.pool.connection(timeout=1.0) as conn:
                conn.execute("select 1")
            return _json(200, {"status": "ok"})
        except Exception as exc:  # noqa: BLE001
            return _json(503, {"status": "unavailable", "detail": str(exc)})


# -- helpers --------------------------------------------------------------------------------------
def _respond(status: int, headers: list[tuple[str, str]], body: bytes = b"") -> WSGIApp:
    """A werkzeug Response (it drops the body of HEAD, 1xx, 204 and 304 answers)."""
    if status == 204 or 100 <= status < 200 or status == 304:
        headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
        body = b""
    return _Response(body, status=status, headers=headers)


def _json(status: int, payload: Any) -> WSGIApp:
    """A JSON answer of the gateway itself (not PostgREST's)."""
    body = json.dumps(payload, separators=(",", ":")).encode()  # compact, as Kong writes them
    return _respond(status, [("Content-Type", "application/json")], body)


def _error_response(err: ApiError) -> ApiResponse:
    headers = [("Content-Type", "application/json; charset=utf-8"),
               ("Proxy-Status", f"PostgREST; error={err.code}")] + err.headers
    return ApiResponse(err.status, headers, err.body())


def _allow(methods: str) -> ApiResponse:
    return ApiResponse(200, [("Allow", methods)], b"")


def _preflight(request: Request) -> WSGIApp:
    """Kong's cors plugin: 200 with the requested headers allowed, before any key check."""
    requested = request.headers.get("Access-Control-Request-Headers")
    return _respond(200, [("Access-Control-Allow-Origin", "*"),
                          ("Access-Control-Allow-Methods", CORS_ALLOW_METHODS),
                          ("Access-Control-Allow-Headers", requested or CORS_ALLOW_HEADERS),
                          ("Access-Control-Max-Age", "3600")])
