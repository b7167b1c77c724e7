-- sync_cohort_members(delivery_id, payload): snapshot and delta semantics, source_hash no-ops,
-- normalised e-mails, invalid rows, deactivation and its mass guard, idempotency per delivery id,
-- failed runs, and who may call it (the service role only).
-- Seed cohort-2026-spring: learner, optout, mara.jones, sam.okafor active; revoked revoked.
begin;
\ir _helpers.psql
select plan(50);

-- Two of the members synced below have confirmed Auth accounts (access follows the confirmed e-mail).
insert into auth.users (id, email, email_confirmed_at) values
    ('00000000-0000-4000-c011-000000000001', 'a.one@example.org', now()),
    ('00000000-0000-4000-c011-000000000005', 'e.five@example.org', now());

/** Apply a delivery as the service role. */
create function pg_temp.sync(delivery text, payload jsonb)
    returns jsonb
    language sql
as $$
    select pg_temp.call_as('service_role', format('select public.sync_cohort_members(%L, %L)', delivery, payload));
$$;

/** A delivery's payload: `members` given as [email, first, last, circle id, status?] arrays. */
create function pg_temp.payload(cohort text, mode text, members jsonb, extra jsonb default '{}')
    returns jsonb
    language sql
as $$
    select jsonb_build_object('cohort_id', cohort, 'mode', mode, 'members', coalesce(jsonb_agg(
               case when jsonb_typeof(m) = 'array'
                    then jsonb_strip_nulls(jsonb_build_object('email', m -> 0, 'first_name', m -> 1, 'last_name', m -> 2,
                                                              'circle_member_id', m -> 3, 'status', m -> 4))
                    else m end order by i), '[]')) || extra
      from jsonb_array_elements(members) with ordinality as t (m, i);
$$;

/** The summary's counts, without run_id (random) and error_rows. */
create function pg_temp.counts(summary jsonb) returns jsonb language sql immutable
    as $$ select summary - 'run_id' - 'error_rows' $$;

/** Each member's physical row version: any write changes ctid (and xmin, updated_at). */
create function pg_temp.row_versions(cohort text)
    returns jsonb
    language sql
as $$
    select jsonb_object_agg(m.email, jsonb_build_array(m.ctid::text, m.xmin::text, m.updated_at, m.last_synced_at))
      from public.course_cohort_members m where m.cohort_id = cohort;
$$;

/** Members of a cohort as [email, status, revoked now?] rows, by e-mail. */
create function pg_temp.members(cohort text)
    returns jsonb
    language sql
as $$
    select jsonb_agg(jsonb_build_array(m.email, m.status, m.revoked_at = now()) order by m.email)
      from public.course_cohort_members m where m.cohort_id = cohort;
$$;

create temporary table before (step text primary key, versions jsonb);
create temporary table summaries (step text primary key, summary jsonb);

-- An unchanged snapshot writes nothing (source_hash), e-mails trimmed and case-insensitive.
insert into before values ('seed', pg_temp.row_versions('cohort-2026-spring'));
insert into summaries values ('noop', pg_temp.sync('d-noop', pg_temp.payload('cohort-2026-spring', 'snapshot', $$[
    ["learner@example.com", "Lena", "Learner", "circle-1002"],
    ["  OPTOUT@Example.com ", "Oli", "Optout", "circle-1005", "active"],
    ["Mara.Jones@EXAMPLE.org", "Mara", "Jones", "circle-2001"],
    ["sam.okafor@example.org", "Sam", "Okafor", "circle-2002", " Active "],
    ["revoked@example.com", "Rita", "Revoked", "circle-1004", "revoked"]]$$)));
select is(pg_temp.counts(summary), '{"status": "success", "total_rows": 5, "inserted_count": 0, "updated_count": 0,
          "unchanged_count": 5, "deactivated_count": 0, "replayed": false}', 'an unchanged snapshot: 5 unchanged')
  from summaries where step = 'noop';
select is(pg_temp.row_versions('cohort-2026-spring'), (select versions from before where step = 'seed'),
          '... no row was written (ctid, xmin, updated_at, last_synced_at unchanged)');
select results_eq($$select delivery_id, cohort_id, mode, status::text, finished_at is not null from public.course_cohort_sync_runs
                     where id = (select (summary ->> 'run_id')::uuid from summaries where step = 'noop')$$,
                  $$values ('d-noop', 'cohort-2026-spring', 'snapshot', 'success', true)$$, '... and the run is recorded');

