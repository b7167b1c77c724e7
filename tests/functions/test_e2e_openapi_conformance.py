"""End to end: schemathesis generates requests from functions/openapi.yaml and checks that the
running functions answer only documented statuses, content types, headers and bodies, and never
5xx. It writes nothing other tests could see: the caller is a user of its own with no membership
(publish-prompt answers 403/422, usage events are dropped), its audit rows are removed, and every
delivery goes to a cohort of its own (the generated cohort_id is prefixed), removed afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devstack import settings as devstack_settings
from tests.functions.helpers import ROOT, signed_headers

schema = schemathesis.openapi.from_path(str(ROOT / "functions" / "openapi.yaml"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


COHORT_PREFIX = "e2e-conformance-"
CALLER = "conformance-caller@example.com"


@pytest.fixture(scope="module")
def caller_token(user_token, db_url) -> Iterator[str]:
    """A signed-in user without membership; the audit rows of its access checks are removed."""
    token = user_token(CALLER)
    yield token
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("delete from public.prompt_access_audit where email = %s", (CALLER,))


@pytest.fixture(scope="module")
def own_cohorts(db_url) -> Iterator[None]:
    """Remove the members and runs of the cohorts the generated deliveries created."""
    yield
    with psycopg.connect(db_url, autocommit=True) as conn:
        for table in ("course_cohort_members", "course_cohort_sync_runs"):
            conn.execute(f"delete from public.{table} where cohort_id like %s", (COHORT_PREFIX + "%",))


def _own_cohort(body):
    """The generated body with its cohort_id moved into this test's namespace."""
    if isinstance(body, dict) and isinstance(body.get("cohort_id"), str):
        return {**body, "cohort_id": (COHORT_PREFIX + body["cohort_id"].strip())[:200]}
    return body


@schema.parametrize()
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_functions_conform_to_their_openapi_document(case, api_url, caller_token, own_cohorts):
    headers: dict[str, str] = {}
    data = b""
    webhook = case.path.endswith("/cohort-sync")
    if case.body is not NOT_SET:
        body = _own_cohort(case.body) if webhook else case.body
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = case.media_type or "application/json"
    if webhook:
        headers.update(signed_headers(data, secret=devstack_settings.webhook_secret()))
    elif case.method.upper() != "OPTIONS":
        headers["Authorization"] = f"Bearer {caller_token}"
    response = httpx.request(case.method, api_url + case.formatted_path, content=data or None,
                             headers=headers, timeout=60)
    case.validate_response(response, checks=CHECKS)
