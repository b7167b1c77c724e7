"""The Auth stand-in's SQL on ``auth.users``, ``auth.sessions``, ``auth.refresh_tokens`` and
``auth.mfa_amr_claims``, as GoTrue's models (supabase/auth internal/models) read and write them.

Every function takes a psycopg connection (``dict_row``) and runs inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
import uuid
from typing import Any

from psycopg.types.json import Jsonb

from devstack import tokens

INSTANCE_ID = tokens.INSTANCE_ID
REFRESH_TOKEN_ALPHABET = string.ascii_lowercase + "234567"  # GoTrue: lower-cased base32, 12 chars

USER_COLUMNS = """
    id::text, aud, role, email, encrypted_password, email_confirmed_at, invited_at, phone,
    phone_confirmed_at, confirmation_token, confirmation_sent_at, confirmed_at, recovery_sent_at,
    last_sign_in_at, coalesce(raw_app_meta_data, '{}'::jsonb) as app_metadata,
    coalesce(raw_user_meta_data, '{}'::jsonb) as user_metadata, created_at, updated_at, banned_until,
    deleted_at, is_anonymous, is_sso_user
"""


def new_refresh_token() -> str:
    """A v1 refresh token as GoTrue makes them (crypto.SecureAlphanumeric(12))."""
    return "".join(secrets.choice(REFRESH_TOKEN_ALPHABET) for _ in range(12))


# -- users -----------------------------------------------------------------------------------------
def user_by_email(conn: Any, email: str, aud: str = "authenticated") -> dict[str, Any] | None:
    return conn.execute(f"select {USER_COLUMNS} from auth.users where instance_id = %s and lower(email) = %s "
                        "and aud = %s and not is_sso_user", (INSTANCE_ID, email.lower(), aud)).fetchone()


def user_by_id(conn: Any, user_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
    lock = " for update" if for_update else ""
    return conn.execute(f"select {USER_COLUMNS} from auth.users where id = %s{lock}", (user_id,)).fetchone()


def user_by_confirmation_token(conn: Any, token_hash: str) -> dict[str, Any] | None:
    return conn.execute(f"select {USER_COLUMNS} from auth.users where confirmation_token = %s for update",
                        (token_hash,)).fetchone()


def create_user(conn: Any, *, email: str, password_hash: str | None, user_metadata: dict[str, Any],
                app_metadata: dict[str, Any], confirmed: bool, role: str = "authenticated",
                user_id: str | None = None, aud: str = "authenticated") -> dict[str, Any]:
    return conn.execute(
        f"""insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                                    raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_anonymous)
            values (%s, coalesce(%s::uuid, gen_random_uuid()), %s, %s, %s, %s,
                    case when %s then now() end, %s, %s, now(), now(), false)
            returning {USER_COLUMNS}""",
        (INSTANCE_ID, user_id, aud, role, email, password_hash, confirmed, Jsonb(app_metadata),
         Jsonb(user_metadata))).fetchone()


def set_confirmation_token(conn: Any, user_id: str, token_hash: str) -> dict[str, Any]:
    return conn.execute(f"update auth.users set confirmation_token = %s, confirmation_sent_at = now() "
                        f"where id = %s returning {USER_COLUMNS}", (token_hash, user_id)).fetchone()


def confirm_user(conn: Any, user_id: str) -> None:
    """GoTrue's User.Confirm: confirmed now, the confirmation token spent."""
    conn.execute("update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now()), "
                 "confirmation_token = '', updated_at = now() where id = %s", (user_id,))


def update_user(conn: Any, user_id: str, **columns: Any) -> dict[str, Any]:
    """Set the given ``auth.users`` columns (jsonb ones as dicts); ``updated_at`` moves too."""
    assignments, values = [], []
    for name, value in columns.items():
        if name not in _UPDATABLE:
            raise ValueError(f"not an updatable column: {name}")
        assignments.append(f"{name} = %s")
        values.append(Jsonb(value) if isinstance(value, dict) else value)
    assignments.append("updated_at = now()")
    return conn.execute(f"update auth.users set {', '.join(assignments)} where id = %s returning {USER_COLUMNS}",
                        (*values, user_id)).fetchone()


