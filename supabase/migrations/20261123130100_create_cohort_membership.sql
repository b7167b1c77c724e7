/**
 * Cohort membership, synced from the community platform by the cohort-sync webhook.
 *   - `course_cohort_members`: one row per (cohort, e-mail). A learner has access while one of
 *     their rows is `active` (and therefore not revoked).
 *   - `course_cohort_sync_runs`: one row per applied webhook delivery (idempotency by delivery id).
 *   - helper `fn_user_has_prompt_access()` used by the learner read policies.
 */

create table public.course_cohort_members (
    id uuid primary key default gen_random_uuid(),
    cohort_id text not null check (char_length(cohort_id) between 1 and 200),
    email extensions.citext not null
        check (char_length(email) <= 320 and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
    first_name text check (char_length(first_name) <= 200),
    last_name text check (char_length(last_name) <= 200),
    circle_member_id text check (char_length(circle_member_id) <= 200),
    status text not null default 'active' check (status in ('active', 'inactive', 'revoked')),
    revoked_at timestamptz,
    source_hash text not null,
    last_synced_at timestamptz not null default now(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (cohort_id, email),
    -- An active membership is never revoked; every other status carries when it ended.
    constraint course_cohort_members_revoked_at_check check ((status = 'active') = (revoked_at is null))
);
comment on table public.course_cohort_members is
    'Cohort members synced from the community platform. Learners read their own rows (by JWT e-mail); admins read all; only the service role writes.';
comment on column public.course_cohort_members.source_hash is
    'md5 of the normalised row as last synced; an incoming row with the same hash is a no-op.';

-- Every learner statement looks the caller up by e-mail (the access helper), so does the
-- access-check RPC; nothing asks for e-mail order or ranges. One hash index serves both: a probe
-- is one hash and one or two citext comparisons, where a B-tree descent makes ~17 at 100k members
-- and every citext comparison lower-cases both strings. It is also cheap to maintain: a 50k-member
-- snapshot inserts ~1.3 s faster than with two B-trees on e-mail (active rows, all rows), which
-- it replaces (bench/: lookup ~11 us instead of ~22 us; initial snapshot 2.2 s instead of 3.5 s).
create index course_cohort_members_email_idx
    on public.course_cohort_members using hash (email);

create trigger course_cohort_members_set_updated_at
    before update on public.course_cohort_members
    for each row execute function private.set_updated_at();

alter table public.course_cohort_members enable row level security;
revoke all on table public.course_cohort_members from anon, authenticated;
grant select on table public.course_cohort_members to authenticated;
grant all on table public.course_cohort_members to service_role;

create policy "course_cohort_members: learners read their own rows, admins read all"
    on public.course_cohort_members for select to authenticated
    using (
        email = ((select auth.email()))::extensions.citext
        or (select public.fn_is_prompt_admin())
    );

/** One row per cohort-sync webhook delivery that was applied (or failed for a server-side reason). */
create table public.course_cohort_sync_runs (
    id uuid primary key default gen_random_uuid(),
    delivery_id text not null check (char_length(delivery_id) between 1 and 200),
    cohort_id text check (char_length(cohort_id) <= 200),
    mode text check (mode in ('snapshot', 'delta')),
    status text not null check (status in ('succeeded', 'partial', 'failed')),
    total_rows integer not null default 0 check (total_rows >= 0),
    inserted_count integer not null default 0 check (inserted_count >= 0),
    updated_count integer not null default 0 check (updated_count >= 0),
    unchanged_count integer not null default 0 check (unchanged_count >= 0),
    deactivated_count integer not null default 0 check (deactivated_count >= 0),
    error_rows jsonb not null default '[]'::jsonb check (jsonb_typeof(error_rows) = 'array'),
    error_message text,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    created_at timestamptz not null default now()
);
comment on table public.course_cohort_sync_runs is
    'Cohort-sync webhook deliveries: counts, invalid rows and outcome. Admins read; the service role writes.';

-- A delivery id is applied at most once; failed attempts may be retried and recorded again.
create unique index course_cohort_sync_runs_delivery_id_key
    on public.course_cohort_sync_runs (delivery_id)
    where status <> 'failed';
create index course_cohort_sync_runs_cohort_id_started_at_idx
    on public.course_cohort_sync_runs (cohort_id, started_at desc);

alter table public.course_cohort_sync_runs enable row level security;
revoke all on table public.course_cohort_sync_runs from anon, authenticated;
grant select on table public.course_cohort_sync_runs to authenticated;
grant all on table public.course_cohort_sync_runs to service_role;

create policy "course_cohort_sync_runs: admins can read sync runs"
    on public.course_cohort_sync_runs for select to authenticated
    using ((select public.fn_is_prompt_admin()));

/**
 * True when the prompt manager is on and the caller's JWT e-mail has an active, non-revoked
 * cohort membership (case-insensitive). Policies call it once per statement, as
 * `(select public.fn_user_has_prompt_access())`; built like private.is_prompt_admin() (PL/pgSQL,
 * claims read once) and security definer for the same reason: under the caller's RLS the lookup
 * could not use the e-mail index (the members policy is `own e-mail OR admin`, and citext's `=` is
 * not leakproof, so it is not pushed into an index scan): it scanned every active membership,
 * ~26 ms at 100k members. It only ever looks up the caller's own e-mail.
 */
create function private.user_has_prompt_access()
    returns boolean
    language plpgsql
    stable
    security definer
    set search_path = ''
as $$
declare
    v_email text := coalesce(nullif(pg_catalog.current_setting('request.jwt.claim.email', true), ''),
                             nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'email');
begin
    if v_email is null then
        return false;
    end if;
    return exists (select 1 from public.prompt_feature_flags f
                    where f.key = 'PROMPT_MANAGER_ENABLED' and f.enabled)
       and exists (select 1 from public.course_cohort_members m
                    where m.email operator(extensions.=) v_email::extensions.citext
                      and m.status = 'active'
                      and m.revoked_at is null);
end;
$$;
revoke execute on function private.user_has_prompt_access() from public, anon;
grant execute on function private.user_has_prompt_access() to authenticated, service_role;

/** True when the prompt manager is on and the caller is an active cohort member; see private.user_has_prompt_access(). */
create function public.fn_user_has_prompt_access()
    returns boolean
    language plpgsql
    stable
    security invoker
    set search_path = ''
as $$
begin
    return private.user_has_prompt_access();
end;
$$;
comment on function public.fn_user_has_prompt_access() is
    'True when the prompt manager is enabled and the caller is an active member of a cohort.';
revoke execute on function public.fn_user_has_prompt_access() from public, anon;
grant execute on function public.fn_user_has_prompt_access() to authenticated, service_role;
