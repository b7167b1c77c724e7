/**
 * Rollback of 20261202110400_scope_flags_to_course_workspaces.sql.
 *   - restores the insert policy on prompt_usage_logs and ingest_usage_events() as
 *     20261202100500_close_opt_out_race.sql left them (the flags govern every workspace again).
 * Loses no data. Run after every later migration is rolled back (`python -m devstack.rollback`
 * does); the history row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop policy if exists "prompt_usage_logs: users log their own events on visible prompts" on public.prompt_usage_logs;
create policy "prompt_usage_logs: users log their own events on visible prompts"
    on public.prompt_usage_logs for insert to authenticated
    with check (
        (select public.fn_feature_enabled('PROMPT_USAGE_LOGGING_ENABLED'))
        and exists (select 1 from public.prompts p where p.id = prompt_id)
        -- Events happened recently: at most 30 days back (late offline batches), 5 minutes ahead (clock skew).
        and occurred_at between now() - interval '30 days' and now() + interval '5 minutes'
        and (
            (user_id = (select auth.uid()) and not (select public.fn_user_has_opted_out()))
            or (user_id is null and metadata is null and (select public.fn_user_has_opted_out()))
        )
    );

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

    -- Read the opt-out under the lock an opt-out takes exclusively: an opt-out that commits while
    -- this batch is in flight either waits for it (and then anonymises it) or is seen here.
    perform pg_catalog.pg_advisory_xact_lock_shared(private.usage_opt_out_lock_key(v_uid));
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

delete from supabase_migrations.schema_migrations where version = '20261202110400';

commit;
