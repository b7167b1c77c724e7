"""Adversarial input to the REST/RPC surface (``/rest/v1``) over HTTP, against the real stack.

Browsers call PostgREST directly, so everything the functions check must also hold here: refused
requests get PostgREST's 4xx for the database's error, no table changes, no request is answered
5xx, hostile values are bound as data (stored verbatim or matched literally), and the usage
RPC never loses an event: rows stored = accepted + anonymized, whatever the batch holds.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack import settings as devstack_settings
from tests.reliability.support import (
    PREFIX,
    SEED_MODULE,
    SQL_INJECTIONS,
    TABLES,
    Cases,
    World,
    error_code,
)

EXAMPLES = 100
PROPERTY = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])
JSON = {"Content-Type": "application/json"}
DEEP = 50_000


def _raw(body: str | bytes) -> dict[str, Any]:
    return {"content": body.encode() if isinstance(body, str) else body, "headers": JSON}


def _refusals(w: World) -> list[tuple[str, str, str, str, dict[str, Any], int, str | None]]:
    """(name, actor, method, path, httpx kwargs, status, PostgREST code)."""
    event = {"prompt_id": w.published.id, "action": "view"}
    usage_row = {**event, "user_id": w.learner.id}
    return [
        ("favorite-not-json", "learner", "POST", "/prompt_favorites", _raw("{prompt_id:"), 400, "PGRST102"),
        ("favorite-empty-body", "learner", "POST", "/prompt_favorites", _raw(""), 400, "PGRST102"),
        ("favorite-deep-nesting", "learner", "POST", "/prompt_favorites", _raw(b"[" * DEEP + b"]" * DEEP), 400, None),
        ("rpc-deep-nesting", "learner", "POST", "/rpc/ingest_usage_events",
         _raw(b'{"events": ' + b"[" * DEEP + b"]" * DEEP + b"}"), 400, None),
        ("usage-metadata-600-deep", "learner", "POST", "/rpc/ingest_usage_events",
         _raw(json.dumps({"events": [{**event, "metadata": "@"}]}).replace('"@"', '{"a": ' * 600 + "1" + "}" * 600)),
         400, "23514"),
        ("favorite-invalid-uuid", "learner", "POST", "/prompt_favorites", {"json": {"prompt_id": "nope"}}, 400, "22P02"),
        ("favorite-sql-uuid", "learner", "POST", "/prompt_favorites", {"json": {"prompt_id": SQL_INJECTIONS[1]}},
         400, "22P02"),
        ("filter-invalid-uuid", "learner", "GET", f"/prompts?id=eq.{quote(SQL_INJECTIONS[0])}", {}, 400, "22P02"),
        ("patch-invalid-uuid-filter", "learner", "PATCH", f"/prompt_user_preferences?user_id=eq.{quote(SQL_INJECTIONS[1])}",
         {"json": {"telemetry_opt_out": True}}, 400, "22P02"),
        ("usage-unknown-column", "learner", "POST", "/prompt_usage_logs", {"json": {**usage_row, "is_admin": True}},
         400, "PGRST204"),
        ("select-unknown-column", "learner", "GET", "/prompts?select=id,password", {}, 400, "42703"),
        ("usage-action-number", "learner", "POST", "/prompt_usage_logs", {"json": {**usage_row, "action": 7}},
         400, "23514"),
        ("usage-metadata-string", "learner", "POST", "/prompt_usage_logs", {"json": {**usage_row, "metadata": "x"}},
         400, "23514"),
        ("usage-metadata-4097", "learner", "POST", "/prompt_usage_logs",
         {"json": {**usage_row, "metadata": {"k": "x" * 4088}}}, 400, "23514"),
        ("opt-out-wrong-type", "learner", "POST", "/rpc/set_telemetry_opt_out", {"json": {"opt_out": [1]}}, 400, "22P02"),
        ("opt-out-null", "learner", "POST", "/rpc/set_telemetry_opt_out", {"json": {"opt_out": None}}, 400, "22023"),
        ("opt-out-unknown-argument", "learner", "POST", "/rpc/set_telemetry_opt_out",
         {"json": {"opt_out": True, "user_id": w.other.id}}, 404, "PGRST202"),
        ("json-lone-surrogate", "learner", "POST", "/prompt_usage_logs",
         _raw(json.dumps(usage_row)[:-1] + ', "metadata": {"\\ud800": 1}}'), 400, "22P02"),
        ("json-nul-escape", "learner", "POST", "/prompt_usage_logs",
         _raw(json.dumps(usage_row)[:-1] + ', "metadata": {"k": "\\u0000"}}'), 400, "22P05"),
        ("json-not-utf8", "learner", "POST", "/prompt_usage_logs", _raw(b'{"action": "\xff"}'), 400, "PGRST102"),
        ("rpc-zero-events", "learner", "POST", "/rpc/ingest_usage_events", {"json": {"events": []}}, 400, "22023"),
        ("rpc-501-events", "learner", "POST", "/rpc/ingest_usage_events", {"json": {"events": [event] * 501}},
         400, "22023"),
        ("rpc-events-not-array", "learner", "POST", "/rpc/ingest_usage_events", {"json": {"events": "x"}}, 400, "22023"),
        ("rpc-event-not-object", "learner", "POST", "/rpc/ingest_usage_events", {"json": {"events": [[]]}}, 400, "22023"),
        ("rpc-timestamp-beyond-postgres", "learner", "POST", "/rpc/ingest_usage_events",
         {"json": {"events": [{**event, "occurred_at": "294277-01-01T00:00:00Z"}]}}, 400, "22008"),
        ("rpc-timestamp-garbage", "learner", "POST", "/rpc/ingest_usage_events",
         {"json": {"events": [{**event, "occurred_at": "not a time"}]}}, 400, "22007"),
        ("rpc-bad-action", "learner", "POST", "/rpc/ingest_usage_events",
         {"json": {"events": [event, {**event, "action": "share"}]}}, 400, "23514"),
        ("markdown-10-mb", "admin", "POST", "/prompt_versions",
         {"json": {"prompt_id": w.draft.id, "markdown_body": "x" * 10_000_000}}, 400, "23514"),
        ("filter-nul", "learner", "GET", "/prompts?title=eq.%00", {}, 400, None),
        ("logic-tree-2000-deep", "learner", "GET", "/prompts?or=(" + "and(" * 2000 + "id.eq.1" + ")" * 2000 + ")",
         {}, 400, None),
    ]


@pytest.fixture(scope="module")
def tokens(world: World) -> dict[str, str]:
    return {"learner": world.learner.token, "admin": world.admin.token, "outsider": world.outsider.token}


def test_hand_picked_hostile_rest_requests_get_postgrest_4xx_and_change_nothing(api, world, fingerprint, tokens):
    cases = _refusals(world)
    tally = Cases("rest: hand-picked refusals", len(cases))
    failures = []
    for name, actor, method, path, kwargs, status, code in cases:
        with fingerprint.unchanged():
            response = api.rest(method, path, token=tokens[actor], **kwargs)
        tally.saw(response.status_code)
        if response.status_code != status or (code is not None and error_code(response) != code):
            failures.append(f"{name}: {response.status_code} {response.text[:200]}")
        elif response.headers.get("content-type", "").split(";")[0] != "application/json":
            failures.append(f"{name}: not a JSON error: {response.headers.get('content-type')}")
    tally.done()
    assert failures == []


def test_unicode_filter_values_are_matched_not_crashing_the_response(api, world, db_url):
    """Non-Latin-1 text and invalid UTF-8 escapes in a filter are data: 200 or 400, JSON either way."""
    title = "日本語のプロンプト ✓ \U0001F600"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("update public.prompts set title = %s where id = %s", (title, world.published.id))
    found = api.rest("GET", f"/prompts?select=id&title=eq.{quote(title)}", token=world.learner.token)
    assert (found.status_code, found.json()) == (200, [{"id": world.published.id}]), found.text[:300]
    odd = api.rest("GET", "/prompts?select=id&title=eq.%ff%fe", token=world.learner.token)
    assert odd.status_code in (200, 400) and odd.headers["content-type"].startswith("application/json"), odd.text[:300]


# ----------------------------------------------------------------------------------------------
# Generated input
# ----------------------------------------------------------------------------------------------

_storable = st.characters(codec="utf-8", exclude_characters="\x00")
_hostile = st.text(_storable, max_size=40) | st.sampled_from(SQL_INJECTIONS)
_any_text = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(SQL_INJECTIONS)
_json = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63) | _any_text,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_any_text, inner, max_size=3),
                     max_leaves=6)


def _others(fingerprint, *skip: str) -> dict[str, tuple[int, str]]:
    return {name: value for name, value in fingerprint.take().items() if name not in skip}


@st.composite
def usage_batches(draw: st.DrawFn, world: World) -> list[Any]:
    prompt_ids = st.sampled_from([world.published.id, world.draft.id, world.elsewhere.id, str(uuid.uuid4())])
    event = st.fixed_dictionaries({}, optional={
        "prompt_id": prompt_ids | _json,
        "action": st.sampled_from(["view", "copy", "favorite", "unfavorite"]) | _json,
        "occurred_at": st.sampled_from(["2026-11-23T10:00:00Z", "2026-11-23T10:00:00", "now"]) | _json,
        "metadata": st.none() | st.dictionaries(_hostile, _hostile, max_size=3) | _json,
        "user_id": st.sampled_from([world.other.id, world.admin.id]),
    })
    valid = st.fixed_dictionaries({"prompt_id": prompt_ids,
                                   "action": st.sampled_from(["view", "copy", "favorite", "unfavorite"])})
    return draw(st.lists(valid, min_size=1, max_size=6) | st.lists(valid | event | _json, max_size=6))


@pytest.mark.parametrize("who", ["learner", "optout", "outsider"])
def test_generated_usage_batches_through_the_rpc_lose_no_event_and_refusals_change_nothing(
        api, world, fingerprint, db_url, who):
    user = getattr(world, who)
    tally = Cases(f"rest: generated ingest_usage_events batches, {who}", EXAMPLES)
    prompts = [world.published.id, world.draft.id, world.elsewhere.id]

    with psycopg.connect(db_url, autocommit=True) as conn:
        def stored() -> tuple[int, int]:
            return conn.execute(
                "select count(*) filter (where user_id = %s), count(*) filter (where user_id is null)"
                " from public.prompt_usage_logs where prompt_id = any(%s::uuid[])", (user.id, prompts)).fetchone()

        @PROPERTY
        @given(batch=usage_batches(world))
        def run(batch):
            before, others = stored(), _others(fingerprint, "public.prompt_usage_logs")
            response = api.rest("POST", "/rpc/ingest_usage_events", token=user.token, json={"events": batch})
            tally.saw(response.status_code)
            assert response.status_code < 500, response.text[:300]
            after = stored()
            assert _others(fingerprint, "public.prompt_usage_logs") == others
            if response.status_code >= 400:
                assert after == before, response.text[:300]
                return
            counts = response.json()
            assert response.status_code == 200 and set(counts) == {"accepted", "anonymized", "dropped"}
            assert sum(counts.values()) == len(batch)
            assert (after[0] - before[0], after[1] - before[1]) == (counts["accepted"], counts["anonymized"])
            if who == "optout":
                assert counts["accepted"] == 0
            if who == "outsider":
                assert counts["accepted"] + counts["anonymized"] == 0

        run()
    tally.done()


_TABLE_COLUMNS = {
    "prompt_favorites": ("user_id", "prompt_id", "created_at"),
    "prompt_usage_logs": ("id", "user_id", "prompt_id", "version_id", "action", "metadata", "occurred_at",
                          "created_at"),
    "prompt_user_preferences": ("user_id", "telemetry_opt_out", "created_at", "updated_at"),
}


@st.composite
def rows_for(draw: st.DrawFn, world: World, table: str) -> dict[str, Any]:
    ids = st.sampled_from([world.learner.id, world.other.id, world.admin.id, world.published.id,
                           world.draft.id, world.published.versions[0], str(uuid.uuid4())])
    users = st.sampled_from([world.learner.id, world.other.id, world.admin.id])
    prompts = st.sampled_from([world.published.id, world.draft.id, world.elsewhere.id, str(uuid.uuid4())])
    plausible = {
        "user_id": users | st.none(), "prompt_id": prompts, "telemetry_opt_out": st.booleans(),
        "action": st.sampled_from(["view", "copy", "favorite", "unfavorite"]),
        "metadata": st.none() | st.dictionaries(_hostile, _hostile, max_size=2),
        "id": ids, "version_id": ids, "occurred_at": st.sampled_from(["2026-11-23T10:00:00Z", "infinity"]),
        "created_at": st.sampled_from(["2000-01-01T00:00:00Z"]), "updated_at": st.sampled_from(["2000-01-01T00:00:00Z"]),
    }
    if draw(st.booleans()):  # the table's own columns with values of the right kind
        return draw(st.fixed_dictionaries({}, optional={c: plausible[c] for c in _TABLE_COLUMNS[table]})
                    .filter(bool))
    value = ids | st.none() | st.booleans() | _hostile | st.dictionaries(_hostile, _hostile, max_size=2) | _json
    columns = st.sampled_from(_TABLE_COLUMNS[table]) | _hostile
    return draw(st.dictionaries(columns, value, min_size=1, max_size=5))


@pytest.mark.parametrize("table", sorted(_TABLE_COLUMNS))
def test_generated_learner_writes_never_touch_another_users_rows(api, world, fingerprint, db_url, table):
    """Random rows POSTed (plain and as upserts) by a learner: 4xx changes nothing, and whatever is
    accepted belongs to the learner."""
    tally = Cases(f"rest: generated learner writes, {table}", EXAMPLES)

    with psycopg.connect(db_url, autocommit=True) as conn:
        @PROPERTY
        @given(row=rows_for(world, table), upsert=st.booleans())
        def run(row, upsert):
            headers = {"Prefer": "return=representation" + (",resolution=merge-duplicates" if upsert else "")}
            before = fingerprint.take()
            response = api.rest("POST", f"/{table}", token=world.learner.token, json=row, headers=headers)
            tally.saw(response.status_code)
            assert response.status_code < 500, response.text[:300]
            if response.status_code >= 400:
                assert fingerprint.take() == before, response.text[:300]
                return
            assert response.status_code in (200, 201), response.text[:300]
            written = response.json()
            assert [r["user_id"] for r in written] == [world.learner.id], written
            if table == "prompt_usage_logs":  # what the database stamps cannot be forged either
                assert not written[0]["created_at"].startswith("2000-"), written
                assert written[0]["version_id"] == (world.published.versions[0]
                                                    if written[0]["prompt_id"] == world.published.id
                                                    else world.elsewhere.versions[0]), written
            changed = {name for name in TABLES if fingerprint.take()[name] != before[name]}
            assert changed <= {f"public.{table}", "public.prompt_usage_logs"}, changed
            # Undo, so the next example starts from the same state.
            key = "id" if table == "prompt_usage_logs" else "user_id"
            conn.execute(f"delete from public.{table} where {key} = %s"
                         + (" and prompt_id = %s" if table == "prompt_favorites" else ""),
                         (written[0][key], *([written[0]["prompt_id"]] if table == "prompt_favorites" else [])))

        run()
    tally.done()


_FILTERABLE = [("prompts", "title"), ("prompt_versions", "markdown_body"), ("course_cohort_members", "email"),
               ("prompt_usage_logs", "action"), ("prompt_feature_flags", "key"), ("prompt_favorites", "prompt_id")]


@pytest.mark.parametrize("actor", ["learner", "outsider"])
def test_generated_filter_values_are_data_never_sql(api, world, fingerprint, actor):
    tally = Cases(f"rest: generated filter values, {actor}", EXAMPLES)
    token = getattr(world, actor).token

    @PROPERTY
    @given(target=st.sampled_from(_FILTERABLE), op=st.sampled_from(["eq", "neq", "like", "ilike", "in", "gt", "is"]),
           value=_any_text | st.text(st.characters(codec="latin-1"), max_size=20), negate=st.booleans())
    def run(target, op, value, negate):
        table, column = target
        operand = f"({quote(value, safe='')})" if op == "in" else quote(value, safe="")
        path = f"/{table}?select={column}&{column}={'not.' if negate else ''}{op}.{operand}"
        with fingerprint.unchanged():
            response = api.rest("GET", path, token=token)
        tally.saw(response.status_code)
        # 404 42883: no such operator for the column's type (LIKE on a uuid), as PostgREST maps it.
        assert response.status_code in (200, 400) or (response.status_code, error_code(response)) == (404, "42883"), \
            (path, response.status_code, response.text[:300])
        assert response.headers["content-type"].startswith("application/json"), (path, response.text[:300])
        if response.status_code == 200 and actor == "outsider" and table in ("prompts", "prompt_versions",
                                                                              "prompt_usage_logs"):
            assert response.json() == [], path

    run()
    tally.done()


def test_hostile_prompt_and_version_fields_are_stored_verbatim_through_rest(api, world, db_url):
    """An admin writes prompts and versions with hostile text through PostgREST; it reads back
    byte for byte, and a forged version_number is replaced by the database's own."""
    tally = Cases("rest: verbatim prompts and versions", EXAMPLES // 2)
    title = st.text(_storable, min_size=1, max_size=200).filter(lambda s: 1 <= len(s) <= 200) \
        | st.sampled_from(SQL_INJECTIONS)
    tags = st.lists(_hostile.filter(lambda s: s), max_size=5)

    with psycopg.connect(db_url, autocommit=True) as conn:
        @settings(PROPERTY, max_examples=EXAMPLES // 2)
        @given(title=title, description=st.none() | _hostile, tags=tags,
               # the table refuses a blank body (its own check, tested elsewhere): not hostile input
               markdown=st.text(_storable, min_size=1, max_size=300).filter(lambda t: not t.isspace())
               | st.sampled_from(SQL_INJECTIONS),
               changelog=st.none() | _hostile, forged_number=st.integers(-5, 10**6))
        def run(title, description, tags, markdown, changelog, forged_number):
            slug = f"{PREFIX}{world.tag}-{uuid.uuid4().hex[:10]}"
            prompt = api.rest("POST", "/prompts", token=world.admin.token, headers={"Prefer": "return=representation"},
                              json={"module_id": SEED_MODULE, "slug": slug, "title": title,
                                    "description": description, "tags": tags})
            tally.saw(prompt.status_code)
            assert prompt.status_code == 201, prompt.text[:300]
            prompt_id = prompt.json()[0]["id"]
            version = api.rest("POST", "/prompt_versions", token=world.admin.token,
                               headers={"Prefer": "return=representation"},
                               json={"prompt_id": prompt_id, "markdown_body": markdown, "changelog": changelog,
                                     "version_number": forged_number})
            assert version.status_code == 201, version.text[:300]
            stored = conn.execute(
                "select p.title, p.description, p.tags, v.markdown_body, v.changelog, v.version_number, v.created_by"
                "  from public.prompts p join public.prompt_versions v on v.prompt_id = p.id where p.id = %s",
                (prompt_id,)).fetchone()
            assert stored == (title, description, tags, markdown, changelog, 1, uuid.UUID(world.admin.id))
            conn.execute("delete from public.prompts where id = %s", (prompt_id,))

        run()
    tally.done()


def test_anon_key_cannot_be_swapped_for_another_key(api, world, fingerprint):
    """Only the project's two API keys open /rest/v1; a look-alike key is refused by the gateway."""
    look_alike = devstack_settings.anon_key()[:-2] + "xx"
    with fingerprint.unchanged():
        response = api.rest("GET", "/prompt_modules", key=look_alike, token=world.learner.token)
    assert response.status_code == 401
