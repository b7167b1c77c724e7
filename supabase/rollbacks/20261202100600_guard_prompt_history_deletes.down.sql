/**
 * Rollback of 20261202100600_guard_prompt_history_deletes.sql.
 *   - drops the delete guards on prompts and prompt_versions and their functions: the service role
 *     can delete published versions again, and an admin's hard delete of a published prompt
 *     cascades to its history (issue 17 items 2 and 11 open again).
 * Loses no data. Run after every later migration is rolled back (`python -m devstack.rollback`
 * does); the history row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop trigger prompt_versions_guard_delete on public.prompt_versions;
drop function if exists private.guard_prompt_version_delete();
drop trigger prompts_guard_delete on public.prompts;
drop function if exists private.guard_prompt_delete();
drop function if exists private.prompt_has_history(uuid);

delete from supabase_migrations.schema_migrations where version = '20261202100600';

commit;
