/**
 * Rollback of 20261202100700_maintain_prompt_deleted_at.sql.
 *   - drops the trigger that keeps prompts.deleted_at with is_deleted: a client must send both
 *     again (issue 17 item 18 open again).
 * Loses no data. Run after every later migration is rolled back (`python -m devstack.rollback`
 * does); the history row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop trigger prompts_maintain_deleted_at on public.prompts;
drop function if exists private.maintain_prompt_deleted_at();

delete from supabase_migrations.schema_migrations where version = '20261202100700';

commit;
