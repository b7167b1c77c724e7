"""Access check at 100k members: the policy helper and the check_prompt_access() RPC.

Server-side time comes from a PL/pgSQL loop that EXECUTEs the statement and reads
clock_timestamp() around each call: EXECUTE plans the statement afresh every time, so each call
pays what one PostgREST statement pays (the function's own planning included). The loop's
`select 1` figure is printed as the floor of that method. Client round trips (prepared
statements over loopback TCP, one transaction per call as PostgREST) are measured separately.
"""

from __future__ import annotations

import time

import psycopg

from bench.common import Metric, Results, claims_for, ms, sample, set_claims, summary

TARGET_MS = 0.2

TIMER = """
create or replace function pg_temp.bench_time(statement text, n integer)
    returns double precision[]
    language plpgsql
as $$
declare
    t0 timestamptz;
    out double precision[] := '{}';
    ignored text;
begin
    for i in 1..n loop
        t0 := clock_timestamp();
        execute statement into ignored;
        out := out || (extract(epoch from clock_timestamp() - t0) * 1000)::double precision;
    end loop;
    return out;
end;
$$;
"""


def server_loop(conn: psycopg.Connection, claims: dict, statement: str, n: int) -> list[float]:
    """Per-call server-side milliseconds of `statement`, run n times as `claims`."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(TIMER)
        set_claims(cur, claims)
        cur.execute("select pg_temp.bench_time(%s, %s)", (statement, n))
        return cur.fetchone()[0]


def client_loop(conn: psycopg.Connection, claims: dict, statement: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        with conn.transaction(), conn.cursor() as cur:
            set_claims(cur, claims)
            start = time.perf_counter()
            cur.execute(statement)
            cur.fetchall()
            out.append(ms(time.perf_counter() - start))
    return out


def run(db_url: str, data, results: Results, runs: int = 2000, budget_s: float = 10.0) -> None:
    learner = claims_for("authenticated", data.learner["id"], data.learner["email"])
    outsider = claims_for("authenticated", data.outsider["id"], data.outsider["email"])
    members = data.sizes.members
    cases = [
        ("fn_user_has_prompt_access() (member)", learner, "select public.fn_user_has_prompt_access()"),
        ("fn_user_has_prompt_access() (non-member)", outsider, "select public.fn_user_has_prompt_access()"),
        ("fn_is_prompt_admin()", learner, "select public.fn_is_prompt_admin()"),
        ("check_prompt_access() RPC (member)", learner, "select public.check_prompt_access()"),
        ("check_prompt_access() RPC (non-member)", outsider, "select public.check_prompt_access()"),
    ]
    with psycopg.connect(db_url) as conn:
        floor = summary(server_loop(conn, learner, "select 1", runs))
        results.note(f"server loop floor (EXECUTE 'select 1'): median {floor['median'] * 1000:.1f} us")
        for name, claims, statement in cases:
            server_loop(conn, claims, statement, 5)  # warm-up
            s = summary(sample(lambda: server_loop(conn, claims, statement, 100), runs, budget_s))
            results.add(Metric(
                group="access check", name=f"{name}: in SQL", unit="ms", median=s["median"], p95=s["p95"],
                runs=s["runs"], target=f"median <= {TARGET_MS} ms", met=s["median"] <= TARGET_MS,
                notes=f"server side, {members:,} members; loop floor {floor['median'] * 1000:.1f} us",
            ))
            client_loop(conn, claims, statement, 5)
            c = summary(sample(lambda: client_loop(conn, claims, statement, 10), runs, budget_s))
            results.add(Metric(
                group="access check", name=f"{name}: round trip", unit="ms", median=c["median"], p95=c["p95"],
                runs=c["runs"], notes="client, one transaction per call as PostgREST (set_config not timed)",
            ))
