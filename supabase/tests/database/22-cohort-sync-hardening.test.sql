-- Cohort sync hardening (issue 17): case and whitespace of e-mails (items 9, 10), the member cap
-- in the database (item 3), the proposal's statuses (item 17), why a run failed (item 6).
-- Before 20261202100300 the assertions marked [item N] failed.
begin;
\ir _helpers.psql
select plan(17);

create function pg_temp.sync(delivery text, payload jsonb) returns jsonb language sql as $$
    select pg_temp.call_as('service_role', format('select public.sync_cohort_members(%L, %L)', delivery, payload));
$$;
create function pg_temp.member(cohort text, email text) returns text language sql as $$
    select m.status from public.course_cohort_members m where m.cohort_id = $1 and m.email = $2::extensions.citext;
$$;

-- [item 9] A stored row whose e-mail differs in case (written by the service role, not the sync).
insert into public.course_cohort_members (cohort_id, email, status, source_hash) values
    ('c22-case', 'Mixed.Case@Example.test', 'active', 'x'),
    ('c22-case', 'other@example.test', 'active', 'x');
select is(pg_temp.sync('d22-case', '{"cohort_id": "c22-case", "mode": "snapshot",
          "members": [{"email": "mixed.case@example.test"}, {"email": "other@example.test"}]}') ->> 'deactivated_count',
          '0', '[item 9] a snapshot listing mixed.case@ does not deactivate the stored Mixed.Case@');
select is(pg_temp.member('c22-case', 'mixed.case@example.test'), 'active', '[item 9] ... the member stays active');

-- [item 9] The mass-deactivation pre-check counts the same way: 2 of 3 listed is no mass deactivation.
insert into public.course_cohort_members (cohort_id, email, status, source_hash) values
    ('c22-mass', 'A.Upper@Example.test', 'active', 'x'),
    ('c22-mass', 'B.Upper@Example.test', 'active', 'x'),
    ('c22-mass', 'c.lower@example.test', 'active', 'x');
select is(pg_temp.sync('d22-mass', '{"cohort_id": "c22-mass", "mode": "snapshot",
          "members": [{"email": "a.upper@example.test"}, {"email": "b.upper@example.test"}]}') ->> 'deactivated_count',
          '1', '[item 9] a snapshot listing 2 of 3 (other case) is applied, no false 409; one deactivated');

-- [item 10] Tab, CR and LF around an e-mail are whitespace like spaces.
insert into public.course_cohort_members (cohort_id, email, status, source_hash) values
    ('c22-ws', 'ws.member@example.test', 'active', 'x'),
    ('c22-ws', 'ws.keep@example.test', 'active', 'x');
select is(pg_temp.sync('d22-ws-revoke', jsonb_build_object('cohort_id', 'c22-ws', 'mode', 'delta',
          'members', jsonb_build_array(jsonb_build_object('email', E'\tws.member@example.test\r\n', 'status', 'revoked')))) -> 'error_rows',
          '[]', '[item 10] a revocation with tab/CR/LF around the e-mail is not an invalid row');
select is(pg_temp.member('c22-ws', 'ws.member@example.test'), 'revoked', '[item 10] ... and the member is revoked');
select is(pg_temp.sync('d22-ws-snap', jsonb_build_object('cohort_id', 'c22-ws', 'mode', 'snapshot', 'allow_mass_deactivation', true,
          'members', jsonb_build_array(jsonb_build_object('email', E'ws.keep@example.test\n')))) ->> 'deactivated_count',
          '0', '[item 10] a snapshot listing "ws.keep@...\n" does not deactivate ws.keep@');
select is(pg_temp.member('c22-ws', 'ws.keep@example.test'), 'active', '[item 10] ... who stays active');
select is((select count(*)::integer from public.course_cohort_members where cohort_id = 'c22-ws'), 2,
          '[item 10] ... and no second row was created for the padded e-mail');

-- [item 3] The member cap lives in the database too.
select is(pg_temp.attempt('service_role', format('select public.sync_cohort_members(%L, %L)', 'd22-cap',
          jsonb_build_object('cohort_id', 'c22-cap', 'mode', 'delta',
                             'members', (select jsonb_agg(jsonb_build_object('email', 'm' || g || '@example.test'))
                                           from generate_series(1, 100001) g)))),
          '22023: a delivery holds at most 100000 members, got 100001', '[item 3] 100,001 members are refused (22023)');
select is((select count(*)::integer from public.course_cohort_members where cohort_id = 'c22-cap'), 0, '[item 3] ... and nothing is stored');

-- [item 17] The proposal's statuses, one definition (an enum).
select is(pg_temp.sync('d22-status', '{"cohort_id": "c22-status", "mode": "delta", "members": [{"email": "s@example.test"}]}') ->> 'status',
          'success', '[item 17] a clean run is "success"');
select is(enum_range(null::public.cohort_sync_status)::text[], array['success', 'partial', 'failed'],
          '[item 17] public.cohort_sync_status is success, partial, failed');
select is((select format_type(a.atttypid, null) from pg_attribute a
            where a.attrelid = 'public.course_cohort_sync_runs'::regclass and a.attname = 'status'),
          'cohort_sync_status', '[item 17] course_cohort_sync_runs.status has that type');
select is((select count(*)::integer from public.course_cohort_sync_runs where status::text = 'succeeded'), 0,
          '[item 17] no stored run says succeeded');

-- [item 6] A failed run says why.
select is(pg_temp.call_as('service_role', $$select public.record_failed_cohort_sync('d22-timeout', 'c22', 'snapshot',
          '57014: canceling statement due to statement timeout', 'timeout')$$) ->> 'failure_reason', 'timeout',
          '[item 6] record_failed_cohort_sync records the reason');
select is((select failure_reason from public.course_cohort_sync_runs where delivery_id = 'd22-timeout'), 'timeout',
          '[item 6] ... in the failed run');
select is(pg_temp.attempt('service_role', $$select public.record_failed_cohort_sync('d22-x', 'c22', 'snapshot', 'x', 'gremlins')$$),
          '22023: reason must be timeout, connection_lost, bad_input or server_error', '[item 6] an unknown reason is refused');

select * from finish();
rollback;
