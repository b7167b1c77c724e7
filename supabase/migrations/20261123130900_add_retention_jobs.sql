/**
 * Retention: access-audit rows older than 90 days and usage logs older than a configurable age
 * (default 365 days) are purged daily. Scheduled with pg_cron where the extension is available
 * (Supabase has it); elsewhere the migration only notes that the job must be scheduled by hand.
 */

/**
 * Delete expired audit rows and usage events; returns how many of each were deleted.
 * Security definer is not needed: it runs as the cron job's owner (postgres), which owns both
 * tables. No API role may execute it: the service role may not delete audit rows (contract §3).
 */
create function private.purge_expired_telemetry(
    audit_retention interval default interval '90 days',
    usage_retention interval default interval '365 days'
)
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_audit integer;
    v_usage integer;
begin
    if audit_retention is null or audit_retention < interval '1 day'
       or usage_retention is null or usage_retention < interval '1 day' then
        raise exception 'retention periods must be at least one day' using errcode = '22023';
    end if;
    delete from public.prompt_access_audit a where a.created_at < pg_catalog.now() - audit_retention;
    get diagnostics v_audit = row_count;
    delete from public.prompt_usage_logs l where l.created_at < pg_catalog.now() - usage_retention;
    get diagnostics v_usage = row_count;
    return jsonb_build_object('audit_deleted', v_audit, 'usage_deleted', v_usage);
end;
$$;
comment on function private.purge_expired_telemetry(interval, interval) is
    'Delete access-audit rows and usage events older than the given ages (defaults 90 and 365 days).';
revoke execute on function private.purge_expired_telemetry(interval, interval) from public, anon, authenticated, service_role;

do $$
begin
    if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron')
       and exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_cron') then
        begin
            create extension pg_cron with schema pg_catalog;
        exception when others then
            raise notice 'pg_cron is available but could not be enabled (%); schedule private.purge_expired_telemetry() yourself', sqlerrm;
        end;
    end if;
    if exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
        perform cron.schedule(
            'prompt-manager-purge-expired-telemetry',
            '17 3 * * *',
            'select private.purge_expired_telemetry()'
        );
    else
        raise notice 'pg_cron is not installed: schedule private.purge_expired_telemetry() yourself';
    end if;
end
$$;
