-- Issue 17 item 3: usage metadata nests at most 32 levels, enforced by the database for every
-- writer (REST, RPC, service role). Before 20261202100900 the 33-level inserts were stored.
begin;
\ir _helpers.psql
select plan(8);

/** An object nesting `n` levels: {"a": {"a": ... {}}}. */
create function pg_temp.nested(n integer) returns jsonb language sql immutable as $$
    select (repeat('{"a": ', n - 1) || '{}' || repeat('}', n - 1))::jsonb;
$$;

select is(private.jsonb_depth('1'::jsonb), 0, 'a scalar has depth 0');
select is(private.jsonb_depth('{"a": [1, {"b": []}]}'::jsonb), 4, '{"a": [1, {"b": []}]} has depth 4');
select is(private.jsonb_depth(pg_temp.nested(33)), 33, 'pg_temp.nested(33) has depth 33');

create function pg_temp.insert_sql(depth integer) returns text language sql as $f$
    select format($$insert into public.prompt_usage_logs (user_id, prompt_id, action, metadata)
                    values ((select auth.uid()), '30000000-0000-4000-a000-000000000001', 'view', %L)$$,
                  jsonb_build_object('m', pg_temp.nested(depth - 1)));
$f$;
select pg_temp.expect('learner', 'insert metadata 32 levels deep', pg_temp.insert_sql(32), pg_temp.rows(1));
select pg_temp.expect('learner', '[item 3] insert metadata 33 levels deep', pg_temp.insert_sql(33),
    '23514: new row for relation "prompt_usage_logs" violates check constraint "prompt_usage_logs_metadata_depth_check"');
select pg_temp.expect('service_role', '[item 3] insert metadata 33 levels deep',
    replace(pg_temp.insert_sql(33), '(select auth.uid())', '''00000000-0000-4000-a000-000000000002'''),
    '23514: new row for relation "prompt_usage_logs" violates check constraint "prompt_usage_logs_metadata_depth_check"');
select pg_temp.expect('learner', '[item 3] ingest_usage_events with metadata 33 levels deep',
    format('select public.ingest_usage_events(%L)', jsonb_build_array(jsonb_build_object(
        'prompt_id', '30000000-0000-4000-a000-000000000001', 'action', 'view',
        'metadata', jsonb_build_object('m', pg_temp.nested(32)))))::text,
    '23514: new row for relation "prompt_usage_logs" violates check constraint "prompt_usage_logs_metadata_depth_check"');
select pg_temp.expect('learner', 'ingest_usage_events with metadata 32 levels deep',
    format('select public.ingest_usage_events(%L)', jsonb_build_array(jsonb_build_object(
        'prompt_id', '30000000-0000-4000-a000-000000000001', 'action', 'view',
        'metadata', jsonb_build_object('m', pg_temp.nested(31)))))::text,
    pg_temp.rows(1));

select * from finish();
rollback;
