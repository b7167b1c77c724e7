"""functions/database_types.py and functions/database.types.ts are exactly what
`supabase gen types --lang python` / `--lang typescript` make today."""

from __future__ import annotations

import importlib

import pytest

from devstack.types import TYPES_FILES, generate


@pytest.mark.parametrize("lang", sorted(TYPES_FILES))
def test_generated_types_match_the_migrations(db_url, lang):
    path = TYPES_FILES[lang]
    assert generate(db_url, lang) == path.read_text(), (
        f"{path.name} has drifted from supabase/migrations: run `make types`"
    )


def test_typescript_types_describe_tables_rpcs_and_relationships():
    text = TYPES_FILES["typescript"].read_text()
    assert "export type Database = {" in text
    assert '"prompt_versions": {' in text and '"publish_prompt_version":' in text
    assert 'referencedRelation: "prompts"' in text  # what supabase-js types embedded resources with


def test_generated_types_import_and_describe_the_prompts_table():
    module = importlib.import_module("functions.database_types")
    fields = module.PublicPrompts.model_fields
    assert {"id", "current_version_id", "status", "is_deleted"} <= set(fields)
