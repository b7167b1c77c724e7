"""What the reliability suites share: a fingerprint of every table (to prove a refused request
changed nothing), an HTTP client for the functions and REST, the suites' own users, cohort and
prompts (so seed data and other suites are never touched), and the run report printed at the end
of the session (case counts, throughput, error counts).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import psycopg

from devstack import settings
from devstack.tokens import sign_in
from functions.sign_webhook import signature_headers

#: Every table whose content a request could change (auth.users for forged sign-ups).
TABLES = (
    "auth.users", "public.prompt_admins", "public.prompt_feature_flags", "public.prompt_modules",
    "public.prompt_lessons", "public.prompts", "public.prompt_versions", "public.prompt_favorites",
    "public.prompt_user_preferences", "public.prompt_usage_logs", "public.course_cohort_members",
    "public.course_cohort_sync_runs", "public.prompt_access_audit",
)
#: A seed module and lesson to hang the suites' own prompts on (read, never changed).
SEED_MODULE = "10000000-0000-4000-a000-000000000001"
SEED_LESSON = "20000000-0000-4000-a000-000000000001"
#: Prefix of every cohort, e-mail and slug these suites create (cleanup keys on it).
PREFIX = "rel-"
#: SQL that would do damage if it were ever executed instead of stored.
SQL_INJECTIONS = (
    "'; drop table public.prompts; --",
    "x' or '1'='1",
    "\"; delete from public.course_cohort_members; --",
    "$$; truncate public.prompt_usage_logs; $$",
    "1); update public.prompt_feature_flags set enabled = false; --",
    "') ; select pg_sleep(10); --",
    "\\'; drop schema public cascade; --",
    "%s %(x)s $1 :name ? {0}",
    "/* */ union select * from auth.users --",
    "E'\\x27' || chr(39)",
)

# ----------------------------------------------------------------------------------------------
# The run report
# ----------------------------------------------------------------------------------------------

REPORT: list[str] = []


def report(line: str) -> None:
    """Print ``line`` now and again in the session's reliability summary."""
    REPORT.append(line)
    print(f"[reliability] {line}")


class Cases:
    """Counts the examples a property test really ran (hypothesis may run fewer or, while
    shrinking a failure, more than max_examples)."""

    def __init__(self, name: str, max_examples: int) -> None:
        self.name = name
        self.max_examples = max_examples
        self.count = 0
        self.statuses: dict[int, int] = {}

    def saw(self, status: int) -> None:
        self.count += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def done(self) -> None:
        by_status = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        report(f"{self.name}: {self.count} cases (max_examples={self.max_examples}; {by_status})")


# ----------------------------------------------------------------------------------------------
# Database fingerprints
# ----------------------------------------------------------------------------------------------

_FINGERPRINT_SQL = " union all ".join(
    f"select '{table}', count(*), md5(coalesce(string_agg(t::text, E'\\n' order by t::text), ''))"
    f" from {table} t"
    for table in TABLES
)


class Fingerprint:
    """Row count and checksum of every table, read as the superuser (no RLS)."""

    def __init__(self, admin_url: str) -> None:
        self.conn = psycopg.connect(admin_url, autocommit=True)

    def take(self) -> dict[str, tuple[int, str]]:
        return {name: (count, digest) for name, count, digest in self.conn.execute(_FINGERPRINT_SQL)}

    @contextmanager
    def unchanged(self) -> Iterator[None]:
        """Assert that nothing in any table changed while the block ran."""
        before = self.take()
        yield
        after = self.take()
        changed = {name: (before[name][0], after[name][0]) for name in TABLES if before[name] != after[name]}
        assert not changed, f"tables changed (rows before, after): {changed}"

    def close(self) -> None:
        self.conn.close()


# ----------------------------------------------------------------------------------------------
# HTTP
# ----------------------------------------------------------------------------------------------