_UPDATABLE = frozenset({"email", "phone", "encrypted_password", "email_confirmed_at", "confirmation_token",
                        "confirmation_sent_at", "recovery_token", "recovery_sent_at", "raw_app_meta_data",
                        "raw_user_meta_data", "role", "banned_until", "deleted_at", "last_sign_in_at"})


def list_users(conn: Any, *, page: int, per_page: int, aud: str, filter_text: str | None
               ) -> tuple[list[dict[str, Any]], int]:
    """One page of users of ``aud``, newest first, and the total (GoTrue's FindUsersInAudience)."""
    where = "instance_id = %s and aud = %s"
    params: list[Any] = [INSTANCE_ID, aud]
    if filter_text:
        where += " and (email ilike %s or raw_user_meta_data->>'full_name' ilike %s)"
        params += [f"%{filter_text}%", f"%{filter_text}%"]
    total = conn.execute(f"select count(*) as n from auth.users where {where}", params).fetchone()["n"]
    rows = conn.execute(f"select {USER_COLUMNS} from auth.users where {where} order by created_at desc, id "
                        "limit %s offset %s", (*params, per_page, (page - 1) * per_page)).fetchall()
    return rows, total


def delete_user(conn: Any, user_id: str) -> None:
    conn.execute("delete from auth.users where id = %s", (user_id,))


# -- sessions and refresh tokens ---------------------------------------------------------------------
def start_session(conn: Any, user_id: str, method: str, *, user_agent: str | None,
                  ip: str | None) -> tuple[str, list[dict[str, Any]], str]:
    """A new session with its first refresh token (GoTrue's GrantAuthenticatedUser)."""
    session_id, amr = tokens.start_session(conn, user_id, method, user_agent=user_agent, ip=ip)
    refresh = insert_refresh_token(conn, user_id, session_id, parent=None)
    conn.execute("update auth.users set last_sign_in_at = now() where id = %s", (user_id,))
    return session_id, amr, refresh


def insert_refresh_token(conn: Any, user_id: str, session_id: str, parent: str | None) -> str:
    token = new_refresh_token()
    conn.execute("insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, "
                 "parent, session_id) values (%s, %s, %s, false, now(), now(), %s, %s)",
                 (INSTANCE_ID, token, user_id, parent, session_id))
    return token


def refresh_token(conn: Any, token: str, *, for_update: bool = False) -> dict[str, Any] | None:
    """The refresh token row joined to its session (session columns null when it has none)."""
    lock = " for update of r" if for_update else ""
    return conn.execute(
        "select r.id, r.token, r.user_id, r.revoked, r.parent, r.updated_at, r.session_id::text, "
        "s.id::text as session_found, s.not_after from auth.refresh_tokens r "
        f"left join auth.sessions s on s.id = r.session_id where r.token = %s{lock}", (token,)).fetchone()


def active_refresh_token(conn: Any, session_id: str) -> dict[str, Any] | None:
    return conn.execute("select token, parent from auth.refresh_tokens where session_id = %s and revoked is false "
                        "order by id desc limit 1", (session_id,)).fetchone()


def revoke_refresh_token(conn: Any, token_id: int) -> None:
    conn.execute("update auth.refresh_tokens set revoked = true where id = %s", (token_id,))


def revoke_token_family(conn: Any, session_id: str) -> None:
    """GoTrue's RevokeTokenFamily for a token with a session: every live token of the session."""
    conn.execute("update auth.refresh_tokens set revoked = true, updated_at = now() "
                 "where session_id = %s and revoked = false", (session_id,))


def delete_refresh_token(conn: Any, token_id: int) -> None:
    conn.execute("delete from auth.refresh_tokens where id = %s", (token_id,))


def touch_session(conn: Any, session_id: str) -> None:
    conn.execute("update auth.sessions set refreshed_at = now() at time zone 'utc', updated_at = now() "
                 "where id = %s", (session_id,))


def session_exists(conn: Any, session_id: str) -> bool:
    return conn.execute("select 1 from auth.sessions where id = %s", (session_id,)).fetchone() is not None


def session_amr(conn: Any, session_id: str) -> list[dict[str, Any]]:
    rows = conn.execute("select authentication_method, extract(epoch from created_at)::bigint as ts "
                        "from auth.mfa_amr_claims where session_id = %s order by created_at", (session_id,)).fetchall()
    return [{"method": r["authentication_method"], "timestamp": int(r["ts"])} for r in rows]


