"""functions/database_types.py is exactly what `supabase gen types --lang python` makes today."""

from __future__ import annotations

import importlib

from devstack.types import TYPES_FILE, generate


def test_generated_types_match_the_migrations(db_url):
    assert generate(db_url) == TYPES_FILE.read_text(), (
        "functions/database_types.py has drifted from supabase/migrations: run `make types`"
    )


def test_generated_types_import_and_describe_the_prompts_table():
    module = importlib.import_module("functions.database_types")
    fields = module.PublicPrompts.model_fields
    assert {"id", "current_version_id", "status", "is_deleted"} <= set(fields)
