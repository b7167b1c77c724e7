"""Local sign-in: access tokens shaped like Supabase Auth's, signed with the local JWT secret.

`sign_in` creates the ``auth.users`` row when missing (as Supabase Auth would on sign-up + confirm)
and returns an HS256 access token with GoTrue's claim set. `mint` signs arbitrary claims, for tests
that need expired, not-yet-valid, forged or otherwise odd tokens. Development and tests only.
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
                        now: int | None = None) -> dict[str, Any]:
    """Supabase Auth's access-token claims for a password sign-in."""
    issued = int(time.time()) if now is None else now
    return {
        "iss": ISSUER,
        "sub": user_id,
        "aud": "authenticated",
        "exp": issued + ttl,
        "iat": issued,
        "email": email,
        "phone": "",
        "app_metadata": app_metadata,
        "user_metadata": user_metadata,
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": issued}],
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }


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
    """Create the user if missing (email lowercased, confirmed) and return an access token.

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
            if row is not None and workspace:
                joined = conn.execute(_JOIN_WORKSPACE_SQL, {"user_id": row[0], "role": role,
                                                            "workspace": workspace}).fetchone()
                if joined is None:
                    raise RuntimeError(f"no workspace with slug {workspace!r}")
    if row is None:
        raise RuntimeError(f"could not create or find auth user {normalized}")
    user_id, stored_email, app_metadata, user_metadata = row
    return mint(access_token_claims(user_id, stored_email, app_metadata, user_metadata, ttl=ttl))
