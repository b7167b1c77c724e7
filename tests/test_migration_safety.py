"""Migration safety: every migration has a down script in supabase/rollbacks/, and up → down → up
works with the seed data present and gives back exactly the schema the migrations build.

The database tests make their own clusters (the shared session database must never be rolled back
under other tests) and destroy them at the end. "Schema" is compared as a catalog fingerprint:
schemas, extensions, tables, columns, constraints, indexes, policies, functions with their
definitions, triggers, grants (tables, columns, functions, default privileges) and pg_cron jobs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from devstack import rollback, settings
from devstack.cluster import PG_BIN, Cluster, free_port

MIGRATIONS = sorted(rollback.MIGRATIONS_DIR.glob("*.sql"))
VERSIONS = [m.name.split("_", 1)[0] for m in MIGRATIONS]

#: Columns of kept tables that a down script rewrites on purpose (its header says why).
DATA_CHANGED_BY_ROLLBACK = {
    "20261123130300": {"prompts": ("current_version_id", "status", "updated_at")},
    # email_key is derived from email (a generated column); the rollback drops it.
    "20261202100100": {"course_cohort_members": ("email_key",)},
    # success -> succeeded (text again); failure_reason is dropped.
    "20261202100300": {"course_cohort_sync_runs": ("status", "failure_reason")},
    # v1 has no workspaces: every library row loses its workspace_id (all were in the default one).
    "20261202110200": {t: ("workspace_id",) for t in ("prompt_modules", "prompt_lessons", "prompts",
                                                      "prompt_usage_logs")},
}

# -- catalog fingerprint ---------------------------------------------------------------------------


def ours(schema: str) -> str:
    """SQL condition: the schema column names any schema but the system ones and the CLI's history."""
    return f"{schema} not in ('information_schema', 'supabase_migrations') and {schema} !~ '^pg_'"


FINGERPRINT_QUERIES = {
    "schemas": f"""
        select n.nspname, pg_get_userbyid(n.nspowner), coalesce(n.nspacl::text, ''),
               coalesce(obj_description(n.oid, 'pg_namespace'), '')
          from pg_namespace n where {ours('n.nspname')}""",
    "extensions": """
        select e.extname, e.extversion, e.extnamespace::regnamespace::text from pg_extension e""",
    "relations": f"""
        select n.nspname, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity,
               pg_get_userbyid(c.relowner), coalesce(c.relacl::text, ''),
               coalesce(obj_description(c.oid, 'pg_class'), '')
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where {ours('n.nspname')} and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f', 'c')""",
    "columns": f"""
        -- The column's position among the live ones: a column dropped by a rollback and added
        -- again leaves a hole in attnum, but the table reads the same.
        select n.nspname, c.relname,
               row_number() over (partition by a.attrelid order by a.attnum), a.attname, format_type(a.atttypid, a.atttypmod),
               a.attnotnull, coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity,
               a.attgenerated, coalesce(a.attacl::text, ''), coalesce(col_description(c.oid, a.attnum), '')
          from pg_attribute a
          join pg_class c on c.oid = a.attrelid
          join pg_namespace n on n.oid = c.relnamespace
          left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
         where {ours('n.nspname')} and c.relkind in ('r', 'p', 'v', 'm', 'f', 'c')
           and a.attnum > 0 and not a.attisdropped""",
    "constraints": f"""
        select n.nspname, c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid)
          from pg_constraint k
          join pg_class c on c.oid = k.conrelid
          join pg_namespace n on n.oid = c.relnamespace
         where {ours('n.nspname')}""",
    "indexes": f"""
        select i.schemaname, i.tablename, i.indexname, i.indexdef
          from pg_indexes i where {ours('i.schemaname')}""",
    "policies": f"""
        select p.schemaname, p.tablename, p.policyname, p.permissive, p.roles::text, p.cmd,
               coalesce(p.qual, ''), coalesce(p.with_check, '')
          from pg_policies p where {ours('p.schemaname')}""",
    "triggers": f"""
        select n.nspname, c.relname, t.tgname, t.tgenabled, pg_get_triggerdef(t.oid)
          from pg_trigger t
          join pg_class c on c.oid = t.tgrelid
          join pg_namespace n on n.oid = c.relnamespace
         where {ours('n.nspname')} and not t.tgisinternal""",
    "functions": f"""
        select n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind,
               pg_get_userbyid(p.proowner), p.prosecdef, coalesce(p.proacl::text, ''),
               case when p.prokind in ('f', 'p') then pg_get_functiondef(p.oid) else '' end,
               coalesce(obj_description(p.oid, 'pg_proc'), '')
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where {ours('n.nspname')}""",
    "function_privileges": f"""
        select n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), r.rolname,
               has_function_privilege(r.oid, p.oid, 'execute')
          from pg_proc p
          join pg_namespace n on n.oid = p.pronamespace
         cross join pg_roles r
         where {ours('n.nspname')} and n.nspname <> 'extensions'
           and r.rolname in ('anon', 'authenticated', 'service_role')""",
    "table_grants": f"""
        select g.table_schema, g.table_name, g.grantor, g.grantee, g.privilege_type, g.is_grantable
          from information_schema.table_privileges g
         where {ours('g.table_schema')}""",
    "column_grants": f"""
        select g.table_schema, g.table_name, g.column_name, g.grantor, g.grantee, g.privilege_type
          from information_schema.column_privileges g
         where {ours('g.table_schema')}""",
    "default_privileges": """
        select pg_get_userbyid(d.defaclrole), coalesce(d.defaclnamespace::regnamespace::text, ''),
               d.defaclobjtype, d.defaclacl::text
          from pg_default_acl d""",
    "types": f"""
        select n.nspname, t.typname, t.typtype, pg_get_userbyid(t.typowner),
               coalesce(format_type(t.typbasetype, t.typtypmod), '')
          from pg_type t join pg_namespace n on n.oid = t.typnamespace
         where {ours('n.nspname')} and t.typtype in ('d', 'e', 'r', 'm')""",
}
CRON_JOBS_QUERY = "select jobname, schedule, command, database, username, active from cron.job"


