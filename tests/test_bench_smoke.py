"""`make bench` keeps working: every benchmark runs end to end at a tiny scale and writes its JSON.

No timing is asserted here (performance is measured by `make bench`, not tested); this only keeps
the benchmark code from rotting as the schema changes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from devstack import settings


@pytest.mark.slow
def test_every_benchmark_runs_at_a_tiny_scale(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "0.002", "--output", str(out)],
        cwd=settings.ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["dataset"]["scale"] == 0.002
    assert results["dataset"]["counts"]["public.prompts"] > 0
    groups = {m["group"] for m in results["metrics"]}
    assert len(groups) >= 6, groups  # read path, access check, ingest, cohort sync, functions, workspaces
    assert "workspaces" in groups, groups
    assert all(m["runs"] > 0 and m["median"] is not None for m in results["metrics"])
