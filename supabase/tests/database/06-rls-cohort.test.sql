-- RLS matrix (contract §3) for course_cohort_members (each signed-in user reads their own rows by
-- JWT e-mail, case-insensitively; admins read all; only the service role writes) and
-- course_cohort_sync_runs (admins read; only the service role writes).
-- Seed: learner (spring active, autumn inactive), optout (active), revoked (revoked), two others.
begin;
\ir _helpers.psql
select plan(70);

-- course_cohort_members ------------------------------------------------------------------------------
select pg_temp.matrix('course_cohort_members', array[
    --                       anon   outsider usermeta revoked learner optout admin  jwtadmin service_role
    ['select',              'denied 0        0        1       2       1      6      6        6',
     $$select * from public.course_cohort_members$$],
    ['insert',              'denied denied   denied   denied  denied  denied denied denied   1',
     $$insert into public.course_cohort_members (cohort_id, email, source_hash)
       values ('cohort-2026-spring', 'new.member@example.org', 'x')$$],
    ['update (reinstate the revoked learner)',
                            'denied denied   denied   denied  denied  denied denied denied   1',
     $$update public.course_cohort_members set status = 'active', revoked_at = null where email = 'revoked@example.com'$$],
    ['delete',              'denied denied   denied   denied  denied  denied denied denied   1',
     $$delete from public.course_cohort_members where email = 'mara.jones@example.org'$$]],
    'anon outsider usermeta revoked learner optout admin jwtadmin service_role');

select is(pg_temp.call_as('learner', $$select jsonb_agg(distinct email::text) from public.course_cohort_members$$),
          '["learner@example.com"]', 'learner reads only their own membership rows');
select is(pg_temp.call_as('learner', $$select jsonb_agg(cohort_id order by cohort_id) from public.course_cohort_members$$,
                          '{"email": "LEARNER@Example.COM"}'),
          '["cohort-2025-autumn", "cohort-2026-spring"]', 'the account''s confirmed e-mail decides, whatever case the JWT claim has');

-- course_cohort_sync_runs ------------------------------------------------------------------------------
select pg_temp.matrix('course_cohort_sync_runs', array[
    --                       anon   outsider usermeta revoked learner admin  jwtadmin service_role
    ['select',              'denied 0        0        0       0       1      1        1',
     $$select * from public.course_cohort_sync_runs$$],
    ['insert',              'denied denied   denied   denied  denied  denied denied   1',
     $$insert into public.course_cohort_sync_runs (delivery_id, status, failure_reason) values ('matrix-delivery', 'failed', 'server_error')$$],
    ['update',              'denied denied   denied   denied  denied  denied denied   1',
     $$update public.course_cohort_sync_runs set error_message = 'Changed'$$],
    ['delete',              'denied denied   denied   denied  denied  denied denied   1',
     $$delete from public.course_cohort_sync_runs$$]]);

select * from finish();
rollback;
