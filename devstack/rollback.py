"""`make rollback`: undo the newest applied migrations with their `supabase/rollbacks/` scripts.

``python -m devstack.rollback [--steps N | --to VERSION] [--name CLUSTER] [--dry-run]``

The applied migrations are read from ``supabase_migrations.schema_migrations`` (where
``supabase migration up`` records them). Their down scripts,
``supabase/rollbacks/<version>_<name>.down.sql``, run newest first, each in its own transaction
(psql with ON_ERROR_STOP); each deletes its own history row, so ``supabase migration up``
(``make start``) applies the migration again. Nothing runs unless every migration to roll back has
a script. Down scripts drop tables: read their header for the data they lose.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from devstack import settings
from devstack.cluster import Cluster, ClusterError

MIGRATIONS_DIR = settings.ROOT / "supabase" / "migrations"
ROLLBACKS_DIR = settings.ROOT / "supabase" / "rollbacks"
DOWN_SUFFIX = ".down.sql"


class RollbackError(ClusterError):
    """A rollback cannot be planned or a down script failed; the message says which."""


def rollback_scripts(directory: Path = ROLLBACKS_DIR) -> dict[str, Path]:
    """Down scripts by migration version (the timestamp before the first underscore)."""
    return {p.name.split("_", 1)[0]: p for p in sorted(directory.glob(f"*{DOWN_SUFFIX}"))}


def _psql(db_url: str, *args: str) -> subprocess.CompletedProcess:
    """psql with ON_ERROR_STOP and no psqlrc; raises RollbackError on failure."""
    proc = subprocess.run(["psql", db_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", *args],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RollbackError(f"psql {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc


def applied_versions(db_url: str) -> list[str]:
    """Versions recorded by `supabase migration up`, oldest first (none when the table is absent)."""
    table = "supabase_migrations.schema_migrations"
    if _psql(db_url, "-Atc", f"select to_regclass('{table}') is not null").stdout.strip() != "t":
        return []
    return _psql(db_url, "-Atc", f"select version from {table} order by version").stdout.split()


def plan(applied: list[str], *, steps: int | None = None, to: str | None = None,
         scripts: dict[str, Path] | None = None) -> list[Path]:
    """The down scripts to run, newest first: the newest `steps`, or everything newer than `to`."""
    scripts = rollback_scripts() if scripts is None else scripts
    newest_first = sorted(applied, reverse=True)
    if to is not None:
        if to != "0" and to not in applied:
            raise RollbackError(f"--to {to}: not an applied migration (applied: {', '.join(applied) or 'none'})")
        chosen = [v for v in newest_first if to == "0" or v > to]
    else:
        if steps is None or steps < 1:
            raise RollbackError("--steps must be at least 1")
        if steps > len(applied):
            raise RollbackError(f"--steps {steps}: only {len(applied)} migrations are applied")
        chosen = newest_first[:steps]
    missing = [v for v in chosen if v not in scripts]
    if missing:
        raise RollbackError(f"no down script in {ROLLBACKS_DIR} for: {', '.join(missing)}")
    return [scripts[v] for v in chosen]


#: A down script that drops triggers on ``auth.users`` says so with this line. Dropping a trigger
#: needs the table's owner in plain PostgreSQL; on Supabase, supautils' ``drop_trigger_grants``
#: lets ``postgres`` do it. Locally such a script runs as the superuser; every other as given.
SUPERUSER_MARK = "-- devstack: runs as the superuser locally (drops triggers on auth.users)"


def roll_back(db_url: str, down_scripts: list[Path]) -> None:
    """Run the down scripts in the given order, stopping at the first failure."""
    for script in down_scripts:
        url = db_url
        if SUPERUSER_MARK in script.read_text():
            url = db_url.replace("postgresql://postgres:", "postgresql://supabase_admin:", 1)
        _psql(url, "-f", str(script))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.rollback", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--steps", type=int, help="roll back the newest N applied migrations (default 1)")
    which.add_argument("--to", metavar="VERSION",
                       help="roll back every migration newer than VERSION (0: all of them)")
    parser.add_argument("--name", default="dev", help="cluster name under the state root (default: dev)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    args = parser.parse_args(argv)

    cluster = Cluster.named(args.name, settings.DB_PORT if args.name == "dev" else None)
    try:
        if not cluster.is_running():
            raise RollbackError(f"cluster '{args.name}' is not running (run `make start`)")
        steps = 1 if args.steps is None else args.steps
        scripts = plan(applied_versions(cluster.db_url), steps=steps, to=args.to)
        for script in scripts:
            print(f"{'would roll back' if args.dry_run else 'rolling back'} {script.name.removesuffix(DOWN_SUFFIX)}",
                  flush=True)
            if not args.dry_run:
                roll_back(cluster.db_url, [script])
    except ClusterError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 2
    if scripts and not args.dry_run:
        print("done; `make start` (supabase migration up) applies them again")
    elif not scripts:
        print("nothing to roll back")
    return 0


if __name__ == "__main__":
    sys.exit(main())
