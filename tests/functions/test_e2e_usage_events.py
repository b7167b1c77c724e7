"""End to end: POST /functions/v1/usage-events over HTTP against the running stack."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
def as_user(user_token):
    return lambda email: {"Authorization": f"Bearer {user_token(email)}"}


def _rows(db, prompt_id) -> list[tuple]:
    return db.execute("select user_id, action, metadata, version_id, occurred_at from public.prompt_usage_logs"
                      " where prompt_id = %s order by occurred_at, action", (prompt_id,)).fetchall()


def test_learner_events_are_stored_with_user_id_metadata_and_current_version(
        http, as_user, make_prompt, db, demo_user_id):
    prompt = make_prompt(published=True)
    at = datetime.now(UTC) - timedelta(minutes=2)
    response = http.post("/usage-events", headers=as_user("learner@example.com"), json={"events": [
        {"prompt_id": str(prompt["id"]), "action": "view", "occurred_at": at.isoformat()},
        {"prompt_id": str(prompt["id"]), "action": "copy", "metadata": {"client": "web", "n": 1}},
    ]})
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 2, "anonymized": 0, "dropped": 0}
    rows = _rows(db, prompt["id"])
    learner = demo_user_id("learner@example.com")
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (learner, "view", None, prompt["v1"]), (learner, "copy", {"client": "web", "n": 1}, prompt["v1"])]
    assert rows[0][4] == at


def test_opted_out_learner_events_are_stored_without_user_id_or_metadata(http, as_user, make_prompt, db):
    prompt = make_prompt(published=True)
    response = http.post("/usage-events", headers=as_user("optout@example.com"), json={"events": [
        {"prompt_id": str(prompt["id"]), "action": "copy", "metadata": {"client": "web"}}]})
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 0, "anonymized": 1, "dropped": 0}
    assert [(r[0], r[1], r[2]) for r in _rows(db, prompt["id"])] == [(None, "copy", None)]


def test_events_on_prompts_the_caller_cannot_see_are_dropped_not_refused(http, as_user, make_prompt, db):
    visible = make_prompt(published=True)
    draft = make_prompt()
    response = http.post("/usage-events", headers=as_user("learner@example.com"), json={"events": [
        {"prompt_id": str(visible["id"]), "action": "view"},
        {"prompt_id": str(draft["id"]), "action": "view"},
        {"prompt_id": str(uuid.uuid4()), "action": "favorite"},
    ]})
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "anonymized": 0, "dropped": 2}
    assert _rows(db, draft["id"]) == []


@pytest.mark.parametrize("email, logging_enabled", [
    ("outsider@example.com", True),   # no access: no prompt is visible
    ("learner@example.com", False),   # PROMPT_USAGE_LOGGING_ENABLED off
])
def test_events_are_all_dropped_for_outsiders_and_with_logging_off(
        http, as_user, make_prompt, set_flag, db, email, logging_enabled):
    prompt = make_prompt(published=True)
    set_flag("PROMPT_USAGE_LOGGING_ENABLED", logging_enabled)
    response = http.post("/usage-events", headers=as_user(email), json={"events": [
        {"prompt_id": str(prompt["id"]), "action": "view"}, {"prompt_id": str(prompt["id"]), "action": "copy"}]})
    assert response.status_code == 202
    assert response.json() == {"accepted": 0, "anonymized": 0, "dropped": 2}
    assert _rows(db, prompt["id"]) == []


def test_prompt_manager_flag_off_is_503_feature_disabled(http, as_user, make_prompt, set_flag, db):
    prompt = make_prompt(published=True)
    set_flag("PROMPT_MANAGER_ENABLED", False)
    response = http.post("/usage-events", headers=as_user("learner@example.com"),
                         json={"events": [{"prompt_id": str(prompt["id"]), "action": "view"}]})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "feature_disabled"
    assert _rows(db, prompt["id"]) == []


def test_batch_of_500_is_accepted_and_501_is_422(http, as_user, make_prompt, db):
    prompt = make_prompt(published=True)
    event = {"prompt_id": str(prompt["id"]), "action": "view"}
    ok = http.post("/usage-events", headers=as_user("learner@example.com"), json={"events": [event] * 500})
    assert ok.status_code == 202 and ok.json()["accepted"] == 500
    too_many = http.post("/usage-events", headers=as_user("learner@example.com"), json={"events": [event] * 501})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["details"][0]["field"] == "events"
    assert len(_rows(db, prompt["id"])) == 500


def test_invalid_event_is_422_naming_it_and_nothing_is_stored(http, as_user, make_prompt, db):
    prompt = make_prompt(published=True)
    response = http.post("/usage-events", headers=as_user("learner@example.com"), json={"events": [
        {"prompt_id": str(prompt["id"]), "action": "view"},
        {"prompt_id": str(prompt["id"]), "action": "share"}]})
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["events.1.action"]
    assert _rows(db, prompt["id"]) == []


def test_metadata_at_the_database_limit_is_stored(http, as_user, make_prompt, db):
    prompt = make_prompt(published=True)
    metadata = {"note": "é" * ((4096 - len('{"note": ""}')) // 2)}
    response = http.post("/usage-events", headers=as_user("learner@example.com"), json={"events": [
        {"prompt_id": str(prompt["id"]), "action": "copy", "metadata": metadata}]})
    assert response.status_code == 202, response.text
    assert _rows(db, prompt["id"])[0][2] == metadata


def test_missing_token_is_401(http, make_prompt):
    response = http.post("/usage-events", json={"events": [{"prompt_id": str(uuid.uuid4()), "action": "view"}]})
    assert response.status_code == 401


def test_anon_key_is_401(http, anon_key):
    response = http.post("/usage-events", headers={"Authorization": f"Bearer {anon_key}"},
                         json={"events": [{"prompt_id": str(uuid.uuid4()), "action": "view"}]})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_put_is_405(http, as_user):
    response = http.put("/usage-events", headers=as_user("learner@example.com"), json={})
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST, OPTIONS"
