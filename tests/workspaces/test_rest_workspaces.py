"""Workspaces through the REST API with the real ``supabase`` client (issue 10, "Done when").

A contributor of team A creates a prompt in A; a viewer of A reads it only once an admin has
published it; a member of team B sees nothing of A (rows, counts, RPC answers); the last owner
cannot leave; an invited user with a confirmed e-mail joins with the invited role. Every user and
workspace here is this module's own (unique e-mails), so the shared session database is not
disturbed.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import jwt
import pytest
from postgrest.exceptions import APIError
from supabase import Client


@dataclass
class Actor:
    """A signed-in user with a supabase client acting as them."""

    email: str
    user_id: str
    client: Client


@pytest.fixture(scope="module")
def actor(user_token, supabase_client) -> Callable[[str], Actor]:
    """``actor(name)``: a new confirmed user (unique e-mail) and a client signed in as them."""
    run = uuid.uuid4().hex[:8]

    def make(name: str) -> Actor:
        email = f"{name}-{run}@ws-rest.test"
        token = user_token(email)
        user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
        return Actor(email, user_id, supabase_client(token))

    return make


@pytest.fixture(scope="module")
def team(actor):
    """Team A (owner, admin, contributor, viewer) and team B (its own owner and viewer)."""
    people = {name: actor(name) for name in ("owner", "admin", "contributor", "viewer", "b_owner", "b_viewer")}
    slug = f"team-a-{uuid.uuid4().hex[:8]}"
    a = people["owner"].client.rpc("create_workspace", {"slug": slug, "name": "Team A"}).execute().data
    b = people["b_owner"].client.rpc(
        "create_workspace", {"slug": f"team-b-{uuid.uuid4().hex[:8]}", "name": "Team B"}).execute().data
    for name, role in (("admin", "admin"), ("contributor", "contributor"), ("viewer", "viewer")):
        people["owner"].client.rpc("add_workspace_member", {
            "workspace_id": a["id"], "user_id": people[name].user_id, "role": role}).execute()
    people["b_owner"].client.rpc("add_workspace_member", {
        "workspace_id": b["id"], "user_id": people["b_viewer"].user_id, "role": "viewer"}).execute()
    return {"a": a, "b": b, **people}


def test_creator_owns_the_new_workspace_and_sees_it(team):
    rows = team["owner"].client.table("workspace_members").select("user_id,role").eq(
        "workspace_id", team["a"]["id"]).execute().data
    assert {(r["user_id"], r["role"]) for r in rows} >= {(team["owner"].user_id, "owner")}
    assert len(rows) == 4
    assert team["a"]["kind"] == "team"


def test_contributor_drafts_viewer_reads_only_after_an_admin_publishes(team):
    ws = team["a"]["id"]
    contributor, viewer, admin = team["contributor"].client, team["viewer"].client, team["admin"].client
    prompt = contributor.table("prompts").insert(
        {"workspace_id": ws, "slug": "standup-notes", "title": "Stand-up notes"}).execute().data[0]
    assert prompt["workspace_id"] == ws and prompt["status"] == "draft"
    version = contributor.table("prompt_versions").insert(
        {"prompt_id": prompt["id"], "markdown_body": "Summarise the stand-up."}).execute().data[0]
    assert version["version_number"] == 1

    assert viewer.table("prompts").select("id").eq("id", prompt["id"]).execute().data == []

    # A contributor cannot publish, through the RPC or a direct PATCH.
    with pytest.raises(APIError) as refused:
        contributor.rpc("publish_prompt_version", {"prompt_id": prompt["id"], "version_id": version["id"]}).execute()
    assert refused.value.code == "PT403"
    with pytest.raises(APIError) as refused:
        contributor.table("prompt_versions").update({"published": True}).eq("id", version["id"]).execute()
    assert refused.value.code == "PT403"
    assert viewer.table("prompts").select("id").eq("id", prompt["id"]).execute().data == []

    state = admin.rpc("publish_prompt_version", {"prompt_id": prompt["id"], "version_id": version["id"]}).execute().data
    assert state["status"] == "published" and state["current_version_id"] == version["id"]
    rows = viewer.table("prompts").select("id,title,workspace_id").eq("id", prompt["id"]).execute().data
    assert rows == [{"id": prompt["id"], "title": "Stand-up notes", "workspace_id": ws}]
    versions = viewer.table("prompt_versions").select("id").eq("prompt_id", prompt["id"]).execute().data
    assert versions == [{"id": version["id"]}]


def test_member_of_another_workspace_sees_nothing_of_it(team):
    ws = team["a"]["id"]
    team["contributor"].client.table("prompts").insert(
        {"workspace_id": ws, "slug": "secret-draft", "title": "Secret draft"}).execute()
    for name in ("b_owner", "b_viewer"):
        client = team[name].client
        assert client.table("workspaces").select("id").eq("id", ws).execute().data == []
        assert client.table("workspace_members").select("user_id").eq("workspace_id", ws).execute().data == []
        counted = client.table("prompts").select("id", count="exact").eq("workspace_id", ws).execute()
        assert counted.data == [] and counted.count == 0
        with pytest.raises(APIError) as refused:  # a write into A is refused, not silently placed
            client.table("prompts").insert({"workspace_id": ws, "slug": "intruder", "title": "Intruder"}).execute()
        assert refused.value.code == "42501"
        with pytest.raises(APIError) as unknown:  # PT404, exactly as for a workspace that does not exist
            client.rpc("add_workspace_member", {"workspace_id": ws, "user_id": team[name].user_id}).execute()
        assert unknown.value.code == "PT404"
        assert unknown.value.message == f"workspace {ws} not found"
        nowhere = str(uuid.uuid4())
        with pytest.raises(APIError) as missing:
            client.rpc("add_workspace_member", {"workspace_id": nowhere, "user_id": team[name].user_id}).execute()
        assert (missing.value.code, missing.value.message) == ("PT404", f"workspace {nowhere} not found")


def test_the_last_owner_cannot_leave_but_can_after_transferring(team, actor):
    owner = actor("solo-owner")
    heir = actor("heir")
    ws = owner.client.rpc("create_workspace", {"slug": f"solo-{uuid.uuid4().hex[:8]}", "name": "Solo"}).execute().data
    with pytest.raises(APIError) as refused:
        owner.client.rpc("leave_workspace", {"workspace_id": ws["id"]}).execute()
    assert refused.value.code == "PT409" and "last owner" in refused.value.message
    with pytest.raises(APIError) as refused:
        owner.client.table("workspace_members").delete().eq("workspace_id", ws["id"]).eq("user_id", owner.user_id).execute()
    assert refused.value.code == "PT409"

    owner.client.rpc("add_workspace_member", {"workspace_id": ws["id"], "user_id": heir.user_id, "role": "viewer"}).execute()
    owner.client.rpc("transfer_workspace_ownership", {"workspace_id": ws["id"], "new_owner_id": heir.user_id}).execute()
    left = owner.client.rpc("leave_workspace", {"workspace_id": ws["id"]}).execute().data
    assert left["role"] == "admin"
    rows = heir.client.table("workspace_members").select("user_id,role").eq("workspace_id", ws["id"]).execute().data
    assert rows == [{"user_id": heir.user_id, "role": "owner"}]
    assert owner.client.table("workspaces").select("id").eq("id", ws["id"]).execute().data == []


def test_invitation_joins_the_confirmed_invitee_once(team, actor):
    invitee = actor("invitee")
    other = actor("not-invited")
    invitation = team["admin"].client.rpc("invite_workspace_member", {
        "workspace_id": team["a"]["id"], "email": f"  {invitee.email.upper()}\n", "role": "contributor"}).execute().data
    token = invitation["token"]
    assert invitation["email"] == invitee.email
    stored = team["admin"].client.table("workspace_invitations").select("*").eq("id", invitation["invitation_id"]).execute()
    assert token not in str(stored.data)  # only its sha256 is stored
    assert stored.data[0]["token_hash"] == "\\x" + hashlib.sha256(token.encode()).hexdigest()

    with pytest.raises(APIError) as refused:
        other.client.rpc("accept_workspace_invitation", {"token": token}).execute()
    assert refused.value.code == "PT403"
    accepted = invitee.client.rpc("accept_workspace_invitation", {"token": token}).execute().data
    assert accepted == {"workspace_id": team["a"]["id"], "user_id": invitee.user_id, "role": "contributor"}
    with pytest.raises(APIError) as reused:
        invitee.client.rpc("accept_workspace_invitation", {"token": token}).execute()
    assert reused.value.code == "PT409"
    assert invitee.client.table("workspaces").select("id").eq("id", team["a"]["id"]).execute().data != []


def test_v1_client_without_workspaces_still_reads_the_course_library(user_token, supabase_client):
    learner = supabase_client(user_token("learner@example.com"))
    rows = learner.table("prompts").select("id,slug,workspace_id").execute().data
    assert len(rows) == 11 and len({r["workspace_id"] for r in rows}) == 1
