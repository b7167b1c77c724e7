"""Adversarial input to the four functions over HTTP, against the real stack.

Refused requests get the contract's status (§5: 400 unparseable, 401, 413, 422 ...) in the
contract's error shape, and leave every table exactly as it was (row counts and checksums).
Hostile but valid data (unicode, control characters, SQL) is stored verbatim, never executed.
Hand-picked cases come first; hypothesis then generates the same kinds of attack at random.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.models import (
    MAX_COHORT_SYNC_BODY_BYTES,
    MAX_EVENTS,
    MAX_MEMBERS,
    MAX_PUBLISH_BODY_BYTES,
    MAX_USAGE_BODY_BYTES,
)
from tests.reliability.support import (
    PREFIX,
    SQL_INJECTIONS,
    Api,
    Cases,
    World,
    assert_function_error,
)

DEEP = 50_000  # deeper than any JSON parser recursion limit
MUTATIONS = 120
VERBATIM = 60
PROPERTY = settings(max_examples=MUTATIONS, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.filter_too_much, HealthCheck.data_too_large])


def _nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _publish(world: World, **fields: Any) -> dict[str, Any]:
    return {"prompt_id": world.published.id, **fields}


def _events(world: World, n: int = 1, **fields: Any) -> dict[str, Any]:
    return {"events": [{"prompt_id": world.published.id, "action": "view", **fields}] * n}


def _delivery(world: World, **fields: Any) -> dict[str, Any]:
    return {"cohort_id": f"{PREFIX}adv-{world.tag}", "mode": "delta",
            "members": [{"email": f"adv-{world.tag}@example.org"}], **fields}


# ----------------------------------------------------------------------------------------------
# Hand-picked refusals
# ----------------------------------------------------------------------------------------------

JSON = "application/json"


@dataclass(frozen=True)
class Refusal:
    """A request the function must refuse: its body (or raw bytes), status and error code."""

    name: str
    function: str
    body: Any
    status: int
    code: str | None = None
    content_type: str | None = JSON


def _refusals(w: World) -> list[Refusal]:
    now = datetime.now(UTC)
    pub, use, sync = "publish-prompt", "usage-events", "cohort-sync"
    bad_json, bad_type, too_large = "invalid_json", "unsupported_content_type", "payload_too_large"
    md = {"markdown_body": "# x"}
    deep_array = b"[" * DEEP + b"]" * DEEP
    return [
        # not JSON, not UTF-8, not sent as JSON, too large
        Refusal("publish-not-json", pub, b'{"prompt_id": ', 400, bad_json),
        Refusal("publish-not-utf8", pub, b'{"prompt_id": "\xff\xfe"}', 400, bad_json),
        Refusal("publish-nan", pub, b'{"prompt_id": NaN}', 400, bad_json),
        Refusal("publish-empty-body", pub, b"", 400, bad_json),
        Refusal("publish-deep-nesting", pub, deep_array, 400, bad_json),
        Refusal("publish-text-plain", pub, _publish(w, **md), 400, bad_type, "text/plain"),
        Refusal("publish-form", pub, b"prompt_id=1", 400, bad_type, "application/x-www-form-urlencoded"),
        Refusal("publish-multipart", pub, b"--b\r\n\r\nx\r\n--b--", 400, bad_type, "multipart/form-data; boundary=b"),
        Refusal("publish-no-content-type", pub, _publish(w, **md), 400, bad_type, None),
        Refusal("publish-too-large", pub, b" " * (MAX_PUBLISH_BODY_BYTES + 1), 413, too_large),
        # valid JSON, invalid request
        Refusal("publish-array", pub, [], 422, "validation_error"),
        Refusal("publish-null", pub, None, 422, "validation_error"),
        Refusal("publish-unknown-field", pub, _publish(w, **md, is_admin=True), 422),
        Refusal("publish-prompt-id-number", pub, {"prompt_id": 42, **md}, 422),
        Refusal("publish-prompt-id-sql", pub, {"prompt_id": SQL_INJECTIONS[0], **md}, 422),
        Refusal("publish-prompt-id-almost-uuid", pub, {"prompt_id": w.published.id[:-1] + "g", **md}, 422),
        Refusal("publish-prompt-id-nested", pub, {"prompt_id": _nested(40, w.published.id), **md}, 422),
        Refusal("publish-markdown-number", pub, _publish(w, markdown_body=7), 422),
        Refusal("publish-markdown-blank", pub, _publish(w, markdown_body=" \n\t "), 422),
        Refusal("publish-markdown-nul", pub, _publish(w, markdown_body="a\x00b"), 422),
        Refusal("publish-markdown-surrogate", pub,
                b'{"prompt_id": "%s", "markdown_body": "\\ud800"}' % w.published.id.encode(), 422),
        Refusal("publish-markdown-100001", pub, _publish(w, markdown_body="x" * 100_001), 422),
        Refusal("publish-changelog-2001", pub, _publish(w, **md, changelog="c" * 2001), 422),
        Refusal("publish-both-sources", pub, _publish(w, **md, version_id=w.published.versions[1]), 422),
        Refusal("publish-changelog-with-version", pub,
                _publish(w, version_id=w.published.versions[1], changelog="c"), 422),
        # usage events
        Refusal("usage-not-json", use, b"events=1", 400, bad_json),
        Refusal("usage-wrong-content-type", use, _events(w), 400, bad_type, "text/csv"),
        Refusal("usage-deep-nesting", use, b'{"events": ' + deep_array + b"}", 400, bad_json),
        Refusal("usage-too-large", use, b" " * (MAX_USAGE_BODY_BYTES + 1), 413, too_large),
        Refusal("usage-zero-events", use, {"events": []}, 422),
        Refusal("usage-501-events", use, _events(w, MAX_EVENTS + 1), 422),
        Refusal("usage-events-object", use, {"events": {"prompt_id": w.published.id}}, 422),
        Refusal("usage-event-string", use, {"events": ["view"]}, 422),
        Refusal("usage-unknown-top-field", use, {**_events(w), "user_id": w.other.id}, 422),
        Refusal("usage-unknown-event-field", use, _events(w, user_id=w.other.id), 422),
        Refusal("usage-bad-action", use, _events(w, action="delete"), 422),
        Refusal("usage-action-case", use, _events(w, action="VIEW"), 422),
        Refusal("usage-action-sql", use, _events(w, action=SQL_INJECTIONS[1]), 422),
        Refusal("usage-prompt-id-invalid", use, {"events": [{"prompt_id": "' or 1=1 --", "action": "view"}]}, 422),
        Refusal("usage-far-future", use, _events(w, occurred_at="2200-01-01T00:00:00Z"), 422),
        Refusal("usage-far-past", use, _events(w, occurred_at="1970-01-01T00:00:00Z"), 422),
        Refusal("usage-6-minutes-ahead", use, _events(w, occurred_at=(now + timedelta(minutes=6)).isoformat()), 422),
        Refusal("usage-31-days-old", use, _events(w, occurred_at=(now - timedelta(days=31)).isoformat()), 422),
        Refusal("usage-infinity", use, _events(w, occurred_at="infinity"), 422),
        Refusal("usage-naive-time", use, _events(w, occurred_at=now.replace(tzinfo=None).isoformat()), 422),
        Refusal("usage-unix-time", use, _events(w, occurred_at=int(now.timestamp())), 422),
        Refusal("usage-metadata-list", use, _events(w, metadata=[1, 2]), 422),
        Refusal("usage-metadata-string", use, _events(w, metadata="{}"), 422),
        Refusal("usage-metadata-4097", use, _events(w, metadata={"k": "x" * (4096 - 9 + 1)}), 422),
        Refusal("usage-metadata-deep", use, _events(w, metadata={"k": _nested(40)}), 422),
        Refusal("usage-metadata-nul", use, _events(w, metadata={"k": "\x00"}), 422),
        Refusal("usage-metadata-nul-key", use, _events(w, metadata={"\x00": 1}), 422),
        # cohort sync, signed correctly: the body itself is what is wrong
        Refusal("sync-not-json", sync, b"cohort_id=x", 400, bad_json),
        Refusal("sync-not-utf8", sync, b'{"cohort_id": "\xc3\x28"}', 400, bad_json),
        Refusal("sync-wrong-content-type", sync, _delivery(w), 400, bad_type, "application/xml"),
        Refusal("sync-deep-nesting", sync, b'{"members": ' + b'{"a": ' * DEEP + b"1" + b"}" * DEEP + b"}",
                400, bad_json),
        Refusal("sync-too-large", sync, b" " * (MAX_COHORT_SYNC_BODY_BYTES + 1), 413, too_large),
        Refusal("sync-unknown-field", sync, _delivery(w, drop_table=True), 422),
        Refusal("sync-mode", sync, _delivery(w, mode="replace"), 422),
        Refusal("sync-cohort-blank", sync, _delivery(w, cohort_id="   "), 422),
        Refusal("sync-cohort-number", sync, _delivery(w, cohort_id=7), 422),
        Refusal("sync-cohort-201", sync, _delivery(w, cohort_id="c" * 201), 422),
        Refusal("sync-cohort-nul", sync, _delivery(w, cohort_id=f"{PREFIX}{w.tag}\x00"), 422),
        Refusal("sync-members-object", sync, _delivery(w, members={"email": "a@b.co"}), 422),
        Refusal("sync-member-nul", sync, _delivery(w, members=[{"email": "a@b.co", "first_name": "\x00"}]), 422),
        Refusal("sync-member-deep", sync, _delivery(w, members=[_nested(40, {"email": "a@b.co"})]), 422),
        Refusal("sync-allow-string", sync, _delivery(w, allow_mass_deactivation="true"), 422),
        Refusal("sync-too-many-members", sync, _delivery(w, members=[{"email": "a@b.co"}] * (MAX_MEMBERS + 1)), 422),
    ]


def _send(api: Api, world: World, function: str, body: Any, content_type: str | None, **sign: Any):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    if function == "cohort-sync":
        return api.deliver(data, content_type=content_type or "", **sign)
    token = world.admin.token if function == "publish-prompt" else world.learner.token
    return api.function(function, token=token, content=data, content_type=content_type)


def test_hand_picked_hostile_requests_get_the_contract_status_and_change_nothing(api, world, fingerprint):
    cases = _refusals(world)
    tally = Cases("functions: hand-picked refusals", len(cases))
    failures = []
    for case in cases:
        with fingerprint.unchanged():
            response = _send(api, world, case.function, case.body, case.content_type)
        tally.saw(response.status_code)
        try:
            assert_function_error(response, case.status, case.code)
        except AssertionError as exc:
            failures.append(f"{case.name}: {exc}")
    tally.done()
    assert failures == []


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6), timedelta(days=-20000),
                                    timedelta(days=50000)], ids=["6min-old", "6min-ahead", "1971", "2163"])
def test_webhook_timestamps_far_off_are_401_and_change_nothing(api, world, fingerprint, offset):
    with fingerprint.unchanged():
        response = api.deliver(_delivery(world), timestamp=datetime.now(UTC) + offset)
    assert_function_error(response, 401, "invalid_signature")


def test_access_check_ignores_what_a_get_carries_and_audits_once(api, world, fingerprint, db_url):
    """A body, query string and odd headers on the GET change nothing but the one audit row."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        before = conn.execute("select count(*) from public.prompt_access_audit where user_id = %s",
                              (world.learner.id,)).fetchone()[0]
        response = api.client.request(
            "GET", "/functions/v1/access-check?user_id=" + world.admin.id + "&reason=admin",
            content=json.dumps({"user_id": world.admin.id, "email": world.admin.email}).encode(),
            headers={"Authorization": f"Bearer {world.learner.token}", "Content-Type": "application/json",
                     "X-Forwarded-User": world.admin.email})
        after = conn.execute("select count(*) from public.prompt_access_audit where user_id = %s",
                             (world.learner.id,)).fetchone()[0]
    assert response.status_code == 200, response.text
    assert response.json() == {"has_access": True, "reason": "active_cohort_member", "cohort_ids": [world.cohort]}
    assert after == before + 1


