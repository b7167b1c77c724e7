/**
 * Usage telemetry with a per-user opt-out.
 *   - `prompt_user_preferences`: one row per user; `telemetry_opt_out`. Turning it on also
 *     anonymises the user's past events (user_id and metadata cleared).
 *   - `prompt_usage_logs`: view/copy/favorite/unfavorite events. A learner may insert only
 *     their own events on prompts they can see, while logging is enabled; an opted-out learner
 *     may insert only anonymous events (no user_id, no metadata). `version_id` is set by the
 *     database to the prompt's current version.
 *   - RPCs `set_telemetry_opt_out(opt_out)` and `ingest_usage_events(events)`.
 */

create table public.prompt_user_preferences (
    user_id uuid primary key default auth.uid() references auth.users (id) on delete cascade,
    telemetry_opt_out boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
comment on table public.prompt_user_preferences is
    'Per-user preferences (telemetry opt-out). Each user reads and writes only their own row.';

create trigger prompt_user_preferences_set_updated_at
    before update on public.prompt_user_preferences
    for each row execute function private.set_updated_at();

alter table public.prompt_user_preferences enable row level security;
revoke all on table public.prompt_user_preferences from anon, authenticated;
grant select, insert, delete on table public.prompt_user_preferences to authenticated;
grant update (telemetry_opt_out) on table public.prompt_user_preferences to authenticated;
grant all on table public.prompt_user_preferences to service_role;

create policy "prompt_user_preferences: users read their own preferences"
    on public.prompt_user_preferences for select to authenticated
    using (user_id = (select auth.uid()));
create policy "prompt_user_preferences: users create their own preferences"
    on public.prompt_user_preferences for insert to authenticated
    with check (user_id = (select auth.uid()));
create policy "prompt_user_preferences: users update their own preferences"
    on public.prompt_user_preferences for update to authenticated
    using (user_id = (select auth.uid()))
    with check (user_id = (select auth.uid()));
create policy "prompt_user_preferences: users delete their own preferences"
    on public.prompt_user_preferences for delete to authenticated
    using (user_id = (select auth.uid()));

/** True when the caller has opted out of telemetry. */
create function public.fn_user_has_opted_out()
    returns boolean
    language sql
    stable
    security invoker
    set search_path = ''
as $$
    select coalesce(
        (select p.telemetry_opt_out from public.prompt_user_preferences p where p.user_id = auth.uid()),
        false
    );
$$;
comment on function public.fn_user_has_opted_out() is 'True when the caller has opted out of usage telemetry.';
revoke execute on function public.fn_user_has_opted_out() from public, anon;
grant execute on function public.fn_user_has_opted_out() to authenticated, service_role;

/** Usage events. Time columns get BRIN indexes: rows arrive in time order. */
create table public.prompt_usage_logs (
    id uuid primary key default gen_random_uuid(),
    user_id uuid references auth.users (id) on delete set null,
    prompt_id uuid not null references public.prompts (id) on delete cascade,
    version_id uuid references public.prompt_versions (id) on delete set null,
    action text not null check (action in ('view', 'copy', 'favorite', 'unfavorite')),
    metadata jsonb check (
        metadata is null or (jsonb_typeof(metadata) = 'object' and octet_length(metadata::text) <= 4096)
    ),
    occurred_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    -- Anonymous events carry nothing that identifies the user.
    constraint prompt_usage_logs_anonymous_check check (user_id is not null or metadata is null)
);
comment on table public.prompt_usage_logs is
    'Usage events. Learners insert their own (anonymous when opted out) and read their own while not opted out; admins read all.';
comment on column public.prompt_usage_logs.version_id is 'The prompt''s current version when the event was stored (set by the database).';

create index prompt_usage_logs_occurred_at_idx on public.prompt_usage_logs using brin (occurred_at);
create index prompt_usage_logs_created_at_idx on public.prompt_usage_logs using brin (created_at);
create index prompt_usage_logs_prompt_id_idx on public.prompt_usage_logs (prompt_id);
create index prompt_usage_logs_version_id_idx on public.prompt_usage_logs (version_id);
create index prompt_usage_logs_user_id_idx on public.prompt_usage_logs (user_id) where user_id is not null;

/**
 * BEFORE INSERT on prompt_usage_logs: record the prompt's current version.
 * Security definer: reads prompts.current_version_id whatever the inserting role may read; the
 * insert itself is still checked by the caller's RLS policy.
 */
create function private.set_usage_log_version()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    new.version_id := (select p.current_version_id from public.prompts p where p.id = new.prompt_id);
    new.created_at := pg_catalog.now();
    return new;
end;
$$;
revoke execute on function private.set_usage_log_version() from public;

create trigger prompt_usage_logs_set_version
    before insert on public.prompt_usage_logs
    for each row execute function private.set_usage_log_version();

/**
 * BEFORE UPDATE OF user_id on prompt_usage_logs: an event that loses its user loses its metadata
 * too. Deleting an auth user sets user_id to null (the foreign key's ON DELETE SET NULL); without
 * this the anonymous-event check refused that update, so no user who ever logged an event with
 * metadata could be deleted ("Database error deleting user").
 */
create function private.clear_anonymous_usage_metadata()
    returns trigger
    language plpgsql
    security invoker
    set search_path = ''
as $$
begin
    if new.user_id is null then
        new.metadata := null;
    end if;
    return new;
end;
$$;
revoke execute on function private.clear_anonymous_usage_metadata() from public;

create trigger prompt_usage_logs_clear_anonymous_metadata
    before update of user_id on public.prompt_usage_logs
    for each row execute function private.clear_anonymous_usage_metadata();

alter table public.prompt_usage_logs enable row level security;
revoke all on table public.prompt_usage_logs from anon, authenticated;
grant select, insert on table public.prompt_usage_logs to authenticated;
grant all on table public.prompt_usage_logs to service_role;

-- A learner without access (not a member, or revoked) reads none, not even their own past events.
create policy "prompt_usage_logs: users read their own events while opted in, admins read all"
    on public.prompt_usage_logs for select to authenticated
    using (
        (select public.fn_is_prompt_admin())
        or (
            user_id = (select auth.uid())
            and not (select public.fn_user_has_opted_out())
            and (select public.fn_user_has_prompt_access())
        )
    );
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

/**
 * AFTER INSERT/UPDATE OF telemetry_opt_out on prompt_user_preferences: when a user opts out,
 * anonymise their past events (only anonymous counts are kept).
 * Security definer: learners have no UPDATE privilege on prompt_usage_logs; this touches only
 * the rows of the user whose preference row changed.
 */
create function private.anonymise_opted_out_usage()
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
revoke execute on function private.anonymise_opted_out_usage() from public;

create trigger prompt_user_preferences_anonymise_usage
    after insert or update of telemetry_opt_out on public.prompt_user_preferences
    for each row execute function private.anonymise_opted_out_usage();

/** RPC: the caller sets or clears their own telemetry opt-out. Returns the stored preference. */
create function public.set_telemetry_opt_out(opt_out boolean)
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_row public.prompt_user_preferences;
begin
    if auth.uid() is null then
        raise exception 'sign in to change your preferences' using errcode = '42501';
    end if;
    if opt_out is null then
        raise exception 'opt_out must be true or false' using errcode = '22023';
    end if;
    insert into public.prompt_user_preferences as p (user_id, telemetry_opt_out)
    values (auth.uid(), opt_out)
    on conflict (user_id) do update set telemetry_opt_out = excluded.telemetry_opt_out
    returning * into v_row;
    return jsonb_build_object('user_id', v_row.user_id, 'telemetry_opt_out', v_row.telemetry_opt_out,
                              'updated_at', v_row.updated_at);
end;
$$;
comment on function public.set_telemetry_opt_out(boolean) is 'Set (true) or clear (false) the caller''s telemetry opt-out.';
revoke execute on function public.set_telemetry_opt_out(boolean) from public, anon;
grant execute on function public.set_telemetry_opt_out(boolean) to authenticated;

/**
 * RPC: store a batch of 1–500 usage events for the caller.
 * events: [{"prompt_id": uuid, "action": "view"|"copy"|"favorite"|"unfavorite",
 *           "occurred_at"?: timestamptz, "metadata"?: object ≤ 4 KB}]
 * Returns {accepted, anonymized, dropped}: stored with the user's id, stored anonymously
 * (opted out), not stored (logging off, or a prompt the caller cannot see). Raises PT503 when the
 * prompt manager is disabled and 22023 for a malformed batch. RLS checks every stored row.
 */
create function public.ingest_usage_events(events jsonb)
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
comment on function public.ingest_usage_events(jsonb) is
    'Store a batch of usage events for the caller; honours the logging flag and the caller''s opt-out. Returns {accepted, anonymized, dropped}.';
revoke execute on function public.ingest_usage_events(jsonb) from public, anon;
grant execute on function public.ingest_usage_events(jsonb) to authenticated;
