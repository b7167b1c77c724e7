"""Workspace reads under RLS (contract §8, §16): a member vs service_role, at 1..1000 memberships.

The contract's target: a viewer's read costs at most a constant ~0.2 ms over the same read as
service_role, never per row, and not growing with the caller's memberships or the data. Reads, in
PostgREST's shape (rows aggregated to one JSON body in the database), as a member's client sends them:
- list: one workspace's prompts, 50, ordered by position (`GET /prompts?workspace_id=eq.W
  &order=position.asc,id.asc&limit=50`; drafts and deleted prompts are left to RLS), in the target
  team workspace (~80 prompts at scale 1) and in the big one (2% of the workspace prompts);
- single prompt with its current version embedded (`GET /prompts?id=eq.X&select=...,
  current_version:prompt_versions!...(...)`);
- unfiltered list (`GET /prompts?order=position.asc,id.asc&limit=50`): every workspace the caller
  reads. Its cost grows with the rows the caller can read, for the baseline as much as under RLS.
The baseline is the same statement as service_role with the filters RLS adds written out (the
caller's workspace arrays as literals), so both return the same rows. Each role has its own
connection (prepared statements, as PostgREST), alternating run by run. The overhead is the
difference of the medians; the target applies to the client-observed statement latency.

The role helper itself: server-side time of `select private.caller_workspace_ids(...)` per call
(a PL/pgSQL loop EXECUTEs it, as access_check.py does), at every membership level.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from bench.access_check import server_loop
from bench.common import SERVICE_ROLE, Metric, Results, claims_for, explain_text, ms, sample, set_claims, summary
from bench.generate import Dataset
from bench.read_path import COLUMNS, CURRENT_VERSION, CURRENT_VERSION_FILTERED, _client_run, _server_run, pgrst

TARGET_MS = 0.2

LIST = pgrst(f"select {COLUMNS}, workspace_id from public.prompts where workspace_id = %s "
             "order by position, id limit 50")
LIST_BASELINE = pgrst(f"select {COLUMNS}, workspace_id from public.prompts where workspace_id = %s "
                      "and status = 'published' and is_deleted is false order by position, id limit 50")
UNFILTERED = pgrst(f"select {COLUMNS}, workspace_id from public.prompts order by position, id limit 50")
# What the prompts select policy adds, with the caller's arrays written out.
UNFILTERED_BASELINE = pgrst(
    f"select {COLUMNS}, workspace_id from public.prompts "
    "where (status = 'published' and not is_deleted and workspace_id = any(%s::uuid[])) "
    "or workspace_id = any(%s::uuid[]) order by position, id limit 50")
HELPERS = {
    "caller_workspace_ids('viewer')": "select private.caller_workspace_ids('viewer')",
    "caller_workspace_ids('contributor')": "select private.caller_workspace_ids('contributor')",
}


@dataclass
class Case:
    name: str
    member_sql: str
    member_params: tuple
    baseline_sql: str
    baseline_params: tuple
    expect: int | None


def caller_arrays(conn: psycopg.Connection, claims: dict) -> tuple[list[str], list[str]]:
    """The caller's viewer and contributor workspace arrays, as the policies see them."""
    with conn.transaction(), conn.cursor() as cur:
        set_claims(cur, claims)
        cur.execute("select private.caller_workspace_ids('viewer')::text[], "
                    "private.caller_workspace_ids('contributor')::text[]")
        viewer, contributor = cur.fetchone()
    return viewer, contributor


