"""``/functions/v1`` dispatch (with a stand-in ``main.py``), concurrency with callbacks into
``/rest/v1`` on the same server, and the pool's recovery from dropped connections and outages."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

from devstack.cluster import free_port
from tests.fixtures.api import running_gateway

FAKE_MAIN = '''
import os

import httpx


def publish_prompt(request):
    return {"path": request.path, "method": request.method, "query": request.args.to_dict(),
            "authorization": request.headers.get("Authorization"), "body": request.get_json(silent=True)}


def access_check(request):
    """Calls back into the same server's REST API with the caller's token."""
    r = httpx.post(os.environ["SUPABASE_URL"] + "/rest/v1/rpc/gw_add",
                   json={"a": int(request.args["a"]), "b": 1},
                   headers={"apikey": os.environ["SUPABASE_ANON_KEY"],
                            "Authorization": request.headers.get("Authorization", "")},
                   timeout=10)
    return {"sum": r.json()}, r.status_code


def cohort_sync(request):
    return {"error": {"code": "validation_failed", "message": "nope"}}, 422
'''


@pytest.fixture(scope="module")
def functions_url(tmp_path_factory, authenticator_url: str, scratch: str):
    """A second gateway whose functions come from FAKE_MAIN (usage_events deliberately missing)."""
    folder = tmp_path_factory.mktemp("fake_functions")
    (folder / "main.py").write_text(FAKE_MAIN)
    with running_gateway(authenticator_url, folder / "gateway.log",
                         {"FUNCTIONS_SOURCE": str(folder / "main.py")}) as (url, _):
        yield url


def test_function_sees_its_own_path_and_the_request_unchanged(functions_url):
    raw = httpx.post(f"{functions_url}/functions/v1/publish-prompt/sub/path?x=1",
                     json={"prompt_id": "p"}, headers={"Authorization": "Bearer whatever"})
    assert raw.status_code == 200
    assert raw.json() == {"path": "/sub/path", "method": "POST", "query": {"x": "1"},
                          "authorization": "Bearer whatever", "body": {"prompt_id": "p"}}
    assert raw.headers["access-control-allow-origin"] == "*"


def test_function_status_and_body_pass_through_without_api_key(functions_url):
    raw = httpx.post(f"{functions_url}/functions/v1/cohort-sync", content=b"{}")
    assert raw.status_code == 422
    assert raw.json() == {"error": {"code": "validation_failed", "message": "nope"}}


@pytest.mark.parametrize("name", ["usage-events", "no-such-function"])
def test_missing_function_is_404_not_found(functions_url, name):
    raw = httpx.post(f"{functions_url}/functions/v1/{name}", json={})
    assert raw.status_code == 404
    assert raw.json()["error"]["code"] == "not_found"


def test_concurrent_functions_calling_back_into_rest(functions_url, learner):
    def call(i: int) -> tuple[int, dict]:
        raw = httpx.get(f"{functions_url}/functions/v1/access-check", params={"a": i},
                        headers={"Authorization": f"Bearer {learner}"}, timeout=20)
        return raw.status_code, raw.json()

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(call, range(48)))
    assert results == [(200, {"sum": i + 1}) for i in range(48)]


def test_cors_preflight_on_functions(functions_url):
    raw = httpx.options(f"{functions_url}/functions/v1/usage-events", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert raw.status_code == 200
    assert raw.headers["access-control-allow-origin"] == "*"


# -- pool recovery ---------------------------------------------------------------------------------
def test_killed_connections_are_replaced_without_errors(rest, learner, admin_url, scratch):
    assert rest("POST", "/rpc/gw_noargs", token=learner).status_code == 200
    with psycopg.connect(admin_url, autocommit=True) as conn:
        killed = conn.execute("select count(pg_terminate_backend(pid)) from pg_stat_activity "
                              "where application_name like 'devstack-gateway%'").fetchone()[0]
    assert killed >= 1
    statuses = [rest("POST", "/rpc/gw_noargs", token=learner).status_code for _ in range(5)]
    assert statuses == [200] * 5


def test_unreachable_database_answers_503_quickly(tmp_path: Path):
    dead = f"postgresql://authenticator:postgres@127.0.0.1:{free_port()}/postgres?sslmode=disable"
    with running_gateway(dead, tmp_path / "gateway.log", require_db=False) as (url, _):
        started = time.monotonic()
        raw = httpx.get(f"{url}/rest/v1/gw_notes", headers={"apikey": _anon()}, timeout=20)
        elapsed = time.monotonic() - started
    assert raw.status_code == 503
    assert raw.json()["code"] == "PGRST000"
    assert raw.json()["message"] == "Database connection error. Retrying the connection."
    assert elapsed < 5


def test_server_restart_is_survived(tmp_path: Path):
    """Stop and start PostgreSQL under a running gateway: 503 while down, 200 again after, no
    gateway restart. Uses a cluster of its own, never the session's shared database."""
    import uuid

    from devstack import settings
    from devstack.cluster import Cluster

    own = Cluster(settings.STATE_ROOT / f"restart-{uuid.uuid4().hex[:8]}", free_port())
    try:
        own.ensure(seed=False)
        with running_gateway(own.url("authenticator", "postgres"), tmp_path / "gateway.log") as (url, _):
            key = settings.service_role_key()

            def call() -> int:
                return httpx.post(f"{url}/rest/v1/rpc/fn_feature_enabled", json={"flag_key": "X"},
                                  headers={"apikey": key, "Authorization": f"Bearer {key}"},
                                  timeout=20).status_code

            assert call() == 200
            own.stop()
            try:
                started = time.monotonic()
                assert call() == 503
                assert time.monotonic() - started < 5
            finally:
                own.start()
            deadline = time.monotonic() + 15
            status = None
            while time.monotonic() < deadline:
                status = call()
                if status == 200:
                    break
                time.sleep(0.2)
            assert status == 200
    finally:
        own.destroy()


def _anon() -> str:
    from devstack import settings

    return settings.anon_key()
