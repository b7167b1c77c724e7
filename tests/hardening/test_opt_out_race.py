"""Issue 17 item 8: a usage batch in flight and an opt-out of the same learner, interleaved
deterministically on two connections. After any interleaving the opted-out learner's events carry
no user_id and no metadata. (Before 20261202100500 the first interleaving left all 500 events
identified.)"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator

import jwt
import psycopg
import pytest

from devstack.tokens import sign_in

PROMPT = "30000000-0000-4000-a000-000000000001"  # published in the seed
COHORT = "cohort-2026-spring"


@pytest.fixture
def learner(db_url: str) -> Iterator[str]:
    """A fresh, confirmed, active cohort member (user id), removed afterwards."""
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    with psycopg.connect(db_url, autocommit=True) as conn:
        started = conn.execute("select now()").fetchone()[0]
    user_id = jwt.decode(sign_in(db_url, email), options={"verify_signature": False})["sub"]
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("insert into public.course_cohort_members (cohort_id, email, status, source_hash)"
                     " values (%s, %s, 'active', 'x')", (COHORT, email))
    yield user_id
    with psycopg.connect(db_url, autocommit=True) as conn:
        # Its anonymised events too (the batches are the only events with this metadata marker
        # or, once anonymised, inserted in this test's window).
        conn.execute("delete from public.prompt_usage_logs where user_id = %s or (metadata ->> 'client' = 'race')"
                     " or (user_id is null and created_at >= %s)", (user_id, started))
        conn.execute("delete from public.course_cohort_members where email = %s", (email,))
        conn.execute("delete from auth.users where id = %s", (user_id,))


def _as(conn: psycopg.Connection, user_id: str) -> None:
    """Act as the learner for the current transaction, as PostgREST does."""
    claims = json.dumps({"sub": user_id, "role": "authenticated"})
    conn.execute("select set_config('request.jwt.claims', %s, true), set_config('role', 'authenticated', true)",
                 (claims,))


def _batch(n: int = 500) -> str:
    return json.dumps([{"prompt_id": PROMPT, "action": "view", "metadata": {"client": "race"}}] * n)


def _identified(db_url: str, user_id: str) -> int:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute("select count(*) from public.prompt_usage_logs where user_id = %s"
                            " or (metadata ->> 'client' = 'race' and user_id is not null and user_id = %s)",
                            (user_id, user_id)).fetchone()[0]


def _in_thread(fn) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run():
        try:
            out["result"] = fn()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            out["error"] = exc
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def _opt_out(db_url: str, user_id: str):
    with psycopg.connect(db_url) as conn:
        _as(conn, user_id)
        result = conn.execute("select public.set_telemetry_opt_out(true)").fetchone()[0]
        conn.commit()
        return result


def test_opt_out_committing_while_a_batch_is_in_flight_anonymises_the_batch(db_url, learner):
    batch = psycopg.connect(db_url)
    try:
        _as(batch, learner)
        counts = batch.execute("select public.ingest_usage_events(%s::jsonb)", (_batch(),)).fetchone()[0]
        assert counts["accepted"] == 500
        thread, out = _in_thread(lambda: _opt_out(db_url, learner))  # transaction 2
        time.sleep(0.5)  # let the opt-out reach its lock (it waits for the batch) or commit (before the fix)
        batch.commit()  # transaction 1 commits last
    finally:
        batch.close()
    thread.join(30)
    assert "error" not in out, out
    assert out["result"]["telemetry_opt_out"] is True
    assert _identified(db_url, learner) == 0


def test_batch_starting_while_an_opt_out_is_uncommitted_is_stored_anonymously(db_url, learner):
    opt_out = psycopg.connect(db_url)
    try:
        _as(opt_out, learner)
        opt_out.execute("select public.set_telemetry_opt_out(true)")  # uncommitted

        def ingest():
            with psycopg.connect(db_url) as conn:
                _as(conn, learner)
                result = conn.execute("select public.ingest_usage_events(%s::jsonb)", (_batch(),)).fetchone()[0]
                conn.commit()
                return result
        thread, out = _in_thread(ingest)
        time.sleep(0.5)
        opt_out.commit()
    finally:
        opt_out.close()
    thread.join(30)
    assert "error" not in out, out
    assert out["result"] == {"accepted": 0, "anonymized": 500, "dropped": 0}
    assert _identified(db_url, learner) == 0


def test_service_role_cannot_store_an_identified_event_of_an_opted_out_user(db_url, learner):
    with psycopg.connect(db_url) as conn:
        _as(conn, learner)
        conn.execute("select public.set_telemetry_opt_out(true)")
        conn.commit()
        conn.execute("select set_config('role', 'service_role', true)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("insert into public.prompt_usage_logs (user_id, prompt_id, action, metadata)"
                         " values (%s, %s, 'copy', '{\"client\": \"race\"}')", (learner, PROMPT))
        conn.rollback()
    assert _identified(db_url, learner) == 0