-- A new cohort: inserted, normalised.
insert into summaries values ('insert', pg_temp.sync('d-insert', pg_temp.payload('cohort-test', 'snapshot', $$[
    ["  A.One@Example.ORG ", "Ann", "One", "c-1"],
    ["b.two@example.org", " Bob ", "Two", "c-2"],
    ["c.three@example.org", "Cy", "Three"],
    ["d.four@example.org", "", null, "c-4"]]$$)));
select is(pg_temp.counts(summary), '{"status": "success", "total_rows": 4, "inserted_count": 4, "updated_count": 0,
          "unchanged_count": 0, "deactivated_count": 0, "replayed": false}', 'a snapshot of a new cohort: 4 inserted')
  from summaries where step = 'insert';
select results_eq($$select email::text, first_name, last_name, circle_member_id, status, revoked_at
                      from public.course_cohort_members where cohort_id = 'cohort-test' order by email$$,
                  $$values ('a.one@example.org', 'Ann', 'One', 'c-1', 'active', null::timestamptz),
                           ('b.two@example.org', 'Bob', 'Two', 'c-2', 'active', null),
                           ('c.three@example.org', 'Cy', 'Three', null, 'active', null),
                           ('d.four@example.org', null, null, 'c-4', 'active', null)$$,
                  '... stored trimmed, e-mails lower-cased, blanks as null');
select is(pg_temp.call_as('outsider', 'select public.check_prompt_access()', '{"sub": "00000000-0000-4000-c011-000000000001", "email": "A.One@example.org"}') ->> 'reason',
          'active_cohort_member', '... and the new member has access');

-- The same delivery again (also the seed's): the first summary, replayed, nothing applied twice.
insert into before values ('insert', pg_temp.row_versions('cohort-test'));
select is(pg_temp.sync('d-insert', pg_temp.payload('cohort-test', 'snapshot', '[["x@example.org"]]')),
          (select summary || '{"replayed": true}' from summaries where step = 'insert'),
          'a repeated delivery id returns the first summary (same run_id), replayed');
select is(pg_temp.row_versions('cohort-test'), (select versions from before where step = 'insert'), '... and changes nothing');
select is((select count(*)::int from public.course_cohort_sync_runs where delivery_id = 'd-insert'), 1, '... one run row');
select is(pg_temp.sync('msg_seed_initial_import', pg_temp.payload('cohort-2026-spring', 'delta', '[]')) - 'error_rows',
          (select jsonb_build_object('run_id', r.id, 'status', r.status, 'total_rows', r.total_rows, 'inserted_count', 5,
                                     'updated_count', 0, 'unchanged_count', 0, 'deactivated_count', 0, 'replayed', true)
             from public.course_cohort_sync_runs r where r.delivery_id = 'msg_seed_initial_import'),
          'the seed''s delivery id replays the seed''s run');

-- Delta: only the listed members change.
insert into summaries values ('delta', pg_temp.sync('d-delta', pg_temp.payload('cohort-test', 'delta', $$[
    ["b.two@example.org", "Bob", "Twofold", "c-2"],
    ["C.Three@example.org", "Cy", "Three"],
    ["e.five@example.org", "Eve", "Five", "c-5"],
    ["d.four@example.org", null, null, "c-4", "inactive"]]$$)));
select is(pg_temp.counts(summary), '{"status": "success", "total_rows": 4, "inserted_count": 1, "updated_count": 2,
          "unchanged_count": 1, "deactivated_count": 0, "replayed": false}', 'a delta: 1 inserted, 2 updated, 1 unchanged')
  from summaries where step = 'delta';
select is(pg_temp.row_versions('cohort-test') -> 'a.one@example.org', (select versions -> 'a.one@example.org' from before where step = 'insert'),
          '... the unlisted member is untouched');
select is(pg_temp.row_versions('cohort-test') -> 'c.three@example.org', (select versions -> 'c.three@example.org' from before where step = 'insert'),
          '... the unchanged member is not written');
select is(pg_temp.members('cohort-test'), '[["a.one@example.org", "active", null], ["b.two@example.org", "active", null],
          ["c.three@example.org", "active", null], ["d.four@example.org", "inactive", true], ["e.five@example.org", "active", null]]',
          '... a member listed as inactive is deactivated with revoked_at set');
select is(pg_temp.sync('d-reactivate', pg_temp.payload('cohort-test', 'delta', '[["d.four@example.org", null, null, "c-4"]]'))
          ->> 'updated_count', '1', 'a delta lists the inactive member as active again');
