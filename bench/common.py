"""Shared pieces of the benchmarks: acting as a role like PostgREST does, timing, and results.

Every benchmark measures its own baseline in the same run and reports a ratio, so the figures
hold on a busy machine. Nothing here asserts a timing: targets are reported, never enforced.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import psycopg


def claims_for(role: str, user_id: str | None = None, email: str | None = None,
               app_metadata: dict | None = None) -> dict:
    """JWT claims shaped like a Supabase Auth access token (or an API key for the API roles):
    the helpers parse the whole claims object, so its size is part of what is measured."""
    now = int(time.time())
    if role != "authenticated":
        return {"iss": "supabase-demo", "role": role, "exp": now + 3600}
    return {
        "iss": "http://127.0.0.1:54321/auth/v1", "aud": "authenticated", "exp": now + 3600, "iat": now,
        "sub": user_id, "email": email, "phone": "", "role": "authenticated",
        "app_metadata": app_metadata or {"provider": "email", "providers": ["email"]},
        "user_metadata": {"email": email, "email_verified": True, "full_name": "Bench Learner"},
        "aal": "aal1", "amr": [{"method": "password", "timestamp": now}],
        "session_id": "00000000-0000-4000-8000-000000000000", "is_anonymous": False,
    }


SERVICE_ROLE = claims_for("service_role")


def set_claims(cur: psycopg.Cursor, claims: dict) -> None:
    """What PostgREST runs at the start of every request's transaction."""
    cur.execute(
        "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
        (claims["role"], json.dumps(claims)),
    )


@contextmanager
def acting_as(conn: psycopg.Connection, claims: dict) -> Iterator[psycopg.Cursor]:
    """A transaction in which the connection acts as `claims` (role + request.jwt.claims)."""
    with conn.transaction(), conn.cursor() as cur:
        set_claims(cur, claims)
        yield cur


def ms(seconds: float) -> float:
    return seconds * 1000.0


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "p95": percentile(values, 95), "runs": len(values)}


def sample(step: Callable[[], list[float]], runs: int, budget_s: float, min_runs: int = 30) -> list[float]:
    """Call step() (which returns one or more samples) until `runs` samples, or until `budget_s`
    seconds have passed and at least `min_runs` were taken: a slow case cannot stall the run."""
    out: list[float] = []
    deadline = time.monotonic() + budget_s
    while len(out) < runs and (len(out) < min_runs or time.monotonic() < deadline):
        out.extend(step())
    return out[:runs]


def timed(fn: Callable[[], object]) -> float:
    """Wall-clock seconds one call of fn takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@dataclass
class Metric:
    """One line of the results table (and one entry of latest.json)."""

    group: str
    name: str
    unit: str
    median: float
    p95: float | None
    runs: int
    baseline_name: str | None = None
    baseline_median: float | None = None
    ratio: float | None = None  # median / baseline median (for rates: value / baseline)
    target: str | None = None
    met: bool | None = None
    notes: str | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, {}, "")}


class Results:
    """Collects metrics and the text (plans, checks) a reader should see."""

    def __init__(self) -> None:
        self.metrics: list[Metric] = []
        self.notes: list[str] = []
        self.sections: dict[str, str] = {}

    def add(self, metric: Metric) -> Metric:
        self.metrics.append(metric)
        return metric

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)


def server_ms(cur: psycopg.Cursor, sql: str, params: tuple = ()) -> tuple[float, float]:
    """(planning ms, execution ms) of one statement, from EXPLAIN (ANALYZE, TIMING OFF)."""
    cur.execute("explain (analyze, timing off, summary, format json) " + sql, params)
    plan = cur.fetchone()[0][0]
    return plan["Planning Time"], plan["Execution Time"]


def explain_text(cur: psycopg.Cursor, sql: str, params: tuple = ()) -> str:
    cur.execute("explain (analyze, buffers, costs off) " + sql, params)
    return "\n".join(row[0] for row in cur.fetchall())
