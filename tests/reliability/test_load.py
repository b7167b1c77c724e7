"""Concurrency and load through the functions over HTTP (loopback, bounded loops), on prompts,
users and cohorts of this suite's own.

Invariants, not speed, are asserted: gap-free version numbers and one valid current pointer
after concurrent publishes, no lost usage event (rows stored = accepted + anonymized), each
cohort-sync delivery applied once however many copies race, and no 5xx at all. Throughput and
error counts are printed and collected in the session's reliability summary.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest

from tests.reliability.support import PREFIX, User, add_members, new_prompt, new_user, report

pytestmark = pytest.mark.slow


def _together(n: int, job: Callable[[int], httpx.Response]) -> tuple[list[httpx.Response], float]:
    """Run ``job(0..n-1)`` on n threads released at once; the responses in order and the seconds taken."""
    barrier = threading.Barrier(n)

    def run(i: int) -> httpx.Response:
        barrier.wait(timeout=30)
        return job(i)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=n) as pool:
        responses = list(pool.map(run, range(n)))
    return responses, time.monotonic() - started


def _statuses(responses: list[httpx.Response]) -> dict[int, int]:
    return dict(sorted(Counter(r.status_code for r in responses).items()))


def test_20_concurrent_publishers_on_one_prompt_keep_versions_gap_free_and_one_valid_pointer(api, world, db_url):
    rounds, publishers = 3, 20
    with psycopg.connect(db_url, autocommit=True) as conn:
        prompt = new_prompt(conn, world.tag, published_versions=1)
    all_responses: list[httpx.Response] = []
    new_bodies: list[str] = []
    elapsed = 0.0
    for r in range(rounds):
        def publish(i: int, r: int = r) -> httpx.Response:
            if i % 3 == 2:  # a rollback to version 1
                body: dict[str, Any] = {"prompt_id": prompt.id, "version_id": prompt.versions[0]}
            else:
                body = {"prompt_id": prompt.id, "markdown_body": f"# round {r} publisher {i}", "changelog": f"r{r}"}
            return api.function("publish-prompt", token=world.admin.token, json_body=body)

        responses, seconds = _together(publishers, publish)
        elapsed += seconds
        all_responses += responses
        new_bodies += [f"# round {r} publisher {i}" for i in range(publishers) if i % 3 != 2]
        assert _statuses(responses) == {200: publishers}, [r.text[:200] for r in responses if r.status_code != 200]
        rollbacks = [resp.json()["version_number"] for i, resp in enumerate(responses) if i % 3 == 2]
        assert set(rollbacks) == {1}

    with psycopg.connect(db_url) as conn:
        versions = conn.execute("select version_number, markdown_body, published from public.prompt_versions"
                                " where prompt_id = %s order by version_number", (prompt.id,)).fetchall()
        pointer = conn.execute(
            "select p.status, p.published_at is not null, v.prompt_id::text, v.published"
            "  from public.prompts p join public.prompt_versions v on v.id = p.current_version_id"
            " where p.id = %s", (prompt.id,)).fetchone()
    assert [v[0] for v in versions] == list(range(1, len(new_bodies) + 2))
    assert Counter(v[1] for v in versions[1:]) == Counter(new_bodies)
    assert all(v[2] for v in versions)
    assert pointer == ("published", True, prompt.id, True)
    created = sorted(r.json()["version_number"] for r in all_responses if r.json()["version_number"] != 1)
    assert created == list(range(2, len(new_bodies) + 2))
    report(f"load: {rounds}x{publishers} concurrent publishes on one prompt: {len(all_responses)} requests in "
           f"{elapsed:.2f}s ({len(all_responses) / elapsed:.0f} req/s), statuses {_statuses(all_responses)}, "
           f"versions 1..{len(versions)} gap-free")


def test_50_concurrent_usage_clients_lose_no_event(api, world, db_url):
    clients, batches, per_batch, opted_out = 50, 4, 25, 10
    users: list[User] = [new_user(db_url, f"{PREFIX}load-{i}-{world.tag}@example.com") for i in range(clients)]
    with psycopg.connect(db_url, autocommit=True) as conn:
        add_members(conn, world.cohort, [u.email for u in users])
        for user in users[:opted_out]:
            conn.execute("insert into public.prompt_user_preferences (user_id, telemetry_opt_out) values (%s, true)",
                         (user.id,))
        prompts = [world.published.id, world.elsewhere.id, world.draft.id]

        def stored() -> tuple[int, int]:
            return conn.execute(
                "select count(*) filter (where user_id = any(%s::uuid[])), count(*) filter (where user_id is null)"
                "  from public.prompt_usage_logs where prompt_id = any(%s::uuid[])",
                ([u.id for u in users], prompts)).fetchone()

        before = stored()

        def client(i: int) -> list[httpx.Response]:
            with httpx.Client(base_url=api.url, timeout=120) as http:
                out = []
                for b in range(batches):
                    events = [{"prompt_id": prompts[(i + b + k) % 3], "action": ("view", "copy")[k % 2],
                               "metadata": {"client": i, "batch": b, "k": k}} for k in range(per_batch)]
                    out.append(http.post("/functions/v1/usage-events", json={"events": events},
                                         headers={"Authorization": f"Bearer {users[i].token}"}))
                return out

        per_client, elapsed = _together(clients, client)
        after = stored()

    responses = [r for rs in per_client for r in rs]
    assert _statuses(responses) == {202: clients * batches}, [r.text[:200] for r in responses if r.status_code != 202]
    totals = Counter()
    for r in responses:
        totals.update(r.json())
    events = clients * batches * per_batch
    assert sum(totals.values()) == events
    assert (after[0] - before[0], after[1] - before[1]) == (totals["accepted"], totals["anonymized"])
    draft_events = sum(1 for i in range(clients) for b in range(batches) for k in range(per_batch)
                       if (i + b + k) % 3 == 2)
    assert totals["dropped"] == draft_events
    assert totals["anonymized"] == sum(1 for i in range(opted_out) for b in range(batches) for k in range(per_batch)
                                       if (i + b + k) % 3 != 2)
    report(f"load: {clients} concurrent usage clients x {batches} batches of {per_batch}: {len(responses)} requests, "
           f"{events} events in {elapsed:.2f}s ({len(responses) / elapsed:.0f} req/s, {events / elapsed:.0f} events/s), "
           f"statuses {_statuses(responses)}, accepted {totals['accepted']} + anonymized {totals['anonymized']} "
           f"= rows stored {after[0] - before[0] + after[1] - before[1]}, dropped {totals['dropped']}")


def test_duplicate_cohort_sync_deliveries_racing_apply_each_once(api, world, db_url):
    copies, members = 6, 300
    tag = uuid.uuid4().hex[:6]
    cohorts = [f"{PREFIX}race-{tag}-{c}-{world.tag}" for c in range(2)]
    deliveries = []
    for c, cohort in enumerate(cohorts):
        for d in range(2):  # two deltas per cohort, overlapping in half their members
            people = [{"email": f"p{i}-{tag}@example.org", "first_name": f"d{d}"} for i in range(d * 150, d * 150 + members)]
            deliveries.append((f"msg_race_{tag}_{c}_{d}", {"cohort_id": cohort, "mode": "delta", "members": people}))
    jobs = [(delivery_id, body) for delivery_id, body in deliveries for _ in range(copies)]

    responses, elapsed = _together(len(jobs), lambda i: api.deliver(jobs[i][1], webhook_id=jobs[i][0]))
    assert _statuses(responses) == {200: len(jobs)}, [r.text[:200] for r in responses if r.status_code != 200]

    by_delivery: dict[str, list[httpx.Response]] = {}
    for (delivery_id, _), response in zip(jobs, responses):
        by_delivery.setdefault(delivery_id, []).append(response)
    with psycopg.connect(db_url) as conn:
        for delivery_id, copies_of_it in by_delivery.items():
            assert len({r.text for r in copies_of_it}) == 1, delivery_id
            assert sorted(r.headers.get("Idempotent-Replayed", "") for r in copies_of_it) == [""] + ["true"] * (copies - 1)
            runs = conn.execute("select count(*) from public.course_cohort_sync_runs where delivery_id = %s",
                                (delivery_id,)).fetchone()[0]
            assert runs == 1, delivery_id
        for cohort in cohorts:
            count = conn.execute("select count(*) from public.course_cohort_members where cohort_id = %s",
                                 (cohort,)).fetchone()[0]
            assert count == members + 150, cohort
    applied = [r.json() for rs in by_delivery.values() for r in rs[:1]]
    assert sum(s["inserted_count"] for s in applied) == 2 * (members + 150)
    report(f"load: {len(deliveries)} cohort-sync deliveries x {copies} racing copies: {len(jobs)} requests in "
           f"{elapsed:.2f}s ({len(jobs) / elapsed:.0f} req/s), statuses {_statuses(responses)}, "
           f"each delivery applied once ({len(deliveries)} runs)")