select results_eq($$select status, revoked_at from public.course_cohort_members where email = 'd.four@example.org'$$,
                  $$values ('active', null::timestamptz)$$, '... active, revoked_at cleared');

-- Snapshot: members missing from it are deactivated (up to half of the active ones).
insert into before values ('snapshot', pg_temp.row_versions('cohort-test'));
select is(pg_temp.counts(pg_temp.sync('d-snapshot', pg_temp.payload('cohort-test', 'snapshot', $$[
              ["a.one@example.org", "Ann", "One", "c-1"], ["b.two@example.org", "Bob", "Twofold", "c-2"],
              ["c.three@example.org", "Cy", "Three"]]$$))),
          '{"status": "success", "total_rows": 3, "inserted_count": 0, "updated_count": 0, "unchanged_count": 3,
            "deactivated_count": 2, "replayed": false}', 'a snapshot without d and e: 2 of 5 deactivated');
select is(pg_temp.members('cohort-test'), '[["a.one@example.org", "active", null], ["b.two@example.org", "active", null],
          ["c.three@example.org", "active", null], ["d.four@example.org", "inactive", true], ["e.five@example.org", "inactive", true]]',
          '... they are inactive, revoked now');
select is(pg_temp.row_versions('cohort-test') - 'd.four@example.org' - 'e.five@example.org',
          (select versions - 'd.four@example.org' - 'e.five@example.org' from before where step = 'snapshot'),
          '... and the three listed, unchanged members are not written');
select is(pg_temp.call_as('outsider', 'select public.check_prompt_access()', '{"sub": "00000000-0000-4000-c011-000000000005", "email": "e.five@example.org"}') ->> 'reason',
          'membership_inactive', '... and lose access');
select is(pg_temp.counts(pg_temp.sync('d-half', pg_temp.payload('cohort-2026-spring', 'snapshot', $$[
              ["learner@example.com", "Lena", "Learner", "circle-1002"], ["optout@example.com", "Oli", "Optout", "circle-1005"]]$$)))
          ->> 'deactivated_count', '2', 'deactivating exactly half of the active members (2 of 4) is allowed');

-- The mass-deactivation guard.
insert into before values ('guard', pg_temp.row_versions('cohort-test'));
insert into before values ('guard runs', to_jsonb(pg_temp.fingerprint('public.course_cohort_sync_runs')));
select pg_temp.expect('service_role', 'a snapshot deactivating 2 of 3 active members',
    format('select public.sync_cohort_members(%L, %L)', 'd-mass',
           pg_temp.payload('cohort-test', 'snapshot', '[["a.one@example.org", "Ann", "One", "c-1"]]')),
    'PT409: snapshot would deactivate 2 of 3 active members of cohort cohort-test');
select pg_temp.expect('service_role', 'a snapshot listing the active members as revoked',
    format('select public.sync_cohort_members(%L, %L)', 'd-mass',
           pg_temp.payload('cohort-test', 'snapshot', $$[["a.one@example.org", "Ann", "One", "c-1", "revoked"],
                                                         ["b.two@example.org", "Bob", "Twofold", "c-2", "inactive"],
                                                         ["c.three@example.org", "Cy", "Three"]]$$)),
    'PT409: snapshot would deactivate 2 of 3 active members of cohort cohort-test');
select ok(pg_temp.row_versions('cohort-test') = (select versions from before where step = 'guard')
          and to_jsonb(pg_temp.fingerprint('public.course_cohort_sync_runs')) = (select versions from before where step = 'guard runs'),
          '... refused: no member changed and no run was recorded');
select is(pg_temp.counts(pg_temp.sync('d-mass', pg_temp.payload('cohort-test', 'snapshot', '[["a.one@example.org", "Ann", "One", "c-1"]]',
                                                                '{"allow_mass_deactivation": true}'))) ->> 'deactivated_count',
          '2', 'with "allow_mass_deactivation": true the same delivery is applied');
select is(pg_temp.members('cohort-test') -> 0, '["a.one@example.org", "active", null]', '... only a is left active');

-- Invalid rows go to error_rows, the run is partial, valid rows still apply; an e-mail listed only
-- in an invalid row is not deactivated by a snapshot.
insert into summaries values ('partial', pg_temp.sync('d-partial', pg_temp.payload('cohort-invalid', 'delta', $$[
    ["f.six@example.org", "Fay", "Six"],
    ["not-an-email"],
    ["g.seven@example.org", "Gus", "Seven", null, "banned"],
    42,
    {"first_name": "No email"},
    ["F.Six@example.org ", "Fay", "Again"]]$$)));