# ----------------------------------------------------------------------------------------------
# Generated refusals: each strategy yields (what, body or raw bytes, content type, expected status)
# ----------------------------------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8"), max_size=30)
_scalars = st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False,
                                                                              allow_infinity=False) | _text
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(_text, inner, max_size=3), max_leaves=8)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


_not_uuid = (_text.filter(lambda s: not _is_uuid(s)) | st.sampled_from(SQL_INJECTIONS)
             | _json.filter(lambda v: not isinstance(v, str)))
_not_string = _json.filter(lambda v: not isinstance(v, str) and v is not None)
_non_json_bytes = st.binary(max_size=64).filter(lambda b: not _parses(b))
_non_json_types = (st.sampled_from(["text/plain", "text/json", "application/x-www-form-urlencoded",
                                    "multipart/form-data; boundary=x", "application/xml", "application/jsonx",
                                    "application/json-patch", "image/png", "*/*"])
                   | st.from_regex(r"\A(text|image|audio)/[a-z]{1,10}(\+json)?\Z"))
_today = datetime.now(UTC).replace(tzinfo=None)
#: Outside what usage-events accepts (30 days back, 5 minutes ahead), with a day of margin.
_bad_timestamps = (
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=_today - timedelta(days=31), timezones=st.just(UTC))
    | st.datetimes(min_value=_today + timedelta(days=1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC))
).map(lambda d: d.isoformat()) | st.sampled_from(["infinity", "-infinity", "now", "yesterday", "", "2026-13-40"])


