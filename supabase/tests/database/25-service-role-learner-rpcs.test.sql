-- Issue 17 item 7: service_role holds no EXECUTE on the learner-only RPCs (it had it through
-- Supabase's default privileges before 20261202100800: every assertion here failed).
begin;
\ir _helpers.psql
select plan(6);

select is(has_function_privilege('service_role', f, 'execute'), false, format('service_role cannot execute %s', f))
  from unnest(array['public.set_telemetry_opt_out(boolean)', 'public.ingest_usage_events(jsonb)',
                    'public.check_prompt_access()']::regprocedure[]) as f;
select pg_temp.expect('service_role', 'set_telemetry_opt_out', 'select public.set_telemetry_opt_out(true)',
                      pg_temp.denied_fn('set_telemetry_opt_out'));
select pg_temp.expect('service_role', 'ingest_usage_events', $$select public.ingest_usage_events('[]')$$,
                      pg_temp.denied_fn('ingest_usage_events'));
select pg_temp.expect('learner', 'set_telemetry_opt_out (still the learner''s)', 'select public.set_telemetry_opt_out(false)',
                      pg_temp.rows(1));

select * from finish();
rollback;
