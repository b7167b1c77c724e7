"""Settings are read at first use, in one place, and fail fast naming what is missing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from functions._settings import SettingsError, load
from tests.functions.helpers import ROOT

VALID = {
    "SUPABASE_URL": "http://127.0.0.1:54321/",
    "SUPABASE_ANON_KEY": "anon",
    "SUPABASE_SERVICE_ROLE_KEY": "service",
    "SUPABASE_JWT_SECRET": "secret",
    "COHORT_SYNC_WEBHOOK_SECRET": "whsec_c2VjcmV0",
}


def test_valid_environment_loads_and_derives_the_rest_url():
    settings = load(VALID)
    assert settings.supabase_url == "http://127.0.0.1:54321"
    assert settings.rest_url == "http://127.0.0.1:54321/rest/v1"
    assert settings.jwks_url is None


@pytest.mark.parametrize("name", ["SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY",
                                  "COHORT_SYNC_WEBHOOK_SECRET"])
def test_missing_setting_fails_with_its_name(name):
    env = {k: v for k, v in VALID.items() if k != name}
    with pytest.raises(SettingsError, match=f"missing required setting {name}"):
        load(env)


def test_blank_setting_counts_as_missing():
    with pytest.raises(SettingsError, match="SUPABASE_ANON_KEY"):
        load({**VALID, "SUPABASE_ANON_KEY": "  "})


def test_jwt_secret_or_jwks_url_is_required():
    env = {k: v for k, v in VALID.items() if k != "SUPABASE_JWT_SECRET"}
    with pytest.raises(SettingsError, match="SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL"):
        load(env)
    assert load({**env, "SUPABASE_JWKS_URL": "https://x.supabase.co/auth/v1/.well-known/jwks.json"}).jwt_secret is None


@pytest.mark.parametrize("url", ["127.0.0.1:54321", "ftp://host", "http://"])
def test_supabase_url_must_be_http(url):
    with pytest.raises(SettingsError, match="SUPABASE_URL must be an http"):
        load({**VALID, "SUPABASE_URL": url})


@pytest.mark.parametrize("secret", ["whsec_", "whsec_!!not base64!!", ""])
def test_webhook_secret_must_be_whsec_base64(secret):
    with pytest.raises(SettingsError, match="COHORT_SYNC_WEBHOOK_SECRET"):
        load({**VALID, "COHORT_SYNC_WEBHOOK_SECRET": secret})


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


def test_missing_setting_is_a_500_whose_log_names_it(client_for, monkeypatch, caplog):
    monkeypatch.delenv("SUPABASE_URL")
    response = client_for("access_check").get("/", headers={"Authorization": "Bearer x"})
    assert response.status_code == 500
    assert response.get_json() == {
        "error": {"code": "misconfigured", "message": "the function is misconfigured"}
    }
    assert "missing required setting SUPABASE_URL" in caplog.text
