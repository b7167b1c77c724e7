-- publish_prompt_version_idempotent: publish_prompt_version() at most once per caller and
-- Idempotency-Key. Actors: admin, jwtadmin (another admin), learner, anon, service_role.
-- (A concurrent retry while the first request is in flight, PT409, needs two sessions: it is in
-- tests/functions/test_e2e_publish_idempotency.py.)
begin;
\ir _helpers.psql
select plan(29);

/** publish_prompt_version_idempotent(key, <args>) as `actor`; effects kept. */
create function pg_temp.publish_once(actor text, key text, args text)
    returns jsonb
    language sql
as $$
    select pg_temp.call_as(actor, format('select public.publish_prompt_version_idempotent(%L, %s)', key, args));
$$;
create function pg_temp.versions(n integer) returns bigint language sql
    as $$ select count(*) from public.prompt_versions v where v.prompt_id = pg_temp.prompt_id(n) $$;
create function pg_temp.keys() returns bigint language sql
    as $$ select count(*) from private.publish_idempotency_keys $$;

create temporary table first (result jsonb);
grant all on first to public;
insert into first select pg_temp.publish_once('admin', 'key-1', $$pg_temp.prompt_id(2), markdown_body => 'Body A', changelog => 'A'$$);

-- The first request publishes the next version.
select is((select result -> 'replayed' from first), 'false', 'first request: replayed = false');
select is((select (result ->> 'version_number')::int from first), 4, '... created version 4 of prompt 02');
select is(pg_temp.versions(2), 4::bigint, '... one new version');
select is((select result - 'replayed' from first),
          (select jsonb_build_object('prompt_id', p.id, 'current_version_id', p.current_version_id,
                                     'version_number', 4, 'status', p.status, 'published_at', p.published_at,
                                     'archived_at', p.archived_at, 'is_deleted', p.is_deleted)
             from public.prompts p where p.id = pg_temp.prompt_id(2)),
          '... and returns publish_prompt_version''s result');

-- A retry with the same key and request returns the first result and creates nothing.
select is(pg_temp.publish_once('admin', 'key-1', $$pg_temp.prompt_id(2), markdown_body => 'Body A', changelog => 'A'$$),
          (select result - 'replayed' || '{"replayed": true}' from first), 'retry: the first result, replayed = true');
select is(pg_temp.versions(2), 4::bigint, '... no new version');
select is(pg_temp.publish_once('admin', 'key-1', $$pg_temp.prompt_id(2), markdown_body => 'Body A', changelog => 'A'$$) - 'replayed',
          (select result - 'replayed' from first), 'a third retry: still the first result');

-- The same key for a different request is refused, whatever differs.
select pg_temp.expect('admin', 'same key, other body', $$select public.publish_prompt_version_idempotent('key-1',
        pg_temp.prompt_id(2), markdown_body => 'Body B', changelog => 'A')$$,
    'PT422: this Idempotency-Key was already used for a different request; use a new key');
select pg_temp.expect('admin', 'same key, other changelog', $$select public.publish_prompt_version_idempotent('key-1',
        pg_temp.prompt_id(2), markdown_body => 'Body A')$$,
    'PT422: this Idempotency-Key was already used for a different request; use a new key');
select pg_temp.expect('admin', 'same key, other prompt', $$select public.publish_prompt_version_idempotent('key-1',
        pg_temp.prompt_id(3), markdown_body => 'Body A', changelog => 'A')$$,
    'PT422: this Idempotency-Key was already used for a different request; use a new key');
select is(pg_temp.versions(3), 3::bigint, '... nothing was published on prompt 03');

-- Keys belong to their caller: another admin's identical key is a new request.
select is(pg_temp.publish_once('jwtadmin', 'key-1', $$pg_temp.prompt_id(2), markdown_body => 'Body A', changelog => 'A'$$) ->> 'version_number',
          '5', 'another admin with the same key publishes (version 5)');
select is(pg_temp.publish_once('service_role', 'key-1', $$pg_temp.prompt_id(2), markdown_body => 'Body A', changelog => 'A'$$) ->> 'version_number',
          '6', 'the service role with the same key publishes (version 6)');
select is(pg_temp.publish_once('service_role', 'key-1', $$pg_temp.prompt_id(2), markdown_body => 'Body A', changelog => 'A'$$) ->> 'replayed',
          'true', '... and its retry is replayed');
select results_eq($$select caller from private.publish_idempotency_keys order by created_at, caller$$,
                  $$values ('00000000-0000-4000-a000-000000000001'), ('00000000-0000-4000-b000-000000000001'), ('service_role')$$,
                  'one key row per caller');

-- A refused or failed request stores no key, so its retry runs again.
select pg_temp.expect('learner', 'a learner', $$select public.publish_prompt_version_idempotent('key-2',
        pg_temp.prompt_id(2), markdown_body => 'x')$$, 'PT403: only prompt admins can do this');
select pg_temp.expect('admin', 'on the soft-deleted prompt 14', $$select public.publish_prompt_version_idempotent('key-3',
        pg_temp.prompt_id(14), markdown_body => 'x')$$,
    'PT409: prompt 30000000-0000-4000-a000-000000000014 is deleted; restore it before publishing');
select pg_temp.expect('anon', 'anon', $$select public.publish_prompt_version_idempotent('key-4',
        pg_temp.prompt_id(2), markdown_body => 'x')$$, pg_temp.denied_fn('publish_prompt_version_idempotent'));
select is(pg_temp.keys(), 3::bigint, '... none of them stored a key');
update public.prompts set is_deleted = false, deleted_at = null where id = pg_temp.prompt_id(14);
select is(pg_temp.publish_once('admin', 'key-3', $$pg_temp.prompt_id(14), markdown_body => 'x'$$) ->> 'replayed',
          'false', 'the failed request''s key publishes once the prompt is restored');

-- Malformed keys.
select pg_temp.expect('admin', format('key %s', k), format($$select public.publish_prompt_version_idempotent(%s,
        pg_temp.prompt_id(2), markdown_body => 'x')$$, k),
    '22023: Idempotency-Key must be 1 to 255 visible ASCII characters')
  from unnest(array['null', $$''$$, $$'has space'$$, format('%L', repeat('k', 256)), $$'caf' || chr(233)$$, $$E'tab\t'$$]) k;

-- Keys expire after 24 hours: an old key is a new request.
update private.publish_idempotency_keys set created_at = now() - interval '25 hours'
 where caller = '00000000-0000-4000-a000-000000000001' and idempotency_key = 'key-1';
select is(pg_temp.publish_once('admin', 'key-1', $$pg_temp.prompt_id(2), markdown_body => 'Body B'$$) ->> 'replayed',
          'false', 'an expired key is reused for a new request');

-- The table is not readable or writable across callers (RLS), and anon has no access.
select pg_temp.expect('jwtadmin', 'read the keys', 'select * from private.publish_idempotency_keys', pg_temp.rows(1));
select pg_temp.expect('jwtadmin', 'add a key for another caller', $$insert into private.publish_idempotency_keys
        (caller, idempotency_key, request_hash, result) values ('00000000-0000-4000-a000-000000000001', 'k', '\x00', '{}')$$,
    pg_temp.rls('publish_idempotency_keys'));

select * from finish();
rollback;