def run(db_url: str, data: Dataset, results: Results, runs: int = 1000, server_runs: int = 300,
        budget_s: float = 5.0) -> None:
    target, big = data.target_workspace, data.big_workspace
    members = data.ws_members
    size = data.sizes.prompts + data.sizes.workspace_prompts
    summary_rows = []
    with psycopg.connect(db_url) as mconn, psycopg.connect(db_url) as sconn:
        floor = summary(server_loop(mconn, SERVICE_ROLE, "select 1", 500))["median"]
        results.note(f"workspaces: {data.sizes.shared_workspaces:,} team/course workspaces, {size:,} prompts; "
                     f"target workspace {target['published']} visible prompts, big one {big['published']}; "
                     f"server loop floor {floor * 1000:.1f} us")
        for member in members:
            n = member["memberships"]
            claims = claims_for("authenticated", member["id"], member["email"])
            viewer, contributor = caller_arrays(mconn, claims)
            cases = [
                Case("list 50, one workspace", LIST, (target["id"],), LIST_BASELINE, (target["id"],),
                     min(50, target["published"])),
                Case("single prompt + current version", CURRENT_VERSION, (data.workspace_prompt_id,),
                     CURRENT_VERSION_FILTERED, (data.workspace_prompt_id,), 1),
                Case("unfiltered list 50", UNFILTERED, (), UNFILTERED_BASELINE, (viewer, contributor), 50),
            ]
            if n > 1:
                cases.insert(1, Case("list 50, big workspace", LIST, (big["id"],), LIST_BASELINE, (big["id"],),
                                     min(50, big["published"])))
            if n == max(m["memberships"] for m in members):
                plans = []
                for role, conn, sql_of, params_of in (("member", mconn, "member_sql", "member_params"),
                                                      ("service_role", sconn, "baseline_sql", "baseline_params")):
                    with conn.transaction(), conn.cursor() as cur:
                        set_claims(cur, claims if role == "member" else SERVICE_ROLE)
                        for case in cases:
                            plans.append(f"-- {role} ({n} memberships): {case.name}\n"
                                         + explain_text(cur, getattr(case, sql_of), getattr(case, params_of)))
                text = "\n\n".join(plans)
                results.sections[f"workspace read plans, {n} memberships (EXPLAIN ANALYZE, BUFFERS)"] = text
                print(text, flush=True)
            for case in cases:
                def member_run() -> float:
                    return ms(_client_run(mconn, claims, case.member_sql, case.member_params, case.expect))

                def baseline_run() -> float:
                    return ms(_client_run(sconn, SERVICE_ROLE, case.baseline_sql, case.baseline_params, case.expect))

                for _ in range(20):  # warm caches; both connections prepare their statements
                    member_run(), baseline_run()
                pairs = sample(lambda: [(member_run(), baseline_run())], runs, budget_s, min_runs=5)
                latency = _add(results, f"{case.name} ({n} memberships): statement latency", pairs,
                               "client round trip, prepared", target=True)
                pairs = sample(lambda: [(_server_run(mconn, claims, case.member_sql, case.member_params),
                                         _server_run(sconn, SERVICE_ROLE, case.baseline_sql, case.baseline_params))],
                               server_runs, budget_s / 2, min_runs=5)
                server = _add(results, f"{case.name} ({n} memberships): server execution", pairs,
                              "EXPLAIN ANALYZE execution time", target=False)
                summary_rows.append((case.name, n, latency, server))
            for label, statement in HELPERS.items():
                server_loop(mconn, claims, statement, 5)
                s = summary(sample(lambda: server_loop(mconn, claims, statement, 100), runs, budget_s))
                metric = results.add(Metric(
                    group="workspaces", name=f"{label} ({n} memberships): in SQL", unit="ms", median=s["median"],
                    p95=s["p95"], runs=s["runs"], target=f"median <= {TARGET_MS} ms", met=s["median"] <= TARGET_MS,
                    notes=f"server side, one call as one statement; loop floor {floor * 1000:.1f} us",
                ))
                summary_rows.append((label, n, metric, None))
    lines = [f"{'read':36s} {'memberships':>11s} {'overhead (latency)':>19s} {'overhead (server)':>18s}"]
    for name, n, latency, server in summary_rows:
        if server is None:
            lines.append(f"{name:36s} {n:>11d} {latency.median:>16.3f} ms {'(helper cost)':>18s}")
        else:
            lines.append(f"{name:36s} {n:>11d} {latency.extra['overhead_ms']:>16.3f} ms "
                         f"{server.extra['overhead_ms']:>15.3f} ms")
    table = "\n".join(lines)
    results.sections[f"workspace overhead by memberships ({size:,} prompts)"] = table
    print(table, flush=True)


def _add(results: Results, name: str, pairs: list[tuple[float, float]], how: str, target: bool) -> Metric:
    s, b = summary([a for a, _ in pairs]), summary([b for _, b in pairs])
    overhead = s["median"] - b["median"]
    return results.add(Metric(
        group="workspaces", name=name, unit="ms", median=s["median"], p95=s["p95"], runs=s["runs"],
        baseline_name="service_role", baseline_median=b["median"], ratio=s["median"] / b["median"],
        target=f"overhead <= {TARGET_MS} ms" if target else None,
        met=(overhead <= TARGET_MS) if target else None,
        notes=f"{how}; overhead {1000 * overhead:.0f} us per statement",
        extra={"baseline_p95": b["p95"], "overhead_ms": round(overhead, 4)},
    ))
