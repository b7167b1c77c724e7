"""The Auth stand-in through the real supabase-py client: sign-up, confirmation through the local
mailbox, password sign-in, refresh-token rotation with reuse detection, user update, sign-out, the
admin user API, and what a signed-up user can then do with the rest of the stack under RLS."""

from __future__ import annotations

import importlib
import time
import uuid

import bcrypt
import jwt
import psycopg
import pytest
from supabase_auth import SyncGoTrueClient
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

from tests.auth.conftest import follow_confirmation, make_client, make_gotrue

PASSWORD = "correct horse battery"
SITE_URL = "http://127.0.0.1:3000"  # [auth] site_url of supabase/config.toml


def _claims(token: str, jwt_secret: str) -> dict:
    return jwt.decode(token, jwt_secret, algorithms=["HS256"], audience="authenticated")


def _refused(call, code: str, status: int) -> AuthApiError:
    with pytest.raises(AuthApiError) as caught:
        call()
    assert (caught.value.code, caught.value.status) == (code, status), caught.value.to_dict()
    return caught.value


def _confirmed_user(client, api_url: str, email: str, password: str = PASSWORD):
    client.auth.sign_up({"email": email, "password": password})
    follow_confirmation(api_url, email.lower())
    return client.auth.sign_in_with_password({"email": email, "password": password})


def test_sign_up_needs_the_mailbox_link_then_the_user_reads_prompts_under_rls(
        api_url, client, new_email, db_url, jwt_secret):
    email = new_email("learner")
    app = client()
    signed_up = app.auth.sign_up({"email": email, "password": PASSWORD,
                                  "options": {"data": {"full_name": "New Learner"}}})
    assert signed_up.session is None  # [auth.email] enable_confirmations = true
    assert signed_up.user.email == email.lower() and signed_up.user.email_confirmed_at is None
    assert signed_up.user.user_metadata == {"full_name": "New Learner"}
    _refused(lambda: app.auth.sign_in_with_password({"email": email, "password": PASSWORD}),
             "email_not_confirmed", 400)

    with psycopg.connect(db_url) as conn:
        stored = conn.execute("select encrypted_password, confirmation_token from auth.users where email = %s",
                              (email.lower(),)).fetchone()
    assert stored[0].startswith("$2") and bcrypt.checkpw(PASSWORD.encode(), stored[0].encode())
    assert stored[1]

    # supabase-py's default flow is PKCE: the link lands on the site with ?code= for the code exchange.
    target, query, _ = follow_confirmation(api_url, email.lower())
    assert target == SITE_URL and set(query) == {"code"}
    exchanged = app.auth.exchange_code_for_session({"auth_code": query["code"]}).session
    link_claims = _claims(exchanged.access_token, jwt_secret)
    assert link_claims["amr"][0]["method"] == "email/signup" and link_claims["sub"] == signed_up.user.id
    _refused(lambda: app.auth.exchange_code_for_session({"auth_code": query["code"], "code_verifier": "x" * 43}),
             "flow_state_not_found", 404)

    # The link is spent: opening it again lands on the site with GoTrue's error parameters.
    again_target, again_query, again = follow_confirmation(api_url, email.lower())
    assert again_target == SITE_URL and again["error_code"] == "otp_expired" and again["error"] == "access_denied"
    assert again_query["error_code"] == "otp_expired"

    session = app.auth.sign_in_with_password({"email": email, "password": PASSWORD}).session
    claims = _claims(session.access_token, jwt_secret)
    assert (claims["sub"], claims["email"], claims["role"], claims["aal"]) == (
        signed_up.user.id, email.lower(), "authenticated", "aal1")
    assert claims["amr"][0]["method"] == "password" and claims["iss"] == f"{api_url}/auth/v1"
    assert claims["exp"] - claims["iat"] == 3600 == session.expires_in  # [auth] jwt_expiry
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select user_id::text from auth.sessions where id = %s",
                            (claims["session_id"],)).fetchone() == (signed_up.user.id,)
    me = app.auth.get_user().user
    assert me.id == signed_up.user.id and me.email_confirmed_at is not None and me.last_sign_in_at is not None

    # RLS with the signed-in user's token: no cohort membership, no prompts.
    assert app.table("prompts").select("id").execute().data == []
    with psycopg.connect(db_url) as conn:
        conn.execute("insert into public.course_cohort_members (cohort_id, email, status, source_hash) "
                     "values ('auth-standin', %s, 'active', 'x')", (email.lower(),))
        published = conn.execute("select count(*) from public.prompts where status = 'published' and not is_deleted "
                                 "and workspace_id = (select id from public.workspaces where is_default)").fetchone()[0]
    prompts = app.table("prompts").select("*,prompt_versions(*)").execute().data
    assert published > 0 and len(prompts) == published
    assert all(p["prompt_versions"] and all(v["published"] for v in p["prompt_versions"]) for p in prompts)
    favorite = app.table("prompt_favorites").insert({"prompt_id": prompts[0]["id"]}).execute().data
    assert favorite[0]["user_id"] == signed_up.user.id  # default auth.uid() from the stand-in's token


