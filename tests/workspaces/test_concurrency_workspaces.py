"""Concurrency invariants of workspaces (contract §8): the last owner survives concurrent demotions
and removals, and an invitation token is used once however many requests race for it.

Each job runs like a PostgREST request (own connection and transaction, role + claims). Every test
makes its own users and workspace and deletes them afterwards.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from tests.fixtures.concurrent import act_as, run_together

ROUNDS = 5


def claims(user_id: str, email: str) -> dict[str, Any]:
    """A user's access-token claims, as PostgREST hands them to the database."""
    return {"sub": user_id, "email": email, "role": "authenticated", "aud": "authenticated",
            "app_metadata": {"provider": "email", "providers": ["email"]}}


@pytest.fixture
def make_user(db_url: str) -> Iterator[Callable[..., dict[str, str]]]:
    """``make_user(confirmed=True)``: a new auth user of this test's own; deleted afterwards."""
    made: list[str] = []

    def make(confirmed: bool = True) -> dict[str, str]:
        email = f"race-{uuid.uuid4().hex[:10]}@ws-race.test"
        with psycopg.connect(db_url, autocommit=True) as conn:
            user_id = conn.execute(
                "insert into auth.users (id, email, email_confirmed_at) values (gen_random_uuid(), %s, "
                "case when %s then now() end) returning id::text", (email, confirmed)).fetchone()[0]
        made.append(user_id)
        return {"id": user_id, "email": email}

    yield make
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("delete from auth.users where id = any(%s::uuid[])", (made,))


