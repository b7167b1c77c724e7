"""`make test`: one throwaway stack, pgTAP with pg_prove, then pytest against the same database.

Each run gets its own cluster directory and free port, so two runs never clash; the cluster is
destroyed at the end, pass or fail. Exit status is non-zero when either suite fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from devstack import settings
from devstack.cluster import Cluster, ClusterError, free_port

PGTAP_DIR = settings.ROOT / "supabase" / "tests" / "database"
PGTAP_JOBS = 2


def run_pgtap(cluster: Cluster) -> int:
    """pg_prove over supabase/tests/database/*.test.sql, as `postgres` (like `supabase test db`)."""
    files = sorted(str(p) for p in PGTAP_DIR.glob("*.test.sql"))
    if not files:
        print("pgTAP: no test files found", file=sys.stderr)
        return 1
    print(f"== pgTAP: {len(files)} files", flush=True)
    # pg_prove mangles a URL with a query string, so hand it libpq's separate settings.
    env = {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": str(cluster.port), "PGUSER": "postgres",
           "PGPASSWORD": "postgres", "PGDATABASE": "postgres", "PGSSLMODE": "disable"}
    # Two jobs: every file runs in its own transaction and rolls back, so files do not see each
    # other's rows (a row both touch waits for the other's rollback at worst).
    return subprocess.run(["pg_prove", "--jobs", str(PGTAP_JOBS), "--failures", *files], env=env).returncode


def run_pytest(cluster: Cluster, args: list[str]) -> int:
    """pytest over tests/, reusing the cluster through DEVSTACK_TEST_DB_URL."""
    print("== pytest", flush=True)
    env = {**os.environ, "DEVSTACK_TEST_DB_URL": cluster.db_url}
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=settings.ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    cluster = Cluster(settings.STATE_ROOT / f"test-{uuid.uuid4().hex[:8]}", free_port())
    try:
        cluster.ensure()
        pgtap = run_pgtap(cluster)
        pytest = run_pytest(cluster, argv)
    except ClusterError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 2
    finally:
        cluster.destroy()
    print(f"== pgTAP {'passed' if pgtap == 0 else 'FAILED'}, pytest {'passed' if pytest == 0 else 'FAILED'}")
    return 0 if pgtap == 0 and pytest == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