def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@dataclass
class Api:
    """One gateway (REST + functions) seen from outside, over plain HTTP."""

    url: str
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=120)

    def function(self, name: str, *, method: str = "POST", token: str | None = None,
                 json_body: Any = None, content: bytes | None = None,
                 content_type: str | None = "application/json",
                 headers: dict[str, str] | None = None) -> httpx.Response:
        """Call /functions/v1/<name>; ``json_body`` is serialised unless raw ``content`` is given."""
        if content is None and json_body is not None:
            content = json.dumps(json_body).encode()
        hdrs = {**bearer(token), **(headers or {})}
        if content_type is not None and content is not None:
            hdrs.setdefault("Content-Type", content_type)
        return self.client.request(method, f"/functions/v1/{name}", content=content, headers=hdrs)

    def deliver(self, body: Any, *, webhook_id: str | None = None, timestamp: datetime | None = None,
                secret: str | None = None, content_type: str = "application/json") -> httpx.Response:
        """POST a cohort-sync delivery signed like a Standard Webhooks sender (bytes sent as given)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = signature_headers(data, secret or settings.webhook_secret(),
                                    webhook_id or f"msg_{uuid.uuid4().hex}", timestamp or datetime.now(UTC))
        return self.client.post("/functions/v1/cohort-sync", content=data,
                                headers={"Content-Type": content_type, **headers})

    def rest(self, method: str, path: str, *, token: str | None = None, key: str | None = None,
             headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """Call /rest/v1<path> with an API key (anon by default) and an optional user token."""
        hdrs = {"apikey": key or settings.anon_key(), **bearer(token), **(headers or {})}
        return self.client.request(method, f"/rest/v1{path}", headers=hdrs, **kwargs)

    def close(self) -> None:
        self.client.close()


#: Fragments of database or stand-in internals that must never reach a function's caller.
DATABASE_INTERNALS = ("violates", "relation \\\"", "permission denied", "syntax error", "Traceback",
                      "psycopg", "PGRST", "SQLSTATE", "plpgsql", "statement timeout", "pg_catalog")


def error_code(response: httpx.Response) -> str | None:
    """The error code of a function's (``{"error": {"code"}}``) or PostgREST's (``{"code"}``) body."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return body.get("code") if isinstance(body, dict) else None


def assert_function_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    """The contract's error: that status, ``{"error": {"code", "message"}}``, no SQL leaked."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    if code is not None:
        assert body["error"]["code"] == code, body
    # A 422 names the caller's own fields (a generated body may have a key called "PGRST"): those
    # names are the caller's input echoed back, not internals.
    text = response.text
    for detail in body["error"].get("details") or []:
        for part in str(detail.get("field", "")).split("."):
            if part:
                text = text.replace(part, "")
    leaked = [marker for marker in DATABASE_INTERNALS if marker in text]
    assert not leaked, (leaked, response.text[:500])


# ----------------------------------------------------------------------------------------------
# The suites' own users, cohort and prompts
# ----------------------------------------------------------------------------------------------

@dataclass
class User:
    email: str
    id: str
    token: str


@dataclass
class Prompt:
    id: str
    versions: list[str]  # ids by version_number - 1


@dataclass
class World:
    """Users, a cohort and prompts that belong to one test module or package only."""

    tag: str
    cohort: str
    admin: User        # app_metadata.prompt_admin = true
    learner: User      # active member
    other: User        # another active member (the victim of forged writes and reads)
    optout: User       # active member who opted out of telemetry
    outsider: User     # signed in, no membership
    published: Prompt  # v1 published and current, v2 a draft
    draft: Prompt      # v1 never published
    elsewhere: Prompt  # another published prompt (its version must never become ours)
    prompt_ids: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)


def new_user(db_url: str, email: str, *, admin: bool = False) -> User:
    """Sign a user up (auth.users row) and in; the token is shaped like Supabase Auth's."""
    token = sign_in(db_url, email, admin=admin)
    return User(email, jwt.decode(token, options={"verify_signature": False})["sub"], token)