select is(pg_temp.counts(summary), '{"status": "partial", "total_rows": 6, "inserted_count": 1, "updated_count": 0,
          "unchanged_count": 0, "deactivated_count": 0, "replayed": false}', 'a delta with 5 invalid rows: partial, 1 inserted')
  from summaries where step = 'partial';
select is(summary -> 'error_rows', '[{"index": 1, "email": "not-an-email", "error": "invalid email"},
                                     {"index": 2, "email": "g.seven@example.org", "error": "unknown status"},
                                     {"index": 3, "email": null, "error": "member must be an object"},
                                     {"index": 4, "email": null, "error": "email is required"},
                                     {"index": 5, "email": "F.Six@example.org ", "error": "duplicate email in this delivery"}]',
          '... each invalid row reported with its index, e-mail and reason')
  from summaries where step = 'partial';
select is(pg_temp.members('cohort-invalid'), '[["f.six@example.org", "active", null]]', '... only the valid row was applied');
select is(pg_temp.counts(pg_temp.sync('d-partial-snapshot', pg_temp.payload('cohort-invalid', 'snapshot',
              '[["f.six@example.org", "Fay", "Six", null, "sleeping"]]'))),
          '{"status": "partial", "total_rows": 1, "inserted_count": 0, "updated_count": 0, "unchanged_count": 0,
            "deactivated_count": 0, "replayed": false}', 'a snapshot whose only row for f is invalid');
select is(pg_temp.members('cohort-invalid'), '[["f.six@example.org", "active", null]]', '... leaves f active');

-- A failed run does not block a retry of the same delivery id.
select is(pg_temp.call_as('service_role', $$select public.record_failed_cohort_sync('d-retry', 'cohort-test', 'delta', 'timeout')$$) ->> 'status',
          'failed', 'record_failed_cohort_sync records a failed run');
select is(pg_temp.sync('d-retry', pg_temp.payload('cohort-test', 'delta', '[["h.eight@example.org"]]')) ->> 'inserted_count',
          '1', '... a retry of that delivery id is applied');
select is(pg_temp.sync('d-retry', pg_temp.payload('cohort-test', 'delta', '[["h.eight@example.org"]]')) ->> 'replayed',
          'true', '... and a further retry is a replay');
select results_eq($$select status::text, error_message from public.course_cohort_sync_runs where delivery_id = 'd-retry' order by status$$,
                  $$values ('failed', 'timeout'), ('success', null)$$, '... two run rows: the failure and the success');

-- Malformed deliveries.
select pg_temp.expect('service_role', t.what, format('select public.sync_cohort_members(%L, %L)', t.delivery, t.payload), '22023: ' || t.message)
  from (values
        ('an empty delivery id', ' ', '{"cohort_id": "c", "mode": "delta", "members": []}'::jsonb, 'delivery_id must be 1 to 200 characters'),
        ('a 201-character delivery id', repeat('d', 201), '{"cohort_id": "c", "mode": "delta", "members": []}', 'delivery_id must be 1 to 200 characters'),
        ('a payload that is an array', 'd-bad', '[]', 'payload must be a JSON object'),
        ('no cohort_id', 'd-bad', '{"mode": "delta", "members": []}', 'cohort_id must be 1 to 200 characters'),
        ('an unknown mode', 'd-bad', '{"cohort_id": "c", "mode": "full", "members": []}', 'mode must be "snapshot" or "delta"'),
        ('members not an array', 'd-bad', '{"cohort_id": "c", "mode": "delta", "members": {}}', 'members must be a JSON array'),
        ('a string allow_mass_deactivation', 'd-bad', '{"cohort_id": "c", "mode": "delta", "members": [], "allow_mass_deactivation": "yes"}',
         'allow_mass_deactivation must be a boolean')
       ) as t (what, delivery, payload, message);

-- Only the service role may sync.
select pg_temp.expect(a, f.fn, f.sql, pg_temp.denied_fn(f.fn))
  from unnest(array['anon', 'learner', 'admin', 'jwtadmin']) as a
 cross join (values ('sync_cohort_members', $$select public.sync_cohort_members('d-x', '{"cohort_id": "c", "mode": "delta", "members": []}')$$),
                    ('record_failed_cohort_sync', $$select public.record_failed_cohort_sync('d-x', 'c', 'delta', 'boom')$$)) as f (fn, sql);

select * from finish();
rollback;
