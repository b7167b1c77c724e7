"""Caller authentication: verify a Supabase Auth user access token, as PostgREST would.

Rules:
- ``Authorization: Bearer <token>`` is required.
- HS256 tokens are verified with ``SUPABASE_JWT_SECRET``; ES256/RS256 tokens with the key named by
  their ``kid`` in the JWKS at ``SUPABASE_JWKS_URL`` (fetched lazily, cached per process for
  ``JWKS_LIFESPAN_SECONDS``, refetched once for an unknown ``kid``). Any other ``alg`` (``none``,
  HS384, an asymmetric token without a JWKS, ...) is refused.
- ``exp`` is required; ``exp``/``nbf``/``iat`` are checked with ``LEEWAY_SECONDS`` of clock skew.
- ``aud`` must be ``authenticated``, ``role`` must be ``authenticated`` and ``sub`` a UUID: the
  functions act for a signed-in user. The anon and service_role API keys are refused (401).
Every failure is a 401 `Unauthorized`; only an unreachable JWKS endpoint is a 503.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from functions._errors import ServiceUnavailable, Unauthorized
from functions._settings import UserSettings

LEEWAY_SECONDS = 30
JWKS_LIFESPAN_SECONDS = 600
JWKS_TIMEOUT_SECONDS = 5
AUDIENCE = "authenticated"
USER_ROLE = "authenticated"
SYMMETRIC_ALGORITHM = "HS256"
ASYMMETRIC_ALGORITHMS = frozenset({"ES256", "RS256"})
REQUIRED_CLAIMS = ["exp", "sub", "role"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="functions"'}
_INVALID = {"WWW-Authenticate": 'Bearer realm="functions", error="invalid_token"'}


@dataclass(frozen=True)
class Caller:
    """A verified signed-in user: the raw token (forwarded to the API) and its claims."""

    token: str
    user_id: uuid.UUID
    claims: dict[str, Any]


def _invalid(message: str) -> Unauthorized:
    """A 401 for a token that is present but not acceptable."""
    return Unauthorized(message, code="invalid_token", headers=_INVALID)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or 401."""
    if not authorization or not authorization.strip():
        raise Unauthorized("missing Authorization: Bearer <access token> header", headers=_CHALLENGE)
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("the Authorization header must be 'Bearer <access token>'", headers=_CHALLENGE)
    return token


@functools.cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    """One JWKS client per URL and process; it caches the key set and is thread-safe."""
    return jwt.PyJWKClient(
        url, cache_jwk_set=True, lifespan=JWKS_LIFESPAN_SECONDS, timeout=JWKS_TIMEOUT_SECONDS
    )


def _verification_key(token: str, settings: UserSettings) -> tuple[str, Any]:
    """The algorithm named by the token and the key that must have signed it."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _invalid("the access token is malformed") from None
    alg = header.get("alg")
    if alg == SYMMETRIC_ALGORITHM and settings.jwt_secret:
        return alg, settings.jwt_secret
    if alg in ASYMMETRIC_ALGORITHMS and settings.jwks_url:
        try:
            return alg, _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError:
            raise ServiceUnavailable("the signing keys cannot be fetched; retry later") from None
        except jwt.PyJWTError:
            raise _invalid("the access token is signed with an unknown key") from None
    raise _invalid("the access token's signing algorithm is not accepted")


def verify_user_token(token: str, settings: UserSettings) -> Caller:
    """Verify signature, lifetime, audience and role of a user access token, or raise 401."""
    alg, key = _verification_key(token, settings)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=AUDIENCE,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise _invalid("the access token has expired") from None
    except jwt.ImmatureSignatureError:
        raise _invalid("the access token is not valid yet") from None
    except jwt.PyJWTError:
        raise _invalid("the access token is invalid") from None
    if claims.get("role") != USER_ROLE:
        raise _invalid("a signed-in user's access token is required (role must be 'authenticated')")
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except ValueError:
        raise _invalid("the access token's subject is not a user id") from None
    return Caller(token=token, user_id=user_id, claims=claims)


def authenticate(authorization: str | None, settings: UserSettings) -> Caller:
    """The verified caller of a request with this Authorization header."""
    return verify_user_token(bearer_token(authorization), settings)
