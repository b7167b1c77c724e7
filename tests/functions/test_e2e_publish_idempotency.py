"""End to end: publish-prompt's Idempotency-Key over HTTP against the running stack.

Semantics (IETF draft-ietf-httpapi-idempotency-key-header, as Stripe): a retry with the same key
and body gets the first result and creates nothing (header ``Idempotent-Replayed: true``); the same
key with another body is 422 ``idempotency_key_reused``; a retry while the first request is still
in flight is 409 (retry later). Keys are per caller, kept 24 hours, stored in the database.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

RESPONSE_FIELDS = ("prompt_id", "current_version_id", "version_number", "status", "published_at")


@pytest.fixture
def admin(user_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {user_token('admin@example.com')}"}


def _versions(committed, prompt_id) -> int:
    return committed.execute("select count(*) from public.prompt_versions where prompt_id = %s",
                             (prompt_id,)).fetchone()[0]


@pytest.fixture
def keys(committed):
    """A fresh key per call; every key made is removed afterwards."""
    made: list[str] = []

    def key() -> str:
        made.append(f"test-{uuid.uuid4()}")
        return made[-1]

    yield key
    committed.execute("delete from private.publish_idempotency_keys where idempotency_key = any(%s)", (made,))


def test_a_retry_with_the_same_key_returns_the_first_result_and_creates_nothing(
        http, admin, make_prompt, committed, keys):
    prompt = make_prompt()
    body = {"prompt_id": str(prompt["id"]), "markdown_body": "# v2", "changelog": "retried"}
    headers = {**admin, "Idempotency-Key": keys()}
    first = http.post("/publish-prompt", headers=headers, json=body)
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    assert first.json()["version_number"] == 2
    retry = http.post("/publish-prompt", headers=headers, json=body)
    assert retry.status_code == 200, retry.text
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert _versions(committed, prompt["id"]) == 2


def test_the_structured_field_string_form_is_the_same_key(http, admin, make_prompt, committed, keys):
    prompt = make_prompt()
    body = {"prompt_id": str(prompt["id"]), "markdown_body": "# v2"}
    key = keys()
    first = http.post("/publish-prompt", headers={**admin, "Idempotency-Key": key}, json=body)
    quoted = http.post("/publish-prompt", headers={**admin, "Idempotency-Key": f'"{key}"'}, json=body)
    assert (first.status_code, quoted.status_code) == (200, 200)
    assert quoted.headers["Idempotent-Replayed"] == "true"
    assert quoted.json() == first.json()
    assert _versions(committed, prompt["id"]) == 2


def test_the_same_key_with_another_body_is_422_and_creates_nothing(http, admin, make_prompt, committed, keys):
    prompt = make_prompt()
    headers = {**admin, "Idempotency-Key": keys()}
    assert http.post("/publish-prompt", headers=headers,
                     json={"prompt_id": str(prompt["id"]), "markdown_body": "# v2"}).status_code == 200
    other = http.post("/publish-prompt", headers=headers,
                      json={"prompt_id": str(prompt["id"]), "markdown_body": "# v2, edited"})
    assert other.status_code == 422, other.text
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert _versions(committed, prompt["id"]) == 2


def test_without_the_header_every_request_publishes(http, admin, make_prompt, committed):
    prompt = make_prompt()
    body = {"prompt_id": str(prompt["id"]), "markdown_body": "# again"}
    assert [http.post("/publish-prompt", headers=admin, json=body).status_code for _ in range(2)] == [200, 200]
    assert _versions(committed, prompt["id"]) == 3


@pytest.mark.parametrize("key", ["", "has space", "k" * 256, "caf\u00e9"])
def test_a_malformed_key_is_422_and_creates_nothing(http, admin, make_prompt, committed, key):
    prompt = make_prompt()
    response = http.post("/publish-prompt", headers={**admin, "Idempotency-Key": key.encode()},
                         json={"prompt_id": str(prompt["id"]), "markdown_body": "# v2"})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == {
        "code": "validation_error", "message": "Idempotency-Key must be 1 to 255 visible ASCII characters"}
    assert _versions(committed, prompt["id"]) == 1


def test_a_retry_while_the_first_request_is_in_flight_is_409_then_replays_it(
        http, admin, make_prompt, committed, db_url, demo_user_id, keys):
    prompt = make_prompt()
    key = keys()
    claims = {"sub": str(demo_user_id("admin@example.com")), "role": "authenticated",
              "email": "admin@example.com", "aud": "authenticated"}
    with psycopg.connect(db_url) as first:  # the first request, still open
        first.execute("select set_config('role', 'authenticated', true),"
                      " set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        result = first.execute("select public.publish_prompt_version_idempotent(%s, %s, markdown_body => '# v2')",
                               (key, prompt["id"])).fetchone()[0]
        in_flight = http.post("/publish-prompt", headers={**admin, "Idempotency-Key": key},
                              json={"prompt_id": str(prompt["id"]), "markdown_body": "# v2"})
        assert in_flight.status_code == 409, in_flight.text
        assert "still in progress" in in_flight.json()["error"]["message"]
    retry = http.post("/publish-prompt", headers={**admin, "Idempotency-Key": key},
                      json={"prompt_id": str(prompt["id"]), "markdown_body": "# v2"})
    assert retry.status_code == 200, retry.text
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == {name: result[name] for name in RESPONSE_FIELDS}
    assert _versions(committed, prompt["id"]) == 2


def test_concurrent_retries_with_one_key_create_one_version(http, admin, make_prompt, committed, keys):
    prompt = make_prompt()
    headers = {**admin, "Idempotency-Key": keys()}
    body = {"prompt_id": str(prompt["id"]), "markdown_body": "# once"}
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: http.post("/publish-prompt", headers=headers, json=body), range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 409} and 200 in statuses, [r.text for r in responses]
    assert len({r.text for r in responses if r.status_code == 200}) == 1
    assert _versions(committed, prompt["id"]) == 2
