/**
 * Rollback of 20261202100900_limit_usage_metadata_depth.sql.
 *   - drops the metadata depth check and private.jsonb_depth(): only the function's model limits
 *     nesting again (issue 17 item 3 open again).
 * Loses no data. Run after every later migration is rolled back (`python -m devstack.rollback`
 * does); the history row is deleted so `supabase migration up` applies the migration again.
 */

begin;

alter table public.prompt_usage_logs drop constraint prompt_usage_logs_metadata_depth_check;
drop function if exists private.jsonb_depth(jsonb);

delete from supabase_migrations.schema_migrations where version = '20261202100900';

commit;
