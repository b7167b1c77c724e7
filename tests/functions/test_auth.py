"""Caller authentication: Supabase user access tokens verified like PostgREST verifies them."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from functions._auth import LEEWAY_SECONDS, authenticate, bearer_token
from functions._errors import ServiceUnavailable, Unauthorized
from functions._settings import UserSettings
from tests.functions.helpers import JWT_SECRET, make_token

HS_SETTINGS = UserSettings(supabase_url="http://api.test", anon_key="a", jwt_secret=JWT_SECRET, jwks_url=None)


def _auth(token: str, settings: UserSettings = HS_SETTINGS):
    return authenticate(f"Bearer {token}", settings)


def test_valid_hs256_user_token_yields_the_caller():
    sub = str(uuid.uuid4())
    token = make_token(sub=sub)
    caller = _auth(token)
    assert str(caller.user_id) == sub
    assert caller.token == token
    assert caller.claims["email"] == "learner@example.com"


@pytest.mark.parametrize("header", [None, "", "   ", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc"])
def test_missing_or_non_bearer_authorization_is_401_with_a_challenge(header):
    with pytest.raises(Unauthorized) as err:
        bearer_token(header)
    assert err.value.headers["WWW-Authenticate"].startswith("Bearer")


def test_bearer_scheme_is_case_insensitive():
    assert bearer_token("bearer abc.def.ghi") == "abc.def.ghi"


def _refused(token: str, match: str, settings: UserSettings = HS_SETTINGS) -> Unauthorized:
    with pytest.raises(Unauthorized, match=match) as err:
        _auth(token, settings)
    assert err.value.code == "invalid_token"
    assert 'error="invalid_token"' in err.value.headers["WWW-Authenticate"]
    return err.value


def test_token_signed_with_another_secret_is_refused():
    _refused(make_token("another-secret-that-is-at-least-32-characters-long"), "invalid")


def test_tampered_payload_is_refused():
    header, payload, signature = make_token().split(".")
    forged = jwt.utils.base64url_encode(json.dumps(
        {"sub": str(uuid.uuid4()), "role": "authenticated", "aud": "authenticated",
         "exp": int(time.time()) + 60, "app_metadata": {"prompt_admin": True}}).encode()).decode()
    _refused(f"{header}.{forged}.{signature}", "invalid")


def test_unsigned_alg_none_token_is_refused():
    token = jwt.encode({"sub": str(uuid.uuid4()), "role": "authenticated", "aud": "authenticated",
                        "exp": int(time.time()) + 60}, None, algorithm="none")
    _refused(token, "algorithm is not accepted")


def test_hs384_is_not_accepted():
    _refused(make_token(algorithm="HS384"), "algorithm is not accepted")


def test_garbage_token_is_refused():
    _refused("not-a-jwt", "malformed")


def test_expired_token_is_refused_after_the_leeway():
    now = int(time.time())
    _refused(make_token(exp=now - LEEWAY_SECONDS - 5, iat=now - 600), "expired")


def test_token_expired_within_the_leeway_is_accepted():
    now = int(time.time())
    _auth(make_token(exp=now - LEEWAY_SECONDS + 10, iat=now - 600))


def test_token_not_yet_valid_is_refused():
    now = int(time.time())
    _refused(make_token(nbf=now + LEEWAY_SECONDS + 60), "not valid yet")
    _refused(make_token(iat=now + LEEWAY_SECONDS + 60), "not valid yet")


def test_token_issued_slightly_in_the_future_is_accepted():
    _auth(make_token(iat=int(time.time()) + LEEWAY_SECONDS - 10))


@pytest.mark.parametrize("claim", ["exp", "sub", "role"])
def test_token_without_a_required_claim_is_refused(claim):
    _refused(make_token(**{claim: None}), "invalid")


def test_token_for_another_audience_is_refused():
    _refused(make_token(aud="someone-else"), "invalid")


def test_token_without_audience_is_refused():
    _refused(make_token(aud=None), "invalid")


@pytest.mark.parametrize("role", ["anon", "service_role", "supabase_admin"])
def test_api_keys_and_other_roles_are_not_user_tokens(role):
    _refused(make_token(role=role), "role must be 'authenticated'")


@pytest.mark.parametrize("sub", ["not-a-uuid", "", "1"])
def test_subject_must_be_a_user_id(sub):
    _refused(make_token(sub=sub), "subject")


# ----- ES256 / RS256 through a JWKS endpoint ---------------------------------------------------

class _JWKS:
    """A tiny JWKS endpoint on 127.0.0.1 that counts its fetches."""

    def __init__(self) -> None:
        self.keys: list[dict] = []
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                owner.fetches += 1
                body = json.dumps({"keys": owner.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/auth/v1/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def jwks(function_env) -> Iterator[_JWKS]:
    server = _JWKS()
    yield server
    server.close()


def _settings_with_jwks(url: str, secret: str | None = None) -> UserSettings:
    return UserSettings(supabase_url="http://api.test", anon_key="a", jwt_secret=secret, jwks_url=url)


def _ec_key(kid: str, jwks: _JWKS):
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True) | {"kid": kid, "alg": "ES256", "use": "sig"}
    jwks.keys.append(jwk)
    return key


def test_es256_token_is_verified_with_the_jwks_key_named_by_kid(jwks):
    key = _ec_key("key-1", jwks)
    token = make_token(key, algorithm="ES256", headers={"kid": "key-1"})
    settings = _settings_with_jwks(jwks.url)
    assert _auth(token, settings).claims["role"] == "authenticated"


def test_rs256_token_is_verified_with_the_jwks(jwks):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks.keys.append(RSAAlgorithm.to_jwk(key.public_key(), as_dict=True) | {"kid": "rsa-1", "alg": "RS256"})
    token = make_token(key, algorithm="RS256", headers={"kid": "rsa-1"})
    _auth(token, _settings_with_jwks(jwks.url))


def test_jwks_is_fetched_once_and_cached_across_requests(jwks):
    key = _ec_key("key-1", jwks)
    settings = _settings_with_jwks(jwks.url)
    for _ in range(5):
        _auth(make_token(key, algorithm="ES256", headers={"kid": "key-1"}), settings)
    assert jwks.fetches == 1


def test_es256_token_signed_by_an_unknown_key_is_refused(jwks):
    _ec_key("key-1", jwks)
    stranger = ec.generate_private_key(ec.SECP256R1())
    token = make_token(stranger, algorithm="ES256", headers={"kid": "key-1"})
    _refused(token, "invalid", _settings_with_jwks(jwks.url))


def test_es256_token_with_an_unknown_kid_is_refused(jwks):
    _ec_key("key-1", jwks)
    stranger = ec.generate_private_key(ec.SECP256R1())
    token = make_token(stranger, algorithm="ES256", headers={"kid": "key-9"})
    _refused(token, "unknown key", _settings_with_jwks(jwks.url))


def test_hs256_token_is_refused_when_only_a_jwks_is_configured(jwks):
    _ec_key("key-1", jwks)
    _refused(make_token(), "algorithm is not accepted", _settings_with_jwks(jwks.url))


def test_hs256_and_es256_both_work_when_both_are_configured(jwks):
    key = _ec_key("key-1", jwks)
    settings = _settings_with_jwks(jwks.url, secret=JWT_SECRET)
    _auth(make_token(), settings)
    _auth(make_token(key, algorithm="ES256", headers={"kid": "key-1"}), settings)


def test_token_claiming_es256_but_hmac_signed_with_the_public_key_is_refused(jwks):
    """Algorithm confusion: an HMAC over the public JWK must never verify as ES256."""
    _ec_key("key-1", jwks)
    b64 = lambda data: jwt.utils.base64url_encode(data).decode()  # noqa: E731
    signing_input = ".".join([
        b64(json.dumps({"alg": "ES256", "kid": "key-1", "typ": "JWT"}).encode()),
        b64(json.dumps({"sub": str(uuid.uuid4()), "role": "authenticated", "aud": "authenticated",
                        "exp": int(time.time()) + 60}).encode()),
    ])
    mac = hmac.new(json.dumps(jwks.keys[0]).encode(), signing_input.encode(), hashlib.sha256).digest()
    _refused(f"{signing_input}.{b64(mac)}", "invalid", _settings_with_jwks(jwks.url))


def test_unreachable_jwks_is_503_not_401(function_env):
    key = ec.generate_private_key(ec.SECP256R1())
    token = make_token(key, algorithm="ES256", headers={"kid": "key-1"})
    with pytest.raises(ServiceUnavailable):
        _auth(token, _settings_with_jwks("http://127.0.0.1:9/jwks.json"))
