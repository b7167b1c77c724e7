-- Access is decided on a CONFIRMED e-mail (issue 17, item 1) by one rule (item 19):
-- private.user_has_prompt_access() for policies, check_prompt_access() derived from it.
-- Before 20261202100200 an unconfirmed sign-up with a member's address (and any JWT whose email
-- claim named a member) had access: the assertions marked [item 1] failed.
begin;
\ir _helpers.psql
select plan(16);

-- pending@: an active member who signed up but has not confirmed the address.
-- mixed@: a confirmed user whose Auth e-mail differs in case from the membership row.
insert into auth.users (id, email, email_confirmed_at, raw_app_meta_data) values
    ('00000000-0000-4000-c100-000000000001', 'pending@example.com', null, '{"provider": "email"}'),
    ('00000000-0000-4000-c100-000000000002', 'MIXED@example.com', now(), '{"provider": "email"}');
insert into public.course_cohort_members (cohort_id, email, status, source_hash) values
    ('cohort-21', 'pending@example.com', 'active', 'x'),
    ('cohort-21', 'Mixed@Example.com', 'active', 'x');

create function pg_temp.act_as_id(id uuid, email text) returns void language sql as $$
    select set_config('request.jwt.claims', jsonb_build_object('sub', id, 'role', 'authenticated', 'email', email)::text, true),
           set_config('role', 'authenticated', true);
$$;

-- [item 1] the unconfirmed member.
select pg_temp.act_as_id('00000000-0000-4000-c100-000000000001', 'pending@example.com');
select is(public.fn_user_has_prompt_access(), false, '[item 1] unconfirmed e-mail of a member: no access');
select is((select count(*)::integer from public.prompts), 0, '[item 1] unconfirmed: reads no prompts');
select is((select count(*)::integer from public.prompt_versions), 0, '[item 1] unconfirmed: reads no versions');
select is((select count(*)::integer from public.course_cohort_members), 0, '[item 1] unconfirmed: reads no membership rows');
select is(public.check_prompt_access() -> 'reason', '"not_a_member"', '[item 1] unconfirmed: access check says not_a_member');
select pg_temp.act_as(null);
select is((select a.decision from public.prompt_access_audit a
            where a.user_id = '00000000-0000-4000-c100-000000000001'), 'denied', '[item 1] unconfirmed: audited as denied');

-- Confirming the address grants access.
update auth.users set email_confirmed_at = now() where id = '00000000-0000-4000-c100-000000000001';
select pg_temp.act_as_id('00000000-0000-4000-c100-000000000001', 'pending@example.com');
select is(public.fn_user_has_prompt_access(), true, 'once confirmed: access');
select ok((select count(*) from public.prompts) > 0, 'once confirmed: reads published prompts');
select is((select count(*)::integer from public.course_cohort_members), 1, 'once confirmed: reads its own membership row');
select pg_temp.act_as(null);

-- [item 1] The JWT's email claim decides nothing: an outsider claiming a member's address.
select is(pg_temp.call_as('outsider', 'select to_jsonb(public.fn_user_has_prompt_access())', '{"email": "learner@example.com"}'),
          'false', '[item 1] a confirmed outsider whose JWT claims a member''s e-mail: no access');
select is(pg_temp.call_as('outsider', 'select public.check_prompt_access() -> ''reason''', '{"email": "learner@example.com"}'),
          '"not_a_member"', '[item 1] ... and the access check says not_a_member');
select is(pg_temp.call_as('outsider', 'select to_jsonb(count(*)) from public.course_cohort_members', '{"email": "learner@example.com"}'),
          '0', '[item 1] ... and reads no membership row');

-- A member keeps access whatever the claim says (the account's confirmed e-mail decides).
select is(pg_temp.call_as('learner', 'select to_jsonb(public.fn_user_has_prompt_access())', '{"email": null}'),
          'true', 'a member keeps access without an email claim');

-- Case differences between Auth and the membership row do not matter (one canonical form).
select pg_temp.act_as_id('00000000-0000-4000-c100-000000000002', 'MIXED@example.com');
select is(public.check_prompt_access(), '{"has_access": true, "reason": "active_cohort_member", "cohort_ids": ["cohort-21"]}',
          'Auth e-mail MIXED@ matches the membership Mixed@');
select pg_temp.act_as(null);

-- One rule: check_prompt_access() grants active_cohort_member exactly when the policy helper does.
select matches(pg_get_functiondef('private.check_prompt_access()'::regprocedure), 'private\.user_has_prompt_access\(\)',
               'check_prompt_access derives its decision from private.user_has_prompt_access()');
select is(has_function_privilege('authenticated', 'private.active_cohort_ids(text)', 'execute'), false,
          'no API role may look up another e-mail''s cohorts');

select * from finish();
rollback;