def new_prompt(conn: psycopg.Connection, tag: str, *, published_versions: int, drafts: int = 0) -> Prompt:
    """A prompt in the seed's first lesson with the given versions; the newest published one is current."""
    slug = f"{PREFIX}{tag}-{uuid.uuid4().hex[:8]}"
    prompt_id = str(conn.execute(
        "insert into public.prompts (module_id, lesson_id, slug, title) values (%s, %s, %s, %s) returning id",
        (SEED_MODULE, SEED_LESSON, slug, f"Reliability {slug}")).fetchone()[0])
    versions = []
    for n in range(published_versions + drafts):
        versions.append(str(conn.execute(
            "insert into public.prompt_versions (prompt_id, markdown_body, changelog, published)"
            " values (%s, %s, %s, %s) returning id",
            (prompt_id, f"# {slug} v{n + 1}", f"v{n + 1}", n < published_versions)).fetchone()[0]))
    if published_versions:
        conn.execute("update public.prompts set current_version_id = %s, status = 'published',"
                     " published_at = now() where id = %s", (versions[published_versions - 1], prompt_id))
    return Prompt(prompt_id, versions)


def add_members(conn: psycopg.Connection, cohort: str, emails: list[str]) -> None:
    """Active memberships, written as the sync RPC would (source_hash included)."""
    with conn.cursor() as cur:
        cur.executemany(
            "insert into public.course_cohort_members (cohort_id, email, status, source_hash)"
            " values (%s, %s, 'active', md5(jsonb_build_array(%s::text, null, null, null, 'active')::text))",
            [(cohort, email, email) for email in emails])


def build_world(db_url: str) -> World:
    """Create the users, cohort and prompts of one module or package (committed)."""
    tag = uuid.uuid4().hex[:8]
    users = {role: new_user(db_url, f"{PREFIX}{role}-{tag}@example.com", admin=role == "admin")
             for role in ("admin", "learner", "other", "optout", "outsider")}
    cohort = f"{PREFIX}cohort-{tag}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        add_members(conn, cohort, [users[r].email for r in ("learner", "other", "optout")])
        conn.execute("insert into public.prompt_user_preferences (user_id, telemetry_opt_out) values"
                     " (%s, true), (%s, false)", (users["optout"].id, users["other"].id))
        published = new_prompt(conn, tag, published_versions=1, drafts=1)
        draft = new_prompt(conn, tag, published_versions=0, drafts=1)
        elsewhere = new_prompt(conn, tag, published_versions=1)
        conn.execute("insert into public.prompt_favorites (user_id, prompt_id) values (%s, %s)",
                     (users["other"].id, published.id))
        conn.execute("insert into public.prompt_usage_logs (user_id, prompt_id, action, metadata)"
                     " values (%s, %s, 'copy', '{\"secret\": \"other\"}')", (users["other"].id, published.id))
    world = World(tag=tag, cohort=cohort, published=published, draft=draft, elsewhere=elsewhere, **users)
    world.prompt_ids = [published.id, draft.id, elsewhere.id]
    world.user_ids = [u.id for u in users.values()]
    return world


def destroy_world(db_url: str, world: World) -> None:
    """Remove everything the world and the tests that used it created."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("delete from public.prompts where id = any(%s::uuid[]) or slug like %s",
                     (world.prompt_ids, f"{PREFIX}{world.tag}%"))
        for table in ("course_cohort_members", "course_cohort_sync_runs"):
            conn.execute(f"delete from public.{table} where cohort_id like %s", (f"{PREFIX}%{world.tag}%",))
        conn.execute("delete from public.prompt_access_audit where user_id = any(%s::uuid[])", (world.user_ids,))
        conn.execute("delete from auth.users where id = any(%s::uuid[]) or email like %s",
                     (world.user_ids, f"{PREFIX}%-{world.tag}@example.com"))


def wait_until(predicate: Any, timeout: float, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds passed; its last verdict."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
