-- Retention: private.purge_expired_telemetry() deletes access-audit rows older than 90 days and
-- usage events older than a configurable age, keeps the rest, and runs daily with pg_cron.
begin;
\ir _helpers.psql
select plan(10);

insert into public.prompt_access_audit (user_id, decision, reason, created_at) values
    ('00000000-0000-4000-a000-000000000002', 'granted', 'active_cohort_member', now() - interval '91 days'),
    ('00000000-0000-4000-a000-000000000002', 'granted', 'active_cohort_member', now() - interval '89 days');
insert into public.prompt_usage_logs (user_id, prompt_id, action) values
    ('00000000-0000-4000-a000-000000000002', pg_temp.prompt_id(1), 'view'),
    ('00000000-0000-4000-a000-000000000002', pg_temp.prompt_id(1), 'copy'),
    ('00000000-0000-4000-a000-000000000002', pg_temp.prompt_id(1), 'favorite');
-- created_at is set by the insert trigger; age the rows afterwards.
update public.prompt_usage_logs set created_at = now() - interval '400 days' where created_at = now() and action = 'view';
update public.prompt_usage_logs set created_at = now() - interval '40 days' where created_at = now() and action = 'copy';

-- As the cron job runs it: as postgres, the owner.
select is(private.purge_expired_telemetry(), '{"audit_deleted": 1, "usage_deleted": 1}',
          'defaults: audit rows older than 90 days and usage events older than 365 days are purged');
select is((select count(*)::int from public.prompt_access_audit where created_at < now() - interval '90 days'), 0,
          '... no audit row older than 90 days is left');
select is((select count(*)::int from public.prompt_access_audit), 3, '... the recent audit rows are kept (2 seeded, 1 at 89 days)');
select is(private.purge_expired_telemetry(usage_retention => interval '30 days'), '{"audit_deleted": 0, "usage_deleted": 1}',
          'a shorter usage retention purges the 40-day-old event too');
select is((select count(*)::int from public.prompt_usage_logs), 5, '... the recent events are kept (4 seeded, 1 new)');
select throws_ok($$select private.purge_expired_telemetry(interval '1 hour')$$, '22023',
                 'retention periods must be at least one day', 'a retention under a day is refused');

select pg_temp.expect(a, 'purge_expired_telemetry()', 'select private.purge_expired_telemetry()', e)
  from (values ('anon', '42501: permission denied for schema private'),
               ('learner', pg_temp.denied_fn('purge_expired_telemetry')),
               ('service_role', pg_temp.denied_fn('purge_expired_telemetry'))) as t (a, e);

select case when exists (select 1 from pg_extension where extname = 'pg_cron')
            then results_eq($$select schedule, command, username, active from cron.job
                               where jobname = 'prompt-manager-purge-expired-telemetry'$$,
                            $$values ('17 3 * * *'::text, 'select private.purge_expired_telemetry()'::text, 'postgres'::text, true)$$,
                            'pg_cron runs the purge daily, as postgres (the owner of the purged tables)')
            else skip('pg_cron is not installed here', 1) end;

select * from finish();
rollback;
