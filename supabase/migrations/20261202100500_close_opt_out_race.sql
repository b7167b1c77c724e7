/**
 * Close the opt-out race (issue 17, item 8). Ingest read the caller's opt-out once, with nothing
 * shared with the opt-out and its anonymiser: a batch in flight while the learner opted out kept
 * user_id and metadata on every event (the anonymiser's UPDATE cannot see uncommitted rows).
 * Now both sides meet on one advisory lock per user (private.usage_opt_out_lock_key()):
 *   - the anonymiser (AFTER trigger of an opt-out) takes it EXCLUSIVELY before its UPDATE, so it
 *     waits for batches in flight and then anonymises them too;
 *   - ingest_usage_events() takes it SHARED before reading the opt-out, so a batch that starts
 *     while an opt-out is uncommitted waits for it and is then stored anonymously;
 *   - a BEFORE INSERT trigger on prompt_usage_logs takes it SHARED for the row's user and refuses
 *     an identified event of a user who has opted out, for every writer (REST inserts, the
 *     service role), on a fresh read of the opt-out.
 * After any interleaving, an opted-out user's events carry no user_id and no metadata.
 */

/** The advisory-lock key that serialises a user's opt-out against their usage writes. */
create function private.usage_opt_out_lock_key(user_id uuid)
    returns bigint
    language plpgsql
    immutable
    strict
    parallel safe
    security invoker
    set search_path = ''
as $$
begin
    return pg_catalog.hashtextextended('prompt-usage-opt-out:' || user_id::text, 0);
end;
$$;
comment on function private.usage_opt_out_lock_key(uuid) is
    'Advisory-lock key shared by a user''s opt-out (exclusive) and usage writes (shared).';
revoke execute on function private.usage_opt_out_lock_key(uuid) from public, anon;
grant execute on function private.usage_opt_out_lock_key(uuid) to authenticated, service_role;

/**
 * AFTER INSERT/UPDATE OF telemetry_opt_out on prompt_user_preferences: when a user opts out,
 * wait for their usage writes in flight (exclusive lock), then anonymise all their events.
 * Security definer: learners have no UPDATE privilege on prompt_usage_logs; this touches only
 * the rows of the user whose preference row changed.
 */
create or replace function private.anonymise_opted_out_usage()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    if new.telemetry_opt_out and (tg_op = 'INSERT' or not old.telemetry_opt_out) then
        perform pg_catalog.pg_advisory_xact_lock(private.usage_opt_out_lock_key(new.user_id));
        -- A new snapshot (READ COMMITTED): batches that committed while we waited are included.
        update public.prompt_usage_logs l
           set user_id = null, metadata = null
         where l.user_id = new.user_id;
    end if;
    return null;
end;
$$;

/**
 * BEFORE INSERT on prompt_usage_logs: an identified event (user_id set) of a user who has opted
 * out is refused, decided under the user's opt-out lock (shared) on a fresh read, for every writer
 * (the service role included). It is the opt-out half of the insert policy, which alone reads the
 * opt-out from the statement's snapshot and so can miss an opt-out that committed meanwhile; the
 * error is the one that policy raises. (ingest_usage_events() never hits it: it reads the opt-out
 * under the same lock and stores such events anonymously.)
 * Security definer: reads the preference of the row's user whatever the writer may read.
 */
create function private.honour_usage_opt_out()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    if new.user_id is not null then
        perform pg_catalog.pg_advisory_xact_lock_shared(private.usage_opt_out_lock_key(new.user_id));
        if exists (select 1 from public.prompt_user_preferences p
                    where p.user_id = new.user_id and p.telemetry_opt_out) then
            raise exception 'new row violates row-level security policy for table "prompt_usage_logs"'
                using errcode = '42501',
                      hint = 'The user has opted out of usage telemetry: log the event without user_id and metadata.';
        end if;
    end if;
    return new;
end;
$$;
revoke execute on function private.honour_usage_opt_out() from public;

create trigger prompt_usage_logs_honour_opt_out
    before insert on public.prompt_usage_logs
    for each row execute function private.honour_usage_opt_out();

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
