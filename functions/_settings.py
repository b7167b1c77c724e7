"""Every setting the functions read, in one place, read from the environment at first use.

Each target reads only what it uses: the user functions (`user_settings`) need the API URL, the anon
key and a token verification key; cohort-sync (`cohort_sync_settings`) needs the API URL, the
service-role key and the webhook secret. So a user function can be deployed without any key that
bypasses RLS. Nothing is read at import time; each reader checks the environment once per process
and fails fast with a `SettingsError` that names the missing or invalid variable.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from functions._errors import Misconfigured

SUPABASE_URL = "SUPABASE_URL"
SUPABASE_ANON_KEY = "SUPABASE_ANON_KEY"
SUPABASE_SERVICE_ROLE_KEY = "SUPABASE_SERVICE_ROLE_KEY"
SUPABASE_JWT_SECRET = "SUPABASE_JWT_SECRET"
SUPABASE_JWKS_URL = "SUPABASE_JWKS_URL"
COHORT_SYNC_WEBHOOK_SECRET = "COHORT_SYNC_WEBHOOK_SECRET"

WEBHOOK_SECRET_PREFIX = "whsec_"


class SettingsError(Misconfigured):
    """A required setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class UserSettings:
    """What the user functions (publish-prompt, usage-events, access-check) read: the API URL, the
    anon key (sent as ``apikey`` next to the caller's token, so RLS applies) and the token
    verification key. No service-role key: they never bypass RLS."""

    supabase_url: str
    anon_key: str
    jwt_secret: str | None
    jwks_url: str | None


@dataclass(frozen=True)
class CohortSyncSettings:
    """What cohort-sync reads: the API URL, the service-role key and the webhook secret."""

    supabase_url: str
    service_role_key: str
    webhook_secret: str


def _required(env: Mapping[str, str], name: str) -> str:
    """The non-blank value of ``name``, or a SettingsError naming it."""
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"missing required setting {name}")
    return value


def _optional(env: Mapping[str, str], name: str) -> str | None:
    """The non-blank value of ``name`` or None."""
    return env.get(name, "").strip() or None


def _http_url(name: str, value: str) -> str:
    """``value`` without a trailing slash, if it is an absolute http(s) URL."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"setting {name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _webhook_secret(value: str) -> str:
    """A Standard Webhooks secret: ``whsec_`` followed by non-empty base64."""
    raw = value.removeprefix(WEBHOOK_SECRET_PREFIX).rstrip("=")
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise SettingsError(
            f"setting {COHORT_SYNC_WEBHOOK_SECRET} must be 'whsec_' followed by base64"
        )
    return value


def load_user(env: Mapping[str, str]) -> UserSettings:
    """The user functions' settings from ``env``; raise SettingsError naming what is wrong."""
    jwt_secret = _optional(env, SUPABASE_JWT_SECRET)
    jwks_url = _optional(env, SUPABASE_JWKS_URL)
    if jwt_secret is None and jwks_url is None:
        raise SettingsError(
            f"missing required setting {SUPABASE_JWT_SECRET} or {SUPABASE_JWKS_URL} (at least one)"
        )
    return UserSettings(
        supabase_url=_http_url(SUPABASE_URL, _required(env, SUPABASE_URL)),
        anon_key=_required(env, SUPABASE_ANON_KEY),
        jwt_secret=jwt_secret,
        jwks_url=_http_url(SUPABASE_JWKS_URL, jwks_url) if jwks_url else None,
    )


def load_cohort_sync(env: Mapping[str, str]) -> CohortSyncSettings:
    """cohort-sync's settings from ``env``; raise SettingsError naming what is wrong."""
    return CohortSyncSettings(
        supabase_url=_http_url(SUPABASE_URL, _required(env, SUPABASE_URL)),
        service_role_key=_required(env, SUPABASE_SERVICE_ROLE_KEY),
        webhook_secret=_webhook_secret(_required(env, COHORT_SYNC_WEBHOOK_SECRET)),
    )


@functools.cache
def user_settings() -> UserSettings:
    """The user functions' settings, read from the environment on first use."""
    return load_user(os.environ)


@functools.cache
def cohort_sync_settings() -> CohortSyncSettings:
    """cohort-sync's settings, read from the environment on first use."""
    return load_cohort_sync(os.environ)
