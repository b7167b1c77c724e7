/**
 * Rollback of 20261123130700_add_publishing_rpcs.sql.
 *   - drops the RPCs publish_prompt_version(), archive_prompt(), unarchive_prompt(),
 *     soft_delete_prompt(), restore_prompt() and the private helpers assert_prompt_admin(),
 *     prompt_state(), lock_prompt(), change_prompt_state().
 * Loses no table data (prompts and versions keep their publishing state), but admins cannot
 * publish, archive or delete prompts through the API until the migration is applied again.
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop function if exists public.restore_prompt(uuid);
drop function if exists public.soft_delete_prompt(uuid);
drop function if exists public.unarchive_prompt(uuid);
drop function if exists public.archive_prompt(uuid);
drop function if exists public.publish_prompt_version(uuid, uuid, text, text);
drop function if exists private.change_prompt_state(uuid, text);
drop function if exists private.lock_prompt(uuid);
drop function if exists private.prompt_state(public.prompts);
drop function if exists private.assert_prompt_admin();

delete from supabase_migrations.schema_migrations where version = '20261123130700';

commit;