@pytest.mark.filterwarnings("ignore:The `gotrue` package is deprecated:DeprecationWarning")
@pytest.mark.parametrize("package", ["supabase_auth", "gotrue"])
def test_implicit_flow_link_carries_the_session_in_the_fragment(package, api_url, anon_key, new_email, jwt_secret):
    module = importlib.import_module(package)
    errors = importlib.import_module(f"{package}.errors")
    auth = module.SyncGoTrueClient(url=f"{api_url}/auth/v1", headers={"apikey": anon_key},
                                   auto_refresh_token=False, persist_session=False)  # flow_type: implicit
    email = new_email(package)
    user = auth.sign_up({"email": email, "password": PASSWORD,
                         "options": {"email_redirect_to": "http://127.0.0.1:5173/welcome"}}).user
    with pytest.raises(errors.AuthApiError) as unconfirmed:
        auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert unconfirmed.value.code == "email_not_confirmed"
    target, query, fragment = follow_confirmation(api_url, email.lower())
    assert target == "http://127.0.0.1:5173/welcome" and query == {}  # GoTrue allows any loopback IP
    assert fragment["type"] == "signup" and fragment["token_type"] == "bearer" and "sb" in fragment
    claims = _claims(fragment["access_token"], jwt_secret)
    assert claims["sub"] == user.id and claims["amr"][0]["method"] == "otp"
    assert int(fragment["expires_at"]) == claims["exp"]
    session = auth.set_session(fragment["access_token"], fragment["refresh_token"]).session
    assert auth.get_user().user.email == email.lower()
    assert auth.refresh_session().session.refresh_token != session.refresh_token
    signed_in = auth.sign_in_with_password({"email": email, "password": PASSWORD}).session
    assert _claims(signed_in.access_token, jwt_secret)["session_id"] != claims["session_id"]
    auth.sign_out()
    assert auth.get_session() is None


def test_refresh_rotates_and_the_previous_token_still_answers_with_the_current_one(client, api_url, new_email,
                                                                                  jwt_secret):
    app = client()
    first = _confirmed_user(app, api_url, new_email()).session
    second = app.auth.refresh_session().session
    assert second.refresh_token != first.refresh_token and len(second.refresh_token) == 12
    assert _claims(second.access_token, jwt_secret)["session_id"] == _claims(first.access_token, jwt_secret)["session_id"]
    # GoTrue: the parent of the active token (a client that lost the answer) gets the active one back.
    assert app.auth.refresh_session(first.refresh_token).session.refresh_token == second.refresh_token
    third = app.auth.refresh_session(second.refresh_token).session
    assert third.refresh_token not in (first.refresh_token, second.refresh_token)
    # Inside [auth] refresh_token_reuse_interval (10 s) an older revoked token is still tolerated.
    assert app.auth.refresh_session(first.refresh_token).session.refresh_token not in (
        first.refresh_token, second.refresh_token, third.refresh_token)


