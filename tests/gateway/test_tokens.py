"""Local sign-in (`make token`): the auth.users row and Supabase Auth's access-token claim set."""

from __future__ import annotations

import time
import uuid

import jwt
import psycopg

from devstack.tokens import ISSUER, sign_in

CLAIMS = {"iss", "sub", "aud", "exp", "iat", "email", "phone", "app_metadata", "user_metadata", "role",
          "aal", "amr", "session_id", "is_anonymous"}


def test_sign_in_creates_a_confirmed_user_and_a_supabase_shaped_token(db_url, jwt_secret):
    email = f"New.User-{uuid.uuid4().hex[:8]}@Example.COM"
    token = sign_in(db_url, email, ttl=120)
    claims = jwt.decode(token, jwt_secret, algorithms=["HS256"], audience="authenticated")
    assert set(claims) == CLAIMS
    assert claims["iss"] == ISSUER
    assert (claims["role"], claims["aud"], claims["aal"], claims["phone"]) == ("authenticated", "authenticated", "aal1", "")
    assert claims["email"] == email.lower()
    assert claims["exp"] - claims["iat"] == 120 and abs(claims["iat"] - time.time()) < 5
    assert claims["app_metadata"] == {"provider": "email", "providers": ["email"]}
    assert claims["amr"][0]["method"] == "password"
    assert claims["is_anonymous"] is False
    uuid.UUID(claims["session_id"])
    with psycopg.connect(db_url) as conn:
        row = conn.execute("select id::text, email, email_confirmed_at is not null from auth.users where email = %s",
                           (email.lower(),)).fetchone()
    assert row == (claims["sub"], email.lower(), True)


def test_sign_in_is_idempotent_and_admin_adds_the_claim(db_url, jwt_secret):
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    first = jwt.decode(sign_in(db_url, email), jwt_secret, algorithms=["HS256"], audience="authenticated")
    admin = jwt.decode(sign_in(db_url, email, admin=True), jwt_secret, algorithms=["HS256"], audience="authenticated")
    again = jwt.decode(sign_in(db_url, email), jwt_secret, algorithms=["HS256"], audience="authenticated")
    assert first["sub"] == admin["sub"] == again["sub"]
    assert "prompt_admin" not in first["app_metadata"]
    assert admin["app_metadata"]["prompt_admin"] is True
    assert again["app_metadata"]["prompt_admin"] is True  # it is stored on the user, as with the Auth admin API


def test_existing_seed_user_keeps_its_id(db_url, jwt_secret):
    claims = jwt.decode(sign_in(db_url, "Learner@Example.com"), jwt_secret, algorithms=["HS256"],
                        audience="authenticated")
    assert claims["sub"] == "00000000-0000-4000-a000-000000000002"
    assert claims["user_metadata"] == {"full_name": "Lena Learner"}
