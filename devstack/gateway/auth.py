"""JWT verification as PostgREST does it: HS256/384/512 with the shared secret, RS*/ES*/PS*/EdDSA
through a JWKS (``JWT_JWKS`` JSON, or ``JWT_JWKS_URL`` fetched and cached by PyJWT's
``PyJWKClient``) matched by ``kid``; ``exp``/``nbf``/``iat``
checked with 30 s clock skew, ``aud`` only when an audience is configured.

Every failure is PostgREST's 401 ``PGRST301`` with its message for the case.
"""

from __future__ import annotations

import logging
import time
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
#: How long a JWKS fetched from JWT_JWKS_URL is used before it is fetched again.
JWKS_LIFESPAN_SECONDS = 600


class JwtVerifier:
    """Checks bearer tokens and returns their claims; caches successful verifications."""

    def __init__(self, secret: str | None, *, jwks: dict[str, Any] | None = None,
                 jwks_url: str | None = None, audience: str | None = None) -> None:
        self._secret = secret
        self._audience = audience
        self._jwks = _key_set(jwks) if jwks else None
        self._jwks_client = (jwt.PyJWKClient(jwks_url, lifespan=JWKS_LIFESPAN_SECONDS, timeout=5)
                             if jwks_url else None)
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
        kty = _KTY_FOR_ALG.get(alg[:2])
        for jwk in self._candidate_keys(kid):
            if kid is not None and jwk.key_id not in (None, kid):
                continue
            if jwk.key_type == kty:
                return jwk.key
        raise jwt_error("No suitable key or wrong key type",
                        details=f"no key for alg {alg}" + (f" and kid {kid}" if kid else ""))

    def _candidate_keys(self, kid: str | None) -> list[jwt.PyJWK]:
        """Keys of the inline JWKS, then of the JWKS URL (PyJWKClient: cached for
        ``JWKS_LIFESPAN_SECONDS``, refetched once for an unknown ``kid``, at most every 30 s)."""
        keys = list(self._jwks.keys) if self._jwks else []
        if self._jwks_client is not None:
            try:
                if kid is None:
                    keys += self._jwks_client.get_signing_keys()
                else:
                    keys.append(self._jwks_client.get_signing_key(kid))
            except jwt.PyJWKClientConnectionError as exc:  # a broken JWKS endpoint only fails tokens
                log.warning("could not fetch JWKS from %s: %s", self._jwks_client.uri, exc)
            except jwt.PyJWKClientError:
                pass  # no key with that kid, even after a refetch
        return keys


def _key_set(data: dict[str, Any]) -> jwt.PyJWKSet:
    """A JWKS ({"keys": [...]}) or a single JWK; unusable keys are skipped (PyJWKSet does)."""
    return jwt.PyJWKSet.from_dict(data if "keys" in data else {"keys": [data]})


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