def fingerprint(cluster: Cluster) -> dict[str, set[tuple]]:
    """The catalog fingerprint of the cluster's database, read as the superuser."""
    with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
        prints = {name: set(conn.execute(query).fetchall()) for name, query in FINGERPRINT_QUERIES.items()}
        has_cron = conn.execute("select to_regclass('cron.job') is not null").fetchone()[0]
        prints["cron_jobs"] = set(conn.execute(CRON_JOBS_QUERY).fetchall()) if has_cron else set()
    return prints


def schema_diff(actual: dict[str, set[tuple]], expected: dict[str, set[tuple]]) -> dict:
    """Per fingerprint part, the rows only in `actual` (unexpected) and only in `expected` (missing)."""
    out = {}
    for part in sorted(set(actual) | set(expected)):
        a, e = actual.get(part, set()), expected.get(part, set())
        if a != e:
            out[part] = {"unexpected": sorted(a - e, key=str), "missing": sorted(e - a, key=str)}
    return out


# -- data ------------------------------------------------------------------------------------------
def table_data(cluster: Cluster) -> dict[str, list[dict]]:
    """Every row of every table in `public`, by table, in a stable order."""
    with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "select relname from pg_class where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')")]
        return {
            t: [json.loads(r[0]) for r in conn.execute(
                sql.SQL("select to_jsonb(t)::text from public.{} t order by 1").format(sql.Identifier(t)))]
            for t in tables
        }


def without(rows: list[dict], columns: tuple[str, ...]) -> list[str]:
    """The rows with the given columns left out, as sorted JSON texts."""
    return sorted(json.dumps({k: v for k, v in row.items() if k not in columns}, sort_keys=True) for row in rows)


