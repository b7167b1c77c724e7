"""Contract §3 through the stand-in: the project's RLS and grants, seen by each demo actor with the
real supabase-py client. Expected rows are computed from the database as ``postgres``."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from postgrest.exceptions import APIError
from supabase import Client


@pytest.fixture(scope="session")
def client_for(supabase_client: Callable[..., Client], user_token: Callable[..., str],
               service_key: str) -> Callable[[str], Client]:
    """A supabase client per actor: 'anon', 'service' or a demo user's e-mail."""
    cache: dict[str, Client] = {}

    def get(actor: str) -> Client:
        if actor not in cache:
            if actor == "anon":
                cache[actor] = supabase_client()
            elif actor == "service":
                cache[actor] = supabase_client(key=service_key)
            else:
                cache[actor] = supabase_client(user_token(actor))
        return cache[actor]

    return get


def ids(conn: psycopg.Connection, sql: str, *args) -> set[str]:
    return {str(r[0]) for r in conn.execute(sql, args).fetchall()}


def test_learner_sees_exactly_the_published_non_deleted_prompts(db, client_for):
    # The learner is a viewer of the default course workspace only (v1's library).
    in_course = "workspace_id = (select id from public.workspaces where is_default)"
    expected = ids(db, f"select id from public.prompts where status = 'published' and not is_deleted and {in_course}")
    everything = ids(db, f"select id from public.prompts where {in_course}")
    assert expected and expected != everything  # the seed has drafts, archived and deleted prompts
    res = client_for("learner@example.com").table("prompts").select("id, status, is_deleted", count="exact").execute()
    assert {r["id"] for r in res.data} == expected
    assert res.count == len(expected)
    assert all(r["status"] == "published" and not r["is_deleted"] for r in res.data)


@pytest.mark.parametrize("actor", ["outsider@example.com", "revoked@example.com"])
def test_learners_without_access_see_no_prompts(client_for, actor):
    assert client_for(actor).table("prompts").select("id").execute().data == []


@pytest.mark.parametrize("actor", ["admin@example.com", "service"])
def test_admin_and_service_role_see_every_prompt(db, client_for, actor):
    everything = ids(db, "select id from public.prompts")
    assert {r["id"] for r in client_for(actor).table("prompts").select("id").execute().data} == everything


def test_admin_by_jwt_claim_sees_every_prompt(db, supabase_client, user_token):
    everything = ids(db, "select id from public.prompts")
    client = supabase_client(user_token("claim-admin@example.com", admin=True))
    assert {r["id"] for r in client.table("prompts").select("id").execute().data} == everything


def test_anon_has_no_privileges_on_prompts(client_for):
    with pytest.raises(APIError) as err:
        client_for("anon").table("prompts").select("id").execute()
    assert (err.value.code, err.value.message) == ("42501", "permission denied for table prompts")


def test_learner_sees_only_published_versions_of_visible_prompts(db, client_for):
    expected = ids(db, """select v.id from public.prompt_versions v join public.prompts p on p.id = v.prompt_id
                          where v.published and p.status = 'published' and not p.is_deleted
                            and p.workspace_id = (select id from public.workspaces where is_default)""")
    got = {r["id"] for r in client_for("learner@example.com").table("prompt_versions").select("id").execute().data}
    assert got == expected and expected


def test_outline_is_readable_by_any_signed_in_user(db, client_for):
    modules = ids(db, "select id from public.prompt_modules")
    got = client_for("outsider@example.com").table("prompt_modules").select("id").order("position").execute().data
    assert {r["id"] for r in got} == modules


def test_learner_cannot_create_or_change_prompts(db, client_for):
    learner = client_for("learner@example.com")
    module_id = db.execute("select id::text from public.prompt_modules limit 1").fetchone()[0]
    with pytest.raises(APIError) as err:
        learner.table("prompts").insert({"module_id": module_id, "slug": "hack", "title": "Hack"}).execute()
    assert err.value.code == "42501"
    before = db.execute("select title from public.prompts order by id limit 1").fetchone()[0]
    res = learner.table("prompts").update({"title": "Defaced"}).neq("title", "nothing").execute()
    assert res.data == []
    assert db.execute("select title from public.prompts order by id limit 1").fetchone()[0] == before
    assert db.execute("select count(*) from public.prompts where title = 'Defaced'").fetchone()[0] == 0


def test_favorites_are_private_to_their_owner(db, client_for):
    learner = client_for("learner@example.com")
    own = ids(db, """select f.prompt_id from public.prompt_favorites f join auth.users u on u.id = f.user_id
                     where u.email = 'learner@example.com'""")
    got = {r["prompt_id"] for r in learner.table("prompt_favorites").select("prompt_id").execute().data}
    assert got == own and own


@pytest.mark.parametrize(
    "actor, has_access, reason",
    [
        ("learner@example.com", True, "active_cohort_member"),
        ("outsider@example.com", False, "not_a_member"),
        ("revoked@example.com", False, "membership_inactive"),
        ("admin@example.com", True, "admin"),
    ],
)
def test_access_check_rpc_per_actor(client_for, actor, has_access, reason):
    result = client_for(actor).rpc("check_prompt_access").execute().data
    assert (result["has_access"], result["reason"]) == (has_access, reason)
