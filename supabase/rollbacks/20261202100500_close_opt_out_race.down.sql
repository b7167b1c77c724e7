/**
 * Rollback of 20261202100500_close_opt_out_race.sql.
 *   - drops the trigger prompt_usage_logs_honour_opt_out and private.honour_usage_opt_out();
 *   - restores private.anonymise_opted_out_usage() and public.ingest_usage_events() without the
 *     opt-out lock (the race of issue 17 item 8 is open again); drops the lock-key helper.
 * Loses no data. Run after every later migration is rolled back (`python -m devstack.rollback`
 * does); the history row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop trigger prompt_usage_logs_honour_opt_out on public.prompt_usage_logs;
drop function if exists private.honour_usage_opt_out();
create or replace function private.anonymise_opted_out_usage()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    if new.telemetry_opt_out and (tg_op = 'INSERT' or not old.telemetry_opt_out) then
        update public.prompt_usage_logs l
           set user_id = null, metadata = null
         where l.user_id = new.user_id;
    end if;
    return null;
end;
$$;
create or replace function public.ingest_usage_events(events jsonb)
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_uid uuid := auth.uid();
    v_total integer;
    v_opted_out boolean;
    v_stored integer;
begin
    if v_uid is null then
        raise exception 'sign in to log usage' using errcode = '42501';
    end if;
    if jsonb_typeof(events) is distinct from 'array' then
        raise exception 'events must be a JSON array' using errcode = '22023';
    end if;
    v_total := jsonb_array_length(events);
    if v_total < 1 or v_total > 500 then
        raise exception 'a batch holds 1 to 500 events, got %', v_total using errcode = '22023';
    end if;
    if exists (
        select 1 from jsonb_array_elements(events) e
         where jsonb_typeof(e) <> 'object'
            or jsonb_typeof(e -> 'prompt_id') is distinct from 'string'
            or (e ->> 'action') is null
            or (e -> 'metadata' is not null and jsonb_typeof(e -> 'metadata') not in ('object', 'null'))
    ) then
        raise exception 'every event needs a prompt_id string, an action, and an optional metadata object'
            using errcode = '22023';
    end if;
    if exists (
        select 1 from jsonb_to_recordset(events) as e(occurred_at timestamptz)
         where e.occurred_at not between pg_catalog.now() - interval '30 days'
                                     and pg_catalog.now() + interval '5 minutes'
    ) then
        raise exception 'occurred_at must be within the last 30 days and at most 5 minutes ahead'
            using errcode = '22023';
    end if;
    if not public.fn_feature_enabled('PROMPT_MANAGER_ENABLED') then
        raise exception 'the prompt manager is disabled' using errcode = 'PT503';
    end if;
    if not public.fn_feature_enabled('PROMPT_USAGE_LOGGING_ENABLED') then
        return jsonb_build_object('accepted', 0, 'anonymized', 0, 'dropped', v_total);
    end if;

    v_opted_out := public.fn_user_has_opted_out();

    -- Only prompts the caller can see (RLS on prompts decides) are stored; others are dropped.
    insert into public.prompt_usage_logs (user_id, prompt_id, action, occurred_at, metadata)
    select case when v_opted_out then null else v_uid end,
           e.prompt_id,
           e.action,
           coalesce(e.occurred_at, pg_catalog.now()),
           case when v_opted_out then null else nullif(e.metadata, 'null'::jsonb) end
      from jsonb_to_recordset(events) as e(prompt_id uuid, action text, occurred_at timestamptz, metadata jsonb)
     where exists (select 1 from public.prompts p where p.id = e.prompt_id);
    get diagnostics v_stored = row_count;

    return jsonb_build_object(
        'accepted', case when v_opted_out then 0 else v_stored end,
        'anonymized', case when v_opted_out then v_stored else 0 end,
        'dropped', v_total - v_stored
    );
end;
$$;
drop function if exists private.usage_opt_out_lock_key(uuid);

delete from supabase_migrations.schema_migrations where version = '20261202100500';

commit;
