/**
 * Rollback of 20261123130900_add_retention_jobs.sql.
 *   - unschedules the pg_cron job `prompt-manager-purge-expired-telemetry` (when pg_cron is there);
 *   - drops private.purge_expired_telemetry().
 * Loses no table data. Expired audit rows and usage events are no longer purged until the
 * migration is applied again. The pg_cron extension is left installed: the bootstrap (and
 * Supabase) provide it, and other jobs may use it.
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

do $$
begin
    if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
        perform cron.unschedule(j.jobid)
           from cron.job j
          where j.jobname = 'prompt-manager-purge-expired-telemetry';
    end if;
end
$$;

drop function if exists private.purge_expired_telemetry(interval, interval);

delete from supabase_migrations.schema_migrations where version = '20261123130900';

commit;
