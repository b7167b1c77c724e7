"""Concurrency invariants the database promises (contract §2, §5), over real connections.

Each thread has its own connection and acts like a PostgREST request: one transaction with a
transaction-local role and request.jwt.claims. Every test works on a prompt or cohort of its own
and removes it afterwards, so other tests sharing the session database are not disturbed.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from tests.fixtures.concurrent import act_as as _act_as
from tests.fixtures.concurrent import run_together as _run_together

ADMIN_CLAIMS = {
    "sub": "00000000-0000-4000-a000-000000000001",  # the seed's admin (prompt_admins row)
    "email": "admin@example.com",
    "role": "authenticated",
    "aud": "authenticated",
    "app_metadata": {"provider": "email", "providers": ["email"]},
}
SERVICE_CLAIMS = {"role": "service_role", "iss": "supabase-demo"}
MODULE_ID = "10000000-0000-4000-a000-000000000001"  # seed module "foundations"
WORKERS = 20


@pytest.fixture
def prompt_id(db_url: str) -> Iterator[str]:
    """A new prompt of this test's own, published at version 1; deleted (with its versions) afterwards."""
    new_id = str(uuid.uuid4())
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("insert into public.prompts (id, module_id, slug, title) values (%s, %s, %s, %s)",
                     (new_id, MODULE_ID, f"concurrency-{new_id[:8]}", "Concurrency test prompt"))
        with conn.transaction():
            _act_as(conn, "authenticated", ADMIN_CLAIMS)
            conn.execute("select public.publish_prompt_version(%s, markdown_body => 'body 0')", (new_id,))
    yield new_id
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("delete from public.prompts where id = %s", (new_id,))


def _publish_new(prompt: str, body: str) -> Callable[[psycopg.Connection], Any]:
    """Job: publish new content as the next version, in one RPC call."""
    def job(conn: psycopg.Connection) -> Any:
        _act_as(conn, "authenticated", ADMIN_CLAIMS)
        return conn.execute("select public.publish_prompt_version(%s, markdown_body => %s, changelog => 'concurrent')",
                            (prompt, body)).fetchone()[0]
    return job


def _insert_then_publish(prompt: str, body: str) -> Callable[[psycopg.Connection], Any]:
    """Job: insert a draft through the table (a client sends a version_number; it is ignored), then publish it."""
    def job(conn: psycopg.Connection) -> Any:
        _act_as(conn, "authenticated", ADMIN_CLAIMS)
        version_id = conn.execute(
            "insert into public.prompt_versions (prompt_id, version_number, markdown_body) values (%s, 1, %s) returning id",
            (prompt, body)).fetchone()[0]
        conn.execute("select pg_sleep(0.01)")  # hold the prompt's lock a little while others queue
        return conn.execute("select public.publish_prompt_version(%s, version_id => %s)",
                            (prompt, version_id)).fetchone()[0]
    return job


def _roll_back_to_first(prompt: str) -> Callable[[psycopg.Connection], Any]:
    """Job: publish version 1 again (a rollback)."""
    def job(conn: psycopg.Connection) -> Any:
        _act_as(conn, "authenticated", ADMIN_CLAIMS)
        first = conn.execute("select id from public.prompt_versions where prompt_id = %s and version_number = 1",
                             (prompt,)).fetchone()[0]
        return conn.execute("select public.publish_prompt_version(%s, version_id => %s)", (prompt, first)).fetchone()[0]
    return job


def test_concurrent_publishes_keep_version_numbers_gap_free_and_the_pointer_valid(db_url, prompt_id):
    kinds = [i % 3 for i in range(WORKERS)]
    jobs = [
        _publish_new(prompt_id, f"body {i}") if kind == 0
        else _insert_then_publish(prompt_id, f"body {i}") if kind == 1
        else _roll_back_to_first(prompt_id)
        for i, kind in enumerate(kinds)
    ]
    results = _run_together(db_url, jobs)
    created = sum(1 for kind in kinds if kind != 2)

    with psycopg.connect(db_url) as conn:
        versions = conn.execute(
            "select version_number, markdown_body, published from public.prompt_versions"
            " where prompt_id = %s order by version_number", (prompt_id,)).fetchall()
        prompt = conn.execute(
            "select p.status, p.published_at is not null, v.prompt_id::text, v.published, v.version_number"
            "  from public.prompts p join public.prompt_versions v on v.id = p.current_version_id"
            " where p.id = %s", (prompt_id,)).fetchone()

    assert [number for number, _, _ in versions] == list(range(1, created + 2))
    bodies = Counter(body for _, body, _ in versions)
    assert bodies == Counter(["body 0"] + [f"body {i}" for i, kind in enumerate(kinds) if kind != 2])
    assert all(published for _, _, published in versions)
    status, has_published_at, pointer_prompt, pointer_published, pointer_number = prompt
    assert (status, has_published_at, pointer_prompt, pointer_published) == ("published", True, prompt_id, True)
    assert pointer_number in {result["version_number"] for result in results}
    new_numbers = [result["version_number"] for result, kind in zip(results, kinds) if kind != 2]
    assert sorted(new_numbers) == list(range(2, created + 2))
    assert {result["version_number"] for result, kind in zip(results, kinds) if kind == 2} == {1}


@pytest.fixture
def cohort(db_url: str) -> Iterator[str]:
    """A cohort id of this test's own; its members and sync runs are deleted afterwards."""
    cohort_id = f"concurrency-{uuid.uuid4().hex[:12]}"
    yield cohort_id
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("delete from public.course_cohort_members where cohort_id = %s", (cohort_id,))
        conn.execute("delete from public.course_cohort_sync_runs where cohort_id = %s", (cohort_id,))


def test_concurrent_duplicate_cohort_sync_deliveries_apply_once(db_url, cohort):
    delivery_id = f"msg_{uuid.uuid4().hex}"
    payload = {
        "cohort_id": cohort,
        "mode": "snapshot",
        "members": [{"email": f"member{i}@example.org", "first_name": f"Member {i}"} for i in range(5)],
    }

    def deliver(conn: psycopg.Connection) -> dict[str, Any]:
        _act_as(conn, "service_role", SERVICE_CLAIMS)
        conn.execute("select pg_sleep(0.01)")
        return conn.execute("select public.sync_cohort_members(%s, %s)",
                            (delivery_id, json.dumps(payload))).fetchone()[0]

    summaries = _run_together(db_url, [deliver] * 8)

    assert sorted(summary["replayed"] for summary in summaries) == [False] + [True] * 7
    assert {summary["run_id"] for summary in summaries} == {summaries[0]["run_id"]}
    assert {json.dumps({k: v for k, v in s.items() if k != "replayed"}, sort_keys=True) for s in summaries} == {
        json.dumps({k: v for k, v in summaries[0].items() if k != "replayed"}, sort_keys=True)}
    first = next(summary for summary in summaries if not summary["replayed"])
    assert (first["status"], first["inserted_count"], first["unchanged_count"]) == ("success", 5, 0)
    with psycopg.connect(db_url) as conn:
        runs = conn.execute("select count(*) from public.course_cohort_sync_runs where delivery_id = %s",
                            (delivery_id,)).fetchone()[0]
        members = conn.execute("select count(*) from public.course_cohort_members where cohort_id = %s",
                               (cohort,)).fetchone()[0]
    assert (runs, members) == (1, 5)
