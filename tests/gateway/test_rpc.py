"""``/rest/v1/rpc/<fn>``: argument typing, result shapes, GET semantics, overloads, settings."""

from __future__ import annotations

import time

import pytest
from postgrest.exceptions import APIError


def test_scalar_result_is_the_bare_value(as_learner):
    assert as_learner.rpc("gw_add", {"a": 2, "b": 3}).execute().data == 5
    assert as_learner.rpc("gw_echo", {"t": "héllo"}).execute().data == "héllo"
    assert as_learner.rpc("gw_null_int").execute().data is None


def test_arguments_are_typed_by_the_signature(rest, learner):
    # Strings are read through the parameter's type, as json_to_record does in PostgREST.
    assert rest("POST", "/rpc/gw_add", token=learner, json={"a": "2", "b": 3}).json() == 5
    bad = rest("POST", "/rpc/gw_add", token=learner, json={"a": "two", "b": 3})
    assert (bad.status_code, bad.json()["code"]) == (400, "22P02")


def test_json_results_and_defaults(as_learner):
    payload = {"nested": {"list": [1, "two", None]}, "flag": True}
    assert as_learner.rpc("gw_json", {"j": payload}).execute().data == payload
    assert as_learner.rpc("gw_defaults", {"a": 1}).execute().data == 11
    assert as_learner.rpc("gw_defaults", {"a": 1, "b": 1}).execute().data == 2


def test_single_unnamed_json_parameter_gets_the_whole_body(as_learner):
    body = {"anything": ["goes", 1]}
    assert as_learner.rpc("gw_single", body).execute().data == body


def test_set_returning_shapes(as_learner):
    assert as_learner.rpc("gw_series", {"n": 3}).execute().data == [1, 2, 3]
    assert as_learner.rpc("gw_table", {"n": 2}).execute().data == [{"i": 1, "sq": 1}, {"i": 2, "sq": 4}]
    notes = as_learner.rpc("gw_notes_after", {"min_id": 1}).execute().data
    assert notes == [{"id": 2, "body": "second", "parent": 1}, {"id": 3, "body": "third", "parent": 1}]


def test_single_composite_is_an_object(as_learner):
    assert as_learner.rpc("gw_note", {"note_id": 1}).execute().data == {"id": 1, "body": "first", "parent": None}


def test_filters_select_order_and_count_on_set_results(as_learner, rest, learner):
    res = as_learner.rpc("gw_table", {"n": 5}).select("sq").gt("i", 2).order("i", desc=True).limit(2).execute()
    assert res.data == [{"sq": 25}, {"sq": 16}]
    raw = rest("POST", "/rpc/gw_table?i=lte.3", token=learner, json={"n": 5}, headers={"Prefer": "count=exact"})
    assert raw.headers["content-range"] == "0-2/3"
    one = as_learner.rpc("gw_table", {"n": 5}).eq("i", 4).single().execute()
    assert one.data == {"i": 4, "sq": 16}


def test_void_function_answers_204_and_commits(scratch, rest, learner, items):
    before = items.execute("select count(*) from public.gw_log").fetchone()[0]
    raw = rest("POST", "/rpc/gw_void", token=learner)
    assert (raw.status_code, raw.content) == (204, b"")
    assert items.execute("select count(*) from public.gw_log").fetchone()[0] == before + 1


def test_no_argument_function_with_empty_body_or_empty_object(rest, learner, scratch):
    assert rest("POST", "/rpc/gw_noargs", token=learner).json() == "no args"
    assert rest("POST", "/rpc/gw_noargs", token=learner, json={}).json() == "no args"


def test_get_calls_with_query_arguments(as_learner, rest, learner):
    assert as_learner.rpc("gw_add", {"a": 4, "b": 5}, get=True).execute().data == 9
    raw = rest("GET", "/rpc/gw_variadic?vals=1&vals=2&vals=3", token=learner)
    assert raw.json() == 6
    raw = rest("GET", "/rpc/gw_table?n=4&i=gt.2&select=i", token=learner)
    assert raw.json() == [{"i": 3}, {"i": 4}]


def test_get_on_a_function_that_writes_is_405_read_only(scratch, rest, learner, items):
    before = items.execute("select count(*) from public.gw_log").fetchone()[0]
    raw = rest("GET", "/rpc/gw_write?what=x", token=learner)
    assert raw.status_code == 405
    assert raw.json()["code"] == "25006"
    assert items.execute("select count(*) from public.gw_log").fetchone()[0] == before
    assert rest("POST", "/rpc/gw_write", token=learner, json={"what": "x"}).status_code == 200


def test_transaction_mode_follows_volatility(as_learner):
    assert as_learner.rpc("gw_whoami").execute().data["read_only"] == "on"  # stable → read only
    assert as_learner.rpc("gw_whoami", get=True).execute().data["isolation"] == "read committed"


def test_unknown_function_or_arguments_is_pgrst202(rest, learner, scratch):
    raw = rest("POST", "/rpc/gw_nope", token=learner, json={"x": 1})
    assert raw.status_code == 404
    body = raw.json()
    assert body["code"] == "PGRST202"
    assert body["message"] == "Could not find the function public.gw_nope(x) in the schema cache"
    raw = rest("POST", "/rpc/gw_add", token=learner, json={"a": 1, "c": 2})
    assert (raw.status_code, raw.json()["code"]) == (404, "PGRST202")
    raw = rest("POST", "/rpc/gw_add", token=learner, json={"a": 1})
    assert (raw.status_code, raw.json()["code"]) == (404, "PGRST202")


