"""Each target runs alone under the functions-framework CLI, as it would be deployed."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from devstack.cluster import free_port
from tests.functions.helpers import JWT_SECRET, ROOT, TARGETS, WEBHOOK_SECRET

CLI = ROOT / ".venv" / "bin" / "functions-framework"
WRONG_METHOD = {"publish_prompt": "GET", "usage_events": "GET", "access_check": "POST", "cohort_sync": "GET"}


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
def serve_target() -> Iterator:
    procs: list[subprocess.Popen] = []

    def start(target: str) -> str:
        port = free_port()
        env = {**os.environ, "SUPABASE_URL": "http://127.0.0.1:9", "SUPABASE_ANON_KEY": "anon",
               "SUPABASE_SERVICE_ROLE_KEY": "service", "SUPABASE_JWT_SECRET": JWT_SECRET,
               "COHORT_SYNC_WEBHOOK_SECRET": WEBHOOK_SECRET}
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


@pytest.mark.parametrize("target", TARGETS)
def test_each_target_serves_alone_under_the_functions_framework_cli(serve_target, target):
    url = serve_target(target)
    wrong = httpx.request(WRONG_METHOD[target], url)
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
    right = httpx.request("POST" if WRONG_METHOD[target] == "GET" else "GET", url,
                          headers={"Content-Type": "application/json"}, content=b"{}")
    assert right.status_code == 401  # reached the function: no token / no signature
