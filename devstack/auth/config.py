"""The Auth stand-in's settings: ``[auth]`` of supabase/config.toml, as `supabase start` hands them
to GoTrue, overridable with GoTrue's own environment variables (for tests and one-off runs).

| config.toml                               | environment (GoTrue's name)                    |
|-------------------------------------------|------------------------------------------------|
| [auth] site_url                           | GOTRUE_SITE_URL                                |
| [auth] additional_redirect_urls           | GOTRUE_URI_ALLOW_LIST (comma separated)        |
| [auth] jwt_expiry                         | GOTRUE_JWT_EXP                                 |
| [auth] enable_signup                      | GOTRUE_DISABLE_SIGNUP (inverted)               |
| [auth] enable_refresh_token_rotation      | GOTRUE_SECURITY_REFRESH_TOKEN_ROTATION_ENABLED |
| [auth] refresh_token_reuse_interval       | GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL   |
| [auth] minimum_password_length            | GOTRUE_PASSWORD_MIN_LENGTH                     |
| [auth.email] enabled                      | GOTRUE_EXTERNAL_EMAIL_ENABLED                  |
| [auth.email] enable_confirmations         | GOTRUE_MAILER_AUTOCONFIRM (inverted)           |
| [auth.email] otp_expiry                   | GOTRUE_MAILER_OTP_EXP                          |
| [auth.email] otp_length                   | GOTRUE_MAILER_OTP_LENGTH                       |
| [auth.email] max_frequency                | GOTRUE_SMTP_MAX_FREQUENCY                      |
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack import settings

CONFIG_TOML = settings.ROOT / "supabase" / "config.toml"
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class AuthConfig:
    site_url: str = "http://127.0.0.1:3000"
    additional_redirect_urls: tuple[str, ...] = ()
    jwt_expiry: int = 3600
    enable_signup: bool = True
    refresh_token_rotation: bool = True
    refresh_token_reuse_interval: int = 10
    minimum_password_length: int = 6
    email_enabled: bool = True
    enable_confirmations: bool = True
    otp_expiry: int = 3600
    otp_length: int = 6
    max_frequency_seconds: float = 1.0

    @property
    def autoconfirm(self) -> bool:
        """GoTrue's MAILER_AUTOCONFIRM: sign-up signs the user in at once, without an e-mail."""
        return not self.enable_confirmations


def parse_duration(text: str) -> float:
    """A Go duration string ("1s", "1m30s", "500ms") in seconds; a bare number is seconds."""
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def _env_bool(name: str) -> bool | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else None


def load(path: Path = CONFIG_TOML) -> AuthConfig:
    """Settings from ``path`` (missing file or keys: GoTrue's defaults for the CLI), then the env."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        data = {}
    auth = data.get("auth", {})
    email = auth.get("email", {})
    defaults = AuthConfig()
    values: dict[str, Any] = {
        "site_url": auth.get("site_url", defaults.site_url),
        "additional_redirect_urls": tuple(auth.get("additional_redirect_urls", ())),
        "jwt_expiry": int(auth.get("jwt_expiry", defaults.jwt_expiry)),
        "enable_signup": bool(auth.get("enable_signup", defaults.enable_signup)),
        "refresh_token_rotation": bool(auth.get("enable_refresh_token_rotation", True)),
        "refresh_token_reuse_interval": int(auth.get("refresh_token_reuse_interval", 10)),
        "minimum_password_length": int(auth.get("minimum_password_length", 6)),
        "email_enabled": bool(email.get("enabled", True)),
        "enable_confirmations": bool(email.get("enable_confirmations", defaults.enable_confirmations)),
        "otp_expiry": int(email.get("otp_expiry", defaults.otp_expiry)),
        "otp_length": int(email.get("otp_length", defaults.otp_length)),
        "max_frequency_seconds": parse_duration(str(email.get("max_frequency", "1s"))),
    }
    if os.environ.get("GOTRUE_SITE_URL"):
        values["site_url"] = os.environ["GOTRUE_SITE_URL"]
    if os.environ.get("GOTRUE_URI_ALLOW_LIST") is not None:
        values["additional_redirect_urls"] = tuple(
            u.strip() for u in os.environ["GOTRUE_URI_ALLOW_LIST"].split(",") if u.strip())
    if os.environ.get("GOTRUE_SMTP_MAX_FREQUENCY"):
        values["max_frequency_seconds"] = parse_duration(os.environ["GOTRUE_SMTP_MAX_FREQUENCY"])
    for key, name in (("jwt_expiry", "GOTRUE_JWT_EXP"),
                      ("refresh_token_reuse_interval", "GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL"),
                      ("minimum_password_length", "GOTRUE_PASSWORD_MIN_LENGTH"),
                      ("otp_expiry", "GOTRUE_MAILER_OTP_EXP"),
                      ("otp_length", "GOTRUE_MAILER_OTP_LENGTH")):
        number = _env_int(name)
        if number is not None:
            values[key] = number
    for key, name, inverted in (("enable_signup", "GOTRUE_DISABLE_SIGNUP", True),
                                ("enable_confirmations", "GOTRUE_MAILER_AUTOCONFIRM", True),
                                ("refresh_token_rotation", "GOTRUE_SECURITY_REFRESH_TOKEN_ROTATION_ENABLED", False),
                                ("email_enabled", "GOTRUE_EXTERNAL_EMAIL_ENABLED", False)):
        flag = _env_bool(name)
        if flag is not None:
            values[key] = (not flag) if inverted else flag
    return AuthConfig(**values)
