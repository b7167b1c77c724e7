"""Usage ingest: ingest_usage_events() with 500-event batches as a learner under RLS, vs raw COPY.

Both write the same rows into the same table (10M rows at scale 1, with its indexes, foreign
keys and the version-stamping trigger), one batch of 500 per transaction, alternating batch by
batch. The RPC batch is timed as PostgREST runs it: begin, set_config (role + claims),
`select ingest_usage_events($1)`, commit. The COPY batch: begin, COPY 500 rows as the table
owner (postgres, BYPASSRLS; triggers and foreign keys still fire), commit.
"""

from __future__ import annotations

import json
import random
import time

import psycopg

from bench.common import Metric, Results, claims_for, set_claims, summary

BATCH = 500
TARGET = 0.5


def _events(rng: random.Random, prompt_ids: list[str], n: int, base: float) -> list[dict]:
    events = []
    for k in range(n):
        event = {
            "prompt_id": prompt_ids[int(rng.random() ** 2 * len(prompt_ids))],
            "action": rng.choice(["view", "view", "view", "copy", "favorite"]),
            "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + k)),
        }
        if rng.random() < 0.3:
            event["metadata"] = {"source": rng.choice(["web", "mobile"]), "lesson_step": rng.randrange(5)}
        events.append(event)
    return events


def _copy_text(user_id: str, events: list[dict]) -> str:
    lines = []
    for e in events:
        meta = json.dumps(e["metadata"]) if "metadata" in e else "\\N"
        lines.append(f"{user_id}\t{e['prompt_id']}\t{e['action']}\t{e['occurred_at']}\t{meta}\n")
    return "".join(lines)


def run(db_url: str, data, results: Results, batches: int = 60, seed: int = 7) -> None:
    rng = random.Random(seed)
    learner = claims_for("authenticated", data.learner["id"], data.learner["email"])
    base = time.time() - 86400  # occurred_at must lie within the last 30 days (and not ahead)
    prepared = []
    for b in range(batches + 3):
        events = _events(rng, data.visible_prompt_ids, BATCH, base + b * BATCH)
        prepared.append((json.dumps(events), _copy_text(data.learner["id"], events)))
    rpc_times, copy_times = [], []
    with psycopg.connect(db_url) as rconn, psycopg.connect(db_url) as cconn:
        for i, (payload, text) in enumerate(prepared):
            start = time.perf_counter()
            with rconn.transaction(), rconn.cursor() as cur:
                set_claims(cur, learner)
                cur.execute("select public.ingest_usage_events(%s::jsonb)", (payload,))
                counts = cur.fetchone()[0]
            rpc = time.perf_counter() - start
            if counts != {"accepted": BATCH, "anonymized": 0, "dropped": 0}:
                raise RuntimeError(f"ingest_usage_events returned {counts}")
            start = time.perf_counter()
            with cconn.transaction(), cconn.cursor() as cur:
                with cur.copy("copy public.prompt_usage_logs (user_id, prompt_id, action, occurred_at, metadata)"
                              " from stdin") as copy:
                    copy.write(text)
            cp = time.perf_counter() - start
            if i >= 3:  # the first batches warm both paths up
                rpc_times.append(rpc * 1000)
                copy_times.append(cp * 1000)
    r, c = summary(rpc_times), summary(copy_times)
    rpc_rate, copy_rate = BATCH / r["median"] * 1000, BATCH / c["median"] * 1000
    ratio = rpc_rate / copy_rate
    results.add(Metric(
        group="usage ingest", name="ingest_usage_events(500) as learner: batch", unit="ms",
        median=r["median"], p95=r["p95"], runs=r["runs"], baseline_name="COPY 500 rows",
        baseline_median=c["median"], ratio=ratio, target=f"rows/s >= {TARGET} x COPY", met=ratio >= TARGET,
        notes=f"{rpc_rate:,.0f} rows/s vs COPY {copy_rate:,.0f} rows/s (ratio = RPC rows/s / COPY rows/s)",
        extra={"rows_per_s": rpc_rate, "copy_rows_per_s": copy_rate, "baseline_p95": c["p95"]},
    ))
