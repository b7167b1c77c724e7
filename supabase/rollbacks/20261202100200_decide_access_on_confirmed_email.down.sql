/**
 * Rollback of 20261202100200_decide_access_on_confirmed_email.sql.
 *   - restores private.user_has_prompt_access() and private.check_prompt_access() as
 *     20261123130100 / 20261123130600 created them (access by the JWT's e-mail claim: the
 *     unconfirmed-e-mail hole of issue 17 item 1 is open again);
 *   - drops private.active_cohort_ids().
 * Loses no data. Run after every later migration is rolled back (`python -m devstack.rollback`
 * does); the history row is deleted so `supabase migration up` applies the migration again.
 */

begin;

create or replace function private.user_has_prompt_access()
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
comment on function private.user_has_prompt_access() is null;

create or replace function private.check_prompt_access()
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

drop function if exists private.active_cohort_ids(text);

delete from supabase_migrations.schema_migrations where version = '20261202100200';

commit;
