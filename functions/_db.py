"""The Supabase clients of the functions and the mapping of API errors to function errors.

One `httpx.Client` per process holds the connection pool (httpx documents it as safe to share
between threads). On top of it:
- a process-wide `supabase.Client` with the service-role key, for cohort-sync only;
- a `supabase.Client` per request with the caller's access token in ``Authorization`` (and the
  anon key as ``apikey``), so PostgREST runs the RPC as that user and RLS applies. The client is
  built per request because ``client.postgrest.auth(token)`` mutates headers shared by every
  thread; building one costs ~50 us and reuses the pooled connections, so it adds no round trip.
Nothing is created at import time.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import httpx
from postgrest.exceptions import APIError
from supabase import Client, create_client
from supabase.lib.client_options import SyncClientOptions

from functions._errors import (
    Conflict,
    FeatureDisabled,
    Forbidden,
    FunctionError,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    UpstreamError,
    ValidationFailed,
)
from functions._settings import CohortSyncSettings, UserSettings

log = logging.getLogger("functions.db")

CONNECT_TIMEOUT_SECONDS = 5.0
#: Long enough for a 100k-member snapshot; API-role statement timeouts end user RPCs sooner.
READ_TIMEOUT_SECONDS = 120.0
POOL_SIZE = 64

#: SQLSTATEs raised on purpose by the RPCs, with caller-facing messages.
_CUSTOM = {"PT403": Forbidden, "PT404": NotFound, "PT409": Conflict, "PT503": FeatureDisabled,
           "PT422": functools.partial(ValidationFailed, code="idempotency_key_reused")}
#: The caller's input was refused by the database: 422 (the RPC's own message only for 22023).
#: Whole classes: 22 data exception (a value out of range or malformed: 22003 numeric, 22007/22008
#: date-time, 22009 time zone offset, 22P02 text representation, 22P05 untranslatable character,
#: 2203x JSON, ...) and 54 program limit exceeded (a value too large or too deep for Postgres);
#: from class 23 the not-null and check violations.
_VALIDATION_CLASSES = ("22", "54")
_VALIDATION = {"23502", "23514"}
#: The request conflicts with the stored rows: 23503 it refers to a row that no longer exists (a
#: still-valid token of a deleted user, a prompt deleted meanwhile), 23505/23P01 it duplicates
#: one, 23001 a row it would remove is still referenced. 409, as PostgREST answers them.
_CONFLICT = {
    "23503": "the request refers to a user or row that no longer exists",
    "23505": "the request conflicts with an existing row",
    "23P01": "the request conflicts with an existing row",
    "23001": "the row is still referenced",
}
#: PostgREST refused the (already verified) token: expired in between, or a key mismatch.
_TOKEN_REJECTED = {"PGRST301", "PGRST302", "PGRST303"}
#: The database is unreachable, overloaded or timed out, or rolled the transaction back (40001
#: serialization failure, 40P01 deadlock): nothing was done, retry later, 503.
_OUTAGE_PREFIXES = ("08", "40001", "40P01", "53", "57", "PGRST000", "PGRST001", "PGRST002", "PGRST003",
                    "502", "503", "504")


@functools.cache
def http_pool() -> httpx.Client:
    """The process's HTTP connection pool (thread-safe, keep-alive)."""
    return httpx.Client(
        timeout=httpx.Timeout(READ_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
        limits=httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE),
        http2=True,
    )


def _options(headers: dict[str, str] | None = None) -> SyncClientOptions:
    """Client options for a server-side client on the shared pool (no session, no retries)."""
    return SyncClientOptions(
        headers=dict(headers or {}),
        httpx_client=http_pool(),
        auto_refresh_token=False,
        persist_session=False,
        postgrest_client_retry=False,
    )


@functools.cache
def _service_client(url: str, service_role_key: str) -> Client:
    """The process-wide service-role client (its headers never change, so threads may share it)."""
    return create_client(url, service_role_key, options=_options())


