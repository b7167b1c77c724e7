-- Usage telemetry RPCs: ingest_usage_events (counts, opt-out anonymisation, invisible prompts
-- dropped, flags, batch limits, version_id) and set_telemetry_opt_out (anonymises past events).
-- Seed: the learner has 3 events on 01; optout has opted out; both flags are on.
begin;
\ir _helpers.psql
select plan(47);

/** Ingest `events` as `actor`. */
create function pg_temp.ingest(actor text, events jsonb)
    returns jsonb
    language sql
as $$
    select pg_temp.call_as(actor, format('select public.ingest_usage_events(%L)', events));
$$;

/** A batch of `n` events of `action` on the given prompts, in turn. */
create function pg_temp.events(prompts integer[], n integer default null, extra jsonb default '{}')
    returns jsonb
    language sql
as $$
    select jsonb_agg(jsonb_build_object('prompt_id', pg_temp.prompt_id(prompts[1 + i % cardinality(prompts)]),
                                        'action', 'view') || extra)
      from generate_series(0, coalesce(n, cardinality(prompts)) - 1) as i;
$$;

/** Events stored in this transaction (the seed's are older), as postgres sees them. */
create function pg_temp.new_events()
    returns setof public.prompt_usage_logs
    language sql
as $$
    select * from public.prompt_usage_logs where created_at = now();
$$;

-- A learner with access: visible prompts are stored with their id, the rest dropped and counted.
select is(pg_temp.ingest('learner', jsonb_build_array(
              jsonb_build_object('prompt_id', pg_temp.prompt_id(1), 'action', 'view', 'metadata', '{"client": "web"}'::jsonb),
              jsonb_build_object('prompt_id', pg_temp.prompt_id(2), 'action', 'copy'),
              jsonb_build_object('prompt_id', pg_temp.prompt_id(3), 'action', 'favorite', 'occurred_at', (now() - interval '3 days')),
              jsonb_build_object('prompt_id', pg_temp.prompt_id(12), 'action', 'view'),
              jsonb_build_object('prompt_id', pg_temp.prompt_id(13), 'action', 'view'),
              jsonb_build_object('prompt_id', pg_temp.prompt_id(14), 'action', 'view'),
              jsonb_build_object('prompt_id', gen_random_uuid(), 'action', 'view'))),
          '{"accepted": 3, "anonymized": 0, "dropped": 4}',
          'learner: 3 events on visible prompts accepted; draft, archived, deleted and unknown prompts dropped');
select results_eq(
    $$select e.user_id, e.prompt_id, e.action, e.metadata, e.occurred_at, e.version_id = p.current_version_id
        from pg_temp.new_events() e join public.prompts p on p.id = e.prompt_id order by e.prompt_id$$,
    $$values ('00000000-0000-4000-a000-000000000002'::uuid, pg_temp.prompt_id(1), 'view', '{"client": "web"}'::jsonb, now(), true),
             ('00000000-0000-4000-a000-000000000002'::uuid, pg_temp.prompt_id(2), 'copy', null, now(), true),
             ('00000000-0000-4000-a000-000000000002'::uuid, pg_temp.prompt_id(3), 'favorite', null, now() - interval '3 days', true)$$,
    '... stored with the learner''s id, metadata, occurred_at (default now) and the current version');

-- The recorded version follows publishing.
select ok(pg_temp.call_as('admin', $$select public.publish_prompt_version(pg_temp.prompt_id(2), markdown_body => 'v4')$$) is not null,
          'admin publishes version 4 of prompt 02');
select is(pg_temp.ingest('learner', pg_temp.events(array[2])) ->> 'accepted', '1', 'learner views prompt 02 again');
select is((select v.version_number from pg_temp.new_events() e join public.prompt_versions v on v.id = e.version_id
            where e.prompt_id = pg_temp.prompt_id(2) order by v.version_number desc limit 1),
          4, '... and the event records version 4, current when it happened');

-- Opted out: stored without user_id and metadata, counted as anonymized.
select is(pg_temp.ingest('optout', pg_temp.events(array[1, 5, 12], extra => '{"metadata": {"client": "ios"}}')),
          '{"accepted": 0, "anonymized": 2, "dropped": 1}', 'optout: visible events anonymized, the draft dropped');
