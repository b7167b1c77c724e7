"""The Auth stand-in as a WSGI app: what supabase-js / supabase-py call under ``/auth/v1``, with
GoTrue's behaviour (supabase/auth internal/api: signup.go, verify.go, token.go, tokens/service.go,
user.go, logout.go, admin.go, settings.go) and error shapes, on the real ``auth`` tables.

In front of it, as Kong does on Supabase (self-hosted docker/volumes/api/kong.yml): ``apikey`` (anon
or service_role key) is required on every route except the open ones (``/verify``, ``/callback``,
``/authorize``). Development and tests only; see devstack/README.md for what it does not do.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from fnmatch import fnmatchcase
from ipaddress import ip_address
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import bcrypt
import jwt
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from devstack import settings, tokens
from devstack.auth import store
from devstack.auth.config import AuthConfig, parse_duration
from devstack.auth.config import load as load_config
from devstack.auth.errors import (API_VERSION_HEADER, AuthError, OAuthError, bad_request, forbidden,
                                  not_found, render, unprocessable)
from devstack.auth.mailbox import PREFIX as MAILBOX_PREFIX
from devstack.auth.mailbox import Mailbox
from devstack.gateway.kong import key_auth_refusal

log = logging.getLogger("devstack.auth")

PREFIX = "/auth/v1"
#: Kong routes on Supabase that skip key-auth (auth-v1-open, -open-callback, -open-authorize).
OPEN_PATHS = ("/verify", "/callback", "/authorize")
ADMIN_ROLES = ("service_role", "supabase_admin")
BCRYPT_COST = 10  # golang.org/x/crypto/bcrypt DefaultCost, as GoTrue hashes
BCRYPT_MAX_BYTES = 72
INVALID_LOGIN = "Invalid login credentials"
DUPLICATE_EMAIL = "A user with this email address has already been registered"
PKCE_PREFIX = "pkce_"
EMAIL_SIGNUP = "email/signup"  # GoTrue's AuthenticationMethod for a confirmed e-mail sign-up
FLOW_STATE_EXPIRY_SECONDS = 300  # GoTrue's default FlowStateExpiryDuration
_CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LEGACY_REFRESH = re.compile(r"^[a-z0-9]{12}$")
_OAUTH_ERRORS = {400: "invalid_request", 401: "unauthorized_client", 403: "access_denied",
                 500: "server_error", 503: "temporarily_unavailable"}

URLS = Map([
    Rule("/health", endpoint="health", methods=["GET"]),
    Rule("/settings", endpoint="settings", methods=["GET"]),
    Rule("/.well-known/jwks.json", endpoint="jwks", methods=["GET"]),
    Rule("/signup", endpoint="signup", methods=["POST"]),
    Rule("/verify", endpoint="verify", methods=["GET", "POST"]),
    Rule("/token", endpoint="token", methods=["POST"]),
    Rule("/user", endpoint="user", methods=["GET", "PUT"]),
    Rule("/logout", endpoint="logout", methods=["POST"]),
    Rule("/admin/users", endpoint="admin_users", methods=["GET", "POST"]),
    Rule("/admin/users/<user_id>", endpoint="admin_user", methods=["GET", "PUT", "DELETE"]),
], strict_slashes=False)


class AuthApp:
    """``/auth/v1/*`` and the local mailbox (``/_devstack/mailbox``) of the local API."""

    def __init__(self, db_url: str, *, config: AuthConfig, jwt_secret: str, api_keys: Sequence[str],
                 external_url: str, mailbox: Mailbox | None = None, pool_size: int = 8) -> None:
        self.config = config
        self.jwt_secret = jwt_secret
        self.api_keys = tuple(api_keys)
        self.external_url = external_url.rstrip("/")  # e.g. http://127.0.0.1:54321/auth/v1
        self.mailbox = mailbox or Mailbox()
        self.pool = ConnectionPool(db_url, min_size=1, max_size=pool_size, open=False, name="devstack-auth",
                                   kwargs={"autocommit": True, "row_factory": dict_row,
                                           "application_name": "devstack-auth"})

    def open(self) -> None:
        self.pool.open(wait=False)

    def close(self) -> None:
        self.pool.close()

    @staticmethod
    def serves(path: str) -> bool:
        """True for the paths this app answers: ``/auth/v1[/...]`` and the mailbox."""
        return any(path == p or path.startswith(p + "/") for p in (PREFIX, MAILBOX_PREFIX))

    # -- WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path == MAILBOX_PREFIX or request.path.startswith(MAILBOX_PREFIX + "/"):
            return self.mailbox(environ, start_response)
        return self.respond(request)(environ, start_response)

    def respond(self, request: Request) -> Response:
        sub = request.path[len(PREFIX):] or "/"
        if not sub.startswith(OPEN_PATHS):
            refusal = key_auth_refusal(request.headers.get("apikey"), self.api_keys)
            if refusal is not None:
                return Response(refusal, status=401, content_type="application/json")
        version = request.headers.get(API_VERSION_HEADER)
        try:
            endpoint, args = URLS.bind("localhost").match(sub, method=request.method)
            return getattr(self, f"_{endpoint}")(request, **args)
        except NotFound:
            return _response(*render(not_found("not_found", "404 page not found"), version))
        except MethodNotAllowed:
            return _response(*render(AuthError(405, "method_not_allowed", "405 method not allowed"), version))
        except (AuthError, OAuthError) as err:
            return _response(*render(err, version))
        except psycopg.OperationalError as exc:
            log.warning("auth database unavailable: %s", exc)
            return _response(*render(AuthError(503, "unexpected_failure", "Database unavailable"), version))

    # -- open endpoints ----------------------------------------------------------------------------
    def _health(self, request: Request) -> Response:
        return _json({"version": "devstack", "name": "GoTrue",
                      "description": "GoTrue is a user registration and authentication API"})

    def _settings(self, request: Request) -> Response:
        providers = ["anonymous_users", "apple", "azure", "bitbucket", "discord", "facebook", "snapchat", "figma",
                     "fly", "github", "gitlab", "google", "keycloak", "kakao", "linkedin", "linkedin_oidc", "notion",
                     "spotify", "slack", "slack_oidc", "workos", "twitch", "twitter", "email", "phone", "zoom"]
        external = {name: False for name in providers}
        external["email"] = self.config.email_enabled
        return _json({"external": external, "disable_signup": not self.config.enable_signup,
                      "mailer_autoconfirm": self.config.autoconfirm, "phone_autoconfirm": False,
                      "sms_provider": "", "saml_enabled": False, "saml_private_key_next_configured": False,
                      "passkeys_enabled": False})

    def _jwks(self, request: Request) -> Response:
        return _json({"keys": []})  # HS256 with the shared secret only: no public keys to publish

    # -- sign-up and confirmation ------------------------------------------------------------------
    def _signup(self, request: Request) -> Response:
        if not self.config.enable_signup:
            raise unprocessable("signup_disabled", "Signups not allowed for this instance")
        body = _body(request)
        email, phone, password = _str(body, "email"), _str(body, "phone"), _str(body, "password")
        data = _dict(body, "data")
        if password == "":
            raise bad_request("validation_failed", "Signup requires a valid password")
        self._check_password_strength(password)
        if email and phone:
            raise bad_request("validation_failed", "Only an email address or phone number should be provided on signup.")
        pkce = _pkce_params(_str(body, "code_challenge_method"), _str(body, "code_challenge"))
        if phone:
            raise bad_request("phone_provider_disabled", "Phone signups are disabled")
        if not email:
            raise bad_request("validation_failed", "Sign up only available with email provider")
        if not self.config.email_enabled:
            raise bad_request("email_provider_disabled", "Email signups are disabled")
        email = _validate_email(email)
        redirect_to = self._referrer(request)
        with self.pool.connection() as conn:
            existing = store.user_by_email(conn, email)
        if existing is not None and existing["email_confirmed_at"] is not None:
            if self.config.autoconfirm:
                raise unprocessable("user_already_exists", "User already registered")
            return _json(_sanitized_user(email, data))  # says nothing about who is registered
        password_hash = None if existing is not None else _hash(password)  # hash outside the transaction
        with self.pool.connection() as conn, conn.transaction():
            if existing is None:
                try:
                    user = store.create_user(conn, email=email, password_hash=password_hash, user_metadata=data,
                                             app_metadata={"provider": "email", "providers": ["email"]},
                                             confirmed=self.config.autoconfirm)
                except psycopg.errors.UniqueViolation:
                    raise unprocessable("email_exists", DUPLICATE_EMAIL) from None
            else:
                user = store.user_by_id(conn, existing["id"], for_update=True)
            if self.config.autoconfirm:
                return _json(self._grant(conn, request, user, "password"))
            if pkce is not None:
                store.create_flow_state(conn, user["id"], *pkce, authentication_method=EMAIL_SIGNUP)
            user = self._send_confirmation(conn, user, redirect_to, pkce=pkce is not None)
        return _json(store.user_json(user))

    def _send_confirmation(self, conn: Any, user: dict[str, Any], redirect_to: str, *, pkce: bool) -> dict[str, Any]:
        """GoTrue's sendConfirmation: a fresh OTP, its hash stored, the e-mail in the mailbox."""
        sent = user["confirmation_sent_at"]
        if sent is not None:
            wait = self.config.max_frequency_seconds - (_now() - sent).total_seconds()
            if wait > 0:
                raise AuthError(429, "over_email_send_rate_limit",
                                f"For security purposes, you can only request this after {int(wait) + 1} seconds.")
        otp = "".join(secrets.choice("0123456789") for _ in range(self.config.otp_length))
        token_hash = (PKCE_PREFIX if pkce else "") + _token_hash(user["email"], otp)
        user = store.set_confirmation_token(conn, user["id"], token_hash)
        link = f"{self.external_url}/verify?" + urlencode({"token": token_hash, "type": "signup",
                                                          "redirect_to": redirect_to})
        text = (f"Confirm your signup\n\nFollow this link to confirm your user:\n{link}\n\n"
                f"Alternatively, enter the code: {otp}\n")
        html_body = (f"<h2>Confirm your signup</h2><p>Follow this link to confirm your user:</p>"
                     f'<p><a href="{_html_attr(link)}">Confirm your mail</a></p>'
                     f"<p>Alternatively, enter the code: {otp}</p>")
        self.mailbox.send(user["email"], "Confirm Your Signup", text, html_body)
        return user

    def _verify(self, request: Request) -> Response:
        if request.method == "GET":
            return self._verify_link(request)
        body = _body(request)
        kind, token, token_hash = _str(body, "type"), _str(body, "token"), _str(body, "token_hash")
        if kind == "":
            raise bad_request("validation_failed", "Verify requires a verification type")
        if (token == "") == (token_hash == ""):
            raise bad_request("validation_failed", "Verify requires either a token or a token hash")
        candidates = [token_hash]
        if token:
            email = _str(body, "email")
            if _str(body, "phone") or not email:
                raise bad_request("validation_failed", "Only an email address or phone number should be provided on verify")
            plain = _token_hash(_validate_email(email), token)
            candidates = [plain, PKCE_PREFIX + plain]
        with self.pool.connection() as conn, conn.transaction():
            user = self._confirm(conn, candidates, kind)
            return _json(self._grant(conn, request, user, "otp"))

    def _verify_link(self, request: Request) -> Response:
        """GET /verify (the e-mail link): confirm, then 303 to redirect_to with the session in the
        fragment (implicit flow) or ``?code=`` for the code exchange (PKCE: token ``pkce_...``)."""
        token, kind = request.args.get("token", ""), request.args.get("type", "")
        if kind == "":
            raise bad_request("validation_failed", "Verify requires a verification type")
        if token == "":
            raise bad_request("validation_failed", "Verify requires a token or a token hash")
        redirect_to = self._referrer(request)
        pkce = token.startswith(PKCE_PREFIX)
        try:
            with self.pool.connection() as conn, conn.transaction():
                user = self._confirm(conn, [token], kind)
                if pkce:
                    code = store.issue_auth_code(conn, user["id"], EMAIL_SIGNUP)
                    if code is None:
                        raise unprocessable("flow_state_not_found", "No valid flow state found for user.")
                else:
                    response = self._grant(conn, request, user, "otp")
        except AuthError as err:
            params = {"error_code": err.error_code, "error_description": err.message}
            if err.status in _OAUTH_ERRORS:
                params["error"] = _OAUTH_ERRORS[err.status]
            target = _with_query(redirect_to, params) if pkce else redirect_to
            return _redirect(f"{target}#{urlencode(sorted({**params, 'sb': ''}.items()))}")
        if pkce:
            return _redirect(_with_query(redirect_to, {"code": code}))
        fragment = {"access_token": response["access_token"], "expires_at": str(response["expires_at"]),
                    "expires_in": str(response["expires_in"]), "refresh_token": response["refresh_token"],
                    "sb": "", "token_type": response["token_type"], "type": kind}
        return _redirect(f"{redirect_to}#{urlencode(sorted(fragment.items()))}")

    def _confirm(self, conn: Any, token_hashes: list[str], kind: str) -> dict[str, Any]:
        """GoTrue's verifyTokenHash + signupVerify for ``signup`` (and ``email``) links and codes."""
        if kind not in ("signup", "email"):
            raise bad_request("validation_failed", f"Verification type {kind!r} is not implemented by the local Auth "
                                                   "stand-in (only signup confirmation)")
        user = None
        for token_hash in token_hashes:
            user = user or store.user_by_confirmation_token(conn, token_hash)
        if user is None:
            raise forbidden("otp_expired", "Email link is invalid or has expired")
        if _is_banned(user):
            raise forbidden("user_banned", "User is banned")
        sent = user["confirmation_sent_at"]
        if sent is None or _now() > sent + dt.timedelta(seconds=self.config.otp_expiry):
            raise forbidden("otp_expired", "Email link is invalid or has expired")
        store.confirm_user(conn, user["id"])
        return store.user_by_id(conn, user["id"])

    # -- tokens ----------------------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        grant = request.args.get("grant_type", "")
        if grant == "password":
            return _json(self._password_grant(request))
        if grant == "refresh_token":
            return _json(self._refresh_grant(request))
        if grant == "pkce":
            return _json(self._pkce_grant(request))
        if grant in ("id_token", "web3"):
            raise bad_request("validation_failed", f"grant_type={grant} is not implemented by the local Auth stand-in")
        raise bad_request("invalid_credentials", "unsupported_grant_type")

    def _password_grant(self, request: Request) -> dict[str, Any]:
        body = _body(request)
        email, phone, password = _str(body, "email"), _str(body, "phone"), _str(body, "password")
        if email and phone:
            raise bad_request("validation_failed", "Only an email address or phone number should be provided on login.")
        if phone:
            raise unprocessable("phone_provider_disabled", "Phone logins are disabled")
        if not email:
            raise bad_request("validation_failed", "missing email or phone")
        if not self.config.email_enabled:
            raise unprocessable("email_provider_disabled", "Email logins are disabled")
        with self.pool.connection() as conn:
            user = store.user_by_email(conn, email)
        if user is None or not user["encrypted_password"]:
            raise bad_request("invalid_credentials", INVALID_LOGIN)
        if _is_banned(user):
            raise bad_request("user_banned", "User is banned")
        if not _check_password(password, user["encrypted_password"]):
            raise bad_request("invalid_credentials", INVALID_LOGIN)
        if user["email_confirmed_at"] is None:
            raise bad_request("email_not_confirmed", "Email not confirmed")
        with self.pool.connection() as conn, conn.transaction():
            return self._grant(conn, request, user, "password")

    def _refresh_grant(self, request: Request) -> dict[str, Any]:
        """GoTrue's RefreshTokenGrant (tokens/service.go) for v1 (12-character) refresh tokens."""
        body = _body(request)
        raw = _str(body, "refresh_token")
        if raw == "":
            raise OAuthError("invalid_request", "refresh_token required")
        if len(raw) < 12 or (len(raw) == 12 and not _LEGACY_REFRESH.match(raw)) or len(raw) > 12:
            raise bad_request("validation_failed", "Refresh token is not valid")
        deferred: AuthError | None = None  # refused, but what was written must commit (NewCommitWithError)
        with self.pool.connection() as conn, conn.transaction():
            row = store.refresh_token(conn, raw, for_update=True)
            user = store.user_by_id(conn, row["user_id"]) if row is not None else None
            if row is None or user is None:
                raise bad_request("refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
            if _is_banned(user):
                raise bad_request("user_banned", "Invalid Refresh Token: User Banned")
            session_id = row["session_found"]
            issued = ""
            if session_id is None:
                store.delete_refresh_token(conn, row["id"])
                deferred = bad_request("session_not_found", "Invalid Refresh Token: No Valid Session Found")
            elif row["not_after"] is not None and _now() > row["not_after"]:
                raise bad_request("session_expired", "Invalid Refresh Token: Session Expired")
            elif row["revoked"]:
                active = store.active_refresh_token(conn, session_id)
                if active is not None and active["parent"] == row["token"]:
                    issued = active["token"]  # the client lost the answer to its last refresh
                elif _now() > row["updated_at"] + dt.timedelta(seconds=self.config.refresh_token_reuse_interval):
                    if self.config.refresh_token_rotation:
                        store.revoke_token_family(conn, session_id)
                    deferred = bad_request("refresh_token_already_used", "Invalid Refresh Token: Already Used")
            if deferred is None:
                if issued == "":
                    store.revoke_refresh_token(conn, row["id"])
                    issued = store.insert_refresh_token(conn, user["id"], session_id, parent=row["token"])
                    conn.execute("update auth.users set last_sign_in_at = now() where id = %s", (user["id"],))
                store.touch_session(conn, session_id)
                response = self._token_response(store.user_by_id(conn, user["id"]), session_id,
                                                store.session_amr(conn, session_id), issued)
        if deferred is not None:
            raise deferred
        return response

    def _pkce_grant(self, request: Request) -> dict[str, Any]:
        """GoTrue's PKCE grant: the auth code of a confirmed sign-up plus the code verifier."""
        body = _body(request)
        auth_code, verifier = _str(body, "auth_code"), _str(body, "code_verifier")
        if not auth_code or not verifier:
            raise bad_request("validation_failed", "invalid request: both auth code and code verifier should be non-empty")
        with self.pool.connection() as conn, conn.transaction():
            flow = store.flow_state_by_auth_code(conn, auth_code)
            if flow is None or flow["user_id"] is None:
                raise not_found("flow_state_not_found", "invalid flow state, no valid flow state found")
            if _now() > flow["started"] + dt.timedelta(seconds=FLOW_STATE_EXPIRY_SECONDS):
                raise unprocessable("flow_state_expired", "invalid flow state, flow state has expired")
            if flow["code_challenge_method"] == "s256":
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            else:
                digest = verifier
            if not hmac.compare_digest(digest, flow["code_challenge"]):
                raise bad_request("bad_code_verifier", "code challenge does not match previously saved code verifier")
            user = store.user_by_id(conn, flow["user_id"])
            if user is None:
                raise not_found("user_not_found", "User not found")
            response = self._grant(conn, request, user, flow["authentication_method"])
            store.delete_flow_state(conn, flow["id"])
            return response

    def _grant(self, conn: Any, request: Request, user: dict[str, Any], method: str) -> dict[str, Any]:
        """A new session + refresh token for ``user`` and the token response (IssueRefreshToken)."""
        session_id, amr, refresh = store.start_session(conn, user["id"], method,
                                                       user_agent=request.headers.get("User-Agent"),
                                                       ip=_client_ip(request))
        return self._token_response(store.user_by_id(conn, user["id"]), session_id, amr, refresh)

    def _token_response(self, user: dict[str, Any], session_id: str, amr: list[dict[str, Any]],
                        refresh: str) -> dict[str, Any]:
        now = int(time.time())
        ttl = self.config.jwt_expiry
        claims = tokens.access_token_claims(user["id"], user["email"] or "", user["app_metadata"],
                                            user["user_metadata"], ttl=ttl, now=now, session_id=session_id,
                                            amr=amr, issuer=self.external_url, role=user["role"] or "authenticated",
                                            phone=user["phone"] or "", is_anonymous=bool(user["is_anonymous"]))
        return {"access_token": tokens.mint(claims, secret=self.jwt_secret), "token_type": "bearer",
                "expires_in": ttl, "expires_at": now + ttl, "refresh_token": refresh, "user": store.user_json(user)}

    # -- the signed-in user ------------------------------------------------------------------------
    def _authenticate(self, request: Request) -> tuple[dict[str, Any], dict[str, Any], str | None]:
        """GoTrue's requireAuthentication: (claims, user, session_id) or the refusal it sends."""
        claims = self._claims(request)
        sub = claims.get("sub")
        if not sub:
            raise forbidden("bad_jwt", "invalid claim: missing sub claim")
        try:
            user_id = str(uuid.UUID(str(sub)))
        except ValueError:
            raise bad_request("bad_jwt", "invalid claim: sub claim must be a UUID") from None
        session_id = claims.get("session_id") or None
        with self.pool.connection() as conn:
            user = store.user_by_id(conn, user_id)
            if user is None:
                raise forbidden("user_not_found", "User from sub claim in JWT does not exist")
            if session_id is not None and session_id != tokens.INSTANCE_ID:
                try:
                    session_id = str(uuid.UUID(str(session_id)))
                except ValueError:
                    raise forbidden("bad_jwt", "invalid claim: session_id claim must be a UUID") from None
                if not store.session_exists(conn, session_id):
                    raise forbidden("session_not_found", "Session from session_id claim in JWT does not exist")
            else:
                session_id = None
        if _is_banned(user):
            raise forbidden("user_banned", "User is banned")
        return claims, user, session_id

    def _claims(self, request: Request) -> dict[str, Any]:
        header = request.headers.get("Authorization", "")
        match = re.fullmatch(r"(?i)bearer (\S+)", header.strip())
        if not match:
            raise AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token")
        try:
            return jwt.decode(match.group(1), self.jwt_secret, algorithms=["HS256"],
                              options={"verify_aud": False, "require": []})
        except jwt.ExpiredSignatureError:
            reason = "token has invalid claims: token is expired"
        except jwt.InvalidSignatureError:
            reason = "token signature is invalid: signature is invalid"
        except jwt.PyJWTError as exc:
            reason = str(exc)
        raise forbidden("bad_jwt", f"invalid JWT: unable to parse or verify signature, {reason}")

    def _user(self, request: Request) -> Response:
        claims, user, session_id = self._authenticate(request)
        if request.method == "GET":
            aud = claims.get("aud")
            aud = aud[0] if isinstance(aud, list) and aud else aud
            if aud != "authenticated":
                raise bad_request("validation_failed", "Token audience doesn't match request audience")
            return _json(store.user_json(user))
        return _json(self._update_user(request, user, session_id))

    def _update_user(self, request: Request, user: dict[str, Any], session_id: str | None) -> dict[str, Any]:
        body = _body(request)
        email, phone = _str(body, "email"), _str(body, "phone")
        if "app_metadata" in body and body["app_metadata"] is not None and user["role"] not in ADMIN_ROLES:
            raise forbidden("not_admin", "Updating app_metadata requires admin privileges")
        if email and _validate_email(email) != (user["email"] or ""):
            raise unprocessable("feature_disabled", "Changing the e-mail address is not implemented by the local "
                                                    "Auth stand-in (use the admin API: PUT /admin/users/{id})")
        if phone and phone != (user["phone"] or ""):
            raise unprocessable("phone_provider_disabled", "Phone is not enabled in the local Auth stand-in")
        password = body.get("password")
        data = _dict(body, "data") if body.get("data") is not None else None
        new_hash = None
        if password is not None:
            if not isinstance(password, str):
                raise bad_request("validation_failed", "password must be a string")
            if password:
                self._check_password_strength(password)
                if user["encrypted_password"] and _check_password(password, user["encrypted_password"]):
                    raise unprocessable("same_password", "New password should be different from the old password.")
            new_hash = _hash(password) if password else None
        with self.pool.connection() as conn, conn.transaction():
            current = store.user_by_id(conn, user["id"], for_update=True)
            if password is not None:
                store.update_user(conn, user["id"], encrypted_password=new_hash, confirmation_token="",
                                  confirmation_sent_at=None, recovery_token="", recovery_sent_at=None)
                # GoTrue's UpdatePassword: every other session of the user ends.
                store.logout(conn, user["id"], session_id, "others" if session_id else "global")
            if data is not None:
                store.update_user(conn, user["id"], raw_user_meta_data=_merge(current["user_metadata"], data))
            return store.user_json(store.user_by_id(conn, user["id"]))

    def _logout(self, request: Request) -> Response:
        scope = request.args.get("scope", "") or "global"
        if scope not in ("global", "local", "others"):
            raise bad_request("validation_failed", f'Unsupported logout scope "{scope}"')
        _, user, session_id = self._authenticate(request)
        with self.pool.connection() as conn, conn.transaction():
            store.logout(conn, user["id"], session_id, scope)
        return Response(status=204)

    # -- admin -----------------------------------------------------------------------------------
    def _require_admin(self, request: Request) -> None:
        claims = self._claims(request)
        if claims.get("role") not in ADMIN_ROLES:
            raise forbidden("not_admin", "User not allowed")

    def _admin_users(self, request: Request) -> Response:
        self._require_admin(request)
        if request.method == "GET":
            try:
                page = int(request.args.get("page", "1") or 1)
                per_page = int(request.args.get("per_page", "50") or 50)
                if page < 1 or per_page < 1:
                    raise ValueError
            except ValueError:
                raise bad_request("validation_failed", "Bad Pagination Parameters: page and per_page must be "
                                                       "positive integers") from None
            with self.pool.connection() as conn:
                users, total = store.list_users(conn, page=page, per_page=per_page, aud="authenticated",
                                                filter_text=request.args.get("filter") or None)
            response = _json({"users": [store.user_json(u) for u in users], "aud": "authenticated"})
            pages = max(1, -(-total // per_page))
            links = []
            if pages > page:
                links.append(f'<{_page_url(request, page + 1)}>; rel="next"')
            links.append(f'<{_page_url(request, pages)}>; rel="last"')
            response.headers["Link"] = ", ".join(links)
            response.headers["X-Total-Count"] = str(total)
            return response
        return _json(self._admin_create(_body(request)))

    def _admin_create(self, body: dict[str, Any]) -> dict[str, Any]:
        email, phone = _str(body, "email"), _str(body, "phone")
        if phone:
            raise bad_request("phone_provider_disabled", "Phone is not enabled in the local Auth stand-in")
        if not email:
            raise bad_request("validation_failed", "Cannot create a user without either an email or phone")
        email = _validate_email(email)
        password, password_hash = body.get("password"), _str(body, "password_hash")
        if password is not None and password_hash:
            raise bad_request("validation_failed", "Only a password or a password hash should be provided")
        if password is not None and not isinstance(password, str):
            raise bad_request("validation_failed", "password must be a string")
        if password_hash and not password_hash.startswith(("$2a$", "$2b$", "$2y$")):
            raise bad_request("validation_failed", "Only bcrypt password hashes are supported by the local stand-in")
        if not password_hash:
            password_hash = _hash(password or secrets.token_urlsafe(48))  # GoTrue sets a random one too
        user_id = _str(body, "id") or None
        if user_id is not None:
            try:
                parsed = uuid.UUID(user_id)
            except ValueError:
                raise bad_request("validation_failed", "ID must conform to the uuid v4 format") from None
            if parsed.int == 0:
                raise bad_request("validation_failed", "ID cannot be a nil uuid")
        app_metadata = _merge({"provider": "email", "providers": ["email"]}, _dict(body, "app_metadata"))
        banned_until = _ban_until(body.get("ban_duration"))
        with self.pool.connection() as conn, conn.transaction():
            if store.user_by_email(conn, email) is not None:
                raise unprocessable("email_exists", DUPLICATE_EMAIL)
            try:
                user = store.create_user(conn, email=email, password_hash=password_hash,
                                         user_metadata=_dict(body, "user_metadata"), app_metadata=app_metadata,
                                         confirmed=bool(body.get("email_confirm")),
                                         role=_str(body, "role") or "authenticated", user_id=user_id)
            except psycopg.errors.UniqueViolation:
                raise unprocessable("email_exists", DUPLICATE_EMAIL) from None
            if banned_until is not None:
                user = store.update_user(conn, user["id"], banned_until=banned_until or None)
            return store.user_json(user)

    def _admin_user(self, request: Request, user_id: str) -> Response:
        self._require_admin(request)
        try:
            user_id = str(uuid.UUID(user_id))
        except ValueError:
            raise not_found("validation_failed", "user_id must be an UUID") from None
        body = _body(request) if request.method == "PUT" or request.get_data() else {}
        with self.pool.connection() as conn, conn.transaction():
            user = store.user_by_id(conn, user_id, for_update=True)
            if user is None:
                raise not_found("user_not_found", "User not found")
            if request.method == "GET":
                return _json(store.user_json(user))
            if request.method == "DELETE":
                if body.get("should_soft_delete"):
                    if user["deleted_at"] is None:
                        obfuscated = hashlib.sha256((user["id"] + (user["email"] or "")).encode()).hexdigest()
                        store.update_user(conn, user_id, email=obfuscated, phone=None, encrypted_password=None,
                                          confirmation_token="", recovery_token="", deleted_at=_now())
                        store.logout(conn, user_id, None, "global")
                else:
                    store.delete_user(conn, user_id)
                return _json({})
            return _json(self._admin_update(conn, user, body))

    def _admin_update(self, conn: Any, user: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        user_id = user["id"]
        changes: dict[str, Any] = {}
        if _str(body, "phone"):
            raise bad_request("phone_provider_disabled", "Phone is not enabled in the local Auth stand-in")
        email = _str(body, "email")
        if email:
            email = _validate_email(email)
            other = store.user_by_email(conn, email)
            if other is not None and other["id"] != user_id:
                raise unprocessable("email_exists", DUPLICATE_EMAIL)
            changes["email"] = email
        if _str(body, "role"):
            changes["role"] = _str(body, "role")
        if body.get("email_confirm") and user["email_confirmed_at"] is None:
            changes["email_confirmed_at"] = _now()
            changes["confirmation_token"] = ""
        password = body.get("password")
        if password is not None:
            if not isinstance(password, str):
                raise bad_request("validation_failed", "password must be a string")
            self._check_password_strength(password)
            changes["encrypted_password"] = _hash(password)
        if body.get("app_metadata") is not None:
            changes["raw_app_meta_data"] = _merge(user["app_metadata"], _dict(body, "app_metadata"))
        if body.get("user_metadata") is not None:
            changes["raw_user_meta_data"] = _merge(user["user_metadata"], _dict(body, "user_metadata"))
        banned_until = _ban_until(body.get("ban_duration"))
        if banned_until is not None:
            changes["banned_until"] = banned_until or None
        if changes:
            store.update_user(conn, user_id, **changes)
        if password is not None:
            store.logout(conn, user_id, None, "global")  # UpdatePassword(tx, nil): every session ends
        return store.user_json(store.user_by_id(conn, user_id))

    # -- helpers needing the config ----------------------------------------------------------------
    def _check_password_strength(self, password: str) -> None:
        if len(password) < self.config.minimum_password_length:
            raise AuthError(422, "weak_password",
                            f"Password should be at least {self.config.minimum_password_length} characters.",
                            weak_password_reasons=["length"])
        if len(password.encode()) > BCRYPT_MAX_BYTES:
            raise bad_request("validation_failed", "bcrypt: password length exceeds 72 bytes")

    def _referrer(self, request: Request) -> str:
        """GoTrue's GetReferrer: ``redirect_to`` when allowed, else the Referer, else site_url."""
        for candidate in (request.args.get("redirect_to", ""), request.headers.get("Referer", "")):
            if candidate and self._redirect_allowed(candidate):
                return candidate
        return self.config.site_url

    def _redirect_allowed(self, url: str) -> bool:
        """GoTrue's IsRedirectURLValid: the site itself, loopback hosts, or the allow list (globs)."""
        try:
            base, ref = urlsplit(self.config.site_url), urlsplit(url)
            ref_port, base_port = ref.port, base.port
        except ValueError:
            return False
        host = ref.hostname or ""
        if host == (base.hostname or "") and ref.scheme == base.scheme and (base_port == ref_port or _is_loopback(host)):
            return True
        if host.isdigit():
            return False
        try:
            return ip_address(host).is_loopback
        except ValueError:
            pass
        target = url.split("#", 1)[0]
        return any(fnmatchcase(target, pattern) for pattern in self.config.additional_redirect_urls)


# -- module helpers --------------------------------------------------------------------------------
def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _body(request: Request) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request("bad_json", f"Could not parse request body as JSON: {exc}") from None
    if not isinstance(data, dict):
        raise bad_request("bad_json", "Could not parse request body as JSON: expected a JSON object")
    return data


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_request("bad_json", f"Could not parse request body as JSON: {key} must be a string")
    return value


def _dict(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request("bad_json", f"Could not parse request body as JSON: {key} must be an object")
    return value


def _merge(current: dict[str, Any], updates: dict[str, Any]) -> dict[str, Any]:
    """GoTrue's UpdateUserMetaData / UpdateAppMetaData: set keys, a null value removes the key."""
    merged = dict(current or {})
    for key, value in updates.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _validate_email(email: str) -> str:
    if email == "":
        raise bad_request("validation_failed", "An email address is required")
    if len(email) > 255:
        raise bad_request("validation_failed", "An email address is too long")
    if not _EMAIL.match(email):
        raise bad_request("validation_failed", "Unable to validate email address: invalid format")
    return email.lower()


def _pkce_params(method: str, challenge: str) -> tuple[str, str] | None:
    """GoTrue's validatePKCEParams: None for the implicit flow, else (method, challenge)."""
    if not method and not challenge:
        return None
    if not method or not challenge:
        raise bad_request("validation_failed", "PKCE flow requires code_challenge_method and code_challenge")
    if not _CODE_CHALLENGE.match(challenge):
        raise bad_request("validation_failed", "code challenge has to be between 43 and 128 characters of "
                                               "alphanumerics, hyphens, periods, underscores and tildes")
    normalized = method.lower()
    if normalized not in ("s256", "plain"):
        raise bad_request("validation_failed", f"unsupported code_challenge method {method!r}")
    return normalized, challenge


def _token_hash(email: str, otp: str) -> str:
    """GoTrue's GenerateTokenHash: hex SHA-224 of e-mail + one-time code."""
    return hashlib.sha224((email + otp).encode()).hexdigest()


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + sorted(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=BCRYPT_COST)).decode()


def _check_password(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode()[:BCRYPT_MAX_BYTES], hashed.encode())
    except ValueError:  # not a bcrypt hash
        return False


def _is_banned(user: dict[str, Any]) -> bool:
    return user["banned_until"] is not None and user["banned_until"] > _now()


def _ban_until(value: Any) -> dt.datetime | str | None:
    """``ban_duration`` ("24h", "none") as banned_until; "" means lift the ban; None: not given."""
    if value is None or value == "":
        return None
    if value == "none":
        return ""
    if not isinstance(value, str):
        raise bad_request("validation_failed", "invalid format for ban duration: must be a string")
    try:
        return _now() + dt.timedelta(seconds=parse_duration(value))
    except ValueError as exc:
        raise bad_request("validation_failed", f"invalid format for ban duration: {exc}") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _client_ip(request: Request) -> str | None:
    try:
        return str(ip_address(request.remote_addr or ""))
    except ValueError:
        return None


def _sanitized_user(email: str, data: dict[str, Any]) -> dict[str, Any]:
    """GoTrue's sanitizeUser: a made-up unconfirmed user, so sign-up never tells who is registered."""
    now = _now().isoformat().replace("+00:00", "Z")
    return {"id": str(uuid.uuid4()), "aud": "authenticated", "role": "", "email": email, "phone": "",
            "confirmation_sent_at": now, "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": data, "identities": [], "created_at": now, "updated_at": now, "is_anonymous": False}


def _page_url(request: Request, page: int) -> str:
    args = request.args.to_dict()
    args["page"] = str(page)
    return f"{request.base_url}?{urlencode(args)}"


def _html_attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;")


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def _redirect(location: str) -> Response:
    return Response(status=303, headers={"Location": location})


def _response(status: int, headers: list[tuple[str, str]], body: bytes) -> Response:
    return Response(body, status=status, headers=headers)


def auth_db_url(gateway_db_url: str) -> str:
    """The URL the stand-in logs in with: ``AUTH_DB_URL``, else the gateway's database as
    ``supabase_auth_admin`` (GoTrue's role on Supabase; same local password as the bootstrap's)."""
    if os.environ.get("AUTH_DB_URL"):
        return os.environ["AUTH_DB_URL"]
    params = conninfo_to_dict(gateway_db_url)
    params["user"] = "supabase_auth_admin"
    return make_conninfo(**params)


def build_auth_app(gateway_db_url: str, *, api_url: str) -> AuthApp:
    """The Auth stand-in for the local API at ``api_url``, configured from supabase/config.toml."""
    app = AuthApp(auth_db_url(gateway_db_url), config=load_config(), jwt_secret=settings.jwt_secret(),
                  api_keys=(settings.anon_key(), settings.service_role_key()), external_url=f"{api_url}/auth/v1")
    app.open()
    return app
