"""Settings are read at first use, in one place, each target only what it uses, and fail fast
naming what is missing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from functions._settings import SettingsError, load_cohort_sync, load_user
from tests.functions.helpers import ROOT, TARGET_SETTINGS, make_token, signed_headers

USER = {
    "SUPABASE_URL": "http://127.0.0.1:54321/",
    "SUPABASE_ANON_KEY": "anon",
    "SUPABASE_JWT_SECRET": "secret",
}
SYNC = {
    "SUPABASE_URL": "http://127.0.0.1:54321/",
    "SUPABASE_SERVICE_ROLE_KEY": "service",
    "COHORT_SYNC_WEBHOOK_SECRET": "whsec_c2VjcmV0",
}


def test_user_settings_load_without_the_service_key_or_the_webhook_secret():
    settings = load_user(USER)
    assert settings.supabase_url == "http://127.0.0.1:54321"
    assert settings.anon_key == "anon" and settings.jwt_secret == "secret"
    assert settings.jwks_url is None
    assert not hasattr(settings, "service_role_key") and not hasattr(settings, "webhook_secret")


def test_cohort_sync_settings_load_without_the_anon_key_or_a_jwt_secret():
    settings = load_cohort_sync(SYNC)
    assert settings.supabase_url == "http://127.0.0.1:54321"
    assert settings.service_role_key == "service"
    assert not hasattr(settings, "anon_key") and not hasattr(settings, "jwt_secret")


@pytest.mark.parametrize("load, env, name", [
    *[(load_user, USER, name) for name in ("SUPABASE_URL", "SUPABASE_ANON_KEY")],
    *[(load_cohort_sync, SYNC, name) for name in SYNC],
])
def test_missing_setting_fails_with_its_name(load, env, name):
    with pytest.raises(SettingsError, match=f"missing required setting {name}"):
        load({k: v for k, v in env.items() if k != name})


def test_blank_setting_counts_as_missing():
    with pytest.raises(SettingsError, match="SUPABASE_ANON_KEY"):
        load_user({**USER, "SUPABASE_ANON_KEY": "  "})


def test_jwt_secret_or_jwks_url_is_required():
    env = {k: v for k, v in USER.items() if k != "SUPABASE_JWT_SECRET"}
    with pytest.raises(SettingsError, match="SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL"):
        load_user(env)
    assert load_user({**env, "SUPABASE_JWKS_URL": "https://x.supabase.co/auth/v1/.well-known/jwks.json"}).jwt_secret is None


@pytest.mark.parametrize("url", ["127.0.0.1:54321", "ftp://host", "http://"])
def test_supabase_url_must_be_http(url):
    with pytest.raises(SettingsError, match="SUPABASE_URL must be an http"):
        load_user({**USER, "SUPABASE_URL": url})
    with pytest.raises(SettingsError, match="SUPABASE_URL must be an http"):
        load_cohort_sync({**SYNC, "SUPABASE_URL": url})


@pytest.mark.parametrize("secret", ["whsec_", "whsec_!!not base64!!", ""])
def test_webhook_secret_must_be_whsec_base64(secret):
    with pytest.raises(SettingsError, match="COHORT_SYNC_WEBHOOK_SECRET"):
        load_cohort_sync({**SYNC, "COHORT_SYNC_WEBHOOK_SECRET": secret})


def test_settings_error_is_a_500_misconfiguration():
    assert SettingsError("x").status == 500


def test_importing_the_functions_reads_no_settings_and_starts_nothing():
    code = (
        "import os, threading\n"
        "for k in list(os.environ):\n"
        "    if k.startswith(('SUPABASE_', 'COHORT_')): del os.environ[k]\n"
        "import functions.main, functions._db, functions._auth\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def _first_request(client, target: str):
    if target == "cohort_sync":
        body = b'{"cohort_id": "c", "mode": "delta", "members": []}'
        return client.post("/", data=body, headers=signed_headers(body))
    headers = {"Authorization": f"Bearer {make_token()}", "Content-Type": "application/json"}
    if target == "access_check":
        return client.get("/", headers=headers)
    return client.post("/", data=b"{}", headers=headers)


@pytest.mark.parametrize("target, name", [
    (target, name) for target, names in TARGET_SETTINGS.items() for name in names
])
def test_a_target_missing_one_of_its_settings_is_a_500_whose_log_names_it(
        client_for, monkeypatch, caplog, target, name):
    monkeypatch.delenv(name)
    response = _first_request(client_for(target), target)
    assert response.status_code == 500
    assert response.get_json() == {
        "error": {"code": "misconfigured", "message": "the function is misconfigured"}
    }
    expected = ("SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL" if name == "SUPABASE_JWT_SECRET"
                else f"missing required setting {name}")
    assert expected in caplog.text
