"""Privilege escalation attempts over HTTP (REST, RPC and the functions), each refused with the
right status and with every table unchanged (contract §3: nobody forges another user's user_id,
user_metadata never grants anything, anon gets nothing, only the project's JWT secret signs a
service_role token)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack import settings as devstack_settings
from devstack.tokens import access_token_claims, mint, unsigned
from tests.reliability.support import (
    Api,
    Cases,
    Fingerprint,
    World,
    assert_function_error,
    error_code,
    new_user,
)

# Short and odd HMAC keys are the point of the forged-token tests.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
REPRESENTATION = {"Prefer": "return=representation"}


def _token_with_user_metadata(user, app_metadata: dict[str, Any], user_metadata: dict[str, Any]) -> str:
    """What Supabase Auth would sign after the user edited their own user_metadata."""
    return mint(access_token_claims(user.id, user.email, app_metadata, user_metadata))


@pytest.fixture(scope="module")
def self_made_admin(world: World) -> str:
    """A learner's token whose user_metadata claims every admin flag there is."""
    return _token_with_user_metadata(
        world.learner, {"provider": "email", "providers": ["email"]},
        {"prompt_admin": True, "app_metadata": {"prompt_admin": True}, "role": "service_role",
         "is_admin": True, "claims_admin": True})


def _refused(api: Api, fingerprint: Fingerprint, method: str, path: str, token: str | None, status: int,
             code: str | None = None, **kwargs: Any) -> None:
    with fingerprint.unchanged():
        response = api.rest(method, path, token=token, **kwargs)
    assert response.status_code == status, (method, path, response.status_code, response.text[:300])
    if code is not None:
        assert error_code(response) == code, response.text[:300]


def _invisible(api: Api, fingerprint: Fingerprint, method: str, path: str, token: str, **kwargs: Any) -> None:
    """RLS hides the target: the statement succeeds on zero rows."""
    with fingerprint.unchanged():
        response = api.rest(method, path, token=token, headers=REPRESENTATION, **kwargs)
    assert response.status_code == 200 and response.json() == [], (method, path, response.text[:300])


# ----------------------------------------------------------------------------------------------
# Forged user_id
# ----------------------------------------------------------------------------------------------

def test_learner_cannot_write_favorites_usage_or_preferences_as_another_user(api, world, fingerprint):
    me, victim = world.learner, world.other
    _refused(api, fingerprint, "POST", "/prompt_favorites", me.token, 403, "42501",
             json={"user_id": victim.id, "prompt_id": world.elsewhere.id})
    _refused(api, fingerprint, "POST", "/prompt_usage_logs", me.token, 403, "42501",
             json={"user_id": victim.id, "prompt_id": world.published.id, "action": "copy"})
    _refused(api, fingerprint, "POST", "/prompt_user_preferences", me.token, 403, "42501",
             json={"user_id": victim.id, "telemetry_opt_out": True})
    _refused(api, fingerprint, "POST", "/prompt_user_preferences", me.token, 403, "42501",
             json={"user_id": victim.id, "telemetry_opt_out": True},
             headers={"Prefer": "resolution=merge-duplicates"})
    _refused(api, fingerprint, "POST", "/prompt_favorites", me.token, 403, "42501",
             json=[{"user_id": me.id, "prompt_id": world.elsewhere.id},
                   {"user_id": victim.id, "prompt_id": world.published.id}])


def test_learner_cannot_change_or_delete_another_users_rows(api, world, fingerprint):
    me, victim = world.learner, world.other
    _invisible(api, fingerprint, "PATCH", f"/prompt_user_preferences?user_id=eq.{victim.id}", me.token,
               json={"telemetry_opt_out": True})
    _invisible(api, fingerprint, "DELETE", f"/prompt_favorites?user_id=eq.{victim.id}", me.token)
    _invisible(api, fingerprint, "DELETE", f"/prompt_user_preferences?user_id=eq.{victim.id}", me.token)
    # Columns that are not the caller's to write: no privilege at all.
    _refused(api, fingerprint, "PATCH", f"/prompt_user_preferences?user_id=eq.{me.id}", me.token, 403, "42501",
             json={"user_id": victim.id})
    _refused(api, fingerprint, "PATCH", "/prompt_usage_logs", me.token, 403, "42501", json={"user_id": me.id})
    _refused(api, fingerprint, "DELETE", "/prompt_usage_logs", me.token, 403, "42501")