def test_reusing_a_revoked_refresh_token_after_the_interval_revokes_the_session(alt_gateway, anon_key, new_email,
                                                                               jwt_secret):
    api = alt_gateway(GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL="1", GOTRUE_MAILER_AUTOCONFIRM="true")
    auth = make_gotrue(api, anon_key)
    first = auth.sign_up({"email": new_email(), "password": PASSWORD}).session  # autoconfirm: signed in
    second = auth.refresh_session(first.refresh_token).session
    third = auth.refresh_session(second.refresh_token).session
    time.sleep(1.2)
    _refused(lambda: auth.refresh_session(first.refresh_token), "refresh_token_already_used", 400)
    # The whole family is revoked: the newest token no longer refreshes either.
    time.sleep(1.2)
    _refused(lambda: auth.refresh_session(third.refresh_token), "refresh_token_already_used", 400)
    assert _claims(third.access_token, jwt_secret)["session_id"] == _claims(first.access_token, jwt_secret)["session_id"]


def test_update_user_merges_metadata_and_a_new_password_ends_the_other_sessions(client, api_url, new_email):
    email = new_email()
    app, other = client(), client()
    _confirmed_user(app, api_url, email)
    other_session = other.auth.sign_in_with_password({"email": email, "password": PASSWORD}).session
    user = app.auth.update_user({"data": {"theme": "dark", "lang": "de"}}).user
    assert user.user_metadata == {"theme": "dark", "lang": "de"}
    assert app.auth.update_user({"data": {"lang": None}}).user.user_metadata == {"theme": "dark"}
    _refused(lambda: app.auth.update_user({"password": PASSWORD}), "same_password", 422)
    with pytest.raises(AuthWeakPasswordError):
        app.auth.update_user({"password": "123"})
    app.auth.update_user({"password": "a brand new passphrase"})
    _refused(lambda: other.auth.refresh_session(other_session.refresh_token), "refresh_token_not_found", 400)
    assert app.auth.refresh_session().session is not None  # the session that changed it lives on
    _refused(lambda: client().auth.sign_in_with_password({"email": email, "password": PASSWORD}),
             "invalid_credentials", 400)
    assert client().auth.sign_in_with_password({"email": email, "password": "a brand new passphrase"}).session
    _refused(lambda: app.auth.update_user({"email": new_email()}), "feature_disabled", 422)


def test_sign_out_scopes(client, api_url, new_email):
    email = new_email()
    app, laptop, phone = client(), client(), client()
    _confirmed_user(app, api_url, email)
    laptop_session = laptop.auth.sign_in_with_password({"email": email, "password": PASSWORD}).session
    phone_session = phone.auth.sign_in_with_password({"email": email, "password": PASSWORD}).session

    laptop.auth.sign_out({"scope": "local"})
    assert laptop.auth.get_session() is None
    _refused(lambda: client().auth.refresh_session(laptop_session.refresh_token), "refresh_token_not_found", 400)
    _refused(lambda: client().auth.get_user(laptop_session.access_token), "session_not_found", 403)
    assert client().auth.get_user(phone_session.access_token).user.email == email.lower()

    app.auth.sign_out()  # global: every session of the user
    _refused(lambda: client().auth.get_user(phone_session.access_token), "session_not_found", 403)
    _refused(lambda: client().auth.refresh_session(phone_session.refresh_token), "refresh_token_not_found", 400)