def _parses(data: bytes) -> bool:
    try:
        json.loads(data.decode("utf-8").removeprefix("\ufeff"))
    except (ValueError, RecursionError):
        return False
    return True


def _unknown_key(known: set[str]) -> st.SearchStrategy[str]:
    return (_text | st.sampled_from(SQL_INJECTIONS)).filter(lambda k: k not in known)


@st.composite
def bad_publish(draw: st.DrawFn, world: World) -> tuple[str, Any, str, int]:
    base = _publish(world, markdown_body="# generated")
    kind = draw(st.sampled_from(["not-json", "content-type", "prompt-id", "markdown-type", "unknown-field",
                                 "both", "neither", "markdown-too-long", "root-type"]))
    if kind == "not-json":
        return kind, draw(_non_json_bytes), "application/json", 400
    if kind == "content-type":
        return kind, base, draw(_non_json_types), 400
    if kind == "prompt-id":
        return kind, {**base, "prompt_id": draw(_not_uuid)}, "application/json", 422
    if kind == "markdown-type":
        return kind, {**base, "markdown_body": draw(_not_string)}, "application/json", 422
    if kind == "unknown-field":
        return kind, {**base, draw(_unknown_key({"prompt_id", "version_id", "markdown_body", "changelog"})):
                      draw(_json)}, "application/json", 422
    if kind == "both":
        return kind, {**base, "version_id": world.published.versions[1]}, "application/json", 422
    if kind == "neither":
        return kind, {"prompt_id": world.published.id, "changelog": draw(_text)}, "application/json", 422
    if kind == "markdown-too-long":
        char = draw(st.characters(codec="utf-8", exclude_characters="\x00"))
        return kind, {**base, "markdown_body": char * 100_001}, "application/json", 422
    return kind, draw(_json.filter(lambda v: not isinstance(v, dict))), "application/json", 422


