"""Each target runs alone under the functions-framework CLI, as it would be deployed, with only the
settings it reads: the user functions without the service-role key or the webhook secret (they
call the API as the caller, so RLS applies), cohort-sync without the anon key or a JWT secret."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from datetime import UTC, datetime
from collections.abc import Callable, Iterator

import httpx
import pytest

from devstack import settings as devstack_settings
from devstack.cluster import free_port
from functions.sign_webhook import signature_headers
from tests.functions.helpers import JWT_SECRET, ROOT, TARGET_SETTINGS, TARGETS, WEBHOOK_SECRET

CLI = ROOT / ".venv" / "bin" / "functions-framework"
WRONG_METHOD = {"publish_prompt": "GET", "usage_events": "GET", "access_check": "POST", "cohort_sync": "GET"}
#: Every setting any function reads; a target's process gets only its own (TARGET_SETTINGS).
ALL_SETTINGS = ("SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_JWT_SECRET",
                "SUPABASE_JWKS_URL", "COHORT_SYNC_WEBHOOK_SECRET")


def _wait_for(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"functions-framework exited: {proc.stderr.read().decode()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("functions-framework did not start listening")


@pytest.fixture
def serve_target() -> Iterator[Callable[[str, dict[str, str]], str]]:
    """``serve_target(target, settings)``: the target under the CLI with exactly ``settings``."""
    procs: list[subprocess.Popen] = []

    def start(target: str, settings: dict[str, str]) -> str:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ALL_SETTINGS} | settings
        proc = subprocess.Popen(
            [str(CLI), "--source", "functions/main.py", "--target", target, "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(proc)
        _wait_for(port, proc)
        return f"http://127.0.0.1:{port}"

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def _unit_settings(target: str) -> dict[str, str]:
    values = {"SUPABASE_URL": "http://127.0.0.1:9", "SUPABASE_ANON_KEY": "anon",
              "SUPABASE_SERVICE_ROLE_KEY": "service", "SUPABASE_JWT_SECRET": JWT_SECRET,
              "COHORT_SYNC_WEBHOOK_SECRET": WEBHOOK_SECRET}
    return {name: values[name] for name in TARGET_SETTINGS[target]}


@pytest.mark.parametrize("target", TARGETS)
def test_each_target_serves_alone_under_the_functions_framework_cli(serve_target, target):
    url = serve_target(target, _unit_settings(target))
    wrong = httpx.request(WRONG_METHOD[target], url)
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
    right = httpx.request("POST" if WRONG_METHOD[target] == "GET" else "GET", url,
                          headers={"Content-Type": "application/json"}, content=b"{}")
    assert right.status_code == 401  # reached the function: no token / no signature


@pytest.fixture
def stack_settings(api_url: str) -> Callable[[str], dict[str, str]]:
    """A target's own settings, pointing at the test stack's API."""
    values = {"SUPABASE_URL": api_url, "SUPABASE_ANON_KEY": devstack_settings.anon_key(),
              "SUPABASE_SERVICE_ROLE_KEY": devstack_settings.service_role_key(),
              "SUPABASE_JWT_SECRET": devstack_settings.jwt_secret(),
              "COHORT_SYNC_WEBHOOK_SECRET": devstack_settings.webhook_secret()}
    return lambda target: {name: values[name] for name in TARGET_SETTINGS[target]}


def test_user_functions_work_with_only_the_anon_key_and_the_jwt_secret(
        serve_target, stack_settings, user_token):
    learner = {"Authorization": f"Bearer {user_token('learner@example.com')}"}
    access = httpx.get(serve_target("access_check", stack_settings("access_check")), headers=learner)
    assert access.status_code == 200, access.text
    assert access.json()["reason"] == "active_cohort_member"
    usage = httpx.post(serve_target("usage_events", stack_settings("usage_events")), headers=learner,
                       json={"events": [{"prompt_id": str(uuid.uuid4()), "action": "view"}]})
    assert usage.status_code == 202, usage.text
    assert usage.json() == {"accepted": 0, "anonymized": 0, "dropped": 1}
    # RLS applies: the learner is refused by the database, not by the function.
    publish = httpx.post(serve_target("publish_prompt", stack_settings("publish_prompt")), headers=learner,
                         json={"prompt_id": str(uuid.uuid4()), "markdown_body": "# x"})
    assert publish.status_code == 403, publish.text
    assert publish.json()["error"]["code"] == "forbidden"


def test_cohort_sync_works_with_only_the_service_key_and_the_webhook_secret(
        serve_target, stack_settings, committed):
    cohort = f"alone-{uuid.uuid4().hex[:10]}"
    body = f'{{"cohort_id": "{cohort}", "mode": "delta", "members": [{{"email": "alone@example.com"}}]}}'.encode()
    headers = {"Content-Type": "application/json", **signature_headers(
        body, devstack_settings.webhook_secret(), f"msg_{uuid.uuid4().hex}", datetime.now(UTC))}
    try:
        response = httpx.post(serve_target("cohort_sync", stack_settings("cohort_sync")),
                              content=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["inserted_count"] == 1
    finally:
        committed.execute("delete from public.course_cohort_members where cohort_id = %s", (cohort,))
        committed.execute("delete from public.course_cohort_sync_runs where cohort_id = %s", (cohort,))
