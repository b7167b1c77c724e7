"""End to end: POST /functions/v1/cohort-sync (signed webhook) against the running stack."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from devstack import settings as devstack_settings
from tests.functions.helpers import signed_headers

SUMMARY_KEYS = {"run_id", "status", "total_rows", "inserted_count", "updated_count", "unchanged_count",
                "deactivated_count", "error_rows"}


@pytest.fixture
def deliver(http):
    """``deliver(body, webhook_id=None, **sign)``: POST a correctly signed delivery."""
    secret = devstack_settings.webhook_secret()

    def send(body: dict, webhook_id: str | None = None, **sign):
        data = json.dumps(body).encode()
        headers = signed_headers(data, secret=secret, webhook_id=webhook_id or f"msg_{uuid.uuid4().hex}",
                                 **sign)
        return http.post("/cohort-sync", content=data, headers=headers)

    return send


def _members(db, cohort: str) -> dict[str, tuple]:
    rows = db.execute("select email::text, first_name, status, revoked_at is not null, last_synced_at"
                      " from public.course_cohort_members where cohort_id = %s", (cohort,)).fetchall()
    return {r[0]: r[1:] for r in rows}


def _runs(db, cohort: str) -> list[tuple]:
    return db.execute("select delivery_id, status, total_rows, inserted_count, updated_count,"
                      " unchanged_count, deactivated_count from public.course_cohort_sync_runs"
                      " where cohort_id = %s order by started_at", (cohort,)).fetchall()


def _people(n: int, start: int = 0) -> list[dict]:
    return [{"email": f"person{i}@example.org", "first_name": f"P{i}"} for i in range(start, start + n)]


def test_delta_inserts_members_and_records_a_run(deliver, cohort, db):
    response = deliver({"cohort_id": cohort, "mode": "delta", "members": _people(3)}, webhook_id="msg_d1" + cohort)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == SUMMARY_KEYS
    assert (body["status"], body["total_rows"], body["inserted_count"], body["updated_count"],
            body["unchanged_count"], body["deactivated_count"], body["error_rows"]) == (
        "success", 3, 3, 0, 0, 0, [])
    members = _members(db, cohort)
    assert {email: row[:3] for email, row in members.items()} == {
        f"person{i}@example.org": (f"P{i}", "active", False) for i in range(3)}
    assert _runs(db, cohort) == [("msg_d1" + cohort, "success", 3, 3, 0, 0, 0)]
    run_id = db.execute("select id from public.course_cohort_sync_runs where cohort_id = %s", (cohort,)).fetchone()[0]
    assert body["run_id"] == str(run_id)


def test_snapshot_deactivates_members_missing_from_it(deliver, cohort, db):
    assert deliver({"cohort_id": cohort, "mode": "delta", "members": _people(4)}).status_code == 200
    response = deliver({"cohort_id": cohort, "mode": "snapshot", "members": _people(3)})
    assert response.status_code == 200, response.text
    assert response.json()["deactivated_count"] == 1
    assert response.json()["unchanged_count"] == 3
    members = _members(db, cohort)
    assert members["person3@example.org"][1:3] == ("inactive", True)
    assert all(members[f"person{i}@example.org"][1:3] == ("active", False) for i in range(3))


def test_unchanged_rows_are_not_written_and_emails_match_case_insensitively(deliver, cohort, db):
    first = [{"email": "Mixed.Case@Example.org", "first_name": "Mia"}]
    assert deliver({"cohort_id": cohort, "mode": "delta", "members": first}).status_code == 200
    before = _members(db, cohort)
    again = [{"email": "  mixed.case@example.org ", "first_name": "Mia"}]
    response = deliver({"cohort_id": cohort, "mode": "delta", "members": again})
    assert response.status_code == 200
    assert (response.json()["inserted_count"], response.json()["updated_count"],
            response.json()["unchanged_count"]) == (0, 0, 1)
    assert _members(db, cohort) == before  # same row, last_synced_at untouched


def test_changed_rows_are_updated(deliver, cohort, db):
    deliver({"cohort_id": cohort, "mode": "delta", "members": _people(2)})
    response = deliver({"cohort_id": cohort, "mode": "delta", "members": [
        {"email": "person0@example.org", "first_name": "Renamed"},
        {"email": "person1@example.org", "first_name": "P1", "status": "revoked"}]})
    assert (response.json()["updated_count"], response.json()["deactivated_count"]) == (2, 0)
    members = _members(db, cohort)
    assert members["person0@example.org"][:2] == ("Renamed", "active")
    assert members["person1@example.org"][1:3] == ("revoked", True)


def test_invalid_rows_go_to_error_rows_and_valid_rows_apply(deliver, cohort, db):
    members = [{"email": "good@example.org"}, {"email": "not-an-email"}, "not-an-object",
               {"email": "odd@example.org", "status": "suspended"}, {"first_name": "No Email"}]
    response = deliver({"cohort_id": cohort, "mode": "delta", "members": members})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "partial"
    assert (body["total_rows"], body["inserted_count"]) == (5, 1)
    assert [(e["index"], e["error"]) for e in body["error_rows"]] == [
        (1, "invalid email"), (2, "member must be an object"), (3, "unknown status"), (4, "email is required")]
    assert set(_members(db, cohort)) == {"good@example.org"}
    assert _runs(db, cohort)[0][1] == "partial"


def test_mass_deactivation_is_409_and_changes_nothing(deliver, cohort, db):
    deliver({"cohort_id": cohort, "mode": "delta", "members": _people(4)})
    before, runs_before = _members(db, cohort), _runs(db, cohort)
    response = deliver({"cohort_id": cohort, "mode": "snapshot", "members": _people(1)})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "deactivate 3 of 4" in response.json()["error"]["message"]
    assert _members(db, cohort) == before
    assert _runs(db, cohort) == runs_before


def test_mass_deactivation_with_the_flag_is_applied(deliver, cohort, db):
    deliver({"cohort_id": cohort, "mode": "delta", "members": _people(4)})
    response = deliver({"cohort_id": cohort, "mode": "snapshot", "members": _people(1),
                        "allow_mass_deactivation": True})
    assert response.status_code == 200, response.text
    assert response.json()["deactivated_count"] == 3
    assert sorted(row[1] for row in _members(db, cohort).values()) == ["active", "inactive", "inactive", "inactive"]


def test_replayed_delivery_changes_nothing_and_returns_the_first_summary(deliver, cohort, db):
    body = {"cohort_id": cohort, "mode": "delta", "members": _people(2)}
    first = deliver(body, webhook_id=f"msg_replay_{cohort}")
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    members, runs = _members(db, cohort), _runs(db, cohort)

    # The same id again, even with other content and a fresh signature: applied once only.
    changed = {**body, "members": _people(2, start=10)}
    replay = deliver(changed, webhook_id=f"msg_replay_{cohort}")
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert _members(db, cohort) == members
    assert _runs(db, cohort) == runs


def test_two_concurrent_deliveries_with_one_webhook_id_apply_once(deliver, cohort, db):
    body = {"cohort_id": cohort, "mode": "delta", "members": _people(200)}
    webhook_id = f"msg_concurrent_{cohort}"
    barrier = threading.Barrier(2)
    responses: list = [None, None]

    def send(i: int) -> None:
        barrier.wait()
        responses[i] = deliver(body, webhook_id=webhook_id)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [r.status_code for r in responses] == [200, 200]
    assert responses[0].json() == responses[1].json()
    assert responses[0].json()["inserted_count"] == 200
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert len(_runs(db, cohort)) == 1
    assert len(_members(db, cohort)) == 200


def test_bad_signature_is_401_and_nothing_is_written(http, cohort, db):
    data = json.dumps({"cohort_id": cohort, "mode": "delta", "members": _people(1)}).encode()
    headers = signed_headers(data, secret="whsec_bm90LXRoZS1yaWdodC1zZWNyZXQ=")
    response = http.post("/cohort-sync", content=data, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert _members(db, cohort) == {} and _runs(db, cohort) == []


def test_stale_delivery_is_401(deliver, cohort, db):
    response = deliver({"cohort_id": cohort, "mode": "delta", "members": _people(1)},
                       timestamp=datetime.now(UTC) - timedelta(minutes=10))
    assert response.status_code == 401
    assert "too old" in response.json()["error"]["message"]
    assert _runs(db, cohort) == []


def test_unsigned_delivery_is_401(http, cohort):
    response = http.post("/cohort-sync", json={"cohort_id": cohort, "mode": "delta", "members": []})
    assert response.status_code == 401


def test_user_jwt_does_not_replace_the_signature(http, cohort, user_token):
    response = http.post("/cohort-sync", headers={"Authorization": f"Bearer {user_token('admin@example.com')}"},
                         json={"cohort_id": cohort, "mode": "delta", "members": []})
    assert response.status_code == 401


def test_unknown_mode_is_422_naming_the_field(deliver, cohort, db):
    response = deliver({"cohort_id": cohort, "mode": "replace", "members": []})
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["mode"]
    assert _runs(db, cohort) == []


def test_get_is_405(http):
    response = http.get("/cohort-sync")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_body_over_32_mib_is_413(http):
    response = http.post("/cohort-sync", headers={"Content-Type": "application/json"},
                         content=b" " * (32 * 1024 * 1024 + 1))
    assert response.status_code == 413
