"""The Docker-less stack behaves like a Supabase database where this project relies on it."""

from __future__ import annotations

import json
import subprocess

import psycopg
import pytest

from devstack.cluster import BOOTSTRAP_SQL


def _as(conn: psycopg.Connection, role: str, claims: dict) -> None:
    """Act as PostgREST does: transaction-local role and request.jwt.claims."""
    conn.execute("select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                 (role, json.dumps(claims)))


def test_auth_helpers_return_the_claims_like_supabase(db):
    claims = {"sub": "8d0fd2b3-9ca7-4b0e-8e2f-3d1e0b1a1c11", "role": "authenticated",
              "email": "Learner@Example.com", "app_metadata": {"prompt_admin": True}}
    _as(db, "authenticated", claims)
    row = db.execute("select auth.uid()::text, auth.role(), auth.email(), auth.jwt()").fetchone()
    assert row[0] == claims["sub"]
    assert row[1] == "authenticated"
    assert row[2] == "Learner@Example.com"
    assert row[3] == claims


def test_auth_helpers_are_null_without_claims(db):
    row = db.execute("select auth.uid(), auth.role(), auth.email(), auth.jwt()").fetchone()
    assert row == (None, None, None, None)


def test_auth_helpers_read_empty_settings_as_null_after_a_request(db_url):
    """After a transaction-local set_config the GUC reads back as '' (not NULL) in the session."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        with conn.transaction():
            conn.execute("select set_config('request.jwt.claims', '{\"sub\": \"x\"}', true)")
        assert conn.execute("select current_setting('request.jwt.claims', true)").fetchone()[0] == ""
        assert conn.execute("select auth.uid(), auth.jwt()").fetchone() == (None, None)


@pytest.mark.parametrize(
    "role, login, inherit, bypassrls, superuser",
    [
        ("anon", False, False, False, False),
        ("authenticated", False, False, False, False),
        ("service_role", False, False, True, False),
        ("authenticator", True, False, False, False),
        ("postgres", True, True, True, False),
    ],
)
def test_role_attributes_match_supabase(db, role, login, inherit, bypassrls, superuser):
    row = db.execute(
        "select rolcanlogin, rolinherit, rolbypassrls, rolsuper from pg_roles where rolname = %s", (role,)
    ).fetchone()
    assert row == (login, inherit, bypassrls, superuser)


def test_authenticator_can_switch_to_each_api_role(authenticator_url):
    with psycopg.connect(authenticator_url) as conn:
        for role in ("anon", "authenticated", "service_role"):
            with conn.transaction(force_rollback=True):
                conn.execute(f"set local role {role}")
                assert conn.execute("select current_user").fetchone()[0] == role


def test_api_roles_have_supabase_statement_timeouts(db):
    rows = dict(db.execute(
        "select r.rolname, s.setconfig from pg_db_role_setting s join pg_roles r on r.oid = s.setrole"
    ).fetchall())
    assert "statement_timeout=3s" in rows["anon"]
    assert "statement_timeout=8s" in rows["authenticated"]


def test_cli_recorded_every_migration(db):
    from pathlib import Path

    files = sorted(p.name for p in (Path(__file__).parent.parent / "supabase" / "migrations").glob("*.sql"))
    versions = [f.split("_", 1)[0] for f in files]
    recorded = [r[0] for r in db.execute(
        "select version from supabase_migrations.schema_migrations order by version").fetchall()]
    assert versions, "no migrations found"
    assert recorded == versions


def test_bootstrap_refuses_a_database_that_already_has_an_auth_schema(admin_url):
    proc = subprocess.run(["psql", admin_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(BOOTSTRAP_SQL)],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'bootstrap refused: schema "auth" already exists' in proc.stderr


def test_extensions_live_outside_public(db):
    rows = db.execute(
        "select e.extname, n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace"
    ).fetchall()
    assert all(schema != "public" for _, schema in rows), rows