@st.composite
def bad_usage(draw: st.DrawFn, world: World) -> tuple[str, Any, str, int]:
    good = {"prompt_id": world.published.id, "action": "view"}
    kind = draw(st.sampled_from(["not-json", "content-type", "count", "prompt-id", "action", "timestamp",
                                 "metadata-type", "metadata-size", "unknown-field", "event-type"]))
    if kind == "not-json":
        return kind, draw(_non_json_bytes), "application/json", 400
    if kind == "content-type":
        return kind, {"events": [good]}, draw(_non_json_types), 400
    if kind == "count":
        return kind, {"events": [good] * draw(st.sampled_from([0, MAX_EVENTS + 1, MAX_EVENTS + 37]))}, \
            "application/json", 422
    if kind == "prompt-id":
        bad = {**good, "prompt_id": draw(_not_uuid)}
    elif kind == "action":
        bad = {**good, "action": draw(_json.filter(lambda v: v not in ("view", "copy", "favorite", "unfavorite")))}
    elif kind == "timestamp":
        bad = {**good, "occurred_at": draw(_bad_timestamps | _not_string)}
    elif kind == "metadata-type":
        bad = {**good, "metadata": draw(_json.filter(lambda v: not isinstance(v, dict) and v is not None))}
    elif kind == "metadata-size":
        filler = draw(st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=4))
        bad = {**good, "metadata": {draw(_text.filter(lambda k: "\x00" not in k)): filler * 4097}}
    elif kind == "unknown-field":
        bad = {**good, draw(_unknown_key({"prompt_id", "action", "occurred_at", "metadata"})): draw(_json)}
    else:
        bad = draw(_json.filter(lambda v: not isinstance(v, dict)))
    events = draw(st.lists(st.just(good), max_size=3))
    events.insert(draw(st.integers(0, len(events))), bad)
    return kind, {"events": events}, "application/json", 422