def new_team(db_url: str, owners: list[dict[str, str]], members: list[dict[str, str]] = ()) -> str:
    """A team workspace with the given owners (and viewers), created as the first owner."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        ws = conn.execute("insert into public.workspaces (slug, name, kind, created_by) values (%s, 'Race', 'team', %s) "
                          "returning id::text", (f"race-{uuid.uuid4().hex[:10]}", owners[0]["id"])).fetchone()[0]
        for user in owners[1:]:
            conn.execute("insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, 'owner')",
                         (ws, user["id"]))
        for user in members:
            conn.execute("insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, 'viewer')",
                         (ws, user["id"]))
    return ws


def owners_of(db_url: str, ws: str) -> list[str]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "select user_id::text from public.workspace_members where workspace_id = %s and role = 'owner'", (ws,))]


def as_user(user: dict[str, str], statement: str, args: tuple) -> Callable[[psycopg.Connection], Any]:
    """A job: run one statement as `user`; 'ok' or the SQLSTATE it failed with."""
    def job(conn: psycopg.Connection) -> Any:
        act_as(conn, "authenticated", claims(user["id"], user["email"]))
        try:
            with conn.transaction():
                conn.execute(statement, args)
            return "ok"
        except psycopg.Error as exc:
            return exc.sqlstate
    return job


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_owners_demoting_each_other_at_once_leave_exactly_one_owner(db_url, make_user, round_):
    a, b = make_user(), make_user()
    ws = new_team(db_url, [a, b])
    demote = "select public.change_workspace_member_role(%s, %s, 'admin')"
    results = run_together(db_url, [as_user(a, demote, (ws, b["id"])), as_user(b, demote, (ws, a["id"]))])
    # The second is refused: PT409 (last owner) when it waited on the first's lock, PT403 (no
    # longer an owner) when it started after the first committed.
    assert sorted(results) in (["PT409", "ok"], ["PT403", "ok"])
    assert len(owners_of(db_url, ws)) == 1


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_owners_leaving_and_removing_each_other_at_once_keep_an_owner(db_url, make_user, round_):
    a, b, c = make_user(), make_user(), make_user()
    ws = new_team(db_url, [a, b, c])
    jobs = [as_user(a, "select public.leave_workspace(%s)", (ws,)),
            as_user(b, "select public.remove_workspace_member(%s, %s)", (ws, c["id"])),
            as_user(c, "select public.remove_workspace_member(%s, %s)", (ws, b["id"]))]
    results = run_together(db_url, jobs)
    remaining = owners_of(db_url, ws)
    assert len(remaining) >= 1
    assert Counter(results)["ok"] == 3 - len(remaining)
    assert set(results) <= {"ok", "PT409", "PT404"}


def test_a_held_demotion_makes_the_concurrent_one_wait_and_fail(db_url, make_user):
    """Deterministic interleaving: T1 demotes B and stays open; T2 demotes A; T1 commits; T2 is refused."""
    a, b = make_user(), make_user()
    ws = new_team(db_url, [a, b])
    t1, t2 = psycopg.connect(db_url), psycopg.connect(db_url)
    outcome: dict[str, Any] = {}
    try:
        with t1.transaction():
            act_as(t1, "authenticated", claims(a["id"], a["email"]))
            t1.execute("select public.change_workspace_member_role(%s, %s, 'viewer')", (ws, b["id"]))
            worker = threading.Thread(target=lambda: outcome.update(
                t2=as_user(b, "select public.change_workspace_member_role(%s, %s, 'viewer')", (ws, a["id"]))(t2)))
            worker.start()
            worker.join(timeout=1.0)
            assert worker.is_alive(), "the second demotion must wait for the first transaction"
        worker.join(timeout=30)
        t2.commit()
    finally:
        t1.close()
        t2.close()
    assert outcome["t2"] == "PT409"
    assert owners_of(db_url, ws) == [a["id"]]


def test_ten_concurrent_acceptances_of_one_invitation_admit_one(db_url, make_user):
    owner, invitee = make_user(), make_user()
    ws = new_team(db_url, [owner])
    token = uuid.uuid4().hex + uuid.uuid4().hex
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("insert into public.workspace_invitations (workspace_id, email, role, token_hash, invited_by) "
                     "values (%s, %s, 'contributor', %s, %s)",
                     (ws, invitee["email"], hashlib.sha256(token.encode()).digest(), owner["id"]))
    results = run_together(db_url, [as_user(invitee, "select public.accept_workspace_invitation(%s)", (token,))] * 10)
    assert Counter(results) == Counter({"ok": 1, "PT409": 9})
    with psycopg.connect(db_url, autocommit=True) as conn:
        rows = conn.execute("select role::text from public.workspace_members where workspace_id = %s and user_id = %s",
                            (ws, invitee["id"])).fetchall()
    assert rows == [("contributor",)]


def test_an_unconfirmed_user_cannot_accept_an_invitation_to_their_address(db_url, make_user):
    owner, unconfirmed = make_user(), make_user(confirmed=False)
    ws = new_team(db_url, [owner])
    token = uuid.uuid4().hex + uuid.uuid4().hex
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("insert into public.workspace_invitations (workspace_id, email, role, token_hash, invited_by) "
                     "values (%s, %s, 'viewer', %s, %s)",
                     (ws, unconfirmed["email"], hashlib.sha256(token.encode()).digest(), owner["id"]))
    [result] = run_together(db_url, [as_user(unconfirmed, "select public.accept_workspace_invitation(%s)", (token,))])
    assert result == "PT403"


def test_deleting_the_sole_owner_hands_the_workspace_to_the_next_member(db_url, make_user):
    owner, heir = make_user(), make_user()
    ws = new_team(db_url, [owner], [heir])
    alone_owner = make_user()
    alone = new_team(db_url, [alone_owner])
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("delete from auth.users where id = any(%s::uuid[])", ([owner["id"], alone_owner["id"]],))
        deleted_at = conn.execute("select deleted_at is not null from public.workspaces where id = %s", (alone,)).fetchone()[0]
        personal = conn.execute("select count(*) from public.workspaces where personal_user_id = %s", (owner["id"],)).fetchone()[0]
    assert owners_of(db_url, ws) == [heir["id"]]
    assert deleted_at is True
    assert personal == 0
