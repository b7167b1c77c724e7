/**
 * v1's feature flags govern course workspaces only (contract §16): turning them off never blocks a
 * personal or team workspace. Reads already follow it (private.caller_workspace_roles() drops only
 * course viewers while PROMPT_MANAGER_ENABLED is off); this does the same for usage logging:
 *   - PROMPT_USAGE_LOGGING_ENABLED off: events on prompts of course workspaces are not stored
 *     (counted as dropped, as in v1); events on team and personal prompts are;
 *   - PROMPT_MANAGER_ENABLED off: ingest answers PT503 as in v1 unless the batch holds an event on
 *     a readable prompt outside course workspaces; course events are dropped.
 * The insert policy on prompt_usage_logs checks the logging flag the same way, for direct inserts.
 */

drop policy "prompt_usage_logs: users log their own events on visible prompts" on public.prompt_usage_logs;
create policy "prompt_usage_logs: users log their own events on visible prompts"
    on public.prompt_usage_logs for insert to authenticated
    with check (
        ((select public.fn_feature_enabled('PROMPT_USAGE_LOGGING_ENABLED')) or not private.is_course_workspace(workspace_id))
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
    v_course_logging boolean;
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
    -- v1's flags govern course workspaces only (contract §16). While PROMPT_MANAGER_ENABLED is
    -- off, a batch with no event on a readable prompt outside course workspaces is refused as in
    -- v1 (PT503); events on course prompts are dropped either way (their viewers cannot read them).
    v_course_logging := public.fn_feature_enabled('PROMPT_USAGE_LOGGING_ENABLED');
    if not public.fn_feature_enabled('PROMPT_MANAGER_ENABLED')
       and not exists (select 1 from jsonb_to_recordset(events) as e(prompt_id uuid)
                         join public.prompts p on p.id = e.prompt_id
                        where not private.is_course_workspace(p.workspace_id)) then
        raise exception 'the prompt manager is disabled' using errcode = 'PT503';
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
     where exists (select 1 from public.prompts p
                    where p.id = e.prompt_id
                      and (v_course_logging or not private.is_course_workspace(p.workspace_id)));
    get diagnostics v_stored = row_count;

    return jsonb_build_object(
        'accepted', case when v_opted_out then 0 else v_stored end,
        'anonymized', case when v_opted_out then v_stored else 0 end,
        'dropped', v_total - v_stored
    );
end;
$$;
