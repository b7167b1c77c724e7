/**
 * Rollback of 20261202100800_revoke_service_role_learner_rpcs.sql.
 *   - gives service_role EXECUTE on the learner RPCs again, as Supabase's default privileges had.
 * Loses no data. Run after every later migration is rolled back (`python -m devstack.rollback`
 * does); the history row is deleted so `supabase migration up` applies the migration again.
 */

begin;

grant execute on function public.set_telemetry_opt_out(boolean) to service_role;
grant execute on function public.ingest_usage_events(jsonb) to service_role;
grant execute on function public.check_prompt_access() to service_role;

delete from supabase_migrations.schema_migrations where version = '20261202100800';

commit;
