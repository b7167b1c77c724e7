"""`make token EMAIL=... WORKSPACE=slug ROLE=role`: a token for any role in any workspace."""

from __future__ import annotations

import uuid

import jwt
import psycopg
import pytest

from devstack.tokens import sign_in


def test_token_makes_the_user_a_member_with_the_role(db_url):
    email = f"tok-{uuid.uuid4().hex[:8]}@ws-token.test"
    token = sign_in(db_url, email, workspace="acme-team", role="contributor")
    user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    sign_in(db_url, email, workspace="acme-team", role="approver")  # a second call changes the role
    with psycopg.connect(db_url, autocommit=True) as conn:
        roles = conn.execute("select m.role::text from public.workspace_members m join public.workspaces w "
                             "on w.id = m.workspace_id where w.slug = 'acme-team' and m.user_id = %s",
                             (user_id,)).fetchall()
        conn.execute("delete from auth.users where id = %s", (user_id,))
    assert roles == [("approver",)]


def test_token_for_an_unknown_workspace_is_refused(db_url):
    with pytest.raises(RuntimeError, match="no workspace with slug 'nowhere'"):
        sign_in(db_url, f"tok-{uuid.uuid4().hex[:8]}@ws-token.test", workspace="nowhere")