select results_eq(
    $$select count(*) filter (where user_id is null and metadata is null), count(*) filter (where metadata ->> 'client' = 'ios')
        from pg_temp.new_events()$$,
    $$values (2::bigint, 0::bigint)$$, '... stored with user_id and metadata null');
select is_empty($$select 1 from public.prompt_usage_logs where user_id = '00000000-0000-4000-a000-000000000005'$$,
                '... nothing carries the opted-out user''s id');

-- Without access everything is dropped and nothing stored; an admin may log on any prompt.
select is(pg_temp.ingest(a, pg_temp.events(array[1, 2])), '{"accepted": 0, "anonymized": 0, "dropped": 2}',
          a || ': all events dropped')
  from unnest(array['outsider', 'revoked', 'usermeta']) as a;
select is((select count(*)::int from pg_temp.new_events()), 6, '... and nothing was stored for them');
select is(pg_temp.ingest('admin', pg_temp.events(array[12, 14])), '{"accepted": 2, "anonymized": 0, "dropped": 0}',
          'admin: events on the draft and the deleted prompt are accepted (admins see them)');

-- Flags: logging off drops everything; the prompt manager off refuses the call.
update public.prompt_feature_flags set enabled = false where key = 'PROMPT_USAGE_LOGGING_ENABLED';
select is(pg_temp.ingest(a, pg_temp.events(array[1, 2, 3])), '{"accepted": 0, "anonymized": 0, "dropped": 3}',
          a || ': PROMPT_USAGE_LOGGING_ENABLED off, all dropped')
  from unnest(array['learner', 'optout', 'admin']) as a;
select is((select count(*)::int from pg_temp.new_events()), 8, '... and nothing stored');
update public.prompt_feature_flags set enabled = true where key = 'PROMPT_USAGE_LOGGING_ENABLED';
update public.prompt_feature_flags set enabled = false where key = 'PROMPT_MANAGER_ENABLED';
select pg_temp.expect('learner', 'ingest with PROMPT_MANAGER_ENABLED off',
    format('select public.ingest_usage_events(%L)', pg_temp.events(array[1])), 'PT503: the prompt manager is disabled');
update public.prompt_feature_flags set enabled = true where key = 'PROMPT_MANAGER_ENABLED';

-- Malformed batches and callers.
select pg_temp.expect(t.actor, t.what, format('select public.ingest_usage_events(%s)', t.arg), t.expected)
  from (values
        ('learner', 'an empty batch', $$'[]'$$, '22023: a batch holds 1 to 500 events, got 0'),
        ('learner', '501 events', 'pg_temp.events(array[1], 501)', '22023: a batch holds 1 to 500 events, got 501'),
        ('learner', 'an object instead of an array', $$'{"events": []}'$$, '22023: events must be a JSON array'),
        ('learner', 'null', 'null', '22023: events must be a JSON array'),
        ('learner', 'an event without prompt_id', $$'[{"action": "view"}]'$$,
         '22023: every event needs a prompt_id string, an action, and an optional metadata object'),
        ('learner', 'an event without action', format('%L', jsonb_build_array(jsonb_build_object('prompt_id', pg_temp.prompt_id(1)))),
         '22023: every event needs a prompt_id string, an action, and an optional metadata object'),
        ('learner', 'metadata that is an array', $$pg_temp.events(array[1], extra => '{"metadata": [1]}')$$,
         '22023: every event needs a prompt_id string, an action, and an optional metadata object'),
        ('learner', 'an unknown action', $$pg_temp.events(array[1], extra => '{"action": "print"}')$$,
         '23514: new row for relation "prompt_usage_logs" violates check constraint "prompt_usage_logs_action_check"'),
        ('learner', 'metadata over 4 KB', format('pg_temp.events(array[1], extra => %L)',
                                                 jsonb_build_object('metadata', jsonb_build_object('note', repeat('x', 4100)))),
         '23514: new row for relation "prompt_usage_logs" violates check constraint "prompt_usage_logs_metadata_check"'),
        ('learner', 'an event 31 days old', format('pg_temp.events(array[1], extra => %L)',
                                                   jsonb_build_object('occurred_at', now() - interval '31 days')),
         '22023: occurred_at must be within the last 30 days and at most 5 minutes ahead'),
        ('learner', 'an event 10 minutes ahead', format('pg_temp.events(array[1], extra => %L)',
                                                        jsonb_build_object('occurred_at', now() + interval '10 minutes')),
         '22023: occurred_at must be within the last 30 days and at most 5 minutes ahead'),
        ('anon', 'a batch', 'pg_temp.events(array[1])', pg_temp.denied_fn('ingest_usage_events')),
        ('service_role', 'a batch (no user)', 'pg_temp.events(array[1])', '42501: permission denied for function ingest_usage_events')  -- issue 17 item 7 (was: sign in to log usage)
       ) as t (actor, what, arg, expected);
