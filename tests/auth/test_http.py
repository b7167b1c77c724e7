"""The Auth stand-in at the HTTP level: Kong's key-auth in front of it, GoTrue's error shapes for
old and new clients, /settings, /health, the admin list's pagination headers and the mailbox page."""

from __future__ import annotations

import httpx
import pytest

API_VERSION = {"X-Supabase-Api-Version": "2024-01-01"}


@pytest.fixture
def auth(api_url: str) -> str:
    return f"{api_url}/auth/v1"


@pytest.mark.parametrize("path", ["/signup", "/token?grant_type=password", "/settings", "/health", "/user"])
def test_the_anon_key_is_required(auth, path):
    method = "GET" if path in ("/settings", "/health", "/user") else "POST"
    missing = httpx.request(method, f"{auth}{path}", json={})
    assert (missing.status_code, missing.json()) == (401, {"message": "No API key found in request"})
    wrong = httpx.request(method, f"{auth}{path}", json={}, headers={"apikey": "not-a-key"})
    assert wrong.status_code == 401 and wrong.json()["message"] == "Invalid API key"


def test_the_open_verify_route_needs_no_key_and_redirects_a_bad_link_to_the_site(auth):
    response = httpx.get(f"{auth}/verify", params={"token": "nope", "type": "signup"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("http://127.0.0.1:3000#")
    assert "error_code=otp_expired" in response.headers["location"]
    missing = httpx.get(f"{auth}/verify", params={"type": "signup"})
    assert missing.status_code == 400 and missing.json()["error_code"] == "validation_failed"


def test_error_shapes_follow_the_api_version_header(auth, anon_key):
    body = {"email": "nobody@example.com", "password": "whatever-it-is"}
    legacy = httpx.post(f"{auth}/token?grant_type=password", json=body, headers={"apikey": anon_key})
    assert legacy.status_code == 400
    assert legacy.json() == {"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"}
    assert legacy.headers["x-sb-error-code"] == "invalid_credentials"
    current = httpx.post(f"{auth}/token?grant_type=password", json=body, headers={"apikey": anon_key, **API_VERSION})
    assert current.json() == {"code": "invalid_credentials", "message": "Invalid login credentials"}
    assert current.headers["X-Supabase-Api-Version"] == "2024-01-01"


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("POST", "/signup", b"{not json", 400, "bad_json"),
    ("POST", "/signup", b'["a list"]', 400, "bad_json"),
    ("POST", "/signup", b'{"email": "x@example.com"}', 400, "validation_failed"),
    ("POST", "/signup", b'{"email": "not-an-email", "password": "long enough"}', 400, "validation_failed"),
    ("POST", "/signup", b'{"email": 42, "password": "long enough"}', 400, "bad_json"),
    ("POST", "/signup", b'{"phone": "+15555550100", "password": "long enough"}', 400, "phone_provider_disabled"),
    ("POST", "/signup", b'{"email": "p@example.com", "password": "long enough", "code_challenge": "abc"}',
     400, "validation_failed"),
    ("POST", "/token?grant_type=refresh_token", b'{"refresh_token": "short"}', 400, "validation_failed"),
    ("POST", "/token?grant_type=refresh_token", b'{"refresh_token": "abcdefghijkl"}', 400, "refresh_token_not_found"),
    ("POST", "/token?grant_type=magic", b"{}", 400, "invalid_credentials"),
    ("POST", "/token?grant_type=pkce", b'{"auth_code": "x", "code_verifier": "y"}', 404, "flow_state_not_found"),
    ("GET", "/user", b"", 403, "bad_jwt"),  # the anon key as bearer has no `sub`
    ("POST", "/logout?scope=everywhere", b"", 400, "validation_failed"),
    ("GET", "/admin/users/not-a-uuid", b"", 403, "not_admin"),
    ("GET", "/no-such-route", b"", 404, "not_found"),
    ("DELETE", "/signup", b"", 405, "method_not_allowed"),
])
def test_bad_input_gets_a_gotrue_4xx(auth, anon_key, method, path, body, status, code):
    response = httpx.request(method, f"{auth}{path}", content=body,
                             headers={"apikey": anon_key, "Authorization": f"Bearer {anon_key}",
                                      "Content-Type": "application/json"})
    assert (response.status_code, response.json().get("error_code")) == (status, code), response.text


def test_a_forged_or_keyless_bearer_is_refused_on_user(auth, anon_key):
    keyless = httpx.get(f"{auth}/user", headers={"apikey": anon_key})
    assert keyless.status_code == 401 and keyless.json()["error_code"] == "no_authorization"
    forged = httpx.get(f"{auth}/user", headers={"apikey": anon_key, "Authorization": "Bearer a.b.c"})
    assert forged.status_code == 403 and forged.json()["error_code"] == "bad_jwt"
    anon = httpx.get(f"{auth}/user", headers={"apikey": anon_key, "Authorization": f"Bearer {anon_key}"})
    assert anon.status_code == 403 and anon.json()["msg"] == "invalid claim: missing sub claim"


def test_settings_and_health(auth, anon_key):
    settings = httpx.get(f"{auth}/settings", headers={"apikey": anon_key}).json()
    assert settings["disable_signup"] is False and settings["mailer_autoconfirm"] is False
    assert settings["external"]["email"] is True and settings["external"]["github"] is False
    health = httpx.get(f"{auth}/health", headers={"apikey": anon_key}).json()
    assert health["name"] == "GoTrue"


def test_admin_list_paginates_like_gotrue(auth, service_key):
    headers = {"apikey": service_key, "Authorization": f"Bearer {service_key}"}
    for n in range(3):
        httpx.post(f"{auth}/admin/users", headers=headers,
                   json={"email": f"page-{n}-{id(headers)}@example.com", "password": "long enough"})
    response = httpx.get(f"{auth}/admin/users", params={"page": 1, "per_page": 2}, headers=headers)
    assert response.status_code == 200 and len(response.json()["users"]) == 2
    total = int(response.headers["X-Total-Count"])
    assert total >= 3 and 'rel="next"' in response.headers["Link"] and 'rel="last"' in response.headers["Link"]
    bad = httpx.get(f"{auth}/admin/users", params={"page": "zero"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["error_code"] == "validation_failed"


def test_cors_preflight_is_answered_before_the_key_check(auth):
    response = httpx.options(f"{auth}/token", headers={"Origin": "http://127.0.0.1:3000",
                                                       "Access-Control-Request-Method": "POST"})
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"


def test_the_mailbox_page_lists_the_confirmation_link(api_url, anon_key):
    email = f"mailbox-{id(api_url)}@example.com"
    httpx.post(f"{api_url}/auth/v1/signup", headers={"apikey": anon_key},
               json={"email": email, "password": "long enough"})
    page = httpx.get(f"{api_url}/_devstack/mailbox")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert email in page.text and "/auth/v1/verify?token=" in page.text
    latest = httpx.get(f"{api_url}/_devstack/mailbox/api/v1/message/latest").json()
    assert latest["To"][0]["Address"] == email and latest["Subject"] == "Confirm Your Signup"


def test_status_prints_the_mailbox_url_as_the_cli_prints_mailpit_s():
    from devstack.__main__ import status_lines

    class FakeCluster:
        db_url = "postgresql://postgres:postgres@127.0.0.1:1/postgres"

    values = dict(line.split("=", 1) for line in status_lines(FakeCluster(), 54321))
    assert values["MAILPIT_URL"] == '"http://127.0.0.1:54321/_devstack/mailbox"'
