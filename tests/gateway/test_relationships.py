"""The schema cache's relationship detection and lookup (PostgREST 12's SchemaCache.hs / findRel),
on foreign keys given as data: no database needed."""

from __future__ import annotations

import pytest

from devstack.gateway.catalog import Snapshot, Table, find_relationship, relationships_from
from devstack.gateway.errors import ApiError


def table(name: str, pk: tuple[str, ...]) -> Table:
    return Table(name, "r", {}, pk)


TABLES = {t.name: t for t in [
    table("prompts", ("id",)), table("prompt_versions", ("id",)), table("users", ("id",)),
    table("groups", ("id",)), table("memberships", ("user_id", "group_id")),
    table("profiles", ("user_id",)), table("notes", ("id",)),
]}
FKS = [
    ("prompt_versions_prompt_id_fkey", "prompt_versions", "prompts", (("prompt_id", "id"),), False),
    ("prompts_current_version_id_fkey", "prompts", "prompt_versions",
     (("id", "prompt_id"), ("current_version_id", "id")), False),
    ("memberships_user_id_fkey", "memberships", "users", (("user_id", "id"),), False),
    ("memberships_group_id_fkey", "memberships", "groups", (("group_id", "id"),), False),
    ("profiles_user_id_fkey", "profiles", "users", (("user_id", "id"),), True),
    ("notes_parent_fkey", "notes", "notes", (("parent", "id"),), False),
]
SNAP = Snapshot(tables=TABLES, relationships=relationships_from(FKS, TABLES))


def kinds(origin: str) -> list[tuple[str, str, str | None]]:
    return [(r.foreign_table, r.cardinality, r.constraint) for r in SNAP.relationships[origin]]


def test_composite_foreign_key_adds_a_second_relationship_each_way():
    assert kinds("prompts") == [("prompt_versions", "o2m", "prompt_versions_prompt_id_fkey"),
                                ("prompt_versions", "m2o", "prompts_current_version_id_fkey")]
    assert kinds("prompt_versions") == [("prompts", "o2m", "prompts_current_version_id_fkey"),
                                        ("prompts", "m2o", "prompt_versions_prompt_id_fkey")]


def test_junction_whose_pk_holds_both_foreign_keys_is_many_to_many():
    m2m = [r for r in SNAP.relationships["users"] if r.cardinality == "m2m"]
    assert len(m2m) == 1 and m2m[0].foreign_table == "groups"
    assert m2m[0].junction.source_columns == (("id", "user_id"),)
    assert m2m[0].junction.target_columns == (("id", "group_id"),)
    assert m2m[0].describe()["relationship"] == ("memberships using memberships_user_id_fkey(user_id) and "
                                                 "memberships_group_id_fkey(group_id)")


def test_foreign_key_on_a_unique_key_is_one_to_one_both_ways():
    assert ("profiles", "o2o", "profiles_user_id_fkey") in kinds("users")
    assert kinds("profiles") == [("users", "o2o", "profiles_user_id_fkey")]
    assert all(r.to_one for r in SNAP.relationships["profiles"])


@pytest.mark.parametrize("origin, target, hint, expected", [
    ("prompts", "prompt_versions", "prompt_versions_prompt_id_fkey", "o2m"),
    ("prompts", "prompt_versions", "prompt_id", "o2m"),  # the referencing column
    ("prompts", "prompt_versions", "prompts_current_version_id_fkey", "m2o"),
    ("prompt_versions", "prompt_id", None, "m2o"),  # the FK column as target
    ("prompt_versions", "prompt_versions_prompt_id_fkey", None, "m2o"),  # the FK name as target
    ("users", "groups", None, "m2m"),
    ("users", "groups", "memberships", "m2m"),
    ("notes", "notes", None, "o2m"),  # self: the table name is the children
    ("notes", "parent", None, "m2o"),  # self: the column is the parent
    ("notes", "notes", "parent", "o2m"),
])
def test_find_relationship(origin, target, hint, expected):
    assert find_relationship(SNAP, origin, target, hint).cardinality == expected


def test_ambiguous_and_missing():
    with pytest.raises(ApiError) as caught:
        find_relationship(SNAP, "prompts", "prompt_versions", None)
    assert (caught.value.status, caught.value.code) == (300, "PGRST201")
    with pytest.raises(ApiError) as caught:
        find_relationship(SNAP, "prompts", "prompt_versions", "nope")
    assert (caught.value.status, caught.value.code) == (400, "PGRST200")
    assert caught.value.hint is None  # the table exists: the hint is what is wrong
    with pytest.raises(ApiError) as caught:
        find_relationship(SNAP, "users", "group", None)
    assert caught.value.hint == "Perhaps you meant 'groups' instead of 'group'."