select is(pg_temp.attempt('learner', $$insert into public.prompt_usage_logs (user_id, prompt_id, action, occurred_at)
                                      values ('00000000-0000-4000-a000-000000000002', '30000000-0000-4000-a000-000000000001',
                                              'view', now() - interval '400 days')$$),
          pg_temp.rls('prompt_usage_logs'), 'a direct insert of an event 400 days old is refused by RLS too');
select is(pg_temp.ingest('learner', pg_temp.events(array[1, 2, 3, 4, 5], 500)), '{"accepted": 500, "anonymized": 0, "dropped": 0}',
          'a batch of 500 events is accepted');

-- set_telemetry_opt_out: opting out anonymises past events; opting in again applies from then on.
select is(pg_temp.call_as('learner', 'select public.set_telemetry_opt_out(true)') - 'updated_at',
          '{"user_id": "00000000-0000-4000-a000-000000000002", "telemetry_opt_out": true}', 'learner opts out');
select is_empty($$select 1 from public.prompt_usage_logs where user_id = '00000000-0000-4000-a000-000000000002'$$,
                '... none of the learner''s events carries their id any more');
select is((select count(*)::int from public.prompt_usage_logs where user_id is null and metadata is null and prompt_id = pg_temp.prompt_id(1)
             and occurred_at < now()), 3, '... the seed''s three events are still counted, anonymously, without metadata');
select is(pg_temp.call_as('learner', 'select to_jsonb(count(*)) from public.prompt_usage_logs'), '0',
          '... and the learner reads none');
select is(pg_temp.ingest('learner', pg_temp.events(array[1], extra => '{"metadata": {"client": "web"}}')),
          '{"accepted": 0, "anonymized": 1, "dropped": 0}', '... new events are anonymized');
select is(pg_temp.call_as('learner', 'select public.set_telemetry_opt_out(false)') ->> 'telemetry_opt_out', 'false',
          'learner opts in again');
select is((select count(*)::int from public.prompt_user_preferences where user_id = '00000000-0000-4000-a000-000000000002'), 1,
          '... one preference row, upserted');
select is(pg_temp.ingest('learner', pg_temp.events(array[1], extra => '{"metadata": {"client": "web"}}')),
          '{"accepted": 1, "anonymized": 0, "dropped": 0}', '... new events carry their id again');
select is(pg_temp.call_as('learner', 'select to_jsonb(count(*)) from public.prompt_usage_logs'), '1',
          '... and the learner reads only that one (the past stays anonymous)');
select pg_temp.expect(t.actor, 'set_telemetry_opt_out(' || t.arg || ')', format('select public.set_telemetry_opt_out(%s)', t.arg), t.expected)
  from (values ('learner', 'null', '22023: opt_out must be true or false'),
               ('anon', 'true', pg_temp.denied_fn('set_telemetry_opt_out')),
               ('service_role', 'true', '42501: permission denied for function set_telemetry_opt_out')) as t (actor, arg, expected);  -- service_role: issue 17 item 7

-- Opting out through the table (PostgREST upsert on prompt_user_preferences) anonymises too.
select is(pg_temp.attempt('admin', $$insert into public.prompt_user_preferences (telemetry_opt_out) values (true)$$, keep => true),
          pg_temp.rows(1), 'admin opts out by inserting their preference row');
select is_empty($$select 1 from public.prompt_usage_logs where user_id = '00000000-0000-4000-a000-000000000001'$$,
                '... their events are anonymised as well');

select * from finish();
rollback;
