"""The connection pool (logged in as ``authenticator``) and PostgREST's per-request transaction.

Each request: ``BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY|READ WRITE``, one ``select
set_config(..., true)`` for search_path, role, the request GUCs and the impersonated role's own
settings (e.g. ``statement_timeout``), the main statement (these three sent together in pipeline
mode), then COMMIT, or ROLLBACK on any error.

Connections are checked when taken from the pool, and a dead one is dropped and the next tried at
once, so neither killed connections nor a restarted server cost a failed request once the server is
up; while it is down a request answers 503 PGRST000 within about a second.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from devstack.gateway import errors
from devstack.gateway.request import ApiRequest

log = logging.getLogger("devstack.gateway.db")

#: How long a request waits for a pooled connection before answering 503/504.
ACQUIRE_TIMEOUT_SECONDS = 1.5
#: PostgREST's search path: the exposed schema, then `db-extra-search-path` (config.toml).
SEARCH_PATH = '"public", "public", "extensions"'

_SETTINGS_SQL = (
    "select set_config('search_path', $1, true), set_config('role', $2, true), "
    "set_config('request.jwt.claims', $3, true), set_config('request.method', $4, true), "
    "set_config('request.path', $5, true), set_config('request.headers', $6, true), "
    "set_config('request.cookies', $7, true)"
)


class Database:
    """The pool and the transaction runner."""

    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 32) -> None:
        self.url = url
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": True, "cursor_factory": psycopg.RawCursor,
                    "prepare_threshold": None, "application_name": "devstack-gateway"},
            open=False,
            name="devstack-gateway",
            # Give up a failing reconnection after 2 s instead of backing off for hours: a request
            # then starts a fresh attempt, so the first request after a restart gets a connection
            # instead of waiting out the pool's back-off (up to 4 s and more) and timing out.
            reconnect_timeout=2.0,
        )

    def open(self) -> None:
        self.pool.open(wait=False)

    def close(self) -> None:
        self.pool.close()

    @contextmanager
    def _live_connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection that answers a round trip, within ACQUIRE_TIMEOUT_SECONDS.

        Not the pool's own ``check``: psycopg_pool sleeps about a second after every connection
        that fails it, so once the server had killed the idle connections (pg_terminate_backend,
        a restart) each request waited a second per dead connection and timed out (504). A dead
        connection is closed by the failed check, the pool discards it and replaces it.
        """
        deadline = time.monotonic() + ACQUIRE_TIMEOUT_SECONDS
        while True:
            with self.pool.connection(timeout=max(deadline - time.monotonic(), 0.001)) as conn:
                try:
                    ConnectionPool.check_connection(conn)
                except psycopg.Error:
                    log.debug("discarding a dead pooled connection", exc_info=True)
                    continue
                yield conn
                return

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection outside any request transaction (schema cache loads).

        Failures surface as PostgREST's 503/504 ApiErrors, like a request's own.
        """
        try:
            with self._live_connection() as conn:
                yield conn
        except PoolTimeout:
            raise self._unavailable() from None
        except psycopg.Error as exc:
            raise to_api_error(exc, authenticated=True) from None

    @contextmanager
    def transaction(self, req: ApiRequest, read_only: bool,
                    role_settings: tuple[tuple[str, str], ...] = ()) -> Iterator[psycopg.Connection]:
        """Run the body in PostgREST's transaction for ``req``; map every error to an ApiError."""
        try:
            with self._live_connection() as conn:
                mode = "READ ONLY" if read_only else "READ WRITE"
                try:
                    # Pipeline mode: BEGIN, the settings and the main statement travel together.
                    with conn.pipeline():
                        conn.execute(f"BEGIN ISOLATION LEVEL READ COMMITTED {mode}")
                        conn.execute(*_settings_statement(req, role_settings))
                        yield conn
                except BaseException:
                    _rollback(conn)
                    raise
                else:
                    conn.execute("COMMIT")
        except PoolTimeout:
            raise self._unavailable() from None
        except psycopg.Error as exc:
            raise to_api_error(exc, req.authenticated) from None

    def _unavailable(self) -> errors.ApiError:
        """503 PGRST000 when the server cannot be reached, else 504 PGRST003 (pool exhausted)."""
        try:
            with psycopg.connect(self.url, connect_timeout=1, autocommit=True) as conn:
                conn.execute("select 1")
        except psycopg.Error as exc:
            return errors.connection_error(str(exc).strip() or type(exc).__name__)
        return errors.pool_timeout()


def _settings_statement(req: ApiRequest, role_settings: tuple[tuple[str, str], ...]) -> tuple[str, list[Any]]:
    """The one ``select set_config(...)`` PostgREST runs before the main query."""
    params: list[Any] = [SEARCH_PATH, req.role, json.dumps(req.claims, separators=(",", ":")),
                         req.method, req.path, json.dumps(req.headers, separators=(",", ":")),
                         json.dumps(req.cookies, separators=(",", ":"))]
    sql = _SETTINGS_SQL
    for name, value in role_settings:
        params.extend((name, value))
        sql += f", set_config(${len(params) - 1}, ${len(params)}, true)"
    return sql, params


def _rollback(conn: psycopg.Connection) -> None:
    if conn.closed or conn.broken:
        return
    try:
        conn.execute("ROLLBACK")
    except psycopg.Error:  # the connection is gone; the pool discards it
        log.debug("rollback failed", exc_info=True)


def to_api_error(exc: psycopg.Error, authenticated: bool) -> errors.ApiError:
    """A psycopg error as PostgREST's response for it."""
    diag = exc.diag
    code = diag.sqlstate or getattr(exc, "sqlstate", None)
    if code is None and isinstance(exc, psycopg.DataError):
        # Refused by the driver before sending: a NUL in a text value. PostgreSQL itself refuses
        # it with 22021 (what PostgREST answers), never a connection error.
        return errors.from_database("22021", 'invalid byte sequence for encoding "UTF8": 0x00',
                                    str(exc).strip(), None, authenticated)
    if code is None:
        # No SQLSTATE: the connection itself failed (server gone, network, protocol).
        return errors.connection_error(str(exc).strip() or type(exc).__name__)
    message = diag.message_primary or str(exc).strip()
    return errors.from_database(code, message, diag.message_detail, diag.message_hint, authenticated)
