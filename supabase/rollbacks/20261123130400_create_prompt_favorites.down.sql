/**
 * Rollback of 20261123130400_create_prompt_favorites.sql.
 *   - drops table prompt_favorites (with its index and policies).
 * LOSES DATA: every user's favorites.
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop table if exists public.prompt_favorites;

delete from supabase_migrations.schema_migrations where version = '20261123130400';

commit;
