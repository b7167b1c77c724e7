"""Fixtures for the Auth stand-in: real supabase-py / supabase_auth / gotrue clients on the local
API, the local mailbox, and extra gateways started with GoTrue's environment overrides."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from supabase import Client, create_client
from supabase.lib.client_options import SyncClientOptions
from supabase_auth import SyncGoTrueClient

from devstack.auth.mailbox import links_in
from tests.fixtures.api import running_gateway


@pytest.fixture
def new_email() -> Callable[[str], str]:
    """``new_email(prefix)``: an address nobody has used yet (mixed case, as users type them)."""
    return lambda prefix="user": f"{prefix}-{uuid.uuid4().hex[:10]}@Example.com"


def make_client(api_url: str, key: str) -> Client:
    """A supabase-py client as an app makes one (no auto refresh, so tests drive every refresh)."""
    return create_client(api_url, key, options=SyncClientOptions(auto_refresh_token=False, persist_session=False))


def make_gotrue(api_url: str, key: str) -> SyncGoTrueClient:
    """supabase_auth's client on /auth/v1 directly, with the headers supabase-py would add."""
    return SyncGoTrueClient(url=f"{api_url}/auth/v1", headers={"apikey": key, "Authorization": f"Bearer {key}"},
                            auto_refresh_token=False, persist_session=False)


@pytest.fixture
def client(api_url: str, anon_key: str) -> Callable[[], Client]:
    return lambda: make_client(api_url, anon_key)


@pytest.fixture
def admin_client(api_url: str, service_key: str) -> Client:
    return make_client(api_url, service_key)


def confirmation_link(api_url: str, email: str) -> str:
    """The confirmation link of the newest e-mail to ``email`` in the local mailbox."""
    found = httpx.get(f"{api_url}/_devstack/mailbox/api/v1/search", params={"query": f"to:{email}"}).json()
    assert found["messages"], f"no e-mail to {email} in the mailbox"
    message = httpx.get(f"{api_url}/_devstack/mailbox/api/v1/message/{found['messages'][0]['ID']}").json()
    links = [u for u in links_in(message["HTML"]) if "/auth/v1/verify?" in u]
    assert len(links) == 1, message["HTML"]
    return links[0]


def follow_confirmation(api_url: str, email: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """Open the confirmation link as a browser would: (redirect target without query and fragment,
    query parameters, fragment parameters)."""
    response = httpx.get(confirmation_link(api_url, email), follow_redirects=False)
    assert response.status_code == 303, response.text
    target = urlsplit(response.headers["location"])
    return (target._replace(query="", fragment="").geturl(), dict(parse_qsl(target.query)),
            dict(parse_qsl(target.fragment, keep_blank_values=True)))


@pytest.fixture(scope="session")
def alt_gateway(authenticator_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., str]]:
    """``alt_gateway(**env)``: API_URL of a second gateway started with these GoTrue overrides
    (one per distinct setting, kept for the session)."""
    started: dict[tuple, str] = {}
    contexts = []

    def start(**env: str) -> str:
        key = tuple(sorted(env.items()))
        if key not in started:
            log: Path = tmp_path_factory.mktemp("auth-gateway") / "gateway.log"
            ctx = running_gateway(authenticator_url, log, env)
            url, _ = ctx.__enter__()
            contexts.append(ctx)
            started[key] = url
        return started[key]

    yield start
    for ctx in contexts:
        ctx.__exit__(None, None, None)
