"""End to end: caller input the database used to refuse with an error the functions answered 502
(issue 17, items 12 and 13), over HTTP against the running stack. Each is a clear 4xx, or stored
exactly, and nothing is lost or silently altered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from devstack.tokens import sign_in


def _usage_rows(committed, prompt_id) -> list[tuple]:
    return committed.execute("select user_id, metadata, occurred_at from public.prompt_usage_logs"
                             " where prompt_id = %s", (prompt_id,)).fetchall()


def test_occurred_at_with_an_offset_beyond_15_59_is_stored_as_that_instant(
        http, user_token, make_prompt, committed):
    """RFC 3339 allows offsets up to +-23:59, Postgres only +-15:59 (22009): sent in UTC."""
    prompt = make_prompt(published=True)
    at = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    sent = at.astimezone(timezone(timedelta(hours=20))).isoformat()
    assert sent.endswith("+20:00")
    response = http.post("/usage-events", headers={"Authorization": f"Bearer {user_token('learner@example.com')}"},
                         json={"events": [{"prompt_id": str(prompt["id"]), "action": "view", "occurred_at": sent}]})
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1, "anonymized": 0, "dropped": 0}
    (row,) = _usage_rows(committed, prompt["id"])
    assert row[2] == at
    committed.execute("delete from public.prompt_usage_logs where prompt_id = %s", (prompt["id"],))


def test_a_still_valid_token_of_a_deleted_user_is_409_not_502(http, db_url, make_prompt, committed):
    """The token verifies, but its user is gone: the insert's foreign key (23503) refuses it."""
    email = f"deleted-{uuid.uuid4().hex[:10]}@example.com"
    token = sign_in(db_url, email, admin=True)  # an admin by claim sees every prompt
    committed.execute("delete from auth.users where email = %s", (email,))
    prompt = make_prompt(published=True)
    response = http.post("/usage-events", headers={"Authorization": f"Bearer {token}"},
                         json={"events": [{"prompt_id": str(prompt["id"]), "action": "view"}]})
    assert response.status_code == 409, response.text
    assert response.json()["error"] == {
        "code": "conflict", "message": "the request refers to a user or row that no longer exists"}
    assert _usage_rows(committed, prompt["id"]) == []


def test_a_metadata_number_beyond_a_double_is_422_not_stored_as_null(http, user_token, make_prompt, committed):
    prompt = make_prompt(published=True)
    body = b'{"events": [{"prompt_id": "%s", "action": "view", "metadata": {"n": 1e400}}]}' % str(prompt["id"]).encode()
    response = http.post("/usage-events", content=body, headers={
        "Authorization": f"Bearer {user_token('learner@example.com')}", "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == ["events.0.metadata"]
    assert _usage_rows(committed, prompt["id"]) == []
