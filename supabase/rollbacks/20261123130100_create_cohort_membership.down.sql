/**
 * Rollback of 20261123130100_create_cohort_membership.sql.
 *   - drops public.fn_user_has_prompt_access() and private.user_has_prompt_access();
 *   - drops tables course_cohort_sync_runs and course_cohort_members (with their triggers,
 *     indexes and policies).
 * LOSES DATA: every cohort membership and every sync-run record. After the migration is applied
 * again no learner has access until the community platform sends a full snapshot per cohort.
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop function if exists public.fn_user_has_prompt_access();
drop function if exists private.user_has_prompt_access();
drop table if exists public.course_cohort_sync_runs;
drop table if exists public.course_cohort_members;

delete from supabase_migrations.schema_migrations where version = '20261123130100';

commit;
