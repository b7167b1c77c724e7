/**
 * Access is decided on the caller's CONFIRMED e-mail (auth.users.email_confirmed_at), never on the
 * JWT's `email` claim: with sign-ups open, anyone could sign up with the address of a cohort
 * member who has not registered yet and read the library before (or without) confirming it
 * (issue 17, item 1). And the access rule has one definition (item 19):
 *   - private.active_cohort_ids(email): the cohorts in which a canonical e-mail has an active,
 *     non-revoked membership (one probe of the email_key index);
 *   - private.user_has_prompt_access(): the rule itself: the prompt manager is on and the caller's
 *     confirmed e-mail has an active membership. Policies reach it through
 *     public.fn_user_has_prompt_access() (unchanged);
 *   - private.check_prompt_access(): its reason `active_cohort_member` is exactly
 *     private.user_has_prompt_access(); the cohort list comes from private.active_cohort_ids().
 * A user whose e-mail is not confirmed gets reason `not_a_member` (no confirmed address to match).
 */

/**
 * The cohorts (sorted) in which `email_key` (canonical, see private.normalize_email()) has an
 * active, non-revoked membership; empty when none or NULL. Only definer helpers call it (it
 * answers for any e-mail), so no API role may execute it.
 */
create function private.active_cohort_ids(email_key text)
    returns text[]
    language plpgsql
    stable
    security invoker
    set search_path = ''
as $$
begin
    return coalesce((select pg_catalog.array_agg(m.cohort_id order by m.cohort_id)
                       from public.course_cohort_members m
                      where m.email_key = active_cohort_ids.email_key
                        and m.status = 'active'
                        and m.revoked_at is null), '{}');
end;
$$;
comment on function private.active_cohort_ids(text) is
    'Cohorts in which a canonical e-mail has an active, non-revoked membership (the membership half of the access rule).';
revoke execute on function private.active_cohort_ids(text) from public, anon, authenticated, service_role;

/**
 * THE access rule: the prompt manager is on and the caller's confirmed e-mail has an active,
 * non-revoked cohort membership. Policies call it once per statement through
 * `(select public.fn_user_has_prompt_access())`. Security definer: it reads auth.users (through
 * private.caller_confirmed_email()) and memberships whatever the caller's RLS; it only ever looks
 * up the caller's own confirmed e-mail.
 */
create or replace function private.user_has_prompt_access()
    returns boolean
    language plpgsql
    stable
    security definer
    set search_path = ''
as $$
declare
    v_email text := private.caller_confirmed_email();
begin
    return v_email is not null
       and public.fn_feature_enabled('PROMPT_MANAGER_ENABLED')
       and pg_catalog.cardinality(private.active_cohort_ids(v_email)) > 0;
end;
$$;
comment on function private.user_has_prompt_access() is
    'The access rule: prompt manager on and the caller''s confirmed e-mail is an active cohort member.';

/**
 * Decide whether the caller may use the prompt library and audit the decision; the membership
 * decision is private.user_has_prompt_access(). Security definer: learners may not write
 * prompt_access_audit (the audit must not be forgeable), so the row is written here. The audit's
 * e-mail is the confirmed one when there is one, else the JWT's claim (what the caller presented).
 */
create or replace function private.check_prompt_access()
    returns jsonb
    language plpgsql
    volatile
    security definer
    set search_path = ''
as $$
declare
    v_uid uuid := auth.uid();
    v_email text := private.caller_confirmed_email();
    v_reason text;
    v_cohorts text[];
begin
    if v_uid is null then
        raise exception 'sign in to check access' using errcode = '42501';
    end if;
    v_cohorts := private.active_cohort_ids(v_email);

    if public.fn_is_prompt_admin() then
        v_reason := 'admin';
    elsif not public.fn_feature_enabled('PROMPT_MANAGER_ENABLED') then
        v_reason := 'feature_disabled';
    elsif private.user_has_prompt_access() then
        v_reason := 'active_cohort_member';
    elsif exists (select 1 from public.course_cohort_members m where m.email_key = v_email) then
        v_reason := 'membership_inactive';
    else
        v_reason := 'not_a_member';
    end if;

    insert into public.prompt_access_audit (user_id, email, decision, reason, cohort_ids)
    values (v_uid, coalesce(v_email, auth.email())::extensions.citext,
            case when v_reason in ('admin', 'active_cohort_member') then 'granted' else 'denied' end,
            v_reason, v_cohorts);

    return jsonb_build_object(
        'has_access', v_reason in ('admin', 'active_cohort_member'),
        'reason', v_reason,
        'cohort_ids', to_jsonb(v_cohorts)
    );
end;
$$;