def user_client(settings: UserSettings, access_token: str) -> Client:
    """A client that calls the API as the user who owns ``access_token`` (RLS applies)."""
    return create_client(
        settings.supabase_url,
        settings.anon_key,
        options=_options({"Authorization": f"Bearer {access_token}"}),
    )


def service_client(settings: CohortSyncSettings) -> Client:
    """The service-role client: bypasses RLS; used by cohort-sync only."""
    return _service_client(settings.supabase_url, settings.service_role_key)


def to_function_error(exc: APIError | httpx.HTTPError, rpc: str) -> FunctionError:
    """Map an API or transport error of ``rpc`` to the contract's status; log what is unexpected."""
    if isinstance(exc, httpx.TransportError):
        log.warning("rpc %s: API unreachable: %s", rpc, type(exc).__name__)
        return ServiceUnavailable("the database is unavailable; retry later")
    if not isinstance(exc, APIError):
        log.error("rpc %s: unreadable API response: %s", rpc, type(exc).__name__)
        return UpstreamError("the database returned an unexpected response")
    code = str(exc.code or "")
    if code in _CUSTOM:
        return _CUSTOM[code](exc.message or "refused by the database")
    if code in _VALIDATION or (len(code) == 5 and code.startswith(_VALIDATION_CLASSES)):
        log.info("rpc %s: input refused by the database: %s %s", rpc, code, exc.message)
        message = exc.message if code == "22023" and exc.message else "a value was refused by the database"
        return ValidationFailed(message)
    if code in _CONFLICT:
        log.info("rpc %s: conflict in the database: %s %s", rpc, code, exc.message)
        return Conflict(_CONFLICT[code])
    if code == "42501":
        return Forbidden("not allowed")
    if code in _TOKEN_REJECTED:
        log.warning("rpc %s: the API refused a token the function accepted: %s", rpc, code)
        return Unauthorized("the access token was refused", code="invalid_token")
    if code.startswith(_OUTAGE_PREFIXES):
        log.error("rpc %s: database unavailable: %s %s", rpc, code, exc.message)
        return ServiceUnavailable("the database is unavailable; retry later")
    log.error("rpc %s: unexpected API error: %s %s (hint: %s)", rpc, code, exc.message, exc.hint)
    return UpstreamError("the database returned an unexpected error")


def failed_in_database(error: FunctionError) -> bool:
    """True when the API answered that the database failed (timeout, lost connection, internal
    error): the transaction was rolled back, through no fault of the caller. Transport errors are
    excluded: the API is unreachable, or (after a read timeout) the outcome is unknown."""
    return isinstance(error.__cause__, APIError) and isinstance(
        error, (ServiceUnavailable, UpstreamError)
    )


#: SQLSTATE prefixes of a lost or refused database connection (PostgREST's own codes included).
_CONNECTION_LOST_PREFIXES = ("08", "57P", "PGRST000", "PGRST001", "PGRST002", "PGRST003", "502", "503", "504")


def sync_failure_reason(error: FunctionError) -> str | None:
    """Why the database did not apply a delivery, as record_failed_cohort_sync() names it, or None
    when nothing is to be recorded: a conflict (the caller must resend) or an unknown outcome."""
    cause = error.__cause__
    if not isinstance(cause, APIError):
        return None  # transport error: unreachable, or (after a read timeout) outcome unknown
    code = str(cause.code or "")
    if code == "57014":
        return "timeout"
    if code.startswith(_CONNECTION_LOST_PREFIXES):
        return "connection_lost"
    if isinstance(error, ValidationFailed):
        return "bad_input"
    if failed_in_database(error):
        return "server_error"
    return None


def call(client: Client, rpc: str, params: dict[str, Any]) -> Any:
    """Call one RPC and return its JSON result, or raise the mapped `FunctionError`."""
    try:
        return client.rpc(rpc, params).execute().data
    except (APIError, httpx.HTTPError) as exc:
        raise to_function_error(exc, rpc) from exc
