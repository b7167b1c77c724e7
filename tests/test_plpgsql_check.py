"""Static checks of every PL/pgSQL function in the schema with plpgsql_check (as on Supabase)."""

from __future__ import annotations

import pytest


def _plpgsql_functions(db) -> list[tuple]:
    return db.execute(
        """
        select p.oid, p.oid::regprocedure::text, p.prorettype = 'trigger'::regtype,
               (select t.tgrelid from pg_trigger t where t.tgfoid = p.oid limit 1)
          from pg_proc p
          join pg_namespace n on n.oid = p.pronamespace
          join pg_language l on l.oid = p.prolang
         where n.nspname in ('public', 'private') and l.lanname = 'plpgsql'
         order by 2
        """
    ).fetchall()


def test_every_plpgsql_function_passes_plpgsql_check(db):
    functions = _plpgsql_functions(db)
    assert len(functions) >= 15, functions
    problems = []
    for oid, name, is_trigger, relid in functions:
        if is_trigger and relid is None:
            continue  # a trigger function no trigger uses cannot be checked (and would be dead code)
        rows = db.execute(
            "select level, message, lineno from extensions.plpgsql_check_function_tb(%s, %s, fatal_errors => false,"
            " other_warnings => false, extra_warnings => false)",
            (oid, relid or 0),
        ).fetchall()
        problems += [f"{name} line {line}: {level} {message}" for level, message, line in rows if level == "error"]
    assert problems == []


def test_every_trigger_function_is_used_by_a_trigger(db):
    unused = [name for _, name, is_trigger, relid in _plpgsql_functions(db) if is_trigger and relid is None]
    assert unused == []


@pytest.mark.parametrize("schema", ["public", "private"])
def test_every_function_pins_an_empty_search_path(db, schema):
    rows = db.execute(
        """
        select p.oid::regprocedure::text
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where n.nspname = %s
           and not coalesce('search_path=""' = any(p.proconfig), false)
        """,
        (schema,),
    ).fetchall()
    assert rows == []