@st.composite
def bad_delivery(draw: st.DrawFn, world: World) -> tuple[str, Any, str, int]:
    base = _delivery(world)
    kind = draw(st.sampled_from(["not-json", "content-type", "cohort-id", "mode", "members", "allow",
                                 "unknown-field", "unstorable"]))
    if kind == "not-json":
        return kind, draw(_non_json_bytes), "application/json", 400
    if kind == "content-type":
        return kind, base, draw(_non_json_types), 400
    if kind == "cohort-id":
        bad = draw(_not_string | st.text(" \t\n", max_size=5) | st.text(min_size=201, max_size=260)
                   .filter(lambda s: len(s) > 200))
        return kind, {**base, "cohort_id": bad}, "application/json", 422
    if kind == "mode":
        return kind, {**base, "mode": draw(_json.filter(lambda v: v not in ("snapshot", "delta")))}, \
            "application/json", 422
    if kind == "members":
        return kind, {**base, "members": draw(_json.filter(lambda v: not isinstance(v, list)))}, \
            "application/json", 422
    if kind == "allow":
        return kind, {**base, "allow_mass_deactivation": draw(_json.filter(lambda v: not isinstance(v, bool)))}, \
            "application/json", 422
    if kind == "unknown-field":
        return kind, {**base, draw(_unknown_key({"cohort_id", "mode", "members", "allow_mass_deactivation"})):
                      draw(_json)}, "application/json", 422
    member = {"email": "x@example.org", draw(st.sampled_from(["first_name", "last_name", "circle_member_id"])):
              draw(_text) + "\x00" + draw(_text)}
    return kind, {**base, "members": [*base["members"], member]}, "application/json", 422


@pytest.mark.parametrize("function, strategy", [
    ("publish-prompt", bad_publish), ("usage-events", bad_usage), ("cohort-sync", bad_delivery)])
def test_generated_bad_requests_are_refused_with_the_contract_status_and_change_nothing(
        api, world, fingerprint, function, strategy):
    tally = Cases(f"functions: generated refusals, {function}", MUTATIONS)

    @PROPERTY
    @given(case=strategy(world))
    def run(case):
        kind, body, content_type, status = case
        with fingerprint.unchanged():
            response = _send(api, world, function, body, content_type)
        tally.saw(response.status_code)
        assert_function_error(response, status)

    run()
    tally.done()


