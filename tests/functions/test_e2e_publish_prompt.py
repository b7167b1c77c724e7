"""End to end: POST /functions/v1/publish-prompt over HTTP against the running stack."""

from __future__ import annotations

import uuid

import pytest

from devstack.tokens import access_token_claims, mint

SEED_VERSION_OF_OTHER_PROMPT = """
select id from public.prompt_versions where prompt_id = '30000000-0000-4000-a000-000000000002' limit 1
"""


@pytest.fixture
def admin(user_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {user_token('admin@example.com')}"}


@pytest.fixture
def learner(user_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {user_token('learner@example.com')}"}


def _state(db, prompt_id) -> tuple:
    return db.execute("select current_version_id, status, published_at is not null from public.prompts"
                      " where id = %s", (prompt_id,)).fetchone()


def _versions(db, prompt_id) -> list[tuple]:
    return db.execute("select id, version_number, markdown_body, changelog, published"
                      " from public.prompt_versions where prompt_id = %s order by version_number",
                      (prompt_id,)).fetchall()


def test_admin_publishes_new_content_as_the_next_version(http, admin, make_prompt, db):
    prompt = make_prompt()
    response = http.post("/publish-prompt", headers=admin, json={
        "prompt_id": str(prompt["id"]), "markdown_body": "# v2\n\nBetter.", "changelog": "better"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"prompt_id", "current_version_id", "version_number", "status", "published_at"}
    assert body["prompt_id"] == str(prompt["id"])
    assert body["version_number"] == 2
    assert body["status"] == "published"
    versions = _versions(db, prompt["id"])
    assert [(v[1], v[2], v[3], v[4]) for v in versions] == [
        (1, "# v1", "first", False), (2, "# v2\n\nBetter.", "better", True)]
    assert str(versions[1][0]) == body["current_version_id"]
    assert _state(db, prompt["id"]) == (versions[1][0], "published", True)


def test_admin_publishes_an_existing_draft_version(http, admin, make_prompt, db):
    prompt = make_prompt()
    response = http.post("/publish-prompt", headers=admin,
                         json={"prompt_id": str(prompt["id"]), "version_id": str(prompt["v1"])})
    assert response.status_code == 200, response.text
    assert response.json()["version_number"] == 1
    assert _state(db, prompt["id"]) == (prompt["v1"], "published", True)
    assert _versions(db, prompt["id"])[0][4] is True


def test_admin_publishes_then_rolls_back_to_the_older_version(http, admin, make_prompt, db):
    prompt = make_prompt(published=True)
    newer = http.post("/publish-prompt", headers=admin,
                      json={"prompt_id": str(prompt["id"]), "markdown_body": "# v2"}).json()
    assert _state(db, prompt["id"])[0] == uuid.UUID(newer["current_version_id"])

    rollback = http.post("/publish-prompt", headers=admin,
                         json={"prompt_id": str(prompt["id"]), "version_id": str(prompt["v1"])})
    assert rollback.status_code == 200, rollback.text
    assert rollback.json()["current_version_id"] == str(prompt["v1"])
    assert rollback.json()["version_number"] == 1
    assert _state(db, prompt["id"]) == (prompt["v1"], "published", True)
    # Rolling back changes the pointer only: both versions stay, immutable and published.
    assert [(v[1], v[2], v[4]) for v in _versions(db, prompt["id"])] == [(1, "# v1", True), (2, "# v2", True)]


def test_admin_by_jwt_claim_may_publish(http, user_token, make_prompt):
    token = user_token(f"claim-admin-{uuid.uuid4().hex[:8]}@example.com", admin=True)
    prompt = make_prompt()
    response = http.post("/publish-prompt", headers={"Authorization": f"Bearer {token}"},
                         json={"prompt_id": str(prompt["id"]), "version_id": str(prompt["v1"])})
    assert response.status_code == 200, response.text


def test_learner_gets_403_and_nothing_changes(http, learner, make_prompt, db):
    prompt = make_prompt()
    response = http.post("/publish-prompt", headers=learner,
                         json={"prompt_id": str(prompt["id"]), "markdown_body": "# sneaky"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert len(_versions(db, prompt["id"])) == 1
    assert _state(db, prompt["id"]) == (None, "draft", False)


def test_unknown_prompt_is_404(http, admin):
    response = http.post("/publish-prompt", headers=admin,
                         json={"prompt_id": str(uuid.uuid4()), "markdown_body": "# x"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_version_of_another_prompt_is_404_and_the_pointer_stays(http, admin, make_prompt, db):
    prompt = make_prompt(published=True)
    other_version = db.execute(SEED_VERSION_OF_OTHER_PROMPT).fetchone()[0]
    response = http.post("/publish-prompt", headers=admin,
                         json={"prompt_id": str(prompt["id"]), "version_id": str(other_version)})
    assert response.status_code == 404
    assert _state(db, prompt["id"])[0] == prompt["v1"]


def test_soft_deleted_prompt_is_409(http, admin, make_prompt, committed, db):
    prompt = make_prompt()
    committed.execute("update public.prompts set is_deleted = true, deleted_at = now() where id = %s",
                      (prompt["id"],))
    response = http.post("/publish-prompt", headers=admin,
                         json={"prompt_id": str(prompt["id"]), "version_id": str(prompt["v1"])})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "deleted" in response.json()["error"]["message"]
    assert _state(db, prompt["id"]) == (None, "draft", False)


def test_both_sources_are_422_naming_the_body(http, admin, make_prompt):
    prompt = make_prompt()
    response = http.post("/publish-prompt", headers=admin, json={
        "prompt_id": str(prompt["id"]), "version_id": str(prompt["v1"]), "markdown_body": "# x"})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body"


def test_bad_prompt_id_is_422_naming_the_field(http, admin):
    response = http.post("/publish-prompt", headers=admin, json={"prompt_id": "42", "markdown_body": "# x"})
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["prompt_id"]


def test_not_json_is_400(http, admin):
    response = http.post("/publish-prompt", headers={**admin, "Content-Type": "application/json"},
                         content=b"{prompt_id: 1")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_form_body_is_400(http, admin):
    response = http.post("/publish-prompt", headers=admin, data={"prompt_id": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsupported_content_type"


def test_missing_token_is_401(http):
    response = http.post("/publish-prompt", json={"prompt_id": str(uuid.uuid4()), "markdown_body": "# x"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_admin_token_is_401(http, demo_user_id, make_prompt):
    claims = access_token_claims(str(demo_user_id("admin@example.com")), "admin@example.com",
                                 {"provider": "email"}, {}, ttl=-120)
    response = http.post("/publish-prompt", headers={"Authorization": f"Bearer {mint(claims)}"},
                         json={"prompt_id": str(make_prompt()["id"]), "markdown_body": "# x"})
    assert response.status_code == 401
    assert response.json()["error"] == {"code": "invalid_token", "message": "the access token has expired"}


def test_forged_admin_token_is_401(http, demo_user_id, make_prompt):
    claims = access_token_claims(str(demo_user_id("learner@example.com")), "learner@example.com",
                                 {"prompt_admin": True}, {})
    forged = mint(claims, secret="not-the-project-secret-but-at-least-32-chars")
    response = http.post("/publish-prompt", headers={"Authorization": f"Bearer {forged}"},
                         json={"prompt_id": str(make_prompt()["id"]), "markdown_body": "# x"})
    assert response.status_code == 401


def test_get_is_405_with_allow(http, admin):
    response = http.get("/publish-prompt", headers=admin)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST, OPTIONS"


def test_body_over_2_mib_is_413(http, admin):
    response = http.post("/publish-prompt", headers={**admin, "Content-Type": "application/json"},
                         content=b" " * (2 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_chunked_body_over_2_mib_is_413(http, admin):
    def chunks():
        for _ in range(3):
            yield b" " * (1024 * 1024)

    response = http.post("/publish-prompt", headers={**admin, "Content-Type": "application/json"},
                         content=chunks())
    assert response.status_code == 413
