"""JWT_JWKS_URL: the stand-in fetches signing keys with PyJWT's PyJWKClient (cached, refetched once
for an unknown kid), as Supabase's asymmetric signing keys are published at
``/auth/v1/.well-known/jwks.json``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from devstack.gateway.auth import JwtVerifier
from devstack.gateway.errors import ApiError


def _jwk(private: ec.EllipticCurvePrivateKey, kid: str) -> dict:
    data = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    return {**data, "kid": kid, "alg": "ES256", "use": "sig"}


class _JwksServer:
    """A JWKS endpoint on a free port that counts its fetches; ``keys`` may change at any time."""

    def __init__(self) -> None:
        self.keys: list[dict] = []
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.fetches += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/auth/v1/.well-known/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def jwks_server() -> Iterator[_JwksServer]:
    server = _JwksServer()
    try:
        yield server
    finally:
        server.httpd.shutdown()


def _token(private: ec.EllipticCurvePrivateKey, kid: str, sub: str = "u1") -> str:
    now = int(time.time())
    return jwt.encode({"sub": sub, "role": "authenticated", "iat": now, "exp": now + 300}, private,
                      algorithm="ES256", headers={"kid": kid})


def test_keys_are_fetched_once_and_cached(jwks_server):
    key = ec.generate_private_key(ec.SECP256R1())
    jwks_server.keys = [_jwk(key, "k1")]
    verifier = JwtVerifier(None, jwks_url=jwks_server.url)
    assert verifier.claims(_token(key, "k1", "a"))["sub"] == "a"
    assert verifier.claims(_token(key, "k1", "b"))["sub"] == "b"
    assert jwks_server.fetches == 1


def test_a_rotated_in_key_is_found_by_one_refetch(jwks_server):
    old, new = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    jwks_server.keys = [_jwk(old, "old")]
    verifier = JwtVerifier(None, jwks_url=jwks_server.url)
    verifier.claims(_token(old, "old"))
    verifier._jwks_client.cooldown_duration = 0  # the 30 s refetch cooldown, shortened for the test
    jwks_server.keys = [_jwk(old, "old"), _jwk(new, "new")]
    assert verifier.claims(_token(new, "new"))["role"] == "authenticated"
    assert jwks_server.fetches == 2


def test_unknown_kid_and_unreachable_endpoint_are_pgrst301(jwks_server):
    key = ec.generate_private_key(ec.SECP256R1())
    jwks_server.keys = [_jwk(key, "k1")]
    for verifier, token in ((JwtVerifier(None, jwks_url=jwks_server.url), _token(key, "nope")),
                            (JwtVerifier(None, jwks_url="http://127.0.0.1:9/jwks.json"), _token(key, "k1"))):
        with pytest.raises(ApiError) as err:
            verifier.claims(token)
        assert (err.value.status, err.value.code, err.value.message) == (
            401, "PGRST301", "No suitable key or wrong key type")
