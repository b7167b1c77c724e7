"""Learner reads under RLS vs the same read as service_role (BYPASSRLS).

The contract's read path (target: ratio <= 1.3), as a learner's client sends it through PostgREST:
- list: a module's prompts, 50, ordered by position (`GET /prompts?module_id=eq.X
  &order=position.asc,id.asc&limit=50`), once leaving drafts and deleted prompts to RLS, once
  with the explicit `status=eq.published&is_deleted=is.false` filter;
- current version: one prompt with its current version embedded (`GET /prompts?id=eq.X
  &select=...,current_version:prompt_versions!prompts_current_version_id_fkey(...)`).
For the record, two other learner reads on the big tables: their own latest usage events (with
and without `user_id=eq.<own id>`) and their own cohort memberships.

Statements have PostgREST's shape (the rows aggregated to one JSON body in the database). The
baseline is the same statement as service_role, with explicit filters so it returns the same rows.
Each role has its own connection (a role switch makes a prepared statement re-plan) and the two
alternate run by run. Reported per statement: client-observed latency over loopback TCP
(prepared statements, as PostgREST runs them) and server-side execution time (EXPLAIN ANALYZE,
timing off), each with its ratio and the absolute overhead.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from bench.common import (SERVICE_ROLE, Metric, Results, claims_for, explain_text, ms, sample, server_ms,
                          set_claims, summary)
from bench.generate import Dataset

def pgrst(source: str) -> str:
    """Wrap a read the way PostgREST does: one JSON body built in the database."""
    return ("with pgrst_source as (" + source + ") select pg_catalog.count(_postgrest_t) as page_total, "
            "coalesce(json_agg(_postgrest_t), '[]')::text as body from (select * from pgrst_source) _postgrest_t")


COLUMNS = ("id, module_id, lesson_id, slug, title, description, tags, position, status, current_version_id, "
           "published_at")
# GET /prompts?select=...&module_id=eq.X&order=position.asc,id.asc&limit=50
LIST_RLS_ONLY = pgrst(f"select {COLUMNS} from public.prompts where module_id = %s order by position, id limit 50")
# ... &status=eq.published&is_deleted=is.false
LIST_FILTERED = pgrst(f"select {COLUMNS} from public.prompts where module_id = %s and status = 'published' "
                      "and is_deleted is false order by position, id limit 50")
# GET /prompts?id=eq.X&select=id,slug,title,current_version:prompt_versions!prompts_current_version_id_fkey(...)
CURRENT_VERSION_SOURCE = """
select p.id, p.slug, p.title, p.status, row_to_json(cv.*)::jsonb as current_version
  from public.prompts p
  left join lateral (
       select v.id, v.version_number, v.markdown_body, v.changelog, v.published_at
         from public.prompt_versions v
        where v.prompt_id = p.id and v.id = p.current_version_id) cv on true
 where p.id = %s"""
CURRENT_VERSION = pgrst(CURRENT_VERSION_SOURCE)
CURRENT_VERSION_FILTERED = pgrst(CURRENT_VERSION_SOURCE + " and p.status = 'published' and p.is_deleted is false")
# GET /course_cohort_members?select=cohort_id,status,revoked_at (RLS limits a learner to their e-mail)
OWN_MEMBERSHIPS_RLS = pgrst("select cohort_id, status, revoked_at from public.course_cohort_members")
OWN_MEMBERSHIPS = pgrst("select cohort_id, status, revoked_at from public.course_cohort_members "
                        "where email = %s::extensions.citext")
# GET /prompt_usage_logs?select=...&order=occurred_at.desc&limit=20 (RLS: own rows only), and the
# same with &user_id=eq.<own id>
_EVENTS = "select id, prompt_id, action, occurred_at from public.prompt_usage_logs"
OWN_EVENTS_RLS = pgrst(_EVENTS + " order by occurred_at desc limit 20")
OWN_EVENTS_FILTERED = pgrst(_EVENTS + " where user_id = %s order by occurred_at desc limit 20")

TARGET = 1.3


def _client_run(conn: psycopg.Connection, claims: dict, sql: str, params: tuple, expect: int | None) -> float:
    """One request as PostgREST runs it; returns the seconds the statement itself took."""
    import time

    with conn.transaction(), conn.cursor() as cur:
        set_claims(cur, claims)
        start = time.perf_counter()
        cur.execute(sql, params)
        count, _body = cur.fetchone()
        took = time.perf_counter() - start
    if expect is not None and count != expect:
        raise RuntimeError(f"expected {expect} rows, got {count} for {sql[:120]}")
    return took


def _server_run(conn: psycopg.Connection, claims: dict, sql: str, params: tuple) -> float:
    with conn.transaction(), conn.cursor() as cur:
        set_claims(cur, claims)
        return server_ms(cur, sql, params)[1]


@dataclass
class Case:
    name: str
    learner_sql: str           # what the learner's client sends
    baseline_sql: str          # the same read as service_role, returning the same rows
    params: tuple
    expect: int | None         # rows returned (checked on every run), when fixed
    target: bool = True        # the contract's read path (ratio target applies)

    def learner_params(self) -> tuple:
        return self.params if "%s" in self.learner_sql else ()


def run(db_url: str, data: Dataset, results: Results, runs: int = 2000, server_runs: int = 500,
        budget_s: float = 10.0) -> None:
    learner = claims_for("authenticated", data.learner["id"], data.learner["email"])
    module, prompt = (data.module_id,), (data.module_prompt_id,)
    cases = [
        Case("list 50 (RLS only)", LIST_RLS_ONLY, LIST_FILTERED, module, 50),
        Case("list 50 (explicit filter)", LIST_FILTERED, LIST_FILTERED, module, 50),
        Case("current version", CURRENT_VERSION, CURRENT_VERSION_FILTERED, prompt, 1),
        # Other learner reads, for the record: see bench/README.md on `own row OR admin` policies.
        Case("own usage events, latest 20 (user_id filter)", OWN_EVENTS_FILTERED, OWN_EVENTS_FILTERED,
             (data.learner["id"],), None, target=False),
        Case("own usage events, latest 20 (RLS only)", OWN_EVENTS_RLS, OWN_EVENTS_FILTERED,
             (data.learner["id"],), None, target=False),
        Case("own cohort memberships (RLS only)", OWN_MEMBERSHIPS_RLS, OWN_MEMBERSHIPS,
             (data.learner["email"],), None, target=False),
    ]
    with psycopg.connect(db_url) as lconn, psycopg.connect(db_url) as sconn:
        # Plans first: the reader sees InitPlans (once per statement), never a per-row helper call.
        plans = {}
        with lconn.transaction(), lconn.cursor() as cur:
            set_claims(cur, learner)
            for case in cases:
                plans[f"learner: {case.name}"] = explain_text(cur, case.learner_sql, case.learner_params())
        with sconn.transaction(), sconn.cursor() as cur:
            set_claims(cur, SERVICE_ROLE)
            for case in cases[1:3]:
                plans[f"service_role: {case.name}"] = explain_text(cur, case.baseline_sql, case.params)
        text = "\n\n".join(f"-- {title}\n{plan}" for title, plan in plans.items())
        results.sections["read path plans (EXPLAIN ANALYZE, BUFFERS)"] = text
        print(text, flush=True)

        for case in cases:
            lparams = case.learner_params()

            def learner_run() -> float:
                return ms(_client_run(lconn, learner, case.learner_sql, lparams, case.expect))

            def baseline_run() -> float:
                return ms(_client_run(sconn, SERVICE_ROLE, case.baseline_sql, case.params, case.expect))

            # warm caches and let both connections prepare their statements (a slow case: once)
            warm = 20 if learner_run() < 50 else 1
            for _ in range(warm):
                learner_run(), baseline_run()
            pairs = sample(lambda: [(learner_run(), baseline_run())], runs, budget_s, min_runs=5)
            _add(results, f"{case.name}: statement latency", [a for a, _ in pairs], [b for _, b in pairs],
                 "client round trip, prepared", case.target)
            pairs = sample(lambda: [(_server_run(lconn, learner, case.learner_sql, lparams),
                                     _server_run(sconn, SERVICE_ROLE, case.baseline_sql, case.params))],
                           server_runs, budget_s / 2, min_runs=5)
            _add(results, f"{case.name}: server execution", [a for a, _ in pairs], [b for _, b in pairs],
                 "EXPLAIN ANALYZE execution time", None)


def _add(results: Results, name: str, rls: list[float], base: list[float], how: str, target: bool | None) -> None:
    s, b = summary(rls), summary(base)
    ratio = s["median"] / b["median"]
    results.add(Metric(
        group="read path", name=name, unit="ms", median=s["median"], p95=s["p95"], runs=s["runs"],
        baseline_name="service_role", baseline_median=b["median"], ratio=ratio,
        target=f"ratio <= {TARGET}" if target else None, met=(ratio <= TARGET) if target else None,
        notes=f"{how}; overhead {1000 * (s['median'] - b['median']):.0f} us per statement",
        extra={"baseline_p95": b["p95"]},
    ))
