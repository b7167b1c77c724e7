"""The four HTTP functions (functions-framework targets), served under /functions/v1/<name>.

Run one alone:  functions-framework --source=functions/main.py --target=publish_prompt
Each handler is the same data path: HTTP checks (method, size, content type; `functions._http`)
-> authenticate (JWT or webhook signature) -> parse and validate the body (pydantic)
-> one RPC (as the caller, or as service_role for cohort-sync) -> response.
Functions-framework may load this file several times (once per target); it holds no state.
"""

from __future__ import annotations

import logging

import flask
import functions_framework
from pydantic import BaseModel

from functions import _db, _webhooks
from functions._auth import authenticate
from functions._errors import FunctionError
from functions._http import Endpoint, Reply, parse_json, serve, shape, validate
from functions._settings import cohort_sync_settings, user_settings
from functions.models import (
    MAX_COHORT_SYNC_BODY_BYTES,
    MAX_PUBLISH_BODY_BYTES,
    MAX_USAGE_BODY_BYTES,
    AccessCheckResponse,
    CohortSyncRequest,
    CohortSyncResponse,
    PublishPromptRequest,
    PublishPromptResponse,
    RpcRequest,
    UsageEventsRequest,
    UsageEventsResponse,
)

log = logging.getLogger("functions")

PUBLISH_PROMPT = Endpoint(methods=("POST",), max_body_bytes=MAX_PUBLISH_BODY_BYTES)
USAGE_EVENTS = Endpoint(methods=("POST",), max_body_bytes=MAX_USAGE_BODY_BYTES)
ACCESS_CHECK = Endpoint(methods=("GET",), max_body_bytes=None)
COHORT_SYNC = Endpoint(methods=("POST",), max_body_bytes=MAX_COHORT_SYNC_BODY_BYTES, cors=False)
#: Response header set on a cohort-sync delivery whose webhook-id was already applied, and on a
#: publish-prompt retry whose Idempotency-Key was already used.
REPLAYED_HEADER = "Idempotent-Replayed"
#: Request header that makes publish-prompt retry-safe.
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"


def _reply(model: type[BaseModel], result: object, status: int) -> Reply:
    """The RPC result as the response; a result with ``replayed: true`` (a repeated webhook-id
    or Idempotency-Key) says so in the `REPLAYED_HEADER`."""
    reply = shape(model, result, status)
    if isinstance(result, dict) and result.get("replayed") is True:
        reply.headers[REPLAYED_HEADER] = "true"
    return reply


def _as_caller(request: flask.Request, body: bytes, rpc: str, *, params: type[RpcRequest] | None,
               result: type[BaseModel], status: int, extra: dict[str, str] | None = None) -> Reply:
    """The user functions' data path: authenticate the JWT -> validate the body -> one RPC as
    the caller (RLS applies) -> the result checked against the response model."""
    config = user_settings()
    caller = authenticate(request.headers.get("Authorization"), config)
    arguments = validate(params, parse_json(body)).rpc_params() if params else {}
    answer = _db.call(_db.user_client(config, caller.token), rpc, {**arguments, **(extra or {})})
    return _reply(result, answer, status)


def idempotency_key(value: str | None) -> str | None:
    """The key of an ``Idempotency-Key`` header, or None without one. The IETF draft sends it as
    a structured-field string (``"key"``), Stripe's clients bare (``key``): both are accepted.
    Its format (1-255 visible ASCII characters) is checked by the database (422 otherwise)."""
    if value is None:
        return None
    key = value.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    return key


def _publish_prompt(request: flask.Request, body: bytes) -> Reply:
    """Publish an existing version, or create the next version and publish it (admins only);
    with an Idempotency-Key, at most once per caller and key (a retry gets the first result)."""
    key = idempotency_key(request.headers.get(IDEMPOTENCY_KEY_HEADER))
    if key is None:
        return _as_caller(request, body, "publish_prompt_version",
                          params=PublishPromptRequest, result=PublishPromptResponse, status=200)
    return _as_caller(request, body, "publish_prompt_version_idempotent", params=PublishPromptRequest,
                      result=PublishPromptResponse, status=200, extra={"idempotency_key": key})


def _usage_events(request: flask.Request, body: bytes) -> Reply:
    """Record a batch of the caller's usage events (opt-out and flags applied by the database)."""
    return _as_caller(request, body, "ingest_usage_events",
                      params=UsageEventsRequest, result=UsageEventsResponse, status=202)


def _access_check(request: flask.Request, body: bytes) -> Reply:
    """Tell whether the caller may use the prompt library (the database audits the check)."""
    return _as_caller(request, body, "check_prompt_access",
                      params=None, result=AccessCheckResponse, status=200)


def _record_failed_sync(delivery_id: str, payload: CohortSyncRequest, error: FunctionError, reason: str) -> None:
    """Best effort: leave a ``failed`` sync run, with why, for a delivery the database did not apply."""
    try:
        _db.call(_db.service_client(cohort_sync_settings()), "record_failed_cohort_sync", {
            "delivery_id": delivery_id,
            "cohort_id": payload.cohort_id,
            "mode": payload.mode,
            "error": f"{error.code}: {error.message}",
            "reason": reason,
        })
    except Exception:  # noqa: BLE001 - recording is best effort; the caller gets the first error
        log.exception("cohort-sync %s: could not record the failed run", delivery_id)


def _cohort_sync(request: flask.Request, body: bytes) -> Reply:
    """Apply one signed cohort webhook delivery, once per webhook-id."""
    config = cohort_sync_settings()
    delivery = _webhooks.verify(body, request.headers, config.webhook_secret)
    payload = validate(CohortSyncRequest, parse_json(body))
    params = {"delivery_id": delivery.id, "payload": payload.rpc_payload()}
    try:
        result = _db.call(_db.service_client(config), "sync_cohort_members", params)
    except FunctionError as exc:
        reason = _db.sync_failure_reason(exc)
        if reason is not None:
            _record_failed_sync(delivery.id, payload, exc, reason)
        raise
    return _reply(CohortSyncResponse, result, 200)


@functions_framework.http
def publish_prompt(request: flask.Request) -> flask.Response:
    """POST /functions/v1/publish-prompt."""
    return serve(request, PUBLISH_PROMPT, _publish_prompt)


@functions_framework.http
def usage_events(request: flask.Request) -> flask.Response:
    """POST /functions/v1/usage-events."""
    return serve(request, USAGE_EVENTS, _usage_events)


@functions_framework.http
def access_check(request: flask.Request) -> flask.Response:
    """GET /functions/v1/access-check."""
    return serve(request, ACCESS_CHECK, _access_check)


@functions_framework.http
def cohort_sync(request: flask.Request) -> flask.Response:
    """POST /functions/v1/cohort-sync (Standard Webhooks signed, no JWT)."""
    return serve(request, COHORT_SYNC, _cohort_sync)
