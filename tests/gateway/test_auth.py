"""The gateway's API-key check and PostgREST's JWT handling."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from devstack.gateway.auth import JwtVerifier
from devstack.gateway.errors import ApiError
from devstack.tokens import mint, unsigned

OTHER_SECRET = "another-secret-that-is-also-at-least-32-characters"


def claims(**extra) -> dict:
    now = int(time.time())
    return {"sub": "00000000-0000-4000-a000-000000000002", "role": "authenticated",
            "email": "learner@example.com", "aud": "authenticated", "iat": now, "exp": now + 600, **extra}


def _tampered() -> str:
    """A learner token whose payload was edited to say service_role (signature unchanged)."""
    header, _, signature = mint(claims()).split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims(role="service_role")).encode()).rstrip(b"=")
    return f"{header}.{payload.decode()}.{signature}"


def test_missing_api_key_is_401(rest, scratch):
    raw = rest("GET", "/gw_notes", key=None)
    assert raw.status_code == 401
    assert raw.json() == {"message": "No API key found in request"}


def test_unknown_api_key_is_401_even_with_a_valid_jwt(rest, learner, scratch):
    raw = rest("GET", "/gw_notes", key="not-a-key", token=learner)
    assert raw.status_code == 401
    assert raw.json()["message"] == "Invalid API key"


def test_valid_user_token_selects_the_role(rest, learner, scratch):
    assert rest("POST", "/rpc/gw_whoami", token=learner).json()["current_user"] == "authenticated"


@pytest.mark.parametrize(
    "token, message",
    [
        (lambda: mint(claims(exp=int(time.time()) - 60)), "JWT expired"),
        (lambda: mint(claims(nbf=int(time.time()) + 120)), "JWT not yet valid"),
        (lambda: mint(claims(iat=int(time.time()) + 120)), "JWT issued at future"),
        (lambda: mint(claims(), secret=OTHER_SECRET), "JWT cryptographic operation failed"),
        (lambda: mint(claims(role="service_role"), secret=OTHER_SECRET), "JWT cryptographic operation failed"),
        (lambda: unsigned(claims(role="service_role")), "Wrong or unsupported encoding algorithm"),
        (lambda: "not-a-jwt", "Expected 3 parts in JWT; got 1"),
        (lambda: _tampered(), "JWT cryptographic operation failed"),
    ],
    ids=["expired", "not-yet-valid", "issued-in-future", "forged-key", "forged-service-role",
         "alg-none", "garbage", "tampered-signature"],
)
def test_bad_tokens_are_401_pgrst301(rest, scratch, token, message):
    raw = rest("POST", "/rpc/gw_whoami", token=token())
    assert raw.status_code == 401
    body = raw.json()
    assert (body["code"], body["message"]) == ("PGRST301", message)
    assert raw.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_clock_skew_of_30_seconds_is_tolerated(rest, scratch):
    token = mint(claims(exp=int(time.time()) - 10))
    assert rest("POST", "/rpc/gw_whoami", token=token).json()["current_user"] == "authenticated"


def test_token_without_role_claim_is_anon(rest, scratch):
    info = rest("POST", "/rpc/gw_whoami", token=mint({"sub": "00000000-0000-4000-a000-0000000000ff", "exp": int(time.time()) + 60})).json()
    assert info["current_user"] == "anon"
    assert info["claims"]["role"] == "anon"


def test_forged_service_role_cannot_read_protected_rows(rest, items, scratch):
    items.execute("insert into public.gw_items (name) values ('secret')")
    raw = rest("GET", "/gw_items", token=mint({"role": "service_role"}, secret=OTHER_SECRET))
    assert raw.status_code == 401
    assert "secret" not in raw.text


# -- JWKS (asymmetric keys), checked on the verifier itself ------------------------------------------
def _jwk(public_key, kid: str, alg: str) -> dict:
    data = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(public_key))
    return {**data, "kid": kid, "alg": alg, "use": "sig"}


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_asymmetric_tokens_are_checked_against_the_jwks(alg):
    private = ec.generate_private_key(ec.SECP256R1()) if alg == "ES256" else rsa.generate_private_key(65537, 2048)
    other = ec.generate_private_key(ec.SECP256R1()) if alg == "ES256" else rsa.generate_private_key(65537, 2048)
    verifier = JwtVerifier("unused-hs-secret", jwks={"keys": [_jwk(private.public_key(), "k1", alg)]})
    good = mint(claims(), key=private, algorithm=alg, headers={"kid": "k1"})
    assert verifier.claims(good)["role"] == "authenticated"
    for bad in (mint(claims(), key=other, algorithm=alg, headers={"kid": "k1"}),
                mint(claims(), key=private, algorithm=alg, headers={"kid": "unknown"})):
        with pytest.raises(ApiError) as err:
            verifier.claims(bad)
        assert (err.value.status, err.value.code) == (401, "PGRST301")


def test_audience_is_checked_only_when_configured(jwt_secret):
    token = mint(claims(aud="someone-else"))
    assert JwtVerifier(jwt_secret).claims(token)["aud"] == "someone-else"
    with pytest.raises(ApiError) as err:
        JwtVerifier(jwt_secret, audience="authenticated").claims(token)
    assert err.value.message == "JWT not in audience"


def test_cors_preflight_needs_no_api_key(api_url):
    import httpx

    raw = httpx.options(f"{api_url}/rest/v1/gw_items", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, apikey, content-type, prefer, x-client-info"})
    assert raw.status_code == 200
    assert raw.headers["access-control-allow-origin"] == "*"
    assert "apikey" in raw.headers["access-control-allow-headers"]
    assert "POST" in raw.headers["access-control-allow-methods"]
