"""Injection attempts through every part of the grammar are refused (400/404) or stored as data."""

from __future__ import annotations

import pytest

HOSTILE = "x'); drop table public.gw_items; --"


def table_is_intact(conn) -> bool:
    return conn.execute("select to_regclass('public.gw_items') is not null").fetchone()[0]


@pytest.mark.parametrize(
    "query",
    [
        f"name=eq.{HOSTILE}",
        f"name=like.{HOSTILE}",
        f"name=in.({HOSTILE},\"a\\\",b\")",
        f"or=(name.eq.{HOSTILE.replace(',', '')},qty.eq.1)",
        f"data->>{HOSTILE}=eq.1",
        "tags=cs.{\"}'); drop table public.gw_items; --\"}",
        f"name=fts(english).{HOSTILE}",
    ],
)
def test_filter_values_are_data(items, rest, learner, query):
    raw = rest("GET", f"/gw_items?{query}", token=learner)
    assert raw.status_code in (200, 400)
    if raw.status_code == 200:
        assert raw.json() == []
    assert table_is_intact(items)


@pytest.mark.parametrize(
    "path, status",
    [
        ('/gw_items?select=id,"name; drop table public.gw_items"', 400),
        ("/gw_items?select=id,(select 1)", 400),
        ("/gw_items?select=id::text);drop table public.gw_items;--", 400),
        ("/gw_items?select=pg_sleep(1)", 400),
        ('/gw_items?order=name;drop table public.gw_items', 400),
        ("/gw_items?order=(select 1)", 400),
        ('/gw_items?"name; drop table public.gw_items"=eq.1', 400),
        ("/gw_items?name;drop table public.gw_items=eq.1", 400),
        ("/gw_items%3Bdrop%20table%20public.gw_items", 404),
        ('/gw_items"%20--', 404),
        ("/rpc/gw_add%3Bdrop%20table%20public.gw_items", 404),
        ("/gw_items?limit=1;drop table public.gw_items", 400),
        ("/gw_items?offset=0%20or%201=1", 400),
    ],
)
def test_identifiers_and_clauses_outside_the_catalog_are_refused(items, rest, learner, path, status):
    raw = rest("GET", path, token=learner)
    assert raw.status_code == status, raw.text
    assert table_is_intact(items)


def test_hostile_values_are_stored_verbatim(items, as_learner):
    weird = {"name": HOSTILE, "note": "$1 %s %(x)s \\x00 ' \" ; -- /*", "tags": ["a,b", "}{", "\"q\""],
             "data": {"k": "'); drop table x; --", HOSTILE: [1, 2]}}
    as_learner.table("gw_items").insert(weird).execute()
    row = as_learner.table("gw_items").select("name, note, tags, data").eq("name", HOSTILE).single().execute()
    assert row.data == weird
    assert table_is_intact(items)


def test_hostile_upsert_and_update_targets(items, rest, learner):
    raw = rest("POST", "/gw_items?on_conflict=name);drop table public.gw_items;--", token=learner,
               json={"name": "a"}, headers={"Prefer": "resolution=merge-duplicates"})
    assert raw.status_code == 400
    raw = rest("PATCH", "/gw_items?name=eq.a", token=learner, json={"name\"; drop table x; --": "b"})
    assert (raw.status_code, raw.json()["code"]) == (400, "PGRST204")
    raw = rest("POST", "/gw_items?columns=name,\"qty) values (1); drop table x; --\"", token=learner,
               json=[{"name": "c"}])
    assert (raw.status_code, raw.json()["code"]) == (400, "PGRST204")
    assert table_is_intact(items)


def test_hostile_rpc_argument_names_and_values(items, rest, learner):
    raw = rest("POST", "/rpc/gw_add", token=learner, json={"a": 1, "b := 1); drop table x; --": 2})
    assert (raw.status_code, raw.json()["code"]) == (404, "PGRST202")
    raw = rest("POST", "/rpc/gw_echo", token=learner, json={"t": HOSTILE})
    assert raw.json() == HOSTILE
    raw = rest("GET", f"/rpc/gw_echo?t={HOSTILE}", token=learner)
    assert raw.json() == HOSTILE
    assert table_is_intact(items)


def test_hostile_role_claim_is_only_a_role_name(items, rest):
    from devstack.tokens import mint

    raw = rest("GET", "/gw_notes", token=mint({"role": "anon; drop table public.gw_items"}))
    assert (raw.status_code, raw.json()["code"]) == (401, "22023")
    assert table_is_intact(items)