def test_admin_creates_lists_updates_and_deletes_users(admin_client, client, new_email, jwt_secret, db_url):
    email = new_email("admin-made")
    admin = admin_client.auth.admin
    created = admin.create_user({"email": email, "password": PASSWORD, "email_confirm": True,
                                 "user_metadata": {"full_name": "Made By Admin"}}).user
    assert created.email == email.lower() and created.email_confirmed_at is not None
    _refused(lambda: admin.create_user({"email": email, "password": PASSWORD}), "email_exists", 422)
    listed = admin.list_users(page=1, per_page=1000)
    assert created.id in {u.id for u in listed}
    assert admin.get_user_by_id(created.id).user.user_metadata == {"full_name": "Made By Admin"}

    admin.update_user_by_id(created.id, {"app_metadata": {"prompt_admin": True}})
    session = client().auth.sign_in_with_password({"email": email, "password": PASSWORD}).session
    assert _claims(session.access_token, jwt_secret)["app_metadata"] == {
        "provider": "email", "providers": ["email"], "prompt_admin": True}

    unconfirmed = admin.create_user({"email": new_email("unconfirmed"), "password": PASSWORD}).user
    _refused(lambda: client().auth.sign_in_with_password({"email": unconfirmed.email, "password": PASSWORD}),
             "email_not_confirmed", 400)

    admin.delete_user(created.id)
    _refused(lambda: admin.get_user_by_id(created.id), "user_not_found", 404)
    _refused(lambda: client().auth.sign_in_with_password({"email": email, "password": PASSWORD}),
             "invalid_credentials", 400)
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from auth.sessions where user_id = %s", (created.id,)).fetchone() == (0,)


def test_admin_api_refuses_the_anon_key_and_user_tokens(client, api_url, anon_key, new_email):
    _refused(lambda: client().auth.admin.list_users(), "not_admin", 403)
    user_app = client()
    session = _confirmed_user(user_app, api_url, new_email()).session
    user_admin = SyncGoTrueClient(url=f"{api_url}/auth/v1", auto_refresh_token=False, persist_session=False,
                                  headers={"apikey": anon_key, "Authorization": f"Bearer {session.access_token}"}).admin
    _refused(lambda: user_admin.create_user({"email": new_email(), "password": PASSWORD}), "not_admin", 403)


def test_wrong_password_and_unknown_user_get_the_same_answer(client, api_url, new_email):
    email = new_email()
    _confirmed_user(client(), api_url, email)
    wrong = _refused(lambda: client().auth.sign_in_with_password({"email": email, "password": "nope nope"}),
                     "invalid_credentials", 400)
    unknown = _refused(lambda: client().auth.sign_in_with_password({"email": new_email(), "password": PASSWORD}),
                       "invalid_credentials", 400)
    assert wrong.message == unknown.message == "Invalid login credentials"
    # Seed users have no password: they sign in with `make token`, never with a password.
    _refused(lambda: client().auth.sign_in_with_password({"email": "learner@example.com", "password": PASSWORD}),
             "invalid_credentials", 400)


def test_signing_up_twice_reveals_nothing_and_weak_passwords_are_refused(client, api_url, new_email):
    email = new_email()
    first = client().auth.sign_up({"email": email, "password": PASSWORD}).user
    follow_confirmation(api_url, email.lower())
    again = client().auth.sign_up({"email": email, "password": "another passphrase"}).user
    assert again.id != first.id and again.email == email.lower()  # GoTrue's sanitized stand-in user
    with pytest.raises(AuthWeakPasswordError) as weak:
        client().auth.sign_up({"email": new_email(), "password": "12345"})
    assert weak.value.reasons == ["length"] and weak.value.status == 422


def test_signups_disabled(alt_gateway, anon_key, service_key, new_email):
    api = alt_gateway(GOTRUE_DISABLE_SIGNUP="true")
    _refused(lambda: make_client(api, anon_key).auth.sign_up({"email": new_email(), "password": PASSWORD}),
             "signup_disabled", 422)
    # Existing users still sign in; the admin API still creates users.
    email = new_email()
    make_client(api, service_key).auth.admin.create_user({"email": email, "password": PASSWORD,
                                                          "email_confirm": True})
    assert make_client(api, anon_key).auth.sign_in_with_password({"email": email, "password": PASSWORD}).session


def test_make_token_tokens_are_sessions_the_auth_api_accepts(client, user_token):
    email = f"make-token-{uuid.uuid4().hex[:8]}@example.com"
    token = user_token(email)
    assert client().auth.get_user(token).user.email == email
