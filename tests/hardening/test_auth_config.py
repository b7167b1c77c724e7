"""Issue 17 item 1: access needs a confirmed e-mail, so the stack is configured to confirm e-mails
and the local token helper creates confirmed users (they keep their access)."""

from __future__ import annotations

import tomllib

import jwt
import psycopg

from devstack import settings
from devstack.tokens import sign_in


def test_config_requires_email_confirmation():
    config = tomllib.loads((settings.ROOT / "supabase" / "config.toml").read_text())
    assert config["auth"]["email"]["enable_confirmations"] is True


def test_make_token_users_are_confirmed_and_a_member_keeps_access(db_url):
    token = sign_in(db_url, "learner@example.com")
    sub = jwt.decode(token, options={"verify_signature": False})["sub"]
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute("select email_confirmed_at is not null from auth.users where id = %s",
                            (sub,)).fetchone() == (True,)
        with conn.transaction():
            conn.execute("select set_config('request.jwt.claims', %s, true), set_config('role', 'authenticated', true)",
                         (f'{{"sub": "{sub}", "role": "authenticated"}}',))
            assert conn.execute("select public.fn_user_has_prompt_access()").fetchone() == (True,)