def test_functions_outside_public_are_not_exposed(rest, learner, scratch):
    raw = rest("POST", "/rpc/uid", token=learner)  # auth.uid() exists, but not in public
    assert (raw.status_code, raw.json()["code"]) == (404, "PGRST202")


def test_overloads_are_chosen_by_argument_names(as_learner, rest, learner):
    assert as_learner.rpc("gw_over", {"a": 1}).execute().data == "one"
    assert as_learner.rpc("gw_over", {"a": 1, "b": 2}).execute().data == "two"
    raw = rest("POST", "/rpc/gw_amb", token=learner, json={"a": 1})
    assert (raw.status_code, raw.json()["code"]) == (300, "PGRST203")


def test_function_without_execute_privilege_is_permission_denied(rest, learner, scratch):
    raw = rest("POST", "/rpc/gw_private", token=learner)
    assert (raw.status_code, raw.json()["code"]) == (403, "42501")
    raw = rest("POST", "/rpc/gw_private")
    assert (raw.status_code, raw.json()["code"]) == (401, "42501")


def test_other_methods_on_rpc_are_405(rest, learner, scratch):
    raw = rest("PATCH", "/rpc/gw_noargs", token=learner, json={})
    assert (raw.status_code, raw.json()["code"]) == (405, "PGRST101")


def test_request_settings_are_those_postgrest_sets(rest, learner, scratch):
    raw = rest("POST", "/rpc/gw_whoami", token=learner,
               headers={"X-Test": "hello", "Cookie": "session=abc; theme=dark"})
    info = raw.json()
    assert info["current_user"] == "authenticated"
    assert info["role"] == "authenticated"
    assert info["claims"]["email"] == "learner@example.com"
    assert info["uid"] == info["claims"]["sub"]
    assert info["method"] == "POST"
    assert info["path"] == "/rpc/gw_whoami"
    assert info["headers"]["x-test"] == "hello"
    assert info["cookies"] == {"session": "abc", "theme": "dark"}
    assert info["statement_timeout"] == "8s"  # the impersonated role's own setting
    assert info["search_path"] == '"public", "public", "extensions"'


def test_anon_key_alone_runs_as_anon_with_the_keys_claims(rest, scratch):
    info = rest("POST", "/rpc/gw_whoami").json()
    assert info["current_user"] == "anon"
    assert info["claims"] == {"iss": "supabase-demo", "role": "anon", "exp": 1983812996}
    assert info["statement_timeout"] == "3s"


def test_service_key_alone_runs_as_service_role(rest, service_key, scratch):
    info = rest("POST", "/rpc/gw_whoami", key=service_key).json()
    assert info["current_user"] == "service_role"


def test_response_status_and_headers_gucs_are_honoured(rest, learner, scratch):
    raw = rest("POST", "/rpc/gw_status", token=learner)
    assert raw.status_code == 418
    assert raw.headers["x-teapot"] == "yes"
    assert raw.json() == "short and stout"


def test_raise_pgrst_controls_the_whole_response(rest, learner, scratch):
    raw = rest("POST", "/rpc/gw_raise_pgrst", token=learner)
    assert raw.status_code == 402
    assert raw.headers["x-powered-by"] == "Nerd Rage"
    assert raw.json() == {"code": "123", "message": "Payment Required", "details": "Quota exceeded",
                          "hint": "Upgrade"}


def test_schema_cache_reloads_on_a_miss(rest, learner, items):
    items.execute("create function public.gw_late() returns int language sql as $$ select 42 $$")
    try:
        assert rest("POST", "/rpc/gw_late", token=learner).json() == 42
    finally:
        items.execute("drop function public.gw_late()")


def test_client_rpc_errors_carry_postgrest_fields(as_learner):
    with pytest.raises(APIError) as err:
        as_learner.rpc("gw_raise", {"code": "P0001", "msg": "nope", "det": "d", "hnt": "h"}).execute()
    assert (err.value.code, err.value.message, err.value.details, err.value.hint) == ("P0001", "nope", "d", "h")


def test_schema_cache_follows_ddl_without_notify(rest, learner, items):
    """A function redefined in place (same name and arguments) is picked up within seconds."""
    items.execute("create function public.gw_shape() returns integer language sql as $$ select 1 $$")
    try:
        assert rest("POST", "/rpc/gw_shape", token=learner).json() == 1
        items.execute("drop function public.gw_shape()")
        items.execute("create function public.gw_shape() returns setof integer language sql as $$ values (1), (2) $$")
        deadline = time.monotonic() + 10
        body = None
        while time.monotonic() < deadline:
            body = rest("POST", "/rpc/gw_shape", token=learner).json()
            if body == [1, 2]:
                break
            time.sleep(0.2)
        assert body == [1, 2]
    finally:
        items.execute("drop function if exists public.gw_shape()")


def test_numbers_reach_postgres_as_sent(rest, learner, scratch):
    raw = rest("POST", "/rpc/gw_json", token=learner,
               content=b'{"j": {"big": 12345678901234567890123, "exact": 0.10000000000000000001}}',
               headers={"Content-Type": "application/json"})
    assert raw.text == '{"big": 12345678901234567890123, "exact": 0.10000000000000000001}'
