"""Faults in the middle of a delivery or a publish, on a cluster and gateway of this module's own
(the database is killed and restarted here, so never the session's shared one).

- The gateway's database connections are terminated (``pg_terminate_backend``, as the superuser)
  or the server is restarted while a 20k-member snapshot sync, or a publish, is writing. The
  caller gets a 503 in the contract's shape; the database holds all of the delivery or none of it;
  a retry of the same webhook-id applies it exactly once; and the very next requests after the
  database is back succeed, with neither the stand-in nor the functions restarted.
- A statement timeout on a huge sync answers 503 without leaking the database's message, leaves
  a ``failed`` run row, and a retry with the normal timeout applies the delivery.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from devstack import settings
from devstack.cluster import Cluster, free_port
from tests.fixtures.api import running_gateway
from tests.reliability.support import (
    PREFIX,
    Api,
    World,
    assert_function_error,
    build_world,
    new_prompt,
    report,
    wait_until,
)

pytestmark = pytest.mark.slow

MEMBERS = 20_000
UNAVAILABLE = "the database is unavailable; retry later"
GATEWAY_APP = "devstack-gateway"


@dataclass
class Stack:
    cluster: Cluster
    api: Api
    world: World
    log: Path

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """One statement as the superuser, on a fresh connection (the old ones die with the server)."""
        with psycopg.connect(self.cluster.admin_url, autocommit=True, connect_timeout=5) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def terminate_gateway_backends(self, running: str | None = None) -> int:
        """Kill the gateway's connections (only those running a statement with ``running``)."""
        return self.sql("select count(pg_terminate_backend(pid)) from pg_stat_activity"
                        " where application_name like %s and (%s::text is null or query like %s)",
                        (f"{GATEWAY_APP}%", running, f"%{running}%"))[0][0]

    def restart(self) -> None:
        """Stop the server (fast shutdown: every transaction is cut off), check that the functions
        answer 503 meanwhile, and start it again."""
        self.cluster.stop()
        try:
            started = time.monotonic()
            down = self.api.function("access-check", method="GET", token=self.world.learner.token)
            assert_function_error(down, 503, "service_unavailable")
            assert time.monotonic() - started < 10
        finally:
            self.cluster.start()

    def reloads(self) -> int:
        return self.log.read_text(errors="replace").count("schema cache reload requested")

    def set_service_timeout(self, value: str | None) -> None:
        """Set (or reset) service_role's statement_timeout and wait until the stand-in reloaded it
        (role settings live in its schema cache, reloaded on NOTIFY pgrst as PostgREST does)."""
        seen = self.reloads()
        if value is None:
            self.sql("alter role service_role reset statement_timeout")
        else:
            self.sql(f"alter role service_role set statement_timeout = '{value}'")
        # A listener that reconnects after earlier faults reloads anyway, but only a connected one
        # hears the NOTIFY.
        assert wait_until(lambda: self.sql("select count(*) from pg_stat_activity where application_name = %s",
                                           (f"{GATEWAY_APP}-listener",))[0][0] == 1, timeout=15)
        self.sql("notify pgrst, 'reload schema'")
        assert wait_until(lambda: self.reloads() > seen, timeout=10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    cluster = Cluster(settings.STATE_ROOT / f"faults-{uuid.uuid4().hex[:8]}", free_port())
    log = tmp_path_factory.mktemp("faults") / "gateway.log"
    try:
        cluster.ensure()
        world = build_world(cluster.db_url)
        with running_gateway(cluster.url("authenticator"), log) as (url, _):
            api = Api(url)
            yield Stack(cluster, api, world, log)
            api.close()
    finally:
        cluster.destroy()


FAULTS = ["terminate", "restart"]


def _inject(stack: Stack, fault: str) -> None:
    if fault == "terminate":
        assert stack.terminate_gateway_backends() >= 1
    else:
        stack.restart()


def _assert_recovered(stack: Stack) -> None:
    """The first requests after the database is back succeed: no restart of anything needed."""
    w = stack.world
    checks = [
        stack.api.function("access-check", method="GET", token=w.learner.token),
        stack.api.function("usage-events", token=w.learner.token,
                           json_body={"events": [{"prompt_id": w.published.id, "action": "view"}]}),
        stack.api.rest("GET", f"/prompts?select=id&id=eq.{w.published.id}", token=w.learner.token),
    ]
    assert [r.status_code for r in checks] == [200, 202, 200], [r.text[:200] for r in checks]


def _members(n: int, tag: str) -> list[dict[str, str]]:
    return [{"email": f"m{i}-{tag}@example.org", "first_name": f"First {i}", "last_name": "Last",
             "circle_member_id": f"circle-{i}"} for i in range(n)]


def _sync_state(stack: Stack, cohort: str, delivery: str) -> tuple[int, int, int]:
    """(members of the cohort, applied runs of the delivery, failed runs of the delivery)."""
    members = stack.sql("select count(*) from public.course_cohort_members where cohort_id = %s", (cohort,))[0][0]
    runs = stack.sql("select count(*) filter (where status <> 'failed'), count(*) filter (where status = 'failed')"
                     " from public.course_cohort_sync_runs where delivery_id = %s", (delivery,))[0]
    return members, runs[0], runs[1]


def _writing(stack: Stack, table: str) -> bool:
    return stack.sql(
        "select count(*) from pg_locks l join pg_stat_activity a on a.pid = l.pid"
        " where a.application_name = %s and l.relation = %s::regclass and l.mode = 'RowExclusiveLock'"
        " and l.granted", (GATEWAY_APP, table))[0][0] > 0


def _in_background(call: Callable[[], httpx.Response]):
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(call)
    pool.shutdown(wait=False)
    return future


@pytest.mark.parametrize("fault", FAULTS)
def test_cohort_sync_cut_off_mid_write_is_all_or_nothing_and_a_retry_applies_it_once(stack, fault):
    tag = uuid.uuid4().hex[:8]
    cohort, delivery = f"{PREFIX}faults-{tag}-{stack.world.tag}", f"msg_faults_{fault}_{tag}"
    body = {"cohort_id": cohort, "mode": "snapshot", "members": _members(MEMBERS, tag)}

    started = time.monotonic()
    pending = _in_background(lambda: stack.api.deliver(body, webhook_id=delivery))
    assert wait_until(lambda: _writing(stack, "public.course_cohort_members") or pending.done(), timeout=60)
    cut_mid_write = not pending.done()
    _inject(stack, fault)
    first = pending.result(timeout=120)
    report(f"faults: cohort sync of {MEMBERS} members, {fault} "
           f"{'mid-write' if cut_mid_write else 'after it finished'} -> {first.status_code} "
           f"({time.monotonic() - started:.1f}s)")
    assert cut_mid_write, "the delivery finished before the fault; make it larger"

    members, applied, _ = _sync_state(stack, cohort, delivery)
    if first.status_code == 200:  # committed just before the cut: all of it
        assert (members, applied) == (MEMBERS, 1)
    else:
        assert_function_error(first, 503, "service_unavailable")
        assert first.json()["error"]["message"] == UNAVAILABLE
        assert (members, applied) in ((0, 0), (MEMBERS, 1))  # never a part

    _assert_recovered(stack)
    retry = stack.api.deliver(body, webhook_id=delivery)
    assert retry.status_code == 200, retry.text[:300]
    assert _sync_state(stack, cohort, delivery)[:2] == (MEMBERS, 1)
    assert retry.json()["inserted_count"] + retry.json()["unchanged_count"] == MEMBERS
    assert (retry.headers.get("Idempotent-Replayed") == "true") == (applied == 1)
    again = stack.api.deliver(body, webhook_id=delivery)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == retry.json()


def _versions(stack: Stack, prompt_id: str) -> list[tuple]:
    return stack.sql("select id::text, version_number, markdown_body, published from public.prompt_versions"
                     " where prompt_id = %s order by version_number", (prompt_id,))


def _pointer(stack: Stack, prompt_id: str) -> tuple:
    return stack.sql("select p.current_version_id::text, p.status, v.prompt_id::text, v.published"
                     "  from public.prompts p left join public.prompt_versions v on v.id = p.current_version_id"
                     " where p.id = %s", (prompt_id,))[0]


@pytest.mark.parametrize("source", ["new-content", "draft-version"])
@pytest.mark.parametrize("fault", FAULTS)
def test_publish_cut_off_after_its_first_write_leaves_nothing_and_the_retry_applies_once(stack, fault, source):
    """The publish is held after it wrote (the new version, or the draft's published flag) and
    before it moves the pointer (a SHARE lock on prompts blocks that update); then the fault."""
    with psycopg.connect(stack.cluster.db_url, autocommit=True) as conn:
        prompt = new_prompt(conn, f"faults-{uuid.uuid4().hex[:6]}", published_versions=1, drafts=1)
    body = {"prompt_id": prompt.id}
    body.update({"markdown_body": "# after the fault"} if source == "new-content"
                else {"version_id": prompt.versions[1]})
    versions, pointer = _versions(stack, prompt.id), _pointer(stack, prompt.id)

    holder = psycopg.connect(stack.cluster.admin_url)
    holder.execute("lock table public.prompts in share mode")
    try:
        pending = _in_background(lambda: stack.api.function("publish-prompt", token=stack.world.admin.token,
                                                            json_body=body))
        assert wait_until(lambda: stack.sql(
            "select count(*) from pg_stat_activity where application_name = %s and wait_event_type = 'Lock'"
            " and query like '%%publish_prompt_version%%'", (GATEWAY_APP,))[0][0] == 1, timeout=30)
        _inject(stack, fault)
    finally:
        try:
            holder.rollback()
            holder.close()
        except psycopg.Error:
            pass  # the restart took it down with everything else
    first = pending.result(timeout=60)
    assert_function_error(first, 503, "service_unavailable")
    assert (_versions(stack, prompt.id), _pointer(stack, prompt.id)) == (versions, pointer)

    _assert_recovered(stack)
    retry = stack.api.function("publish-prompt", token=stack.world.admin.token, json_body=body)
    assert retry.status_code == 200, retry.text[:300]
    after = _versions(stack, prompt.id)
    expected_number = 3 if source == "new-content" else 2
    assert [v[1] for v in after] == list(range(1, len(after) + 1)) and retry.json()["version_number"] == expected_number
    assert len(after) == len(versions) + (source == "new-content")
    assert _pointer(stack, prompt.id) == (retry.json()["current_version_id"], "published", prompt.id, True)


def test_publishes_under_repeated_connection_kills_keep_every_invariant(stack):
    """36 publishes from 12 clients while the gateway's connections are killed again and again:
    each answer is 200 or 503, versions stay gap-free, nothing is stored twice, the pointer stays
    valid, and retrying the ones that were not stored applies each exactly once."""
    with psycopg.connect(stack.cluster.db_url, autocommit=True) as conn:
        prompt = new_prompt(conn, f"chaos-{uuid.uuid4().hex[:6]}", published_versions=1)
    bodies = [f"# chaos {i}" for i in range(36)]
    stop = threading.Event()
    kills = Counter()

    def killer() -> None:
        rng = random.Random(7)
        while not stop.is_set():
            time.sleep(rng.uniform(0.005, 0.03))
            kills["rounds"] += 1
            kills["backends"] += stack.terminate_gateway_backends(running="publish_prompt_version")

    def publish(text: str) -> httpx.Response:
        return stack.api.function("publish-prompt", token=stack.world.admin.token,
                                  json_body={"prompt_id": prompt.id, "markdown_body": text})

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            responses = dict(zip(bodies, pool.map(publish, bodies)))
    finally:
        stop.set()
        thread.join()
    statuses = Counter(r.status_code for r in responses.values())
    report(f"faults: {len(bodies)} publishes under {kills['rounds']} kill rounds ({kills['backends']} backends) -> "
           f"{dict(sorted(statuses.items()))}")
    assert set(statuses) <= {200, 503}, {b: r.text[:200] for b, r in responses.items() if r.status_code not in (200, 503)}

    stored = _versions(stack, prompt.id)
    by_body = Counter(v[2] for v in stored)
    assert [v[1] for v in stored] == list(range(1, len(stored) + 1))
    assert max(by_body.values()) == 1
    for text, response in responses.items():
        if response.status_code == 200:
            assert by_body[text] == 1 and (response.json()["version_number"], text) in {(v[1], v[2]) for v in stored}
    pointer = _pointer(stack, prompt.id)
    assert pointer[1:] == ("published", prompt.id, True)

    _assert_recovered(stack)
    missing = [text for text in bodies if by_body[text] == 0]
    retried = [publish(text) for text in missing]
    assert [r.status_code for r in retried] == [200] * len(missing)
    final = _versions(stack, prompt.id)
    assert Counter(v[2] for v in final) == Counter([v[2] for v in stored] + missing)
    assert sorted(v[2] for v in final if v[2].startswith("# chaos")) == sorted(bodies)
    assert [v[1] for v in final] == list(range(1, len(final) + 1))


def test_statement_timeout_on_a_huge_sync_is_a_clean_503_a_failed_run_and_the_retry_applies(stack):
    tag = uuid.uuid4().hex[:8]
    cohort, delivery = f"{PREFIX}timeout-{tag}-{stack.world.tag}", f"msg_timeout_{tag}"
    body = {"cohort_id": cohort, "mode": "snapshot", "members": _members(MEMBERS, tag)}
    stack.set_service_timeout("50ms")
    try:
        refused = stack.api.deliver(body, webhook_id=delivery)
    finally:
        stack.set_service_timeout(None)
    assert_function_error(refused, 503, "service_unavailable")
    assert refused.json()["error"]["message"] == UNAVAILABLE
    assert _sync_state(stack, cohort, delivery) == (0, 0, 1)
    failed = stack.sql("select cohort_id, mode, error_message, failure_reason, finished_at is not null from"
                       " public.course_cohort_sync_runs where delivery_id = %s", (delivery,))
    assert failed == [(cohort, "snapshot", f"service_unavailable: {UNAVAILABLE}", "timeout", True)]

    retry = stack.api.deliver(body, webhook_id=delivery)
    assert retry.status_code == 200, retry.text[:300]
    assert (retry.json()["status"], retry.json()["inserted_count"]) == ("success", MEMBERS)
    assert _sync_state(stack, cohort, delivery) == (MEMBERS, 1, 1)
    report(f"faults: {MEMBERS}-member sync under a 50 ms statement timeout -> {refused.status_code} + failed run;"
           " retry with the normal timeout -> 200")