def test_forged_user_id_in_usage_events_is_refused_or_ignored(api, world, fingerprint, db_url):
    """The function refuses the unknown field (422); the RPC ignores it and stores the caller."""
    event = {"prompt_id": world.published.id, "action": "copy", "user_id": world.other.id}
    with fingerprint.unchanged():
        response = api.function("usage-events", token=world.learner.token, json_body={"events": [event]})
    assert_function_error(response, 422)
    with psycopg.connect(db_url, autocommit=True) as conn:
        count = "select count(*) from public.prompt_usage_logs where user_id = %s"
        victim_before = conn.execute(count, (world.other.id,)).fetchone()[0]
        response = api.rest("POST", "/rpc/ingest_usage_events", token=world.learner.token, json={"events": [event]})
        assert response.status_code == 200 and response.json()["accepted"] == 1, response.text
        assert conn.execute(count, (world.other.id,)).fetchone()[0] == victim_before


# ----------------------------------------------------------------------------------------------
# user_metadata is not app_metadata
# ----------------------------------------------------------------------------------------------

def test_admin_claims_in_user_metadata_grant_nothing(api, world, fingerprint, self_made_admin):
    with fingerprint.unchanged():
        response = api.function("publish-prompt", token=self_made_admin,
                                json_body={"prompt_id": world.published.id, "markdown_body": "# pwned"})
    assert_function_error(response, 403, "forbidden")
    # Not refused (the learner is a member, and the check is audited), but the reason is not 'admin'.
    response = api.function("access-check", method="GET", token=self_made_admin)
    assert response.json() == {"has_access": True, "reason": "active_cohort_member", "cohort_ids": [world.cohort]}
    _refused(api, fingerprint, "POST", "/rpc/publish_prompt_version", self_made_admin, 403, "PT403",
             json={"prompt_id": world.published.id, "markdown_body": "# pwned"})
    _refused(api, fingerprint, "POST", "/rpc/soft_delete_prompt", self_made_admin, 403, "PT403",
             json={"prompt_id": world.published.id})
    _refused(api, fingerprint, "POST", "/prompts", self_made_admin, 403, "42501",
             json={"module_id": "10000000-0000-4000-a000-000000000001", "slug": f"rel-{world.tag}-pwned",
                   "title": "pwned"})
    _refused(api, fingerprint, "POST", "/prompt_admins", self_made_admin, 403, "42501", json={"user_id": world.learner.id})
    _invisible(api, fingerprint, "PATCH", "/prompt_feature_flags?key=eq.PROMPT_MANAGER_ENABLED", self_made_admin,
               json={"enabled": False})
    _invisible(api, fingerprint, "PATCH", f"/prompts?id=eq.{world.published.id}", self_made_admin,
               json={"title": "pwned"})
    for table in ("course_cohort_sync_runs", "prompt_access_audit", "prompt_admins"):
        with fingerprint.unchanged():
            response = api.rest("GET", f"/{table}", token=self_made_admin)
        assert (response.status_code, response.json()) == (200, []), table


def test_prompt_admin_flag_must_be_boolean_true_in_app_metadata(api, world, fingerprint):
    """app_metadata is written by the service role only, but a string "true" still is not true."""
    token = _token_with_user_metadata(world.learner, {"prompt_admin": "true"}, {})
    with fingerprint.unchanged():
        response = api.function("publish-prompt", token=token,
                                json_body={"prompt_id": world.published.id, "markdown_body": "# pwned"})
    assert_function_error(response, 403, "forbidden")


# ----------------------------------------------------------------------------------------------
# Service-only RPCs, version content, the current-version pointer
# ----------------------------------------------------------------------------------------------