_garbage_header = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80).map(str.strip)


@pytest.mark.parametrize("function, method", [("publish-prompt", "POST"), ("usage-events", "POST"),
                                              ("access-check", "GET"), ("cohort-sync", "POST")])
def test_generated_credentials_are_401_and_change_nothing(api, world, fingerprint, function, method):
    """Random Authorization headers and webhook signature headers: 401, no audit row, no write."""
    tally = Cases(f"functions: generated credentials, {function}", MUTATIONS // 2)
    body = {"publish-prompt": _publish(world, markdown_body="# x"), "usage-events": _events(world),
            "access-check": None, "cohort-sync": _delivery(world)}[function]

    @settings(PROPERTY, max_examples=MUTATIONS // 2)
    @given(authorization=_garbage_header | st.sampled_from(["Bearer", "Basic YTpi", "bearer x.y.z", "Bearer a b"]),
           webhook_id=_garbage_header, timestamp=_garbage_header | st.integers(0, 2**40).map(str),
           signature=_garbage_header.map(lambda s: "v1," + s) | _garbage_header)
    def run(authorization, webhook_id, timestamp, signature):
        headers = {"Authorization": authorization, "webhook-id": webhook_id, "webhook-timestamp": timestamp,
                   "webhook-signature": signature}
        with fingerprint.unchanged():
            response = api.function(function, method=method, json_body=body, headers=headers)
        tally.saw(response.status_code)
        assert_function_error(response, 401)

    run()
    tally.done()


# ----------------------------------------------------------------------------------------------
# Hostile but valid data is stored verbatim
# ----------------------------------------------------------------------------------------------

#: Any character Postgres text can hold: no NUL, no lone surrogates.
_storable_char = st.characters(codec="utf-8", exclude_characters="\x00")
_hostile_text = st.text(_storable_char, max_size=120) | st.sampled_from(SQL_INJECTIONS) \
    | st.tuples(st.sampled_from(SQL_INJECTIONS), st.text(_storable_char, max_size=20)).map("".join)
_hostile_short = st.text(_storable_char, max_size=30) | st.sampled_from(SQL_INJECTIONS)
_hostile_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | _hostile_short,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_hostile_short, inner, max_size=3),
    max_leaves=10)
VERBATIM_SETTINGS = settings(PROPERTY, max_examples=VERBATIM)


def test_hostile_markdown_and_changelog_are_published_verbatim(api, world, db_url):
    tally = Cases("functions: verbatim publish", VERBATIM)
    with psycopg.connect(db_url, autocommit=True) as conn:
        prompt_id = conn.execute(
            "insert into public.prompts (module_id, slug, title) values (%s, %s, 'verbatim') returning id",
            ("10000000-0000-4000-a000-000000000001", f"{PREFIX}{world.tag}-verbatim")).fetchone()[0]

        @VERBATIM_SETTINGS
        @given(markdown=_hostile_text.filter(lambda s: s.strip()), changelog=st.none() | _hostile_text)
        def run(markdown, changelog):
            body = {"prompt_id": str(prompt_id), "markdown_body": markdown}
            if changelog is not None:
                body["changelog"] = changelog
            response = api.function("publish-prompt", token=world.admin.token, json_body=body)
            tally.saw(response.status_code)
            assert response.status_code == 200, response.text
            stored = conn.execute("select markdown_body, changelog, version_number, published from"
                                  " public.prompt_versions where id = %s",
                                  (response.json()["current_version_id"],)).fetchone()
            assert stored == (markdown, changelog, response.json()["version_number"], True)

        run()
        numbers = [n for (n,) in conn.execute("select version_number from public.prompt_versions"
                                             " where prompt_id = %s order by 1", (prompt_id,))]
    tally.done()
    assert numbers == list(range(1, len(numbers) + 1))


