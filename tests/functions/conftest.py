"""Fixtures for the functions' unit tests: settings in the environment, a fake API, test clients.

The unit tests run the real function code through functions-framework's Flask app and the real
`supabase` client; only the HTTP API behind the client is replaced (an httpx MockTransport) where a
test needs to choose what the database answers. End-to-end tests (test_e2e_*.py) use the running
stack instead.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import flask
import functions_framework
import httpx
import psycopg
import pytest

from functions import _auth, _db, _settings, _webhooks

from tests.functions.helpers import API_URL, JWT_SECRET, SOURCE, WEBHOOK_SECRET, make_token

#: A module and lesson of the seed, to hang the tests' own prompts on.
SEED_MODULE = "10000000-0000-4000-a000-000000000001"
SEED_LESSON = "20000000-0000-4000-a000-000000000001"


#: The package's per-process caches (captured before any test replaces one of them).
_CACHES = (_settings.user_settings, _settings.cohort_sync_settings, _db.http_pool, _db._service_client, _auth._jwks_client,
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


# ----- end-to-end: the running stack (gateway -> functions -> supabase client -> stand-in -> Postgres)

@pytest.fixture(scope="session")
def functions_url(api_url: str) -> str:
    """``FUNCTIONS_URL`` of the test stack."""
    return f"{api_url}/functions/v1"


@pytest.fixture
def http(functions_url: str) -> Iterator[httpx.Client]:
    """A plain HTTP client on the functions (the way any caller reaches them)."""
    with httpx.Client(base_url=functions_url, timeout=60) as client:
        yield client


@pytest.fixture
def committed(db_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection as ``postgres``: setup the gateway must see, and cleanup."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def demo_user_id(committed: psycopg.Connection) -> Callable[[str], uuid.UUID]:
    """The auth.users id of a demo user by e-mail."""
    def lookup(email: str) -> uuid.UUID:
        return committed.execute("select id from auth.users where email = %s", (email,)).fetchone()[0]
    return lookup


def _create_prompt(conn: psycopg.Connection, *, published: bool) -> dict[str, Any]:
    """A prompt of its own (in a seed module) with one version; published or a draft."""
    slug = f"e2e-{uuid.uuid4().hex[:12]}"
    prompt_id = conn.execute(
        "insert into public.prompts (module_id, lesson_id, slug, title) values (%s, %s, %s, %s)"
        " returning id", (SEED_MODULE, SEED_LESSON, slug, f"E2E {slug}")).fetchone()[0]
    version_id = conn.execute(
        "insert into public.prompt_versions (prompt_id, markdown_body, changelog, published)"
        " values (%s, '# v1', 'first', %s) returning id", (prompt_id, published)).fetchone()[0]
    if published:
        conn.execute("update public.prompts set current_version_id = %s, status = 'published',"
                     " published_at = now() where id = %s", (version_id, prompt_id))
    return {"id": prompt_id, "v1": version_id, "slug": slug}


@pytest.fixture
def make_prompt(committed: psycopg.Connection) -> Iterator[Callable[..., dict[str, Any]]]:
    """``make_prompt(published=False)``: a prompt only this test uses; deleted afterwards
    (with its versions and usage rows), so seed data and other tests are untouched."""
    made: list[uuid.UUID] = []

    def make(published: bool = False) -> dict[str, Any]:
        prompt = _create_prompt(committed, published=published)
        made.append(prompt["id"])
        return prompt

    yield make
    for prompt_id in made:
        committed.execute("delete from public.prompts where id = %s", (prompt_id,))


@pytest.fixture
def set_flag(committed: psycopg.Connection) -> Iterator[Callable[[str, bool], None]]:
    """``set_flag(key, enabled)``, committed; every flag touched is restored afterwards."""
    original: dict[str, bool] = {}

    def set_(key: str, enabled: bool) -> None:
        row = committed.execute("select enabled from public.prompt_feature_flags where key = %s",
                                (key,)).fetchone()
        original.setdefault(key, row[0])
        committed.execute("update public.prompt_feature_flags set enabled = %s where key = %s",
                          (enabled, key))

    yield set_
    for key, enabled in original.items():
        committed.execute("update public.prompt_feature_flags set enabled = %s where key = %s",
                          (enabled, key))


@pytest.fixture
def new_audit_rows(committed: psycopg.Connection) -> Iterator[Callable[[], list[tuple]]]:
    """``new_audit_rows()``: access-audit rows written since the test started (removed after)."""
    since = committed.execute("select clock_timestamp()").fetchone()[0]
    query = ("select user_id, email::text, decision, reason, cohort_ids from public.prompt_access_audit"
             " where created_at >= %s order by created_at")
    yield lambda: committed.execute(query, (since,)).fetchall()
    committed.execute("delete from public.prompt_access_audit where created_at >= %s", (since,))


@pytest.fixture
def cohort(committed: psycopg.Connection) -> Iterator[str]:
    """A cohort id only this test uses; its members and sync runs are deleted afterwards."""
    cohort_id = f"e2e-cohort-{uuid.uuid4().hex[:10]}"
    yield cohort_id
    committed.execute("delete from public.course_cohort_members where cohort_id = %s", (cohort_id,))
    committed.execute("delete from public.course_cohort_sync_runs where cohort_id = %s", (cohort_id,))