SERVICE_ONLY = {
    "sync_cohort_members": {"delivery_id": "msg_escalation", "payload": {
        "cohort_id": "cohort-2026-spring", "mode": "snapshot", "members": [], "allow_mass_deactivation": True}},
    "record_failed_cohort_sync": {"delivery_id": "msg_escalation", "cohort_id": "cohort-2026-spring",
                                  "mode": "delta", "error": "forged"},
}


@pytest.mark.parametrize("rpc", sorted(SERVICE_ONLY))
@pytest.mark.parametrize("actor, status", [("anon", 401), ("learner", 403), ("admin", 403), ("self_made_admin", 403),
                                           ("outsider", 403)])
def test_service_only_rpcs_refuse_every_other_caller(api, world, fingerprint, self_made_admin, rpc, actor, status):
    tokens = {"anon": None, "self_made_admin": self_made_admin}
    token = tokens[actor] if actor in tokens else getattr(world, actor).token
    _refused(api, fingerprint, "POST", f"/rpc/{rpc}", token, status, "42501", json=SERVICE_ONLY[rpc])


def test_private_helpers_are_not_reachable_through_the_api(api, world, fingerprint):
    for name in ("purge_expired_telemetry", "assert_prompt_admin", "lock_prompt", "sync_run_summary",
                 "anonymise_opted_out_usage", "set_updated_at"):
        _refused(api, fingerprint, "POST", f"/rpc/{name}", world.admin.token, 404, json={})


def test_version_content_is_immutable_for_everyone(api, world, fingerprint, service_key):
    version = world.published.versions[0]
    path = f"/prompt_versions?id=eq.{version}"
    for column, value in (("markdown_body", "# rewritten"), ("version_number", 99), ("prompt_id", world.elsewhere.id),
                          ("created_by", world.learner.id), ("created_at", "2000-01-01T00:00:00Z")):
        _refused(api, fingerprint, "PATCH", path, world.admin.token, 403, "42501", json={column: value})
    _refused(api, fingerprint, "PATCH", path, world.admin.token, 409, "PT409", json={"published": False})
    # The service role has every privilege; the trigger still refuses.
    _refused(api, fingerprint, "PATCH", path, None, 409, "PT409", key=service_key, json={"markdown_body": "# rewritten"})
    _refused(api, fingerprint, "PATCH", path, None, 409, "PT409", key=service_key, json={"version_number": 99})
    # Learners do not even see drafts; a published version's changelog is still not theirs.
    _invisible(api, fingerprint, "PATCH", path, world.learner.token, json={"changelog": "pwned"})
    _refused(api, fingerprint, "POST", "/prompt_versions", world.admin.token, 403, "42501",
             json={"prompt_id": world.published.id, "markdown_body": "# as someone else", "created_by": world.learner.id})


@pytest.mark.parametrize("caller", ["admin", "service"])
def test_current_version_cannot_point_at_a_draft_or_another_prompts_version(api, world, fingerprint, service_key,
                                                                            caller):
    token, key = (world.admin.token, None) if caller == "admin" else (None, service_key)
    path = f"/prompts?id=eq.{world.published.id}"
    for target in (world.published.versions[1], world.draft.versions[0], world.elsewhere.versions[0],
                   str(uuid.uuid4())):
        _refused(api, fingerprint, "PATCH", path, token, 400, "23514", key=key, json={"current_version_id": target})
    _refused(api, fingerprint, "PATCH", f"/prompts?id=eq.{world.draft.id}", token, 400, "23514", key=key,
             json={"current_version_id": world.elsewhere.versions[0], "status": "published",
                   "published_at": "2026-01-01T00:00:00Z"})
    _refused(api, fingerprint, "PATCH", f"/prompts?id=eq.{world.draft.id}", token, 400, "23514", key=key,
             json={"status": "published"})


def test_publish_function_refuses_a_version_of_another_prompt(api, world, fingerprint):
    with fingerprint.unchanged():
        response = api.function("publish-prompt", token=world.admin.token,
                                json_body={"prompt_id": world.published.id, "version_id": world.elsewhere.versions[0]})
    assert_function_error(response, 404, "not_found")


# ----------------------------------------------------------------------------------------------
# Reading what is not yours
# ----------------------------------------------------------------------------------------------