def test_hostile_metadata_is_stored_verbatim_and_every_event_is_counted(api, world, db_url):
    tally = Cases("functions: verbatim usage metadata", VERBATIM)
    with psycopg.connect(db_url, autocommit=True) as conn:
        def rows() -> list[tuple]:
            return conn.execute("select action, metadata from public.prompt_usage_logs where user_id = %s"
                                " and prompt_id = %s order by created_at",
                                (world.learner.id, world.published.id)).fetchall()

        @VERBATIM_SETTINGS
        @given(events=st.lists(st.fixed_dictionaries(
            {"action": st.sampled_from(["view", "copy", "favorite", "unfavorite"])},
            optional={"metadata": st.dictionaries(_hostile_short, _hostile_json, max_size=4)}), min_size=1, max_size=4),
            hidden=st.integers(0, 3))
        def run(events, hidden):
            for event in events:
                event["prompt_id"] = world.published.id
            invisible = [{"prompt_id": world.draft.id, "action": "view"}] * hidden
            before = rows()
            response = api.function("usage-events", token=world.learner.token, json_body={"events": events + invisible})
            tally.saw(response.status_code)
            if response.status_code == 422:  # over 4 KiB (escaped control characters count 6 bytes)
                assert {d["field"].rsplit(".", 1)[-1] for d in response.json()["error"]["details"]} == {"metadata"}
                assert rows() == before
                return
            assert response.status_code == 202, response.text
            assert response.json() == {"accepted": len(events), "anonymized": 0, "dropped": hidden}
            added = rows()[len(before):]  # one batch shares created_at: compare as multisets
            assert _multiset(added) == _multiset((e["action"], e.get("metadata")) for e in events)

        run()
    tally.done()


def _multiset(pairs) -> Counter:
    return Counter(json.dumps(pair, sort_keys=True) for pair in pairs)


_email_part = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="@"),
                      min_size=1, max_size=12)


def test_hostile_member_fields_are_stored_verbatim_and_bad_rows_echoed(api, world, db_url):
    tally = Cases("functions: verbatim cohort members", VERBATIM)
    name = st.none() | st.text(_storable_char, max_size=60) | st.sampled_from(SQL_INJECTIONS)

    with psycopg.connect(db_url, autocommit=True) as conn:
        @VERBATIM_SETTINGS
        @given(members=st.lists(st.fixed_dictionaries({
            "local": _email_part, "domain": _email_part, "tld": _email_part,
            "first_name": name, "last_name": name, "circle_member_id": name}), min_size=1, max_size=5),
            bad_emails=st.lists(_hostile_text.filter(lambda s: "@" not in s), max_size=2),
            suffix=st.text(_storable_char, max_size=20))
        def run(members, bad_emails, suffix):
            cohort = f"{PREFIX}{world.tag}-{suffix}"
            sent = []
            for i, m in enumerate(members):
                sent.append({"email": f"{i}{m['local']}@{m['domain']}.{m['tld']}",
                             **{k: m[k] for k in ("first_name", "last_name", "circle_member_id")}})
            sent += [{"email": e} for e in bad_emails]
            response = api.deliver({"cohort_id": cohort, "mode": "delta", "members": sent})
            tally.saw(response.status_code)
            assert response.status_code == 200, response.text
            body = response.json()
            assert [e["email"] for e in body["error_rows"]] == bad_emails
            stored = {row[0]: row[1:] for row in conn.execute(
                "select email::text, first_name, last_name, circle_member_id from public.course_cohort_members"
                " where cohort_id = %s", (cohort.strip(" "),))}
            expected = {m["email"].lower(): tuple(None if m[k] is None else (m[k].strip(" ") or None)
                                                  for k in ("first_name", "last_name", "circle_member_id"))
                        for m in sent[:len(members)]}
            assert stored == expected
            conn.execute("delete from public.course_cohort_members where cohort_id = %s", (cohort.strip(" "),))

        run()
    tally.done()
