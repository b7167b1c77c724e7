"""`make advisors`: the real `supabase db advisors` (splinter) against the local database.

Uses the running dev cluster when there is one, else a throwaway freshly migrated one. Prints
every finding and exits non-zero on any WARN or ERROR.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

from devstack import settings
from devstack.cluster import SUPABASE_CLI, Cluster, ClusterError, free_port


def advisors(db_url: str) -> list[dict]:
    """All findings (INFO and up) of the security and performance advisors."""
    proc = subprocess.run(
        [str(SUPABASE_CLI), "db", "advisors", f"--remote={db_url}", "--type", "all", "--level", "info",
         "--fail-on", "none", "-o", "json"],
        capture_output=True, text=True, cwd=settings.ROOT,
    )
    if proc.returncode != 0:
        raise ClusterError(f"supabase db advisors failed:\n{proc.stdout}{proc.stderr}")
    out = proc.stdout.strip()
    return json.loads(out[out.index("["):]) if "[" in out else []


def main() -> int:
    dev = Cluster.named("dev", settings.DB_PORT)
    throwaway = None
    try:
        if dev.is_running():
            url = dev.db_url
        else:
            throwaway = Cluster(settings.STATE_ROOT / f"advisors-{uuid.uuid4().hex[:8]}", free_port())
            url = throwaway.ensure().db_url
        findings = advisors(url)
    except ClusterError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 2
    finally:
        if throwaway:
            throwaway.destroy()
    for f in findings:
        print(f"{f['level']:5} {f['name']}: {f['detail']}")
    bad = [f for f in findings if f["level"] in ("WARN", "ERROR")]
    print(f"advisors: {len(bad)} WARN/ERROR, {len(findings) - len(bad)} INFO")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
