-- check_prompt_access(): {has_access, reason, cohort_ids} for every reason, exactly one audit row
-- per call (decision + reason, from the caller's JWT), case-insensitive e-mail, no anon.
begin;
\ir _helpers.psql
select plan(31);

/** Check access as `actor` (with extra claims): the answer, and the audit rows the call wrote. */
create function pg_temp.check_access(actor text, claims jsonb default '{}')
    returns jsonb
    language plpgsql
as $$
declare
    v_before uuid[] := array(select a.id from public.prompt_access_audit a);
    v_answer jsonb := pg_temp.call_as(actor, 'select public.check_prompt_access()', claims);
begin
    return jsonb_build_object(
        'answer', v_answer,
        'audit', (select jsonb_agg(jsonb_build_object('user_id', a.user_id, 'email', a.email, 'decision', a.decision,
                                                      'reason', a.reason, 'cohort_ids', a.cohort_ids,
                                                      'created_at', a.created_at))
                    from public.prompt_access_audit a where a.id <> all (v_before)));
end;
$$;

create temporary table checks as
select t.actor, t.claims, t.answer, pg_temp.check_access(t.actor, t.claims) as result
  from (values
        ('admin', '{}'::jsonb, '{"has_access": true, "reason": "admin", "cohort_ids": []}'::jsonb),
        ('jwtadmin', '{}', '{"has_access": true, "reason": "admin", "cohort_ids": []}'),
        ('learner', '{}', '{"has_access": true, "reason": "active_cohort_member", "cohort_ids": ["cohort-2026-spring"]}'),
        ('learner', '{"email": "Learner@EXAMPLE.com"}',
         '{"has_access": true, "reason": "active_cohort_member", "cohort_ids": ["cohort-2026-spring"]}'),
        -- The account's confirmed e-mail decides, not the claim (issue 17 item 1; was not_a_member).
        ('learner', '{"email": null}', '{"has_access": true, "reason": "active_cohort_member", "cohort_ids": ["cohort-2026-spring"]}'),
        ('optout', '{}', '{"has_access": true, "reason": "active_cohort_member", "cohort_ids": ["cohort-2026-spring"]}'),
        ('outsider', '{}', '{"has_access": false, "reason": "not_a_member", "cohort_ids": []}'),
        ('usermeta', '{}', '{"has_access": false, "reason": "not_a_member", "cohort_ids": []}'),
        ('revoked', '{}', '{"has_access": false, "reason": "membership_inactive", "cohort_ids": []}')
       ) as t (actor, claims, answer);

select is(c.result -> 'answer', c.answer, format('%s %s: %s', c.actor, c.claims, c.answer)) from checks c;
select is(c.result -> 'audit',
          jsonb_build_array(jsonb_build_object(
              'user_id', u.id,
              'email', to_jsonb(u.email),  -- the confirmed e-mail, whatever the claim says
              'decision', case when (c.answer ->> 'has_access')::boolean then 'granted' else 'denied' end,
              'reason', c.answer -> 'reason', 'cohort_ids', c.answer -> 'cohort_ids', 'created_at', now())),
          format('%s %s: exactly one audit row, %s', c.actor, c.claims, c.answer ->> 'reason'))
  from checks c
  join auth.users u on u.email = c.actor || '@example.com';

-- An inactive membership next to an active one still grants; only inactive ones: membership_inactive.
select is(pg_temp.call_as('learner', 'select public.check_prompt_access()') -> 'cohort_ids', '["cohort-2026-spring"]',
          'learner''s inactive autumn membership is not listed');
update public.course_cohort_members set status = 'inactive', revoked_at = now() where email = 'learner@example.com';
select is(pg_temp.call_as('learner', 'select public.check_prompt_access()'),
          '{"has_access": false, "reason": "membership_inactive", "cohort_ids": []}',
          'learner with every membership inactive: membership_inactive');
select is(pg_temp.call_as('learner', 'select to_jsonb(count(*)) from public.prompts'), '0',
          '... and reads no prompt any more');
update public.course_cohort_members set status = 'active', revoked_at = null
 where email = 'learner@example.com' and cohort_id = 'cohort-2026-spring';

-- Feature flag off: everyone but admins is denied with feature_disabled, and learners read nothing.
update public.prompt_feature_flags set enabled = false where key = 'PROMPT_MANAGER_ENABLED';
select is(pg_temp.call_as(t.actor, 'select public.check_prompt_access()'), t.answer, t.actor || ' with PROMPT_MANAGER_ENABLED off')
  from (values ('learner', '{"has_access": false, "reason": "feature_disabled", "cohort_ids": ["cohort-2026-spring"]}'::jsonb),
               ('outsider', '{"has_access": false, "reason": "feature_disabled", "cohort_ids": []}'),
               ('admin', '{"has_access": true, "reason": "admin", "cohort_ids": []}')) as t (actor, answer);
select is((select count(*)::int from public.prompt_access_audit where reason = 'feature_disabled' and decision = 'denied'), 2,
          '... audited as denied, feature_disabled');
select is(pg_temp.call_as('learner', 'select to_jsonb(count(*)) from public.prompts'), '0',
          '... the learner reads no prompt');
select is(pg_temp.call_as('admin', 'select to_jsonb(count(*)) from public.prompts'), '17',
          '... admins still read all (14 course prompts, 3 in the demo team workspace)');
update public.prompt_feature_flags set enabled = true where key = 'PROMPT_MANAGER_ENABLED';

-- Who may call it.
select pg_temp.expect('anon', 'check_prompt_access()', 'select public.check_prompt_access()', pg_temp.denied_fn('check_prompt_access'));
select pg_temp.expect('service_role', 'check_prompt_access()', 'select public.check_prompt_access()',
                      pg_temp.denied_fn('check_prompt_access'));
select pg_temp.expect('anon', 'private.check_prompt_access()', 'select private.check_prompt_access()',
                      '42501: permission denied for schema private');
select throws_ok($$select pg_temp.call_as('learner', 'select public.check_prompt_access()', '{"sub": null}')$$,
                 '42501', 'sign in to check access', 'a JWT without sub is refused');

select * from finish();
rollback;
