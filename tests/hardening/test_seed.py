"""Issue 17 item 7: supabase/seed.sql runs twice without error, and the second run adds nothing.
(Before: the second run failed on the first insert, users_pkey.) The stack's database is already
seeded once; the second run happens in a transaction that is rolled back."""

from __future__ import annotations

import psycopg

from devstack import settings

TABLES = ["auth.users", "public.prompt_admins", "public.course_cohort_members", "public.prompt_user_preferences",
          "public.prompt_modules", "public.prompt_lessons", "public.prompts", "public.prompt_versions",
          "public.prompt_favorites", "public.prompt_usage_logs", "public.prompt_access_audit",
          "public.course_cohort_sync_runs"]


def _counts(conn: psycopg.Connection) -> dict[str, int]:
    return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}  # noqa: S608 - fixed names


def test_seed_runs_twice_without_error_and_adds_nothing(db_url):
    seed = (settings.ROOT / "supabase" / "seed.sql").read_text()
    with psycopg.connect(db_url) as conn:
        before = _counts(conn)
        conn.execute(seed)  # the second run (the stack ran it once)
        assert _counts(conn) == before
        conn.execute(seed)  # and a third, for good measure
        assert _counts(conn) == before
        conn.rollback()
