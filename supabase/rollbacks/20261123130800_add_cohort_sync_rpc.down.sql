/**
 * Rollback of 20261123130800_add_cohort_sync_rpc.sql.
 *   - drops the RPCs public.sync_cohort_members() and public.record_failed_cohort_sync(), and
 *     private.sync_run_summary().
 * Loses no table data (members and sync runs stay), but the cohort-sync webhook fails until the
 * migration is applied again.
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop function if exists public.record_failed_cohort_sync(text, text, text, text);
drop function if exists public.sync_cohort_members(text, jsonb);
drop function if exists private.sync_run_summary(public.course_cohort_sync_runs, boolean);

delete from supabase_migrations.schema_migrations where version = '20261123130800';

commit;