def logout(conn: Any, user_id: str, session_id: str | None, scope: str) -> None:
    """GoTrue's Logout / LogoutSession / LogoutAllExceptMe (sessions cascade to refresh tokens)."""
    if session_id is not None and scope == "local":
        conn.execute("delete from auth.sessions where id = %s", (session_id,))
    elif session_id is not None and scope == "others":
        conn.execute("delete from auth.sessions where id <> %s and user_id = %s", (session_id, user_id))
    else:
        conn.execute("delete from auth.sessions where user_id = %s", (user_id,))


# -- PKCE flow state ---------------------------------------------------------------------------------
def create_flow_state(conn: Any, user_id: str, method: str, challenge: str, authentication_method: str) -> None:
    conn.execute("insert into auth.flow_state (id, user_id, auth_code, code_challenge_method, code_challenge, "
                 "provider_type, provider_access_token, provider_refresh_token, created_at, updated_at, "
                 "authentication_method) values (gen_random_uuid(), %s, gen_random_uuid()::text, %s, %s, 'email', "
                 "'', '', now(), now(), %s)", (user_id, method, challenge, authentication_method))


def issue_auth_code(conn: Any, user_id: str, authentication_method: str) -> str | None:
    """The newest flow state's auth code for the user, marked issued now (GoTrue's issueAuthCode)."""
    row = conn.execute("update auth.flow_state set auth_code_issued_at = now(), updated_at = now() where id = ("
                       "select id from auth.flow_state where user_id = %s and authentication_method = %s "
                       "order by created_at desc limit 1) returning auth_code",
                       (user_id, authentication_method)).fetchone()
    return row["auth_code"] if row else None


def flow_state_by_auth_code(conn: Any, auth_code: str) -> dict[str, Any] | None:
    return conn.execute("select id, user_id::text, code_challenge_method::text, code_challenge, authentication_method, "
                        "coalesce(auth_code_issued_at, created_at) as started from auth.flow_state "
                        "where auth_code = %s for update", (auth_code,)).fetchone()


def delete_flow_state(conn: Any, flow_id: Any) -> None:
    conn.execute("delete from auth.flow_state where id = %s", (flow_id,))


# -- JSON ------------------------------------------------------------------------------------------
def _ts(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


_IDENTITY_NAMESPACE = uuid.UUID("6f0c5a3e-4f0e-4d84-9a44-0d3b7b8a3c10")


def user_json(row: dict[str, Any]) -> dict[str, Any]:
    """A user as GoTrue serialises models.User (``omitempty`` timestamps left out when null).

    ``identities`` holds the user's e-mail identity, derived from the row (the stand-in keeps no
    ``auth.identities`` table); its ``identity_id`` is stable per user.
    """
    email = row["email"] or ""
    out: dict[str, Any] = {"id": row["id"], "aud": row["aud"] or "", "role": row["role"] or "", "email": email}
    for key in ("email_confirmed_at", "invited_at"):
        if row[key] is not None:
            out[key] = _ts(row[key])
    out["phone"] = row["phone"] or ""
    for key in ("phone_confirmed_at", "confirmation_sent_at", "confirmed_at", "recovery_sent_at", "last_sign_in_at"):
        if row[key] is not None:
            out[key] = _ts(row[key])
    out["app_metadata"] = row["app_metadata"]
    out["user_metadata"] = row["user_metadata"]
    out["identities"] = []
    if email and row["encrypted_password"] and row["deleted_at"] is None:
        out["identities"].append({
            "identity_id": str(uuid.uuid5(_IDENTITY_NAMESPACE, row["id"])), "id": row["id"], "user_id": row["id"],
            "identity_data": {"email": email, "email_verified": row["email_confirmed_at"] is not None,
                              "phone_verified": False, "sub": row["id"]},
            "provider": "email", "last_sign_in_at": _ts(row["last_sign_in_at"] or row["created_at"]),
            "created_at": _ts(row["created_at"]), "updated_at": _ts(row["updated_at"]), "email": email,
        })
    out["created_at"] = _ts(row["created_at"])
    out["updated_at"] = _ts(row["updated_at"])
    for key in ("banned_until", "deleted_at"):
        if row[key] is not None:
            out[key] = _ts(row[key])
    out["is_anonymous"] = bool(row["is_anonymous"])
    return out
