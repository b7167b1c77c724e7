"""Local sign-in: access tokens shaped like Supabase Auth's, signed with the local JWT secret.

`sign_in` creates the ``auth.users`` row when missing (as Supabase Auth would on sign-up + confirm),
starts an ``auth.sessions`` row and returns an HS256 access token with GoTrue's claim set. The local
Auth stand-in (devstack/auth) mints its tokens with the same `access_token_claims` and starts its
sessions with the same `start_session`, so a `make token` token and a signed-in user's token are
alike (``GET /auth/v1/user`` and ``POST /auth/v1/logout`` accept both). `mint` signs arbitrary
claims, for tests that need expired, not-yet-valid, forged or otherwise odd tokens. Development and
tests only.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt

from devstack import settings

ISSUER = f"http://127.0.0.1:{settings.API_PORT}/auth/v1"
INSTANCE_ID = "00000000-0000-0000-0000-000000000000"


def mint(claims: dict[str, Any], *, secret: str | None = None, algorithm: str = "HS256",
         headers: dict[str, Any] | None = None, key: Any = None) -> str:
    """Sign ``claims`` as given (no defaults added). ``key`` overrides ``secret`` (e.g. an EC key)."""
    signing_key = key if key is not None else (secret if secret is not None else settings.jwt_secret())
    return jwt.encode(claims, signing_key, algorithm=algorithm, headers=headers)


def unsigned(claims: dict[str, Any]) -> str:
    """A token with ``alg: none`` and an empty signature (must always be refused)."""
    return jwt.encode(claims, None, algorithm="none")


def access_token_claims(user_id: str, email: str, app_metadata: dict[str, Any],
                        user_metadata: dict[str, Any], *, ttl: int = 3600,
                        now: int | None = None, session_id: str | None = None,
                        amr: list[dict[str, Any]] | None = None, issuer: str = ISSUER,
                        role: str = "authenticated", phone: str = "",
                        is_anonymous: bool = False) -> dict[str, Any]:
    """Supabase Auth's access-token claims (by default those of a fresh password sign-in)."""
    issued = int(time.time()) if now is None else now
    return {
        "iss": issuer,
        "sub": user_id,
        "aud": "authenticated",
        "exp": issued + ttl,
        "iat": issued,
        "email": email,
        "phone": phone,
        "app_metadata": app_metadata,
        "user_metadata": user_metadata,
        "role": role,
        "aal": "aal1",
        "amr": amr if amr is not None else [{"method": "password", "timestamp": issued}],
        "session_id": session_id if session_id is not None else str(uuid.uuid4()),
        "is_anonymous": is_anonymous,
    }


#: A session and its `amr` entry, as GoTrue writes them on every sign-in (password, OTP link, ...).
_START_SESSION_SQL = """
with s as (
    insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent, ip)
    values (gen_random_uuid(), %(user_id)s::uuid, now(), now(), 'aal1', %(user_agent)s, %(ip)s::inet)
    returning id, created_at
), a as (
    insert into auth.mfa_amr_claims (id, session_id, created_at, updated_at, authentication_method)
    select gen_random_uuid(), id, created_at, created_at, %(method)s from s
)
select id::text, extract(epoch from created_at)::bigint from s
"""


def start_session(conn: Any, user_id: str, method: str = "password", *, user_agent: str | None = None,
                  ip: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """Insert an ``auth.sessions`` row for ``user_id``; return (session_id, amr claim)."""
    from psycopg.rows import tuple_row

    params = {"user_id": user_id, "method": method, "user_agent": user_agent, "ip": ip}
    session_id, started = conn.cursor(row_factory=tuple_row).execute(_START_SESSION_SQL, params).fetchone()
    return session_id, [{"method": method, "timestamp": int(started)}]


_UPSERT_USER_SQL = """
insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, raw_app_meta_data,
                        raw_user_meta_data, created_at, updated_at)
values (%(instance)s, gen_random_uuid(), 'authenticated', 'authenticated', %(email)s, now(),
        %(app_meta)s::jsonb, '{}'::jsonb, now(), now())
on conflict (email) where (is_sso_user = false) do nothing
"""

_SIGN_IN_SQL = """
update auth.users
   set last_sign_in_at = now(),
       raw_app_meta_data = case when %(admin)s
                                then coalesce(raw_app_meta_data, '{}'::jsonb) || '{"prompt_admin": true}'::jsonb
                                else raw_app_meta_data end,
       updated_at = case when %(admin)s then now() else updated_at end
 where email = %(email)s and not is_sso_user
returning id::text, email, coalesce(raw_app_meta_data, '{}'::jsonb), coalesce(raw_user_meta_data, '{}'::jsonb)
"""


_JOIN_WORKSPACE_SQL = """
insert into public.workspace_members (workspace_id, user_id, role)
select w.id, %(user_id)s::uuid, %(role)s::public.workspace_role
  from public.workspaces w where w.slug = %(workspace)s
on conflict (workspace_id, user_id) do update set role = excluded.role
returning workspace_id
"""


def sign_in(db_url: str, email: str, *, admin: bool = False, ttl: int = 3600,
            workspace: str | None = None, role: str = "viewer") -> str:
    """Create the user if missing (email lowercased, confirmed), start a session, return its token.

    ``admin=True`` adds ``app_metadata.prompt_admin = true`` to the user (it stays on the user, as
    an admin would set it with the Auth admin API); without it the user's metadata is used as is.
    ``workspace`` (a slug) makes the user a member of that workspace with ``role`` first, so a
    token for any role in any workspace is one command.
    """
    import psycopg

    normalized = email.strip().lower()
    app_meta = {"provider": "email", "providers": ["email"]}
    if admin:
        app_meta["prompt_admin"] = True
    with psycopg.connect(db_url, autocommit=True) as conn:
        with conn.transaction():
            conn.execute(_UPSERT_USER_SQL, {"instance": INSTANCE_ID, "email": normalized,
                                            "app_meta": json.dumps(app_meta)})
            row = conn.execute(_SIGN_IN_SQL, {"admin": admin, "email": normalized}).fetchone()
            if row is None:
                raise RuntimeError(f"could not create or find auth user {normalized}")
            user_id, stored_email, app_metadata, user_metadata = row
            if workspace:
                joined = conn.execute(_JOIN_WORKSPACE_SQL, {"user_id": user_id, "role": role,
                                                            "workspace": workspace}).fetchone()
                if joined is None:
                    raise RuntimeError(f"no workspace with slug {workspace!r}")
            session_id, amr = start_session(conn, user_id)
    return mint(access_token_claims(user_id, stored_email, app_metadata, user_metadata, ttl=ttl,
                                    session_id=session_id, amr=amr))
