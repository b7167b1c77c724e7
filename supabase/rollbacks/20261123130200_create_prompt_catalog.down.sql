/**
 * Rollback of 20261123130200_create_prompt_catalog.sql.
 *   - drops tables prompts, prompt_lessons and prompt_modules (with their triggers, indexes and
 *     policies).
 * LOSES DATA: the whole catalog (every module, lesson and prompt).
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop table if exists public.prompts;
drop table if exists public.prompt_lessons;
drop table if exists public.prompt_modules;

delete from supabase_migrations.schema_migrations where version = '20261123130200';

commit;
