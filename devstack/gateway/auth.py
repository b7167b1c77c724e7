"""JWT verification as PostgREST does it: HS256/384/512 with the shared secret, RS*/ES*/PS*/EdDSA
through a JWKS (``JWT_JWKS`` JSON or ``JWT_JWKS_URL``) matched by ``kid``; ``exp``/``nbf``/``iat``
checked with 30 s clock skew, ``aud`` only when an audience is configured.

Every failure is PostgREST's 401 ``PGRST301`` with its message for the case.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from typing import Any

import jwt

from devstack.gateway.errors import jwt_error

log = logging.getLogger("devstack.gateway.auth")

CLOCK_SKEW_SECONDS = 30
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
                                   "PS256", "PS384", "PS512", "EdDSA"})
_KTY_FOR_ALG = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP", "HS": "oct"}
_CACHE_MAX = 4096
_JWKS_REFRESH_SECONDS = 30.0


class JwtVerifier:
    """Checks bearer tokens and returns their claims; caches successful verifications."""

    def __init__(self, secret: str | None, *, jwks: dict[str, Any] | None = None,
                 jwks_url: str | None = None, audience: str | None = None) -> None:
        self._secret = secret
        self._jwks_url = jwks_url
        self._audience = audience
        self._keys: list[tuple[dict[str, Any], jwt.PyJWK]] = _parse_jwks(jwks) if jwks else []
        self._keys_fetched_at = 0.0
        self._lock = threading.Lock()
        self._cache: dict[str, dict[str, Any]] = {}

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``, or ApiError 401 PGRST301."""
        cached = self._cache.get(token)
        if cached is not None and _still_valid(cached):
            return cached
        claims = self._verify(token)
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[token] = claims
        return claims

    # -- internals -----------------------------------------------------------------------------
    def _verify(self, token: str) -> dict[str, Any]:
        if token == "":
            raise jwt_error("Empty JWT is sent in Authorization header")
        parts = token.split(".")
        if len(parts) != 3:
            raise jwt_error(f"Expected 3 parts in JWT; got {len(parts)}")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise jwt_error("JWT couldn't be decoded") from None
        alg = header.get("alg")
        if alg not in HMAC_ALGORITHMS and alg not in ASYMMETRIC_ALGORITHMS:
            raise jwt_error("Wrong or unsupported encoding algorithm", details=f"alg: {alg!r}")
        key = self._key_for(alg, header.get("kid"))
        options = {"verify_aud": self._audience is not None, "require": []}
        try:
            claims = jwt.decode(token, key, algorithms=[alg], leeway=CLOCK_SKEW_SECONDS,
                                audience=self._audience, options=options)
        except jwt.ExpiredSignatureError:
            raise jwt_error("JWT expired") from None
        except jwt.ImmatureSignatureError as exc:
            raise jwt_error("JWT issued at future" if "iat" in str(exc) else "JWT not yet valid") from None
        except (jwt.InvalidAudienceError, jwt.MissingRequiredClaimError):
            raise jwt_error("JWT not in audience") from None
        except jwt.InvalidSignatureError:
            raise jwt_error("JWT cryptographic operation failed") from None
        except jwt.InvalidAlgorithmError:
            raise jwt_error("Wrong or unsupported encoding algorithm") from None
        except jwt.PyJWTError as exc:
            raise jwt_error("JWT couldn't be decoded", details=str(exc)) from None
        if not isinstance(claims, dict):
            raise jwt_error("Parsing claims failed")
        return claims

    def _key_for(self, alg: str, kid: str | None) -> Any:
        """The key to check a token signed with ``alg`` (and ``kid``), or PGRST301."""
        if alg in HMAC_ALGORITHMS and self._secret:
            return self._secret
        key = self._find_jwk(alg, kid)
        if key is None and self._jwks_url:
            self._refresh_jwks()
            key = self._find_jwk(alg, kid)
        if key is None:
            raise jwt_error("No suitable key or wrong key type",
                            details=f"no key for alg {alg}" + (f" and kid {kid}" if kid else ""))
        return key

    def _find_jwk(self, alg: str, kid: str | None) -> Any:
        kty = _KTY_FOR_ALG.get(alg[:2])
        for raw, jwk in self._keys:
            if kid is not None and raw.get("kid") not in (None, kid):
                continue
            if raw.get("kty") != kty or raw.get("alg") not in (None, alg):
                continue
            return jwk.key
        return None

    def _refresh_jwks(self) -> None:
        """Fetch the JWKS URL again, at most once every 30 s."""
        with self._lock:
            if time.monotonic() - self._keys_fetched_at < _JWKS_REFRESH_SECONDS and self._keys:
                return
            self._keys_fetched_at = time.monotonic()
            try:
                with urllib.request.urlopen(self._jwks_url, timeout=5) as resp:  # noqa: S310
                    self._keys = _parse_jwks(json.loads(resp.read()))
            except Exception as exc:  # noqa: BLE001 - a broken JWKS endpoint only fails tokens
                log.warning("could not fetch JWKS from %s: %s", self._jwks_url, exc)


def _parse_jwks(data: dict[str, Any]) -> list[tuple[dict[str, Any], jwt.PyJWK]]:
    """A JWKS ({"keys": [...]}) or a single JWK as (raw, PyJWK) pairs; unusable keys are skipped."""
    raw = data.get("keys", [data]) if isinstance(data, dict) else []
    keys = []
    for item in raw:
        try:
            keys.append((item, jwt.PyJWK(item)))
        except jwt.PyJWTError as exc:
            log.warning("skipping JWK %s: %s", item.get("kid"), exc)
    return keys


def _still_valid(claims: dict[str, Any]) -> bool:
    """A cached token is reused only while its exp/nbf still hold."""
    now = time.time()
    exp = claims.get("exp")
    nbf = claims.get("nbf")
    if isinstance(exp, (int, float)) and now > exp + CLOCK_SKEW_SECONDS:
        return False
    if isinstance(nbf, (int, float)) and now < nbf - CLOCK_SKEW_SECONDS:
        return False
    return True


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive), else None."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()
