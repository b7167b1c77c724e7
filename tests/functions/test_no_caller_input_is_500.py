"""Property: nothing a caller sends makes a function answer 500 (or 502), and every answer is JSON
in the contract's shape. Hypothesis drives random bodies, content types and tokens through the
functions-framework app; the fake API answers every RPC successfully, as a healthy database would.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.functions.helpers import TARGETS, bearer, make_token, signed_headers

HEALTHY = {
    "publish_prompt_version": {"prompt_id": str(uuid.uuid4()), "current_version_id": str(uuid.uuid4()),
                               "version_number": 1, "status": "published",
                               "published_at": "2026-11-23T13:00:00+00:00"},
    "ingest_usage_events": {"accepted": 1, "anonymized": 0, "dropped": 0},
    "check_prompt_access": {"has_access": True, "reason": "admin", "cohort_ids": []},
    "sync_cohort_members": {"run_id": str(uuid.uuid4()), "status": "partial", "total_rows": 1,
                            "inserted_count": 0, "updated_count": 0, "unchanged_count": 0,
                            "deactivated_count": 0, "error_rows": [{"index": 0, "error": "invalid email"}],
                            "replayed": False},
}
ALLOWED = {200, 202, 204, 400, 401, 405, 413, 422}
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

text = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(["\x00", "\ud800"]), max_size=40)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(text, inner, max_size=4), max_leaves=20)
uuids = st.uuids().map(str) | text
times = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1),
                     timezones=st.just(UTC) | st.none()).map(lambda d: d.isoformat()) \
    | st.just((datetime.now(UTC) - timedelta(minutes=1)).isoformat()) | json_values
events = st.fixed_dictionaries({"prompt_id": uuids, "action": st.sampled_from(
    ["view", "copy", "favorite", "unfavorite", "VIEW", ""]) | json_values},
    optional={"occurred_at": times, "metadata": json_values, "extra": json_values})
bodies = {
    "publish_prompt": st.fixed_dictionaries({}, optional={
        "prompt_id": uuids, "version_id": uuids | st.none(), "markdown_body": text | json_values,
        "changelog": text | json_values, "other": json_values}),
    "usage_events": st.fixed_dictionaries({"events": st.lists(events, max_size=5) | json_values},
                                          optional={"other": json_values}),
    "access_check": json_values,
    "cohort_sync": st.fixed_dictionaries({}, optional={
        "cohort_id": text | json_values, "mode": st.sampled_from(["snapshot", "delta"]) | json_values,
        "members": st.lists(json_values | st.fixed_dictionaries({"email": text | json_values}), max_size=5),
        "allow_mass_deactivation": json_values}),
}
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", None])


def _check(response) -> None:
    assert response.status_code in ALLOWED, (response.status_code, response.get_data(as_text=True))
    if response.status_code == 204:
        return
    body = json.loads(response.get_data())
    if response.status_code >= 400:
        assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])


def _send(client, target: str, data: bytes, content_type: str | None, authorized: bool):
    method = "GET" if target == "access_check" else "POST"
    headers = {} if content_type is None else {"Content-Type": content_type}
    if target == "cohort_sync":
        if authorized:
            headers = {**signed_headers(data), **headers}
    elif authorized:
        headers.update(bearer(make_token()))
    return client.open("/", method=method, data=data, headers=headers)


@pytest.fixture
def healthy_api(fake_api):
    for rpc, answer in HEALTHY.items():
        fake_api.answer(rpc, 200, answer)
    return fake_api


@pytest.mark.parametrize("target", TARGETS)
def test_random_json_bodies_never_yield_a_server_error(client_for, healthy_api, target):
    client = client_for(target)

    @FUZZ
    @given(body=bodies[target], content_type=content_types, authorized=st.booleans())
    def run(body, content_type, authorized):
        data = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
        _check(_send(client, target, data, content_type, authorized))

    run()


@pytest.mark.parametrize("target", TARGETS)
def test_random_bytes_never_yield_a_server_error(client_for, healthy_api, target):
    client = client_for(target)

    @FUZZ
    @given(data=st.binary(max_size=200), authorized=st.booleans())
    def run(data, authorized):
        _check(_send(client, target, data, "application/json", authorized))

    run()


@pytest.mark.parametrize("target", TARGETS)
def test_random_authorization_and_signature_headers_are_401_not_500(client_for, healthy_api, target):
    client = client_for(target)
    header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)

    @FUZZ
    @given(authorization=header_text, wid=header_text, ts=header_text, sig=header_text)
    def run(authorization, wid, ts, sig):
        headers = {"Content-Type": "application/json", "Authorization": authorization,
                   "webhook-id": wid, "webhook-timestamp": ts, "webhook-signature": sig}
        method = "GET" if target == "access_check" else "POST"
        response = client.open("/", method=method, data=b"{}", headers=headers)
        _check(response)
        assert response.status_code == 401

    run()
