"""PostgREST's SQLSTATE → HTTP status mapping, one case per row (supabase-notes "Error mapping",
plus the rows of PostgREST's own table that the notes leave implicit)."""

from __future__ import annotations

import pytest

# (SQLSTATE raised by the function, expected HTTP status for an authenticated caller)
MAPPING = [
    ("23503", 409),  # foreign_key_violation
    ("23505", 409),  # unique_violation
    ("P0001", 400),  # plain raise exception
    ("42501", 403),  # insufficient_privilege, with a user JWT
    ("42883", 404),  # undefined_function
    ("42P01", 404),  # undefined_table
    ("25006", 405),  # read_only_sql_transaction
    ("08000", 503),  # connection_exception
    ("08006", 503),
    ("53000", 503),  # insufficient_resources
    ("53100", 503),
    ("P0002", 500),  # other PL/pgSQL errors
    ("XX000", 500),  # internal_error
    ("2D000", 500),  # invalid_transaction_termination
    ("38000", 500),  # external_routine_exception
    ("39000", 500),  # external_routine_invocation_exception
    ("40001", 500),  # serialization_failure
    ("54000", 500),  # program_limit_exceeded
    ("55000", 500),  # object_not_in_prerequisite_state
    ("57000", 500),  # operator_intervention
    ("58000", 500),  # system_error
    ("22012", 400),  # division_by_zero (class 22)
    ("23502", 400),  # not_null_violation
    ("23514", 400),  # check_violation
    ("42703", 400),  # everything else
    ("0L000", 403),  # invalid_grantor
    ("0P000", 403),  # invalid_role_specification
    ("28000", 403),  # invalid_authorization_specification
    ("25001", 500),  # other invalid transaction state
    ("09000", 500),  # triggered_action_exception
    ("3B000", 500),  # savepoint_exception
    ("42P17", 500),  # invalid_object_definition
    ("53400", 500),  # configuration_limit_exceeded
    ("57P01", 503),  # admin_shutdown
    ("F0000", 500),  # config_file_error
    ("HV000", 500),  # fdw_error
    ("21000", 500),  # cardinality_violation
    ("PT403", 403),  # custom status
    ("PT418", 418),
    ("PT402", 402),
]


@pytest.mark.parametrize("code, status", MAPPING)
def test_sqlstate_maps_to_postgrest_status(rest, learner, scratch, code, status):
    raw = rest("POST", "/rpc/gw_raise", token=learner,
               json={"code": code, "msg": f"raised {code}", "det": "some detail", "hnt": "some hint"})
    assert raw.status_code == status
    assert raw.json() == {"code": code, "message": f"raised {code}", "details": "some detail",
                          "hint": "some hint"}
    assert raw.headers["proxy-status"] == f"PostgREST; error={code}"


def test_insufficient_privilege_is_401_for_anon(rest, scratch):
    raw = rest("POST", "/rpc/gw_raise", json={"code": "42501"})
    assert raw.status_code == 401
    assert raw.headers["www-authenticate"] == "Bearer"


def test_details_and_hint_are_null_when_absent(rest, learner, scratch):
    raw = rest("POST", "/rpc/gw_raise", token=learner, json={"code": "P0001", "msg": "bare"})
    assert raw.json() == {"code": "P0001", "message": "bare", "details": None, "hint": None}


def test_error_rolls_back_everything_the_request_did(rest, learner, items):
    # The insert happens in the same transaction as the failing statement: nothing is kept.
    raw = rest("POST", "/gw_items", token=learner,
               json=[{"name": "ok-row", "qty": 1}, {"name": "bad-row", "qty": -5}])
    assert raw.status_code == 400
    assert items.execute("select count(*) from public.gw_items").fetchone()[0] == 0


def test_role_that_does_not_exist_is_401_and_role_not_granted_is_403(rest, scratch):
    from devstack.tokens import mint

    raw = rest("POST", "/rpc/gw_noargs", token=mint({"role": "no_such_role"}))
    assert (raw.status_code, raw.json()["code"]) == (401, "22023")
    raw = rest("POST", "/rpc/gw_noargs", token=mint({"role": "postgres"}))
    assert (raw.status_code, raw.json()["code"]) == (403, "42501")
    assert raw.json()["message"] == 'permission denied to set role "postgres"'
