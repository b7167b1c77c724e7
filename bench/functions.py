"""Function overhead: each HTTP function through the local stack vs its RPC called directly.

The stack is what `make dev` serves: the gateway (PostgREST stand-in + functions under
/functions/v1/) as a subprocess, logging in as `authenticator`. A function request goes client
-> gateway -> function (JWT or webhook signature check, pydantic validation) -> supabase client
-> gateway /rest/v1/rpc -> database. The baseline calls the same RPC directly with psycopg in one
transaction with the same role and claims (what PostgREST itself runs), so the difference is
what the HTTP layers add.

A small thread pool sends the requests; every task makes one direct call and one HTTP call, in
random order, so both see the same load. At least 1,000 of each per function.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from bench.common import SERVICE_ROLE, Metric, Results, claims_for, set_claims, summary
from devstack import settings
from devstack.cluster import free_port

TARGET_MS = 5.0
USAGE_BATCH = 25
SYNC_MEMBERS = 10


class Gateway:
    """`python -m devstack.gateway` on a free port, stopped (by its pid) on exit."""

    def __init__(self, authenticator_url: str, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {**os.environ, "SUPABASE_URL": self.url, "PYTHONUNBUFFERED": "1"}
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "devstack.gateway", "--db-url", authenticator_url, "--port", str(self.port),
             "--quiet"], cwd=settings.ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def __enter__(self) -> "Gateway":
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.url}/_devstack/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("gateway did not become ready")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def _events(rng: random.Random, prompt_ids: list[str]) -> list[dict]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [{"prompt_id": rng.choice(prompt_ids), "action": rng.choice(["view", "copy"]), "occurred_at": now,
             "metadata": {"source": "web"}} for _ in range(USAGE_BATCH)]


def _sync_body(cohort: str, tag: str) -> dict:
    return {"cohort_id": cohort, "mode": "delta",
            "members": [{"email": f"fo.{tag}.{k}@bench.example.org", "first_name": f"F{k}", "last_name": "Bench"}
                        for k in range(SYNC_MEMBERS)]}


def run(db_url: str, data, results: Results, requests: int = 1000, levels: tuple[int, ...] = (1, 4)) -> None:
    from devstack.tokens import sign_in
    from functions.sign_webhook import signature_headers

    learner_token = sign_in(db_url, data.learner["email"])
    admin_token = sign_in(db_url, data.admin["email"], admin=True)
    learner = claims_for("authenticated", data.learner["id"], data.learner["email"])
    admin = claims_for("authenticated", data.admin["id"], data.admin["email"],
                       {"provider": "email", "providers": ["email"], "prompt_admin": True})
    secret = settings.webhook_secret()
    prompts = data.visible_prompt_ids[: max(requests * 2, 100)]
    authenticator_url = db_url.replace("postgresql://postgres:", "postgresql://authenticator:", 1)
    counter = iter(range(10**9))
    lock = threading.Lock()

    def next_n() -> int:
        with lock:
            return next(counter)

    # name -> (direct(conn, rng, n), http(client, base, rng, n)); each returns a status to check
    def access_direct(conn, rng, n):
        with conn.transaction(), conn.cursor() as cur:
            set_claims(cur, learner)
            cur.execute("select public.check_prompt_access()")
            return cur.fetchone()[0]["has_access"]

    def access_http(client, base, rng, n):
        r = client.get(f"{base}/functions/v1/access-check", headers={"Authorization": f"Bearer {learner_token}"})
        return r.status_code == 200 and r.json()["has_access"]

    def usage_direct(conn, rng, n):
        with conn.transaction(), conn.cursor() as cur:
            set_claims(cur, learner)
            cur.execute("select public.ingest_usage_events(%s::jsonb)", (json.dumps(_events(rng, prompts)),))
            return cur.fetchone()[0]["accepted"] == USAGE_BATCH

    def usage_http(client, base, rng, n):
        r = client.post(f"{base}/functions/v1/usage-events", json={"events": _events(rng, prompts)},
                        headers={"Authorization": f"Bearer {learner_token}"})
        return r.status_code == 202 and r.json()["accepted"] == USAGE_BATCH

    def publish_body(n):
        return {"prompt_id": prompts[n % len(prompts)], "markdown_body": f"# Benchmark revision {n}\n\nBe concise.",
                "changelog": "benchmark"}

    def publish_direct(conn, rng, n):
        body = publish_body(n)
        with conn.transaction(), conn.cursor() as cur:
            set_claims(cur, admin)
            cur.execute("select public.publish_prompt_version(%s, null, %s, %s)",
                        (body["prompt_id"], body["markdown_body"], body["changelog"]))
            return cur.fetchone()[0]["status"] == "published"

    def publish_http(client, base, rng, n):
        r = client.post(f"{base}/functions/v1/publish-prompt", json=publish_body(n),
                        headers={"Authorization": f"Bearer {admin_token}"})
        return r.status_code == 200 and r.json()["status"] == "published"

    def sync_direct(conn, rng, n):
        body = _sync_body(f"bench-fo-{n % 64}", uuid.uuid4().hex[:12])
        with conn.transaction(), conn.cursor() as cur:
            set_claims(cur, SERVICE_ROLE)
            cur.execute("select public.sync_cohort_members(%s, %s::jsonb)", (f"bench-direct-{uuid.uuid4()}", json.dumps(body)))
            return cur.fetchone()[0]["inserted_count"] == SYNC_MEMBERS

    def sync_http(client, base, rng, n):
        raw = json.dumps(_sync_body(f"bench-fo-{n % 64}", uuid.uuid4().hex[:12])).encode()
        headers = signature_headers(raw, secret, f"msg_{uuid.uuid4().hex}", datetime.now(UTC))
        r = client.post(f"{base}/functions/v1/cohort-sync", content=raw,
                        headers={**headers, "Content-Type": "application/json"})
        return r.status_code == 200 and r.json()["inserted_count"] == SYNC_MEMBERS

    cases = [
        ("access-check", "check_prompt_access()", access_direct, access_http),
        ("usage-events", f"ingest_usage_events({USAGE_BATCH} events)", usage_direct, usage_http),
        ("publish-prompt", "publish_prompt_version(new content)", publish_direct, publish_http),
        ("cohort-sync", f"sync_cohort_members(delta, {SYNC_MEMBERS} members)", sync_direct, sync_http),
    ]
    log_path = Path(settings.STATE_ROOT) / f"bench-gateway-{uuid.uuid4().hex[:8]}.log"
    local = threading.local()
    opened: list = []  # every thread's connection and client, closed at the end
    state: dict = {}

    def task(seed: int) -> None:
        if not hasattr(local, "conn"):
            local.conn, local.client = psycopg.connect(db_url), httpx.Client(timeout=60)
            with lock:
                opened.extend([local.conn, local.client])
        _name, _rpc, direct, http = state["case"]
        rng = random.Random(seed)
        order = [("direct", direct, (local.conn,)), ("http", http, (local.client, state["url"]))]
        rng.shuffle(order)
        for kind, fn, args in order:
            n = next_n()
            start = time.perf_counter()
            ok = fn(*args, rng, n)
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                if not ok:
                    state["failures"].append(kind)
                state["times"][kind].append(elapsed)

    try:
        with Gateway(authenticator_url, log_path) as gw:
            state["url"] = gw.url
            for workers in levels:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    for case in cases:
                        _measure(pool, task, state, case, requests, workers, results, log_path)
    finally:
        for resource in opened:
            resource.close()
    log_path.unlink(missing_ok=True)


def _measure(pool, task, state: dict, case, requests: int, workers: int, results: Results, log_path: Path) -> None:
    name, rpc = case[0], case[1]
    state.update(case=case, failures=[], times={"direct": [], "http": []})
    list(pool.map(task, range(40)))  # warm-up: connections, function apps, plans
    state["times"] = {"direct": [], "http": []}
    list(pool.map(task, range(1000, 1000 + requests)))
    if state["failures"]:
        raise RuntimeError(f"{name}: {len(state['failures'])} calls failed; see {log_path}")
    d, h = summary(state["times"]["direct"]), summary(state["times"]["http"])
    overhead = h["median"] - d["median"]
    threads = f"{workers} client thread{'s' if workers > 1 else ''}"
    results.add(Metric(
        group="function overhead", name=f"{name} over HTTP, {threads}", unit="ms", median=h["median"],
        p95=h["p95"], runs=h["runs"], baseline_name=f"RPC {rpc} via psycopg", baseline_median=d["median"],
        ratio=h["median"] / d["median"], target=f"p50 overhead <= {TARGET_MS:g} ms", met=overhead <= TARGET_MS,
        notes=f"p50 overhead {overhead:.2f} ms, p95 overhead {h['p95'] - d['p95']:.2f} ms; {threads}",
        extra={"overhead_p50_ms": overhead, "overhead_p95_ms": h["p95"] - d["p95"], "baseline_p95": d["p95"],
               "client_threads": workers},
    ))
