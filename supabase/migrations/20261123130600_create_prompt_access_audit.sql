/**
 * Access checks for middleware, and their audit trail.
 *   - `prompt_access_audit`: one row per access check (granted/denied + reason). Admins read;
 *     only the service role (and the access-check RPC) write.
 *   - RPC `check_prompt_access()` → {has_access, reason, cohort_ids}.
 */

create table public.prompt_access_audit (
    id uuid primary key default gen_random_uuid(),
    user_id uuid,
    email extensions.citext,
    decision text not null check (decision in ('granted', 'denied')),
    reason text not null check (
        reason in ('admin', 'active_cohort_member', 'not_a_member', 'membership_inactive', 'feature_disabled')
    ),
    cohort_ids text[] not null default '{}',
    created_at timestamptz not null default now()
);
comment on table public.prompt_access_audit is
    'One row per access check. Admins read; written by check_prompt_access() and the service role. Purged after 90 days.';

create index prompt_access_audit_created_at_idx on public.prompt_access_audit using brin (created_at);
create index prompt_access_audit_user_id_created_at_idx on public.prompt_access_audit (user_id, created_at desc);

alter table public.prompt_access_audit enable row level security;
-- service_role too: Supabase's default privileges give it ALL on new tables, and the audit trail
-- must not be rewritten or deleted through the API (retention purges it as the table owner).
revoke all on table public.prompt_access_audit from anon, authenticated, service_role;
grant select on table public.prompt_access_audit to authenticated;
grant select, insert on table public.prompt_access_audit to service_role;

create policy "prompt_access_audit: admins can read the audit trail"
    on public.prompt_access_audit for select to authenticated
    using ((select public.fn_is_prompt_admin()));

/**
 * Decide whether the caller may use the prompt library and audit the decision.
 * Security definer: learners may not write prompt_access_audit (the audit must not be forgeable),
 * so the row is written here, from a decision this function computes itself from the caller's
 * JWT. Lives in `private` (not exposed through the API); called by public.check_prompt_access().
 */
create function private.check_prompt_access()
    returns jsonb
    language plpgsql
    volatile
    security definer
    set search_path = ''
as $$
declare
    v_uid uuid := auth.uid();
    v_email text := auth.email();
    v_reason text;
    v_cohorts text[] := '{}';
begin
    if v_uid is null then
        raise exception 'sign in to check access' using errcode = '42501';
    end if;

    select coalesce(array_agg(m.cohort_id order by m.cohort_id), '{}')
      into v_cohorts
      from public.course_cohort_members m
     where m.email operator(extensions.=) v_email::extensions.citext
       and m.status = 'active' and m.revoked_at is null;

    if public.fn_is_prompt_admin() then
        v_reason := 'admin';
    elsif not public.fn_feature_enabled('PROMPT_MANAGER_ENABLED') then
        v_reason := 'feature_disabled';
    elsif cardinality(v_cohorts) > 0 then
        v_reason := 'active_cohort_member';
    elsif exists (select 1 from public.course_cohort_members m
                   where m.email operator(extensions.=) v_email::extensions.citext) then
        v_reason := 'membership_inactive';
    else
        v_reason := 'not_a_member';
    end if;

    insert into public.prompt_access_audit (user_id, email, decision, reason, cohort_ids)
    values (v_uid, v_email::extensions.citext,
            case when v_reason in ('admin', 'active_cohort_member') then 'granted' else 'denied' end,
            v_reason, v_cohorts);

    return jsonb_build_object(
        'has_access', v_reason in ('admin', 'active_cohort_member'),
        'reason', v_reason,
        'cohort_ids', to_jsonb(v_cohorts)
    );
end;
$$;
revoke execute on function private.check_prompt_access() from public, anon;
grant execute on function private.check_prompt_access() to authenticated;

/** RPC: {has_access, reason, cohort_ids} for the caller; writes one prompt_access_audit row. */
create function public.check_prompt_access()
    returns jsonb
    language sql
    volatile
    security invoker
    set search_path = ''
as $$
    select private.check_prompt_access();
$$;
comment on function public.check_prompt_access() is
    'Whether the caller may use the prompt library: {has_access, reason, cohort_ids}. Writes one audit row.';
revoke execute on function public.check_prompt_access() from public, anon;
grant execute on function public.check_prompt_access() to authenticated;