def rows_v1_can_hold(seeded: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The seed rows without those of workspaces other than the default course workspace (its
    down script deletes them: v1 has one library)."""
    default = {r["id"] for r in seeded["workspaces"] if r["is_default"]}
    dropped = {r["id"] for r in seeded["prompts"] if r["workspace_id"] not in default}
    kept = dict(seeded)
    for table in ("prompt_modules", "prompt_lessons", "prompts", "prompt_usage_logs"):
        kept[table] = [r for r in seeded[table] if r["workspace_id"] in default]
    for table in ("prompt_versions", "prompt_favorites"):
        kept[table] = [r for r in seeded[table] if r["prompt_id"] not in dropped]
    return kept


def assert_kept_data(now: dict[str, list[dict]], seeded: dict[str, list[dict]], rolled_back: list[str]) -> None:
    """Each table that still exists holds exactly the seed rows, but for documented rewrites."""
    if "20261202110200" in rolled_back:
        seeded = rows_v1_can_hold(seeded)
    for table, rows in now.items():
        changed = tuple(c for v in rolled_back for c in DATA_CHANGED_BY_ROLLBACK.get(v, {}).get(table, ()))
        assert without(rows, changed) == without(seeded[table], changed), f"rows of {table} changed"
        if table == "prompts" and "20261123130300" in rolled_back:
            assert all(r["current_version_id"] is None for r in rows)
            assert {r["status"] for r in rows} <= {"draft", "archived"}
            archived = {r["id"] for r in seeded[table] if r["status"] == "archived"}
            assert {r["id"] for r in rows if r["status"] == "archived"} == archived


# -- cluster helpers -------------------------------------------------------------------------------
def applied(cluster: Cluster) -> list[str]:
    """The versions in the cluster's migration history, oldest first."""
    return rollback.applied_versions(cluster.db_url)


def new_cluster(tag: str) -> Cluster:
    """A cluster of our own under .devstack/ (not created yet; the caller destroys it)."""
    return Cluster(settings.STATE_ROOT / f"rollback-{tag}-{uuid.uuid4().hex[:8]}", free_port())


def start_bare(cluster: Cluster) -> None:
    """initdb, start and bootstrap: a database as the Supabase image hands it over."""
    cluster.init()
    cluster.write_state()
    cluster.start()
    cluster.bootstrap()


@dataclass
class Seeded:
    """A cluster with every migration and the seed applied, and what it looked like then."""

    cluster: Cluster
    fingerprint: dict[str, set[tuple]]
    data: dict[str, list[dict]]
    dump: Path
    dirty: bool = field(default=False)

    def restore(self) -> None:
        """Re-apply missing migrations, put the seed rows back exactly (triggers off: state, not a test)."""
        if applied(self.cluster) != VERSIONS:
            self.cluster.migrate()
        tables = ", ".join(f"public.{t}" for t in self.data)
        self.cluster.psql("-c", f"truncate {tables}", url=self.cluster.admin_url)
        self.cluster.psql("-f", str(self.dump), url=self.cluster.admin_url)
        self.dirty = False

    def make_clean(self) -> None:
        """Start a test from the seeded state (restored if an earlier test changed it)."""
        if self.dirty:
            self.restore()
        self.dirty = True


@pytest.fixture(scope="module")
def prefix_prints() -> list[dict[str, set[tuple]]]:
    """Fingerprints after the first 0, 1, … N migrations, each applied with `psql --single-transaction`.

    (The CLI runs the same statements in one transaction per file; the one-shot CLI fingerprint is
    checked against the last of these.)
    """
    cluster = new_cluster("prefix")
    try:
        start_bare(cluster)
        prints = [fingerprint(cluster)]
        for migration in MIGRATIONS:
            cluster.psql("--single-transaction", "-f", str(migration))
            prints.append(fingerprint(cluster))
        return prints
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    """A cluster migrated in one go with the CLI and seeded; its data dumped for restores."""
    cluster = new_cluster("seeded")
    try:
        start_bare(cluster)
        cluster.migrate()
        cluster.seed()
        dump = cluster.directory / "seed-data.sql"
        proc = subprocess.run(
            [str(PG_BIN / "pg_dump"), "--data-only", "--schema=public", "--disable-triggers",
             "--dbname", cluster.admin_url, "--file", str(dump)],
            capture_output=True, text=True,
        )
        assert proc.returncode == 0, proc.stderr
        yield Seeded(cluster, fingerprint(cluster), table_data(cluster), dump)
    finally:
        cluster.destroy()


# -- fast checks of the scripts and the tool -------------------------------------------------------
def _code(script: Path) -> str:
    """The script without its comments."""
    text = re.sub(r"/\*.*?\*/", "", script.read_text(), flags=re.S)
    return re.sub(r"--[^\n]*", "", text)


def test_every_migration_has_a_down_script_and_every_down_script_a_migration():
    downs = sorted(p.name.removesuffix(rollback.DOWN_SUFFIX) for p in rollback.ROLLBACKS_DIR.glob("*.sql"))
    assert downs == [m.name.removesuffix(".sql") for m in MIGRATIONS]


@pytest.mark.parametrize("migration", MIGRATIONS, ids=lambda m: m.stem)
def test_down_script_is_one_transaction_that_forgets_its_migration(migration: Path):
    script = rollback.ROLLBACKS_DIR / f"{migration.stem}{rollback.DOWN_SUFFIX}"
    text, code = script.read_text(), _code(script)
    version = migration.name.split("_", 1)[0]
    assert text.startswith(f"/**\n * Rollback of {migration.name}"), "header comment naming the migration"
    statements = [s.strip() for s in code.split(";") if s.strip()]
    assert statements[0] == "begin" and statements[-1] == "commit"
    assert f"delete from supabase_migrations.schema_migrations where version = '{version}'" in statements
    assert not re.search(r"\bdrop\b[^;]*\bcascade\b", code, re.I), \
        "never drop ... cascade: a later object that still depends must stop the rollback"
    if "drop table" in code:
        assert "LOSES DATA" in text, "the header says which data is lost"


def test_rollback_plan_takes_the_newest_first_and_refuses_what_it_cannot_undo():
    scripts = rollback.rollback_scripts()
    assert rollback.plan(VERSIONS, steps=2, scripts=scripts) == [scripts[VERSIONS[-1]], scripts[VERSIONS[-2]]]
    assert rollback.plan(VERSIONS, to=VERSIONS[-3], scripts=scripts) == [scripts[VERSIONS[-1]], scripts[VERSIONS[-2]]]
    assert rollback.plan(VERSIONS, to="0", scripts=scripts) == [scripts[v] for v in reversed(VERSIONS)]
    assert rollback.plan(VERSIONS, to=VERSIONS[-1], scripts=scripts) == []
    with pytest.raises(rollback.RollbackError, match=f"only {len(VERSIONS)} migrations"):
        rollback.plan(VERSIONS, steps=len(VERSIONS) + 1, scripts=scripts)
    with pytest.raises(rollback.RollbackError, match="at least 1"):
        rollback.plan(VERSIONS, steps=0, scripts=scripts)
    with pytest.raises(rollback.RollbackError, match="not an applied migration"):
        rollback.plan(VERSIONS, to="19990101000000", scripts=scripts)
    with pytest.raises(rollback.RollbackError, match="no down script"):
        rollback.plan([*VERSIONS, "29991231235959"], steps=2, scripts=scripts)


# -- the database tests ----------------------------------------------------------------------------
@pytest.mark.slow
def test_migrating_in_one_go_or_one_file_at_a_time_builds_the_same_schema(prefix_prints, seeded: Seeded):
    assert schema_diff(seeded.fingerprint, prefix_prints[-1]) == {}


@pytest.mark.slow
def test_whole_chain_rolls_back_to_a_bare_bootstrap_and_migrates_and_seeds_again(prefix_prints, seeded: Seeded):
    cluster = seeded.cluster
    seeded.make_clean()
    assert applied(cluster) == VERSIONS

    scripts = rollback.plan(applied(cluster), to="0")
    assert [s.name.split("_", 1)[0] for s in scripts] == VERSIONS[::-1]
    for script in scripts:
        i = VERSIONS.index(script.name.split("_", 1)[0])
        rollback.roll_back(cluster.db_url, [script])
        assert schema_diff(fingerprint(cluster), prefix_prints[i]) == {}, f"{script.name} did not undo exactly its migration"
        assert applied(cluster) == VERSIONS[:i]

    # Back to a bare bootstrap: prefix_prints[0] was taken before any migration ran.
    bare = fingerprint(cluster)
    assert not {r for r in bare["relations"] if r[0] == "public"}
    assert not {r for r in bare["functions"] if r[0] in ("public", "private")}
    assert "private" not in {r[0] for r in bare["schemas"]}
    assert "citext" not in {r[0] for r in bare["extensions"]}
    assert not bare["cron_jobs"]

    # auth.users belongs to Supabase Auth, not to a migration: the rollback keeps the seed's users,
    # and seed.sql (written for a fresh `supabase db reset`) inserts them with fixed ids.
    cluster.psql("-c", "delete from auth.users")
    cluster.migrate()
    cluster.seed()
    assert applied(cluster) == VERSIONS
    assert schema_diff(fingerprint(cluster), seeded.fingerprint) == {}


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS[::-1], ids=[m.stem for m in MIGRATIONS[::-1]])
def test_rolled_back_migrations_apply_again_on_the_seed_data(version: str, prefix_prints, seeded: Seeded):
    cluster = seeded.cluster
    seeded.make_clean()
    i = VERSIONS.index(version)

    scripts = rollback.plan(applied(cluster), to=VERSIONS[i - 1] if i else "0")
    rollback.roll_back(cluster.db_url, scripts)
    assert applied(cluster) == VERSIONS[:i]
    assert schema_diff(fingerprint(cluster), prefix_prints[i]) == {}
    kept = table_data(cluster)
    assert_kept_data(kept, seeded.data, VERSIONS[i:])

    cluster.migrate()  # the real CLI, on a database that holds the kept seed rows
    assert applied(cluster) == VERSIONS
    assert schema_diff(fingerprint(cluster), seeded.fingerprint) == {}
    now = table_data(cluster)
    assert_kept_data({t: rows for t, rows in now.items() if t in kept}, seeded.data, VERSIONS[i:])
    for table in set(now) - set(kept):
        if table == "prompt_feature_flags":  # the migration creates both flags, OFF
            assert {(r["key"], r["enabled"]) for r in now[table]} == {
                ("PROMPT_MANAGER_ENABLED", False), ("PROMPT_USAGE_LOGGING_ENABLED", False)}
        elif table == "workspaces":
            assert sorted((r["kind"], r["is_default"]) for r in now[table] if r["kind"] != "personal") == [("course", True)]
            users = {r["user_id"] for r in seeded.data["prompt_admins"]} | {
                r["personal_user_id"] for r in seeded.data["workspaces"] if r["kind"] == "personal"}
            assert {r["personal_user_id"] for r in now[table] if r["kind"] == "personal"} == users
        elif table == "workspace_members":
            assert {r["role"] for r in now[table]} == {"owner"}
        else:
            assert now[table] == [], f"{table} was re-created with rows"

    # The re-created schema takes every seed row back.
    seeded.restore()
    assert table_data(cluster) == seeded.data


@pytest.mark.slow
def test_rollback_command_rolls_back_steps_or_down_to_a_version(seeded: Seeded):
    cluster = seeded.cluster
    seeded.make_clean()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "devstack.rollback", "--name", cluster.directory.name, *args],
                              capture_output=True, text=True, cwd=settings.ROOT)

    dry = run("--to", "0", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.count("would roll back") == len(VERSIONS)
    assert applied(cluster) == VERSIONS
    assert run().returncode == 0  # one step by default
    assert applied(cluster) == VERSIONS[:-1]
    assert run("--steps", "2").returncode == 0
    assert applied(cluster) == VERSIONS[:-3]
    assert run("--to", VERSIONS[2]).returncode == 0
    assert applied(cluster) == VERSIONS[:3]
    refused = run("--steps", "4")
    assert refused.returncode == 2 and "only 3 migrations are applied" in refused.stderr
    assert applied(cluster) == VERSIONS[:3]

    cluster.migrate()
    assert schema_diff(fingerprint(cluster), seeded.fingerprint) == {}
    seeded.restore()
