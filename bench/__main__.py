"""`python -m bench` (`make bench`): load a throwaway stack to the contract's sizes, run every
benchmark against it, print a table and write bench/results/latest.json.

  python -m bench                     # default scale 1 (contract sizes); ~5 minutes on 2 cores
  python -m bench --scale 0.01        # a quick run while developing
  python -m bench --only read,access  # a subset (read, access, ingest, sync, functions, workspaces)
  python -m bench --keep              # keep the loaded cluster; reuse it with --cluster NAME

Every figure is measured against a baseline in the same run; targets are reported, not enforced.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import uuid
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import psycopg

from bench import access_check, cohort_sync, functions, ingest, read_path, workspaces
from bench.common import Results
from bench.generate import Dataset, Loader, Sizes
from devstack import settings
from devstack.cluster import Cluster, free_port

BENCHMARKS = {
    "read": read_path.run,
    "access": access_check.run,
    "ingest": ingest.run,
    "sync": cohort_sync.run,
    "functions": functions.run,
    "workspaces": workspaces.run,
}
RESULTS = Path(__file__).with_name("results") / "latest.json"

# Throwaway cluster only: fewer checkpoints during the bulk load.
CLUSTER_SETTINGS = {"max_wal_size": "8GB", "checkpoint_timeout": "30min"}


def machine_info() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kb = 0
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "load_average_at_start": list(os.getloadavg())}


def server_info(url: str) -> dict:
    with psycopg.connect(url) as conn:
        version = conn.execute("select version()").fetchone()[0]
        rows = conn.execute("""select name, current_setting(name) from pg_settings
                                where name in ('shared_buffers', 'work_mem', 'fsync', 'synchronous_commit',
                                               'max_connections', 'jit', 'max_wal_size')""").fetchall()
    return {"version": version, "settings": dict(rows)}


def print_table(results: Results) -> str:
    header = ["group", "metric", "median", "p95", "runs", "baseline", "ratio", "overhead", "target", "met"]
    rows = []
    for m in results.metrics:
        fmt = (lambda v: f"{v:.3f} {m.unit}") if m.unit != "s" else (lambda v: f"{v:.2f} s")
        rows.append([
            m.group, m.name, fmt(m.median), fmt(m.p95) if m.p95 is not None else "", str(m.runs),
            (f"{fmt(m.baseline_median)} ({m.baseline_name})" if m.baseline_median is not None else ""),
            f"{m.ratio:.2f}" if m.ratio is not None else "",
            fmt(m.extra["overhead_ms"]) if "overhead_ms" in m.extra else "", m.target or "",
            {True: "yes", False: "NO", None: ""}[m.met],
        ])
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def markdown_table(results: Results) -> str:
    out = ["| benchmark | median | p95 | runs | baseline (median) | ratio | overhead | target | met |",
           "|---|---|---|---|---|---|---|---|---|"]
    for m in results.metrics:
        unit = " s" if m.unit == "s" else " ms"
        fmt = (lambda v: f"{v:.2f}{unit}") if m.unit == "s" else (lambda v: f"{v:.3f}{unit}")
        out.append("| " + " | ".join([
            f"{m.group}: {m.name}", fmt(m.median), fmt(m.p95) if m.p95 is not None else "", str(m.runs),
            f"{m.baseline_name}: {fmt(m.baseline_median)}" if m.baseline_median is not None else "",
            f"{m.ratio:.2f}" if m.ratio is not None else "",
            fmt(m.extra["overhead_ms"]) if "overhead_ms" in m.extra else "", m.target or "",
            {True: "yes", False: "**no**", None: ""}[m.met]]) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplier of the contract sizes (default 1)")
    parser.add_argument("--seed", type=int, default=42, help="data generator seed (default 42)")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset of: "
                        + ", ".join(BENCHMARKS))
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"results JSON (default {RESULTS})")
    parser.add_argument("--keep", action="store_true", help="keep the cluster (prints its name) for --cluster")
    parser.add_argument("--cluster", help="reuse a cluster kept with --keep (skips the load)")
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    if args.cluster:
        cluster = Cluster.named(args.cluster)
        cluster.start()
        saved = json.loads((cluster.directory / "dataset.json").read_text())
        sizes = Sizes(**saved.pop("sizes"))
        data = Dataset(sizes=sizes, **saved)
    else:
        name = f"bench-{uuid.uuid4().hex[:8]}"
        cluster = Cluster(settings.STATE_ROOT / name, free_port())
    results = Results()
    report: dict = {}
    try:
        if not args.cluster:
            print(f"creating throwaway cluster {cluster.directory.name} on port {cluster.port}", flush=True)
            cluster.ensure(seed=False)
            with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
                for key, value in CLUSTER_SETTINGS.items():
                    conn.execute(f"alter system set {key} = '{value}'")
                conn.execute("select pg_reload_conf()")
            data = Loader(cluster.admin_url, args.scale, args.seed).load()
            saved = asdict(data)
            (cluster.directory / "dataset.json").write_text(json.dumps(saved))
        durations = {}
        for name in only:
            print(f"\n== {name} ==", flush=True)
            start = time.perf_counter()
            first = len(results.metrics)
            BENCHMARKS[name](cluster.db_url, data, results)
            durations[name] = round(time.perf_counter() - start, 1)
            for m in results.metrics[first:]:
                print(f"   {m.name}: median {m.median:.3f} {m.unit}"
                      + (f", ratio {m.ratio:.2f}" if m.ratio is not None else ""), flush=True)
            print(f"   ({durations[name]:.0f} s)", flush=True)
        table = print_table(results)
        print("\n" + table)
        for note in results.notes:
            print(f"note: {note}")
        report = {
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
            "machine": machine_info(),
            "postgres": server_info(cluster.db_url),
            "dataset": data.as_dict(),
            "benchmark_seconds": durations,
            "total_seconds": round(time.perf_counter() - started, 1),
            "metrics": [m.as_dict() for m in results.metrics],
            "notes": results.notes,
            "sections": results.sections,
            "markdown_table": markdown_table(results),
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.output.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(report, indent=2) + "\n")
        tmp.replace(args.output)
        print(f"\nwrote {args.output} (total {report['total_seconds']:.0f} s)")
    finally:
        if args.keep or args.cluster:
            print(f"cluster kept: {cluster.directory.name} (port {cluster.port}); "
                  f"reuse with --cluster {cluster.directory.name}; remove with: "
                  f"python -c \"from devstack.cluster import Cluster; Cluster.named('{cluster.directory.name}').destroy()\"")
        else:
            cluster.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
