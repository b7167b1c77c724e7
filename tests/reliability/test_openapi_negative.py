"""Schemathesis in *negative* mode against functions/openapi.yaml, with callers who may act: an
admin for publish-prompt, a member for usage-events, a correctly signed webhook for cohort-sync.

The positive run (tests/functions/test_e2e_openapi_conformance.py) checks that valid requests get
documented answers from an unprivileged caller; this one sends bodies that violate the document
and checks that each is rejected with a documented 4xx (never a 5xx) and that no table changed.
Only generated cases run (not the document's examples, which are valid and name seed data).

One deliberate exception: cohort-sync members are checked by the database row by row (a bad
row lands in ``error_rows``), so a delivery whose only violation is inside a member is accepted
(200); it goes to a cohort of this suite's own.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, reject, settings
from pydantic import ValidationError
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import negative_data_rejection, status_code_conformance

from devstack import settings as devstack_settings
from functions.models import CohortSyncRequest
from functions.sign_webhook import signature_headers
from tests.functions.helpers import ROOT
from tests.reliability.support import PREFIX, Cases, World, report

EXAMPLES = 40
schema = schemathesis.openapi.from_path(str(ROOT / "functions" / "openapi.yaml"))
schema.config.generation.update(modes=[GenerationMode.NEGATIVE])
CHECKS = [not_a_server_error, negative_data_rejection, status_code_conformance]
TALLIES: dict[str, Cases] = {}


@pytest.fixture(scope="module", autouse=True)
def tallies():
    yield
    for tally in TALLIES.values():
        tally.done()
    if not TALLIES:
        report("openapi negative: no case ran")


def _caller(world: World, path: str) -> str:
    return world.admin.token if path.endswith("/publish-prompt") else world.learner.token


@schema.include(method="POST").parametrize()
@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_bodies_that_violate_the_document_are_rejected_with_a_documented_4xx_and_change_nothing(
        case, api_url, world, fingerprint):
    if case.meta is None or not case.meta.is_negative_at(ParameterLocation.BODY):
        reject()  # only a negated header (replaced below by valid credentials): a valid request
    webhook = case.path.endswith("/cohort-sync")
    body = case.body
    if webhook and isinstance(body, dict) and isinstance(body.get("cohort_id"), str):
        body = {**body, "cohort_id": f"{PREFIX}negative-{world.tag}-{body['cohort_id']}"[:200]}
    data = b""
    headers: dict[str, str] = {}
    if body is not NOT_SET:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = case.media_type or "application/json"
    if webhook:
        headers.update(signature_headers(data, devstack_settings.webhook_secret(),
                                         f"msg_negative_{uuid.uuid4().hex}", datetime.now(UTC)))
    else:
        headers["Authorization"] = f"Bearer {_caller(world, case.path)}"
    member_rows_only = webhook and _valid_delivery(body)
    before = fingerprint.take()
    response = httpx.request(case.method, api_url + case.formatted_path, content=data or None,
                             headers=headers, timeout=60)
    TALLIES.setdefault(case.path, Cases(f"openapi negative: {case.method} {case.path}", EXAMPLES)).saw(
        response.status_code)
    if member_rows_only and response.status_code == 200:
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance])
        return
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300], data[:300],
                                               headers.get("Content-Type"))
    assert fingerprint.take() == before, response.text[:300]
    case.validate_response(response, checks=CHECKS)


def _valid_delivery(body) -> bool:
    """The delivery is valid apart from its member rows (which the database checks one by one)."""
    try:
        CohortSyncRequest.model_validate(body)
    except ValidationError:
        return False
    return True
