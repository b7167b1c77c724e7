/**
 * Foundations shared by every other migration:
 *   - the `citext` extension (case-insensitive e-mails), in schema `extensions` as on Supabase;
 *   - schema `private` for trigger functions and the few `security definer` helpers. It is NOT in
 *     the API's exposed schemas, so nothing in it is reachable through PostgREST directly;
 *   - `private.set_updated_at()`, the trigger that maintains `updated_at` everywhere;
 *   - `prompt_feature_flags` (PROMPT_MANAGER_ENABLED, PROMPT_USAGE_LOGGING_ENABLED);
 *   - `prompt_admins`, the membership alternative to the JWT claim `app_metadata.prompt_admin`;
 *   - helpers `fn_is_prompt_admin()` and `fn_feature_enabled(key)` used by policies.
 */

create extension if not exists citext with schema extensions;

create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

/** Trigger: keep `updated_at` current on every update. */
create function private.set_updated_at()
    returns trigger
    language plpgsql
    security invoker
    set search_path = ''
as $$
begin
    new.updated_at := pg_catalog.now();
    return new;
end;
$$;
revoke execute on function private.set_updated_at() from public;

/** Feature flags: one row per flag, read by every signed-in user, written by prompt admins. */
create table public.prompt_feature_flags (
    key text primary key check (key ~ '^[A-Z][A-Z0-9_]{2,63}$'),
    enabled boolean not null default false,
    description text check (char_length(description) <= 500),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
comment on table public.prompt_feature_flags is
    'Feature flags (PROMPT_MANAGER_ENABLED, PROMPT_USAGE_LOGGING_ENABLED). Readable by signed-in users; admins write.';
alter table public.prompt_feature_flags enable row level security;

create trigger prompt_feature_flags_set_updated_at
    before update on public.prompt_feature_flags
    for each row execute function private.set_updated_at();

-- Both flags start OFF on a fresh deployment: turning the product on is a deliberate step
-- (the seed turns them on for local development).
insert into public.prompt_feature_flags (key, enabled, description) values
    ('PROMPT_MANAGER_ENABLED', false, 'Learners can read the prompt library and log usage.'),
    ('PROMPT_USAGE_LOGGING_ENABLED', false, 'Usage events (view, copy, favorite) are stored.');

/** Prompt admins by membership (the alternative to the JWT claim app_metadata.prompt_admin). */
create table public.prompt_admins (
    user_id uuid primary key references auth.users (id) on delete cascade,
    note text check (char_length(note) <= 500),
    created_at timestamptz not null default now()
);
comment on table public.prompt_admins is
    'Users who administer prompts, in addition to those whose JWT has app_metadata.prompt_admin = true. Managed with the service role.';
alter table public.prompt_admins enable row level security;

revoke all on table public.prompt_admins from anon, authenticated;
grant select on table public.prompt_admins to authenticated;
grant all on table public.prompt_admins to service_role;

create policy "prompt_admins: users can read their own row"
    on public.prompt_admins for select to authenticated
    using (user_id = (select auth.uid()));

/**
 * True when the caller is a prompt admin: JWT app_metadata.prompt_admin = true (users cannot edit
 * app_metadata), or a row in prompt_admins. Policies call it once per statement, as
 * `(select public.fn_is_prompt_admin())`, so its cost is paid by every API statement:
 *   - PL/pgSQL, not SQL: a SQL function with a SET clause cannot be inlined and is parsed and
 *     planned again on every call; PL/pgSQL keeps its plan for the session.
 *   - It reads the claims itself and parses them once (request.jwt.claims, as PostgREST sets
 *     them, and the legacy request.jwt.claim.sub that auth.uid() also reads): each auth.* call is
 *     such a non-inlinable SQL function (~20 us).
 *   - Security definer, so the prompt_admins lookup is one primary-key probe without that
 *     table's own policy (which would call auth.uid() again). It only ever looks up the caller's
 *     own id. Lives in `private` (not exposed); public.fn_is_prompt_admin() is the API name.
 * bench/ measures it: ~25 us per statement (was ~125 us as a SQL function).
 */
create function private.is_prompt_admin()
    returns boolean
    language plpgsql
    stable
    security definer
    set search_path = ''
as $$
declare
    v_claims jsonb := nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb;
    v_uid uuid;
begin
    if coalesce(v_claims -> 'app_metadata' -> 'prompt_admin' = 'true'::jsonb, false) then
        return true;
    end if;
    v_uid := coalesce(nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
                      v_claims ->> 'sub')::uuid;
    return v_uid is not null and exists (select 1 from public.prompt_admins a where a.user_id = v_uid);
end;
$$;
revoke execute on function private.is_prompt_admin() from public, anon;
grant execute on function private.is_prompt_admin() to authenticated, service_role;

/** True when the caller is a prompt admin (JWT claim or prompt_admins row); see private.is_prompt_admin(). */
create function public.fn_is_prompt_admin()
    returns boolean
    language plpgsql
    stable
    security invoker
    set search_path = ''
as $$
begin
    return private.is_prompt_admin();
end;
$$;
comment on function public.fn_is_prompt_admin() is 'True when the caller is a prompt admin (JWT claim or prompt_admins row).';
revoke execute on function public.fn_is_prompt_admin() from public, anon;
grant execute on function public.fn_is_prompt_admin() to authenticated, service_role;

/** True when the named feature flag exists and is on. */
create function public.fn_feature_enabled(flag_key text)
    returns boolean
    language sql
    stable
    security invoker
    set search_path = ''
as $$
    select coalesce((select f.enabled from public.prompt_feature_flags f where f.key = flag_key), false);
$$;
comment on function public.fn_feature_enabled(text) is 'True when the feature flag is on.';
revoke execute on function public.fn_feature_enabled(text) from public, anon;
grant execute on function public.fn_feature_enabled(text) to authenticated, service_role;

-- Flag grants and policies (after the helper they use exists).
revoke all on table public.prompt_feature_flags from anon, authenticated;
grant select, insert, update, delete on table public.prompt_feature_flags to authenticated;
grant all on table public.prompt_feature_flags to service_role;

create policy "prompt_feature_flags: signed-in users can read flags"
    on public.prompt_feature_flags for select to authenticated
    using ((select auth.uid()) is not null);

create policy "prompt_feature_flags: admins can create flags"
    on public.prompt_feature_flags for insert to authenticated
    with check ((select public.fn_is_prompt_admin()));

create policy "prompt_feature_flags: admins can update flags"
    on public.prompt_feature_flags for update to authenticated
    using ((select public.fn_is_prompt_admin()))
    with check ((select public.fn_is_prompt_admin()));

create policy "prompt_feature_flags: admins can delete flags"
    on public.prompt_feature_flags for delete to authenticated
    using ((select public.fn_is_prompt_admin()));
