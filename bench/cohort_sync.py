"""Cohort sync: sync_cohort_members() snapshots vs a naive row-by-row upsert.

Scenarios (50k members at scale 1; at least 500):
- initial: a snapshot into an empty cohort (every row inserted);
- again:   the same snapshot, new delivery id (nothing changed: must write 0 rows);
- 1% changed: the snapshot with 1% of the members renamed.
Each runs as the service role in one transaction, timed from the RPC call to commit. What the
transaction wrote is read from pg_stat_xact_user_tables before commit (n_tup_ins/upd/del) and
from the rows' xmin after it. The baseline sends one INSERT ... ON CONFLICT DO UPDATE per member
from the client (then one UPDATE for members missing from the snapshot): what a sync written
without a set-based RPC does.
"""

from __future__ import annotations

import json
import time

import psycopg

from bench.common import SERVICE_ROLE, Metric, Results, set_claims, summary

TARGETS = {"initial": 3.0, "again": 1.0, "1% changed": 1.0}

NAIVE_UPSERT = """
insert into public.course_cohort_members as m
       (cohort_id, email, first_name, last_name, circle_member_id, status, revoked_at, source_hash, last_synced_at)
values (%s, %s, %s, %s, %s, 'active', null,
        md5(jsonb_build_array(%s::text, %s::text, %s::text, %s::text, 'active')::text), now())
on conflict (cohort_id, email) do update
   set first_name = excluded.first_name, last_name = excluded.last_name,
       circle_member_id = excluded.circle_member_id, status = excluded.status, revoked_at = null,
       source_hash = excluded.source_hash, last_synced_at = excluded.last_synced_at"""
NAIVE_DEACTIVATE = """
update public.course_cohort_members m
   set status = 'inactive', revoked_at = now(), last_synced_at = now()
 where m.cohort_id = %s and m.status = 'active' and not (m.email = any(%s::extensions.citext[]))"""


def snapshot(n: int, renamed: set[int] = frozenset(), tag: str = "") -> list[dict]:
    return [{"email": f"Sync.Member{k}@Bench.Example.org ", "first_name": f"First{k}{tag if k in renamed else ''}",
             "last_name": f"Last{k}", "circle_member_id": f"circle-sync-{k}"} for k in range(n)]


def _writes(cur: psycopg.Cursor) -> dict:
    cur.execute("""select n_tup_ins, n_tup_upd, n_tup_del from pg_stat_xact_user_tables
                    where relid = 'public.course_cohort_members'::regclass""")
    ins, upd, dele = cur.fetchone()
    return {"inserted": ins, "updated": upd, "deleted": dele}


def rpc_sync(conn: psycopg.Connection, cohort: str, delivery: str, members: list[dict]) -> tuple[float, dict, dict]:
    """(seconds, RPC summary, writes seen by the transaction) for one snapshot delivery."""
    payload = json.dumps({"cohort_id": cohort, "mode": "snapshot", "members": members})
    with conn.transaction(), conn.cursor() as cur:
        set_claims(cur, SERVICE_ROLE)
        cur.execute("select pg_current_wal_insert_lsn()")
        lsn = cur.fetchone()[0]
        start = time.perf_counter()
        cur.execute("select public.sync_cohort_members(%s, %s::jsonb)", (delivery, payload))
        result = cur.fetchone()[0]
        rpc_seconds = time.perf_counter() - start
        writes = _writes(cur)
        cur.execute("select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)::bigint", (lsn,))
        writes["wal_bytes"] = cur.fetchone()[0]
        cur.execute("select pg_current_xact_id()::text")
        xid = int(cur.fetchone()[0]) % 2**32
        commit_start = time.perf_counter()
    seconds = rpc_seconds + time.perf_counter() - commit_start
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("select count(*) from public.course_cohort_members where cohort_id = %s and xmin::text = %s",
                    (cohort, str(xid)))
        writes["rows_with_this_xmin"] = cur.fetchone()[0]
    return seconds, result, writes


def naive_sync(conn: psycopg.Connection, cohort: str, members: list[dict]) -> float:
    start = time.perf_counter()
    with conn.transaction(), conn.cursor() as cur:
        set_claims(cur, SERVICE_ROLE)
        emails = []
        for m in members:
            email = m["email"].strip().lower()
            emails.append(email)
            cur.execute(NAIVE_UPSERT, (cohort, email, m["first_name"], m["last_name"], m["circle_member_id"],
                                       email, m["first_name"], m["last_name"], m["circle_member_id"]))
        cur.execute(NAIVE_DEACTIVATE, (cohort, emails))
    return time.perf_counter() - start


def run(db_url: str, data, results: Results, runs: int = 3, naive_runs: int = 1) -> None:
    n = max(500, round(50_000 * data.sizes.scale))
    base = snapshot(n)
    changed = max(1, n // 100)
    timings: dict[str, list[float]] = {k: [] for k in TARGETS}
    naive: dict[str, list[float]] = {k: [] for k in TARGETS}
    checks = []
    with psycopg.connect(db_url) as conn:
        for r in range(runs):
            cohort = f"bench-sync-{r}"
            secs, res, writes = rpc_sync(conn, cohort, f"bench-{cohort}-initial", base)
            timings["initial"].append(secs)
            if res["inserted_count"] != n:
                raise RuntimeError(f"initial snapshot: {res}")
            secs, res, writes = rpc_sync(conn, cohort, f"bench-{cohort}-again", base)
            timings["again"].append(secs)
            checks.append(("again", res, writes))
            if res["unchanged_count"] != n:
                raise RuntimeError(f"repeated snapshot: {res}")
            renamed = set(range(r * changed, (r + 1) * changed))
            secs, res, writes = rpc_sync(conn, cohort, f"bench-{cohort}-changed", snapshot(n, renamed, "x"))
            timings["1% changed"].append(secs)
            checks.append(("1% changed", res, writes))
            if res["updated_count"] != changed:
                raise RuntimeError(f"1% changed snapshot: {res}")
        for r in range(naive_runs):
            cohort = f"bench-naive-{r}"
            naive["initial"].append(naive_sync(conn, cohort, base))
            naive["again"].append(naive_sync(conn, cohort, base))
            naive["1% changed"].append(naive_sync(conn, cohort, snapshot(n, set(range(changed)), "x")))
    for scenario, target in TARGETS.items():
        s, b = summary(timings[scenario]), summary(naive[scenario])
        written = [w for name, _res, w in checks if name == scenario]
        note = f"{n:,} members"
        if written:
            w = written[-1]
            note += (f"; writes in the sync transaction: {w['inserted']} inserted, {w['updated']} updated, "
                     f"{w['deleted']} deleted; rows carrying its xmin: {w['rows_with_this_xmin']}; "
                     f"WAL {w['wal_bytes'] / 1024:,.0f} kB")
        results.add(Metric(
            group="cohort sync", name=f"snapshot {scenario}", unit="s", median=s["median"], p95=s["p95"],
            runs=s["runs"], baseline_name="naive row-by-row upsert", baseline_median=b["median"],
            ratio=s["median"] / b["median"], target=f"<= {target:g} s", met=s["median"] <= target, notes=note,
            extra={"writes": written[-1] if written else None, "baseline_runs": b["runs"]},
        ))
