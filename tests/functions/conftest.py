"""Fixtures for the functions' unit tests: settings in the environment, a fake API, test clients.

The unit tests run the real function code through functions-framework's Flask app and the real
`supabase` client; only the HTTP API behind the client is replaced (an httpx MockTransport) where a
test needs to choose what the database answers. End-to-end tests (test_e2e_*.py) use the running
stack instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import flask
import functions_framework
import httpx
import pytest

from functions import _auth, _db, _settings, _webhooks

from tests.functions.helpers import API_URL, JWT_SECRET, SOURCE, WEBHOOK_SECRET, make_token


#: The package's per-process caches (captured before any test replaces one of them).
_CACHES = (_settings.settings, _db.http_pool, _db._service_client, _auth._jwks_client,
           _webhooks._verifier)


def _clear_caches() -> None:
    """Forget per-process state so each test reads its own settings."""
    for cached in _CACHES:
        cached.cache_clear()


@pytest.fixture
def function_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A complete, valid set of function settings in the environment (restored afterwards)."""
    env = {
        "SUPABASE_URL": API_URL,
        "SUPABASE_ANON_KEY": "anon-key",
        "SUPABASE_SERVICE_ROLE_KEY": "service-role-key",
        "SUPABASE_JWT_SECRET": JWT_SECRET,
        "COHORT_SYNC_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    monkeypatch.delenv("SUPABASE_JWKS_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # functions-framework writes these while building an app; let monkeypatch restore them.
    monkeypatch.delenv("FUNCTION_TARGET", raising=False)
    monkeypatch.delenv("FUNCTION_SIGNATURE_TYPE", raising=False)
    _clear_caches()
    yield env
    _clear_caches()


@dataclass
class FakeAPI:
    """Stands in for PostgREST behind the supabase client: records calls, answers as told."""

    answers: dict[str, Callable[[httpx.Request], httpx.Response]] = field(default_factory=dict)
    calls: list[httpx.Request] = field(default_factory=list)

    def answer(self, rpc: str, status: int = 200, body: Any = None, *, raw: bytes | None = None) -> None:
        """Make ``rpc`` answer ``status`` with a JSON ``body`` (or ``raw`` bytes)."""
        content = raw if raw is not None else json.dumps(body).encode()
        self.answers[rpc] = lambda request: httpx.Response(status, content=content)

    def fail(self, rpc: str, exc: Exception) -> None:
        """Make ``rpc`` raise a transport error."""
        def raise_(request: httpx.Request) -> httpx.Response:
            raise exc
        self.answers[rpc] = raise_

    def error(self, rpc: str, status: int, code: str, message: str = "boom") -> None:
        """Make ``rpc`` answer with a PostgREST error body."""
        self.answer(rpc, status, {"code": code, "message": message, "details": None, "hint": None})

    def handle(self, request: httpx.Request) -> httpx.Response:
        """The MockTransport handler."""
        self.calls.append(request)
        rpc = request.url.path.rsplit("/", 1)[-1]
        if rpc not in self.answers:
            return httpx.Response(404, json={"code": "PGRST202", "message": f"no answer for {rpc}"})
        return self.answers[rpc](request)

    def calls_to(self, rpc: str) -> list[httpx.Request]:
        """The recorded requests to ``rpc``."""
        return [c for c in self.calls if c.url.path.endswith(f"/rpc/{rpc}")]


@pytest.fixture
def fake_api(function_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> FakeAPI:
    """A fake API the functions' supabase clients talk to (through the real client code)."""
    api = FakeAPI()
    pool = httpx.Client(transport=httpx.MockTransport(api.handle))
    monkeypatch.setattr(_db, "http_pool", lambda: pool)
    return api


@pytest.fixture
def app_for(function_env: dict[str, str]) -> Callable[[str], flask.Flask]:
    """Build the functions-framework app of a target, as `functions-framework --target` does."""
    apps: dict[str, flask.Flask] = {}

    def build(target: str) -> flask.Flask:
        if target not in apps:
            apps[target] = functions_framework.create_app(target=target, source=SOURCE)
        return apps[target]

    return build


@pytest.fixture
def client_for(app_for: Callable[[str], flask.Flask]) -> Callable[[str], Any]:
    """A Flask test client for a target."""
    return lambda target: app_for(target).test_client()


@pytest.fixture
def unit_token() -> str:
    """A valid user token for the unit-test secret."""
    return make_token()
