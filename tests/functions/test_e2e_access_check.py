"""End to end: GET /functions/v1/access-check over HTTP against the running stack."""

from __future__ import annotations

import pytest


@pytest.fixture
def check(http, user_token):
    def run(email: str):
        return http.get("/access-check", headers={"Authorization": f"Bearer {user_token(email)}"})
    return run


@pytest.mark.parametrize("email, has_access, reason, cohorts", [
    ("learner@example.com", True, "active_cohort_member", ["cohort-2026-spring"]),
    ("admin@example.com", True, "admin", []),
    ("outsider@example.com", False, "not_a_member", []),
    ("revoked@example.com", False, "membership_inactive", []),
])
def test_access_decision_is_answered_and_audited(check, new_audit_rows, demo_user_id,
                                                 email, has_access, reason, cohorts):
    response = check(email)
    assert response.status_code == 200, response.text
    assert response.json() == {"has_access": has_access, "reason": reason, "cohort_ids": cohorts}
    assert new_audit_rows() == [(demo_user_id(email), email, "granted" if has_access else "denied",
                                 reason, cohorts)]


def test_feature_disabled_is_a_200_denial_and_audited(check, set_flag, new_audit_rows):
    set_flag("PROMPT_MANAGER_ENABLED", False)
    response = check("learner@example.com")
    assert response.status_code == 200
    assert response.json()["has_access"] is False
    assert response.json()["reason"] == "feature_disabled"
    assert [row[2:4] for row in new_audit_rows()] == [("denied", "feature_disabled")]


def test_every_check_writes_one_audit_row(check, new_audit_rows):
    for _ in range(3):
        assert check("learner@example.com").status_code == 200
    assert len(new_audit_rows()) == 3


def test_missing_token_is_401_and_not_audited(http, new_audit_rows):
    response = http.get("/access-check")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert new_audit_rows() == []


def test_service_role_key_is_not_a_user_401(http, service_key, new_audit_rows):
    response = http.get("/access-check", headers={"Authorization": f"Bearer {service_key}"})
    assert response.status_code == 401
    assert new_audit_rows() == []


def test_post_is_405_with_allow(http, user_token):
    response = http.post("/access-check", headers={"Authorization": f"Bearer {user_token('learner@example.com')}"})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, OPTIONS"


def test_browser_preflight_is_answered_by_the_gateway_before_the_function(http):
    """Kong's cors plugin (and the stand-in) answer a preflight 200 themselves, allowing the
    requested headers; the function's own 204 answer is never reached."""
    response = http.options("/access-check", headers={"Origin": "http://localhost:3000",
                                                      "Access-Control-Request-Method": "GET",
                                                      "Access-Control-Request-Headers": "authorization, idempotency-key"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Headers"] == "authorization, idempotency-key"
    assert response.headers["Access-Control-Max-Age"] == "3600"
    assert "Allow" not in response.headers  # the function's preflight answer carries Allow
    assert response.content == b""


def test_options_that_is_not_a_preflight_reaches_the_function_204(http):
    """Without Access-Control-Request-Method the gateway passes OPTIONS on: the function answers."""
    response = http.options("/access-check", headers={"Origin": "http://localhost:3000"})
    assert response.status_code == 204
    assert response.headers["Allow"] == "GET, OPTIONS"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, OPTIONS"
    assert response.headers["Access-Control-Max-Age"] == "86400"