def test_learner_reads_no_other_users_favorites_usage_preferences_or_membership(api, world, fingerprint):
    me, victim = world.learner, world.other
    for path in (f"/prompt_favorites?user_id=eq.{victim.id}", f"/prompt_usage_logs?user_id=eq.{victim.id}",
                 f"/prompt_user_preferences?user_id=eq.{victim.id}",
                 f"/course_cohort_members?email=eq.{victim.email}", "/prompt_access_audit",
                 "/course_cohort_sync_runs", "/prompt_admins",
                 f"/prompt_usage_logs?metadata->>secret=eq.other"):
        with fingerprint.unchanged():
            response = api.rest("GET", path, token=me.token)
        assert (response.status_code, response.json()) == (200, []), (path, response.text[:300])
    with fingerprint.unchanged():
        mine = api.rest("GET", "/course_cohort_members?select=email", token=me.token)
        counted = api.rest("HEAD", "/prompt_usage_logs", token=me.token, headers={"Prefer": "count=exact"})
    assert {r["email"] for r in mine.json()} == {me.email}
    own_events = api.rest("GET", f"/prompt_usage_logs?select=id&user_id=eq.{me.id}", token=me.token).json()
    assert counted.headers["content-range"].endswith(f"/{len(own_events)}")


def test_outsider_and_revoked_learner_read_no_prompts_or_versions(api, world, fingerprint, db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("update public.course_cohort_members set status = 'revoked', revoked_at = now()"
                     " where cohort_id = %s and email = %s", (world.cohort, world.other.email))
        try:
            for user in (world.outsider, world.other):
                for path in (f"/prompts?id=eq.{world.published.id}", f"/prompt_versions?prompt_id=eq.{world.published.id}",
                             f"/prompt_usage_logs?user_id=eq.{user.id}", f"/prompt_favorites?user_id=eq.{user.id}"):
                    with fingerprint.unchanged():
                        response = api.rest("GET", path, token=user.token)
                    assert (response.status_code, response.json()) == (200, []), (user.email, path)
        finally:
            conn.execute("update public.course_cohort_members set status = 'active', revoked_at = null"
                         " where cohort_id = %s and email = %s", (world.cohort, world.other.email))


# ----------------------------------------------------------------------------------------------
# Opted out
# ----------------------------------------------------------------------------------------------

def test_opted_out_learner_stores_only_anonymous_events(api, world, fingerprint, db_url):
    me = world.optout
    _refused(api, fingerprint, "POST", "/prompt_usage_logs", me.token, 403, "42501",
             json={"user_id": me.id, "prompt_id": world.published.id, "action": "view"})
    _refused(api, fingerprint, "POST", "/prompt_usage_logs", me.token, 403, "42501",
             json={"user_id": None, "prompt_id": world.published.id, "action": "view", "metadata": {"who": me.email}})
    with psycopg.connect(db_url, autocommit=True) as conn:
        mine = "select count(*) from public.prompt_usage_logs where user_id = %s"
        anonymous = "select count(*) from public.prompt_usage_logs where prompt_id = %s and user_id is null"
        before = conn.execute(anonymous, (world.published.id,)).fetchone()[0]
        direct = api.rest("POST", "/prompt_usage_logs", token=me.token,
                          json={"user_id": None, "prompt_id": world.published.id, "action": "view"})
        assert direct.status_code == 201, direct.text
        rpc = api.rest("POST", "/rpc/ingest_usage_events", token=me.token, json={"events": [
            {"prompt_id": world.published.id, "action": "copy", "metadata": {"who": me.email}}]})
        assert rpc.json() == {"accepted": 0, "anonymized": 1, "dropped": 0}
        function = api.function("usage-events", token=me.token, json_body={"events": [
            {"prompt_id": world.published.id, "action": "copy", "metadata": {"who": me.email}}]})
        assert function.json() == {"accepted": 0, "anonymized": 1, "dropped": 0}
        assert conn.execute(anonymous, (world.published.id,)).fetchone()[0] == before + 3
        assert conn.execute(mine, (me.id,)).fetchone()[0] == 0
        assert conn.execute("select count(*) from public.prompt_usage_logs where metadata->>'who' = %s",
                            (me.email,)).fetchone()[0] == 0
    with fingerprint.unchanged():
        reads = api.rest("GET", "/prompt_usage_logs", token=me.token)
    assert reads.json() == []


# ----------------------------------------------------------------------------------------------
# anon
# ----------------------------------------------------------------------------------------------

def _catalog(db_url: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    with psycopg.connect(db_url) as conn:
        tables = [name for (name,) in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind in ('r', 'v', 'm', 'p') order by 1")]
        functions = [(name, list(args or [])) for name, args in conn.execute(
            "select p.proname, p.proargnames from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = 'public' and p.prorettype <> 'trigger'::regtype and p.prokind = 'f'"
            " and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e') order by 1")]
    return tables, functions


def test_anon_gets_nothing_from_any_table_or_rpc(api, fingerprint, db_url):
    tables, functions = _catalog(db_url)
    assert len(tables) >= 12 and len(functions) >= 10, (tables, functions)
    tally = Cases("privilege: anon against every table and RPC", 4 * len(tables) + len(functions))
    failures = []
    with fingerprint.unchanged():
        for table in tables:
            for method, kwargs in (("GET", {}), ("POST", {"json": {}}), ("PATCH", {"json": {}}), ("DELETE", {})):
                response = api.rest(method, f"/{table}", **kwargs)
                tally.saw(response.status_code)
                if response.status_code != 401:
                    failures.append(f"{method} {table}: {response.status_code} {response.text[:120]}")
        for name, args in functions:
            response = api.rest("POST", f"/rpc/{name}", json={arg: None for arg in args})
            tally.saw(response.status_code)
            if response.status_code != 401:
                failures.append(f"rpc {name}: {response.status_code} {response.text[:120]}")
    tally.done()
    assert failures == []


@pytest.mark.parametrize("name, method", [("publish-prompt", "POST"), ("usage-events", "POST"),
                                          ("access-check", "GET"), ("cohort-sync", "POST")])
def test_anon_gets_401_from_every_function(api, world, fingerprint, anon_key, name, method):
    body = None if method == "GET" else {"prompt_id": world.published.id, "markdown_body": "# x"}
    for token in (None, anon_key):
        with fingerprint.unchanged():
            response = api.function(name, method=method, token=token, json_body=body)
        assert_function_error(response, 401)


# ----------------------------------------------------------------------------------------------
# Forged service_role tokens
# ----------------------------------------------------------------------------------------------

def _service_claims(**extra: Any) -> dict[str, Any]:
    return {"iss": "supabase-demo", "role": "service_role", "exp": int(time.time()) + 3600, **extra}


def _forged_tokens() -> list[tuple[str, str]]:
    project = devstack_settings.jwt_secret()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    return [
        ("other-secret", mint(_service_claims(), secret="another-project-secret-with-32-characters!")),
        ("secret-with-space", mint(_service_claims(), secret=project + " ")),
        ("secret-upper", mint(_service_claims(), secret=project.upper())),
        ("secret-prefix", mint(_service_claims(), secret=project[:-1])),
        ("anon-key-as-secret", mint(_service_claims(), secret=devstack_settings.anon_key())),
        ("webhook-secret", mint(_service_claims(), secret=devstack_settings.webhook_secret())),
        ("hs512-other", mint(_service_claims(), secret="x" * 64, algorithm="HS512")),
        ("alg-none", unsigned(_service_claims())),
        ("rs256-unknown-key", mint(_service_claims(), key=rsa_key, algorithm="RS256", headers={"kid": "forged"})),
        ("es256-unknown-key", mint(_service_claims(), key=ec_key, algorithm="ES256")),
        ("service-key-resigned", mint({**jwt.decode(devstack_settings.service_role_key(),
                                                     options={"verify_signature": False})}, secret="x" * 40)),
        ("tampered-payload", _tampered()),
    ]


def _tampered() -> str:
    """The anon key with its payload swapped for service_role and the anon signature kept."""
    header, _, signature = devstack_settings.anon_key().split(".")
    service_payload = devstack_settings.service_role_key().split(".")[1]
    return f"{header}.{service_payload}.{signature}"


FORGED = _forged_tokens()


@pytest.mark.parametrize("name, token", FORGED, ids=[name for name, _ in FORGED])
def test_service_role_token_signed_with_any_other_key_is_401_everywhere(api, world, fingerprint, name, token):
    with fingerprint.unchanged():
        as_bearer = [
            api.rest("GET", "/course_cohort_members", token=token),
            api.rest("POST", "/rpc/sync_cohort_members", token=token, json=SERVICE_ONLY["sync_cohort_members"]),
            api.rest("PATCH", "/prompt_feature_flags?key=eq.PROMPT_MANAGER_ENABLED", token=token,
                     json={"enabled": False}),
        ]
        as_key = api.rest("GET", "/course_cohort_members", key=token)
        functions = [api.function(fn, method=m, token=token, json_body=body) for fn, m, body in (
            ("publish-prompt", "POST", {"prompt_id": world.published.id, "markdown_body": "# x"}),
            ("usage-events", "POST", {"events": [{"prompt_id": world.published.id, "action": "view"}]}),
            ("access-check", "GET", None))]
    for response in as_bearer:
        assert (response.status_code, error_code(response)) == (401, "PGRST301"), response.text[:300]
    assert as_key.status_code == 401 and as_key.json()["message"] == "Invalid API key"
    for response in functions:
        assert_function_error(response, 401)


FORGE_EXAMPLES = 40


def test_generated_secrets_never_sign_a_service_role_token(api, world, fingerprint):
    tally = Cases("privilege: generated forged service_role tokens", FORGE_EXAMPLES)
    project = devstack_settings.jwt_secret()

    @settings(max_examples=FORGE_EXAMPLES, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(secret=st.text(min_size=1, max_size=80).filter(lambda s: s != project)
           | st.binary(min_size=1, max_size=64).filter(lambda b: b != project.encode()),
           algorithm=st.sampled_from(["HS256", "HS384", "HS512"]),
           extra=st.fixed_dictionaries({}, optional={"sub": st.uuids().map(str), "aud": st.just("authenticated"),
                                                     "email": st.emails(), "app_metadata": st.just({"prompt_admin": True})}))
    def run(secret, algorithm, extra):
        token = jwt.encode(_service_claims(**extra), secret, algorithm=algorithm)
        with fingerprint.unchanged():
            rest = api.rest("POST", "/rpc/sync_cohort_members", token=token, json=SERVICE_ONLY["sync_cohort_members"])
            function = api.function("publish-prompt", token=token,
                                    json_body={"prompt_id": world.published.id, "markdown_body": "# x"})
        tally.saw(rest.status_code)
        assert (rest.status_code, error_code(rest)) == (401, "PGRST301"), rest.text[:300]
        assert_function_error(function, 401)

    run()
    tally.done()


def test_a_deleted_users_events_are_kept_only_as_anonymous_counts(api, world, db_url):
    """Deleting an auth user (what Supabase Auth's admin delete does) keeps their events without
    anything that identifies them, like an opt-out; it used to fail on any event with metadata."""
    leaver = new_user(db_url, f"rel-leaver-{world.tag}@example.com")
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("insert into public.course_cohort_members (cohort_id, email, source_hash) values (%s, %s, 'x')",
                     (world.cohort, leaver.email))
        response = api.function("usage-events", token=leaver.token, json_body={"events": [
            {"prompt_id": world.published.id, "action": "copy", "metadata": {"email": leaver.email}},
            {"prompt_id": world.published.id, "action": "view"}]})
        assert response.json() == {"accepted": 2, "anonymized": 0, "dropped": 0}
        ids = [i for (i,) in conn.execute("select id from public.prompt_usage_logs where user_id = %s", (leaver.id,))]
        conn.execute("delete from auth.users where id = %s", (leaver.id,))
        rows = conn.execute("select user_id, metadata, action from public.prompt_usage_logs where id = any(%s)"
                            " order by action", (ids,)).fetchall()
    assert rows == [(None, None, "copy"), (None, None, "view")]
