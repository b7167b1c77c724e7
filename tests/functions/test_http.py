"""The functions over HTTP (functions-framework's Flask app, real supabase client, fake API).

Each contract status is produced here with the database answer chosen by the test; the same
statuses against the real database are in the end-to-end tests.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from functions import models
from tests.functions.helpers import TARGETS, bearer, make_token, signed_headers

PROMPT = str(uuid.uuid4())
VERSION = str(uuid.uuid4())
PUBLISHED = {"prompt_id": PROMPT, "current_version_id": VERSION, "version_number": 3,
             "status": "published", "published_at": "2026-11-23T13:00:00+00:00",
             "archived_at": None, "is_deleted": False}
SUMMARY = {"run_id": str(uuid.uuid4()), "status": "success", "total_rows": 1, "inserted_count": 1,
           "updated_count": 0, "unchanged_count": 0, "deactivated_count": 0, "error_rows": [],
           "replayed": False}
SYNC_BODY = {"cohort_id": "cohort-1", "mode": "delta", "members": [{"email": "a@example.com"}]}
METHODS = {"publish_prompt": "POST", "usage_events": "POST", "access_check": "GET", "cohort_sync": "POST"}
LIMITS = {"publish_prompt": models.MAX_PUBLISH_BODY_BYTES, "usage_events": models.MAX_USAGE_BODY_BYTES,
          "cohort_sync": models.MAX_COHORT_SYNC_BODY_BYTES}


def _json(body: object) -> bytes:
    return json.dumps(body).encode()


def _post(client, body: object, token: str | None = None, **headers: str):
    data = body if isinstance(body, bytes) else _json(body)
    headers = {"Content-Type": "application/json", **headers}
    if token:
        headers.update(bearer(token))
    return client.post("/", data=data, headers=headers)


def _sync(client, body: object, **kw):
    data = body if isinstance(body, bytes) else _json(body)
    return client.post("/", data=data, headers=signed_headers(data, **kw))


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# ----- success paths -----------------------------------------------------------------------

def test_publish_new_content_calls_the_rpc_as_the_caller_and_returns_the_contract_shape(
        client_for, fake_api, unit_token):
    fake_api.answer("publish_prompt_version", 200, PUBLISHED)
    response = _post(client_for("publish_prompt"), {"prompt_id": PROMPT, "markdown_body": "# v3",
                                                    "changelog": "tighter"}, unit_token)
    assert response.status_code == 200
    assert response.get_json() == {k: PUBLISHED[k] for k in (
        "prompt_id", "current_version_id", "version_number", "status", "published_at")}
    (call,) = fake_api.calls_to("publish_prompt_version")
    assert call.method == "POST"
    assert call.headers["Authorization"] == f"Bearer {unit_token}"
    assert call.headers["apikey"] == "anon-key"
    assert json.loads(call.content) == {"prompt_id": PROMPT, "markdown_body": "# v3", "changelog": "tighter"}


def test_publish_existing_version_sends_only_the_ids(client_for, fake_api, unit_token):
    fake_api.answer("publish_prompt_version", 200, PUBLISHED)
    response = _post(client_for("publish_prompt"), {"prompt_id": PROMPT, "version_id": VERSION}, unit_token)
    assert response.status_code == 200
    (call,) = fake_api.calls_to("publish_prompt_version")
    assert json.loads(call.content) == {"prompt_id": PROMPT, "version_id": VERSION}


@pytest.mark.parametrize("header, key", [("key-1", "key-1"), ('"key-1"', "key-1"), (" k ", "k"), ("", "")])
def test_publish_with_an_idempotency_key_calls_the_idempotent_rpc_with_the_key(
        client_for, fake_api, unit_token, header, key):
    fake_api.answer("publish_prompt_version_idempotent", 200, {**PUBLISHED, "replayed": False})
    response = _post(client_for("publish_prompt"), {"prompt_id": PROMPT, "version_id": VERSION}, unit_token,
                     **{"Idempotency-Key": header})
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response.headers
    assert fake_api.calls_to("publish_prompt_version") == []
    (call,) = fake_api.calls_to("publish_prompt_version_idempotent")
    assert json.loads(call.content) == {"prompt_id": PROMPT, "version_id": VERSION, "idempotency_key": key}


def test_a_replayed_publish_returns_the_first_result_and_says_so_in_a_header(client_for, fake_api, unit_token):
    fake_api.answer("publish_prompt_version_idempotent", 200, {**PUBLISHED, "replayed": True})
    response = _post(client_for("publish_prompt"), {"prompt_id": PROMPT, "version_id": VERSION}, unit_token,
                     **{"Idempotency-Key": "key-1"})
    assert response.status_code == 200
    assert response.get_json() == {k: PUBLISHED[k] for k in models.PublishPromptResponse.model_fields}
    assert response.headers["Idempotent-Replayed"] == "true"
    assert response.headers["Access-Control-Expose-Headers"] == "Idempotent-Replayed"


def test_an_idempotency_key_reused_for_another_request_is_422(client_for, fake_api, unit_token):
    fake_api.error("publish_prompt_version_idempotent", 422, "PT422",
                   "this Idempotency-Key was already used for a different request; use a new key")
    response = _post(client_for("publish_prompt"), {"prompt_id": PROMPT, "version_id": VERSION}, unit_token,
                     **{"Idempotency-Key": "key-1"})
    assert _error(response, 422, "idempotency_key_reused")["message"].startswith("this Idempotency-Key")


def test_usage_events_are_forwarded_and_answered_202(client_for, fake_api, unit_token):
    fake_api.answer("ingest_usage_events", 200, {"accepted": 1, "anonymized": 0, "dropped": 1})
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    events = [{"prompt_id": PROMPT, "action": "copy", "occurred_at": at,
               "metadata": {"client": "web", "ref": None}},
              {"prompt_id": str(uuid.uuid4()), "action": "view"}]
    response = _post(client_for("usage_events"), {"events": events}, unit_token)
    assert response.status_code == 202
    assert response.get_json() == {"accepted": 1, "anonymized": 0, "dropped": 1}
    sent = json.loads(fake_api.calls_to("ingest_usage_events")[0].content)["events"]
    assert sent[0]["metadata"] == {"client": "web", "ref": None}
    assert datetime.fromisoformat(sent[0]["occurred_at"]) == datetime.fromisoformat(at)
    assert sent[1] == {"prompt_id": events[1]["prompt_id"], "action": "view"}


def test_access_check_is_a_get_answered_200(client_for, fake_api, unit_token):
    fake_api.answer("check_prompt_access", 200,
                    {"has_access": True, "reason": "active_cohort_member", "cohort_ids": ["c1"]})
    response = client_for("access_check").get("/", headers=bearer(unit_token))
    assert response.status_code == 200
    assert response.get_json() == {"has_access": True, "reason": "active_cohort_member", "cohort_ids": ["c1"]}
    assert response.headers["Content-Length"] == str(len(response.get_data()))


def test_feature_disabled_access_check_is_a_200_answer(client_for, fake_api, unit_token):
    fake_api.answer("check_prompt_access", 200,
                    {"has_access": False, "reason": "feature_disabled", "cohort_ids": []})
    response = client_for("access_check").get("/", headers=bearer(unit_token))
    assert response.status_code == 200
    assert response.get_json()["reason"] == "feature_disabled"


def test_cohort_sync_uses_the_service_key_and_the_webhook_id(client_for, fake_api):
    fake_api.answer("sync_cohort_members", 200, SUMMARY)
    response = _sync(client_for("cohort_sync"), SYNC_BODY, webhook_id="msg_42")
    assert response.status_code == 200
    expected = {k: v for k, v in SUMMARY.items() if k != "replayed"}
    assert response.get_json() == expected
    assert "Idempotent-Replayed" not in response.headers
    (call,) = fake_api.calls_to("sync_cohort_members")
    assert call.headers["Authorization"] == "Bearer service-role-key"
    assert json.loads(call.content) == {
        "delivery_id": "msg_42",
        "payload": {**SYNC_BODY, "allow_mass_deactivation": False},
    }


def test_replayed_cohort_sync_returns_the_first_summary_and_says_so_in_a_header(client_for, fake_api):
    fake_api.answer("sync_cohort_members", 200, {**SUMMARY, "replayed": True})
    response = _sync(client_for("cohort_sync"), SYNC_BODY)
    assert response.status_code == 200
    assert response.get_json() == {k: v for k, v in SUMMARY.items() if k != "replayed"}
    assert response.headers["Idempotent-Replayed"] == "true"


def test_cohort_members_are_passed_as_sent_so_the_database_reports_bad_rows(client_for, fake_api):
    fake_api.answer("sync_cohort_members", 200, SUMMARY)
    members = [{"email": "ok@example.com", "circle_member_id": 12345, "extra": "kept"},
               {"email": "not-an-email"}, "not-an-object", {"email": 42, "status": "weird"}]
    response = _sync(client_for("cohort_sync"), {**SYNC_BODY, "members": members})
    assert response.status_code == 200
    sent = json.loads(fake_api.calls_to("sync_cohort_members")[0].content)["payload"]["members"]
    assert sent == members


# ----- 405 / CORS -------------------------------------------------------------------------------

@pytest.mark.parametrize("target, method", [
    (target, method) for target in TARGETS
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD") if method != METHODS[target]
])
def test_wrong_method_is_405_with_allow(client_for, target, method):
    response = client_for(target).open("/", method=method)
    assert response.status_code == 405
    allowed = [METHODS[target]] + ([] if target == "cohort_sync" else ["OPTIONS"])
    assert response.headers["Allow"] == ", ".join(allowed)
    if method != "HEAD":
        _error(response, 405, "method_not_allowed")


@pytest.mark.parametrize("target", ["publish_prompt", "usage_events", "access_check"])
def test_browser_preflight_is_answered_for_user_functions(client_for, target):
    response = client_for(target).options("/", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": METHODS[target]})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert METHODS[target] in response.headers["Access-Control-Allow-Methods"]
    assert "authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "idempotency-key" in response.headers["Access-Control-Allow-Headers"]


def test_webhook_has_no_cors_and_refuses_options(client_for):
    response = client_for("cohort_sync").options("/")
    _error(response, 405, "method_not_allowed")
    assert "Access-Control-Allow-Origin" not in response.headers


# ----- 413 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("target", LIMITS)
def test_body_over_the_limit_is_413_from_content_length(client_for, target, unit_token):
    data = b" " * (LIMITS[target] + 1)
    response = client_for(target).post("/", data=data, headers={
        "Content-Type": "application/json", **bearer(unit_token)})
    _error(response, 413, "payload_too_large")


def test_chunked_body_over_the_limit_is_413_from_the_bytes_read(client_for, unit_token):
    data = b"[" + b"1," * models.MAX_PUBLISH_BODY_BYTES + b"1]"
    response = client_for("publish_prompt").post(
        "/", input_stream=io.BytesIO(data), headers={"Content-Type": "application/json", **bearer(unit_token)},
        environ_overrides={"wsgi.input_terminated": True})
    _error(response, 413, "payload_too_large")


def test_body_at_the_limit_is_accepted(client_for, fake_api, unit_token):
    fake_api.answer("publish_prompt_version", 200, PUBLISHED)
    body = _json({"prompt_id": PROMPT, "markdown_body": "x"})
    data = body + b" " * (models.MAX_PUBLISH_BODY_BYTES - len(body))
    assert len(data) == models.MAX_PUBLISH_BODY_BYTES
    response = _post(client_for("publish_prompt"), data, unit_token)
    assert response.status_code == 200
    assert len(fake_api.calls_to("publish_prompt_version")) == 1


# ----- 400 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_non_json_content_type_is_400(client_for, unit_token, content_type):
    headers = bearer(unit_token) | ({"Content-Type": content_type} if content_type else {})
    response = client_for("usage_events").post("/", data=b'{"events": []}', headers=headers)
    _error(response, 400, "unsupported_content_type")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/vnd.api+json"])
def test_json_content_types_with_parameters_are_accepted(client_for, fake_api, unit_token, content_type):
    fake_api.answer("ingest_usage_events", 200, {"accepted": 1, "anonymized": 0, "dropped": 0})
    body = {"events": [{"prompt_id": PROMPT, "action": "view"}]}
    response = _post(client_for("usage_events"), body, unit_token, **{"Content-Type": content_type})
    assert response.status_code == 202


@pytest.mark.parametrize("data", [b"", b"{", b"not json", b'{"a": NaN}', b'{"a": Infinity}',
                                  b"\xff\xfe{}", b'{"a": 1} trailing', b"[" * 100_000])
def test_unparseable_body_is_400(client_for, unit_token, data):
    _error(_post(client_for("publish_prompt"), data, unit_token), 400, "invalid_json")


def test_utf8_bom_is_tolerated(client_for, fake_api, unit_token):
    fake_api.answer("publish_prompt_version", 200, PUBLISHED)
    data = "\ufeff".encode() + _json({"prompt_id": PROMPT, "version_id": VERSION})
    assert _post(client_for("publish_prompt"), data, unit_token).status_code == 200


# ----- 401 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["publish_prompt", "usage_events", "access_check"])
def test_missing_token_is_401_with_www_authenticate(client_for, fake_api, target):
    response = client_for(target).open("/", method=METHODS[target], data=b"{}",
                                       headers={"Content-Type": "application/json"})
    _error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert fake_api.calls == []


@pytest.mark.parametrize("target", ["publish_prompt", "usage_events", "access_check"])
def test_expired_token_is_401_invalid_token(client_for, fake_api, target):
    token = make_token(exp=1_000_000, iat=999_000)
    response = client_for(target).open("/", method=METHODS[target], data=b"{}",
                                       headers={"Content-Type": "application/json", **bearer(token)})
    assert _error(response, 401, "invalid_token")["message"] == "the access token has expired"
    assert fake_api.calls == []


def test_anon_key_is_not_accepted_as_a_user(client_for, fake_api):
    response = client_for("access_check").get("/", headers=bearer(make_token(role="anon", sub=None)))
    _error(response, 401, "invalid_token")


def test_authentication_comes_before_body_validation(client_for, fake_api):
    """An unauthenticated caller learns nothing about the body schema."""
    response = _post(client_for("publish_prompt"), b"{not json")
    _error(response, 401, "unauthorized")


def test_unsigned_webhook_is_401(client_for, fake_api):
    response = client_for("cohort_sync").post("/", data=_json(SYNC_BODY),
                                              headers={"Content-Type": "application/json"})
    _error(response, 401, "invalid_signature")
    assert fake_api.calls == []


def test_stale_webhook_is_401(client_for, fake_api):
    response = _sync(client_for("cohort_sync"), SYNC_BODY, timestamp=datetime.now(UTC) - timedelta(minutes=6))
    assert "too old" in _error(response, 401, "invalid_signature")["message"]


def test_unsigned_invalid_webhook_body_is_401_not_422(client_for, fake_api):
    response = client_for("cohort_sync").post("/", data=b'{"mode": "everything"}',
                                              headers={"Content-Type": "application/json"})
    _error(response, 401, "invalid_signature")


# ----- 422 -----------------------------------------------------------------------------------

def _fields(response) -> set[str]:
    error = _error(response, 422, "validation_error")
    return {d["field"] for d in error["details"]}


@pytest.mark.parametrize("body, field", [
    ({"version_id": VERSION}, "prompt_id"),
    ({"prompt_id": "nope", "version_id": VERSION}, "prompt_id"),
    ({"prompt_id": PROMPT}, "body"),
    ({"prompt_id": PROMPT, "version_id": VERSION, "markdown_body": "# x"}, "body"),
    ({"prompt_id": PROMPT, "version_id": VERSION, "changelog": "c"}, "body"),
    ({"prompt_id": PROMPT, "markdown_body": "   "}, "markdown_body"),
    ({"prompt_id": PROMPT, "markdown_body": "x" * (models.MAX_MARKDOWN_CHARS + 1)}, "markdown_body"),
    ({"prompt_id": PROMPT, "markdown_body": "# x", "changelog": "c" * (models.MAX_CHANGELOG_CHARS + 1)},
     "changelog"),
    ({"prompt_id": PROMPT, "markdown_body": "a\u0000b"}, "markdown_body"),
    ({"prompt_id": PROMPT, "markdown_body": "# x", "changelog": 5}, "changelog"),
    ({"prompt_id": PROMPT, "version_id": VERSION, "publish": True}, "publish"),
    ([{"prompt_id": PROMPT}], "body"),
    ("a string", "body"),
])
def test_publish_schema_violations_are_422_naming_the_field(client_for, fake_api, unit_token, body, field):
    assert field in _fields(_post(client_for("publish_prompt"), body, unit_token))
    assert fake_api.calls == []


def test_lone_surrogate_is_422_not_a_crash(client_for, fake_api, unit_token):
    data = b'{"prompt_id": "%s", "markdown_body": "\\ud800"}' % PROMPT.encode()
    assert "markdown_body" in _fields(_post(client_for("publish_prompt"), data, unit_token))


def _event(**kw) -> dict:
    return {"prompt_id": PROMPT, "action": "view", **kw}


NOW = datetime.now(UTC)


@pytest.mark.parametrize("body, field", [
    ({"events": []}, "events"),
    ({"events": [_event()] * (models.MAX_EVENTS + 1)}, "events"),
    ({}, "events"),
    ({"events": [_event()], "user_id": PROMPT}, "user_id"),
    ({"events": [_event(action="delete")]}, "events.0.action"),
    ({"events": [_event(), _event(prompt_id="x")]}, "events.1.prompt_id"),
    ({"events": [_event(user_id=PROMPT)]}, "events.0.user_id"),
    ({"events": [_event(metadata=[1, 2])]}, "events.0.metadata"),
    ({"events": [_event(metadata={"k": "v" * models.MAX_METADATA_BYTES})]}, "events.0.metadata"),
    ({"events": [_event(metadata={"k": "\u0000"})]}, "events.0.metadata"),
    ({"events": [_event(metadata=json.loads("[" * 40 + "]" * 40) and {"deep": json.loads("[" * 40 + "]" * 40)})]},
     "events.0.metadata"),
    ({"events": [_event(occurred_at=(NOW + timedelta(minutes=10)).isoformat())]}, "events.0.occurred_at"),
    ({"events": [_event(occurred_at=(NOW - timedelta(days=31)).isoformat())]}, "events.0.occurred_at"),
    ({"events": [_event(occurred_at="2026-11-23T10:00:00")]}, "events.0.occurred_at"),
    ({"events": [_event(occurred_at=1_700_000_000)]}, "events.0.occurred_at"),
    ({"events": [_event(occurred_at="yesterday")]}, "events.0.occurred_at"),
    ({"events": "view"}, "events"),
])
def test_usage_schema_violations_are_422_naming_the_field(client_for, fake_api, unit_token, body, field):
    assert field in _fields(_post(client_for("usage_events"), body, unit_token))
    assert fake_api.calls == []


@pytest.mark.parametrize("number", [b"1e400", b"-1e400", b"1E+309"])
def test_non_finite_metadata_numbers_are_422_not_stored_as_null(client_for, fake_api, unit_token, number):
    data = b'{"events": [{"prompt_id": "%s", "action": "view", "metadata": {"n": %s}}]}' % (PROMPT.encode(), number)
    assert "events.0.metadata" in _fields(_post(client_for("usage_events"), data, unit_token))
    assert fake_api.calls == []


def test_a_non_finite_number_in_a_cohort_member_is_422(client_for, fake_api):
    data = b'{"cohort_id": "c", "mode": "delta", "members": [{"email": "a@example.com", "circle_member_id": 1e400}]}'
    assert "members.0" in _fields(_sync(client_for("cohort_sync"), data))
    assert fake_api.calls == []


def test_large_finite_metadata_numbers_are_forwarded_unchanged(client_for, fake_api, unit_token):
    fake_api.answer("ingest_usage_events", 200, {"accepted": 1, "anonymized": 0, "dropped": 0})
    data = b'{"events": [{"prompt_id": "%s", "action": "view", "metadata": {"f": 1e308, "i": 123456789012345678901234567890}}]}' % PROMPT.encode()
    assert _post(client_for("usage_events"), data, unit_token).status_code == 202
    sent = json.loads(fake_api.calls_to("ingest_usage_events")[0].content)["events"][0]["metadata"]
    assert sent == {"f": 1e308, "i": 123456789012345678901234567890}


def test_occurred_at_with_an_offset_postgres_refuses_is_sent_as_the_same_instant_in_utc(
        client_for, fake_api, unit_token):
    fake_api.answer("ingest_usage_events", 200, {"accepted": 1, "anonymized": 0, "dropped": 0})
    at = (NOW - timedelta(minutes=1)).astimezone(timezone(timedelta(hours=20)))
    response = _post(client_for("usage_events"), {"events": [_event(occurred_at=at.isoformat())]}, unit_token)
    assert response.status_code == 202
    sent = json.loads(fake_api.calls_to("ingest_usage_events")[0].content)["events"][0]["occurred_at"]
    assert datetime.fromisoformat(sent) == at
    assert datetime.fromisoformat(sent).utcoffset() == timedelta(0)


def test_metadata_just_under_4kb_is_accepted(client_for, fake_api, unit_token):
    fake_api.answer("ingest_usage_events", 200, {"accepted": 1, "anonymized": 0, "dropped": 0})
    metadata = {"k": "v" * (models.MAX_METADATA_BYTES - len('{"k": ""}'))}
    response = _post(client_for("usage_events"), {"events": [_event(metadata=metadata)]}, unit_token)
    assert response.status_code == 202


def test_many_invalid_events_list_each_field_up_to_a_cap(client_for, fake_api, unit_token):
    body = {"events": [_event(action="nope")] * models.MAX_EVENTS}
    error = _error(_post(client_for("usage_events"), body, unit_token), 422, "validation_error")
    assert len(error["details"]) == 50
    assert "(and 499 more)" in error["message"]


@pytest.mark.parametrize("body, field", [
    ({**SYNC_BODY, "mode": "full"}, "mode"),
    ({**SYNC_BODY, "cohort_id": ""}, "cohort_id"),
    ({**SYNC_BODY, "cohort_id": "   "}, "cohort_id"),
    ({**SYNC_BODY, "cohort_id": "c" * 201}, "cohort_id"),
    ({**SYNC_BODY, "members": {"email": "a@example.com"}}, "members"),
    ({**SYNC_BODY, "allow_mass_deactivation": "yes"}, "allow_mass_deactivation"),
    ({**SYNC_BODY, "members": [{"email": "a\u0000@example.com"}]}, "members.0"),
    ({"cohort_id": "c", "mode": "delta"}, "members"),
    ({**SYNC_BODY, "dry_run": True}, "dry_run"),
])
def test_cohort_sync_schema_violations_are_422_after_the_signature(client_for, fake_api, body, field):
    assert field in _fields(_sync(client_for("cohort_sync"), body))
    assert fake_api.calls == []


# ----- database answers mapped to the contract ----------------------------------------------------

@pytest.mark.parametrize("status, code, expected_status, expected_code", [
    (403, "PT403", 403, "forbidden"),
    (404, "PT404", 404, "not_found"),
    (409, "PT409", 409, "conflict"),
    (503, "PT503", 503, "feature_disabled"),
    (400, "22023", 422, "validation_error"),
    (400, "22P02", 422, "validation_error"),
    (400, "23514", 422, "validation_error"),
    (400, "23502", 422, "validation_error"),
    # every data exception (class 22) is the caller's value: 422, never 502
    (400, "22001", 422, "validation_error"),  # string too long
    (400, "22003", 422, "validation_error"),  # numeric value out of range
    (400, "22007", 422, "validation_error"),  # invalid datetime format
    (400, "22008", 422, "validation_error"),  # datetime field overflow
    (400, "22009", 422, "validation_error"),  # time zone displacement out of range (+20:00)
    (400, "22021", 422, "validation_error"),  # character not in repertoire
    (400, "22P05", 422, "validation_error"),  # untranslatable character
    (400, "22030", 422, "validation_error"),  # duplicate JSON object key
    (400, "22032", 422, "validation_error"),  # invalid JSON text
    (400, "2203E", 422, "validation_error"),  # too many JSON object members
    # program limits (class 54): a value too large or deep for Postgres
    (500, "54000", 422, "validation_error"),  # e.g. jsonb or index row size
    (500, "54001", 422, "validation_error"),  # stack depth limit exceeded
    # integrity (class 23): the request conflicts with stored rows
    (409, "23503", 409, "conflict"),  # a deleted user's still-valid token, a prompt deleted meanwhile
    (409, "23505", 409, "conflict"),
    (409, "23P01", 409, "conflict"),
    (409, "23001", 409, "conflict"),
    # rolled back, nothing done: retry
    (500, "40001", 503, "service_unavailable"),
    (500, "40P01", 503, "service_unavailable"),
    (403, "42501", 403, "forbidden"),
    (401, "PGRST301", 401, "invalid_token"),
    (500, "57014", 503, "service_unavailable"),
    (503, "08006", 503, "service_unavailable"),
    (503, "PGRST001", 503, "service_unavailable"),
    (404, "PGRST202", 502, "upstream_error"),
    (404, "42883", 502, "upstream_error"),
    (500, "XX000", 502, "upstream_error"),
    (400, "P0001", 502, "upstream_error"),  # a bare raise: the RPCs always name their SQLSTATE
    (400, "PGRST102", 502, "upstream_error"),  # the function sent a body PostgREST refused: a bug
])
def test_database_errors_map_to_contract_statuses(client_for, fake_api, unit_token,
                                                  status, code, expected_status, expected_code):
    secret_sql = 'relation "private.secret" does not exist; select * from auth.users'
    fake_api.error("publish_prompt_version", status, code, secret_sql)
    response = _post(client_for("publish_prompt"), {"prompt_id": PROMPT, "version_id": VERSION}, unit_token)
    error = _error(response, expected_status, expected_code)
    if not code.startswith("PT") and code != "22023":  # those are the RPCs' own messages
        assert "private.secret" not in error["message"] and "select" not in error["message"]


def test_custom_database_messages_are_passed_through(client_for, fake_api, unit_token):
    fake_api.error("publish_prompt_version", 409, "PT409", "prompt x is deleted; restore it before publishing")
    response = _post(client_for("publish_prompt"), {"prompt_id": PROMPT, "version_id": VERSION}, unit_token)
    assert _error(response, 409, "conflict")["message"] == "prompt x is deleted; restore it before publishing"


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
                                 httpx.RemoteProtocolError("eof")])
def test_unreachable_api_is_503(client_for, fake_api, unit_token, exc):
    fake_api.fail("check_prompt_access", exc)
    _error(client_for("access_check").get("/", headers=bearer(unit_token)), 503, "service_unavailable")


@pytest.mark.parametrize("status, expected_status, expected_code", [
    (502, 503, "service_unavailable"),  # the gateway could not reach PostgREST: an outage, retry
    (503, 503, "service_unavailable"),
    (504, 503, "service_unavailable"),
    (500, 502, "upstream_error"),  # an unexplained server error: unexpected, logged
    (404, 502, "upstream_error"),  # a route the API does not know: a deployment bug
])
def test_non_json_api_errors_are_mapped_without_leaking(client_for, fake_api, unit_token,
                                                        status, expected_status, expected_code):
    fake_api.answer("check_prompt_access", status, raw=b"<html>%d</html>" % status)
    response = client_for("access_check").get("/", headers=bearer(unit_token))
    error = _error(response, expected_status, expected_code)
    assert "html" not in error["message"] and "html" not in response.get_data(as_text=True)


@pytest.mark.parametrize("result", [None, [], {"has_access": "maybe"}, {"reason": "admin"}, "text"])
def test_unexpected_rpc_result_is_502(client_for, fake_api, unit_token, result):
    fake_api.answer("check_prompt_access", 200, result)
    _error(client_for("access_check").get("/", headers=bearer(unit_token)), 502, "upstream_error")


def test_mass_deactivation_refusal_is_409(client_for, fake_api):
    fake_api.error("sync_cohort_members", 409, "PT409", "snapshot would deactivate 3 of 4 active members")
    response = _sync(client_for("cohort_sync"), {**SYNC_BODY, "mode": "snapshot"})
    assert "deactivate" in _error(response, 409, "conflict")["message"]
    assert fake_api.calls_to("record_failed_cohort_sync") == []


def test_database_timeout_during_sync_records_a_failed_run(client_for, fake_api):
    fake_api.error("sync_cohort_members", 500, "57014", "canceling statement due to statement timeout")
    fake_api.answer("record_failed_cohort_sync", 200, {"run_id": str(uuid.uuid4()), "status": "failed"})
    response = _sync(client_for("cohort_sync"), SYNC_BODY, webhook_id="msg_timeout")
    _error(response, 503, "service_unavailable")
    (call,) = fake_api.calls_to("record_failed_cohort_sync")
    sent = json.loads(call.content)
    assert sent["delivery_id"] == "msg_timeout"
    assert sent["cohort_id"] == "cohort-1" and sent["mode"] == "delta"
    assert sent["error"].startswith("service_unavailable")
    assert sent["reason"] == "timeout"
    assert call.headers["Authorization"] == "Bearer service-role-key"


@pytest.mark.parametrize(("status", "code", "reason"), [
    (503, "08006", "connection_lost"), (503, "PGRST001", "connection_lost"), (400, "22023", "bad_input"),
    (400, "23514", "bad_input"), (500, "XX000", "server_error")])
def test_a_failed_run_records_why_the_database_did_not_apply_the_delivery(client_for, fake_api, status, code, reason):
    fake_api.error("sync_cohort_members", status, code, "refused")
    fake_api.answer("record_failed_cohort_sync", 200, {"run_id": str(uuid.uuid4()), "status": "failed"})
    _sync(client_for("cohort_sync"), SYNC_BODY)
    (call,) = fake_api.calls_to("record_failed_cohort_sync")
    assert json.loads(call.content)["reason"] == reason


def test_failure_to_record_a_failed_run_keeps_the_first_error(client_for, fake_api, caplog):
    fake_api.error("sync_cohort_members", 500, "XX000", "internal")
    fake_api.fail("record_failed_cohort_sync", httpx.ConnectError("down"))
    response = _sync(client_for("cohort_sync"), SYNC_BODY)
    _error(response, 502, "upstream_error")
    assert "could not record the failed run" in caplog.text


# A refusal of the input itself (22023) is recorded as a failed run with reason bad_input (issue 17
# item 6); a conflict is the sender's to resend, and after a read timeout the outcome is unknown.
@pytest.mark.parametrize("failure, status, code", [("PT409", 409, "conflict"),
                                                   ("timeout", 503, "service_unavailable")])
def test_conflicts_and_unknown_outcomes_record_no_failed_run(client_for, fake_api, failure, status, code):
    if failure == "timeout":
        fake_api.fail("sync_cohort_members", httpx.ReadTimeout("slow"))
    else:
        fake_api.error("sync_cohort_members", 409, failure)
    _error(_sync(client_for("cohort_sync"), SYNC_BODY), status, code)
    assert fake_api.calls_to("record_failed_cohort_sync") == []


# ----- 500 is for bugs only ----------------------------------------------------------------------

def test_a_bug_is_a_bare_500_with_no_details(client_for, fake_api, unit_token, monkeypatch, caplog):
    import functions.main  # noqa: F401  (the module functions-framework loads is separate)

    from functions import _db

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(_db, "call", broken)
    response = client_for("access_check").get("/", headers=bearer(unit_token))
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error", "message": "internal error"}}
    assert "secret internals" in caplog.text


def test_longest_markdown_fits_the_body_limit_even_fully_escaped(client_for, fake_api, unit_token):
    fake_api.answer("publish_prompt_version", 200, PUBLISHED)
    body = {"prompt_id": PROMPT, "markdown_body": "\U0001F600" * models.MAX_MARKDOWN_CHARS,
            "changelog": "\U0001F600" * models.MAX_CHANGELOG_CHARS}
    data = json.dumps(body, ensure_ascii=True).encode()
    assert len(data) > 1024 * 1024
    assert _post(client_for("publish_prompt"), data, unit_token).status_code == 200


def test_largest_usage_batch_fits_the_body_limit_even_fully_escaped(client_for, fake_api, unit_token):
    fake_api.answer("ingest_usage_events", 200, {"accepted": 500, "anonymized": 0, "dropped": 0})
    # 4-byte characters count 4 bytes towards the metadata limit and take 12 bytes escaped.
    metadata = {"k": "\U0001F600" * ((models.MAX_METADATA_BYTES - len('{"k": ""}')) // 4)}
    body = {"events": [_event(metadata=metadata, occurred_at=NOW.isoformat())] * models.MAX_EVENTS}
    data = json.dumps(body, ensure_ascii=True).encode()
    assert _post(client_for("usage_events"), data, unit_token).status_code == 202


def test_concurrent_requests_each_reach_the_api_with_their_own_token(app_for, fake_api):
    """The per-request client never leaks one caller's token into another's RPC call."""
    import threading

    import jwt as pyjwt

    def echo_sub(request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        sub = pyjwt.decode(token, options={"verify_signature": False})["sub"]
        return httpx.Response(200, json={"has_access": True, "reason": "admin", "cohort_ids": [sub]})

    fake_api.answers["check_prompt_access"] = echo_sub
    app = app_for("access_check")
    mismatches: list[tuple[str, object]] = []

    def caller() -> None:
        client = app.test_client()
        for _ in range(25):
            sub = str(uuid.uuid4())
            got = client.get("/", headers=bearer(make_token(sub=sub))).get_json()
            if got.get("cohort_ids") != [sub]:
                mismatches.append((sub, got))

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []
    assert len(fake_api.calls) == 200
