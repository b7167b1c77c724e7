-- RLS matrix (contract §3) for prompt_usage_logs (learners insert their own events, anonymous when
-- opted out, and read their own while opted in; admins read all) and prompt_access_audit (admins
-- read; only the service role inserts; nobody rewrites or deletes the trail through the API).
begin;
\ir _helpers.psql
select plan(93);

-- Seed: 3 events of the learner on 01 and one anonymous event on 05. The revoked learner logged one
-- while still a member.
insert into public.prompt_usage_logs (user_id, prompt_id, action) values
    ('00000000-0000-4000-a000-000000000004', '30000000-0000-4000-a000-000000000001', 'view');

-- prompt_usage_logs ---------------------------------------------------------------------------------
select pg_temp.matrix('prompt_usage_logs', array[
    --                       anon   outsider usermeta revoked learner optout admin  jwtadmin service_role
    ['select',              'denied 0        0        0       3       0      5      5        5',
     $$select * from public.prompt_usage_logs$$],
    ['insert own',          'denied rls      rls      rls     1       rls    1      1        1',
     $$insert into public.prompt_usage_logs (user_id, prompt_id, action)
       values ((select auth.uid()), '30000000-0000-4000-a000-000000000001', 'view')$$],
    ['insert anonymous',    'denied rls      rls      rls     rls     1      rls    rls      1',
     $$insert into public.prompt_usage_logs (user_id, prompt_id, action)
       values (null, '30000000-0000-4000-a000-000000000001', 'view')$$],
    ['insert as learner',   'denied rls      rls      rls     1       rls    rls    rls      1',
     $$insert into public.prompt_usage_logs (user_id, prompt_id, action)
       values ('00000000-0000-4000-a000-000000000002', '30000000-0000-4000-a000-000000000001', 'copy')$$],
    ['update',              'denied denied   denied   denied  denied  denied denied denied   5',
     $$update public.prompt_usage_logs set action = 'copy'$$],
    ['delete',              'denied denied   denied   denied  denied  denied denied denied   5',
     $$delete from public.prompt_usage_logs$$]],
    'anon outsider usermeta revoked learner optout admin jwtadmin service_role');

select pg_temp.check('prompt_usage_logs', 'optout', 'insert anonymous with metadata',
    $$insert into public.prompt_usage_logs (user_id, prompt_id, action, metadata)
      values (null, '30000000-0000-4000-a000-000000000001', 'view', '{"client": "web"}')$$, 'rls');
select pg_temp.check('prompt_usage_logs', 'learner', 'insert own on the draft prompt 12',
    $$insert into public.prompt_usage_logs (user_id, prompt_id, action)
      values ((select auth.uid()), '30000000-0000-4000-a000-000000000012', 'view')$$, 'rls');

update public.prompt_feature_flags set enabled = false where key = 'PROMPT_USAGE_LOGGING_ENABLED';
select pg_temp.check('prompt_usage_logs', 'learner', 'insert own while PROMPT_USAGE_LOGGING_ENABLED is off',
    $$insert into public.prompt_usage_logs (user_id, prompt_id, action)
      values ((select auth.uid()), '30000000-0000-4000-a000-000000000001', 'view')$$, 'rls');
update public.prompt_feature_flags set enabled = true where key = 'PROMPT_USAGE_LOGGING_ENABLED';

-- version_id is the prompt's current version, whatever the client sends (01 is at v3).
select is(pg_temp.attempt('learner',
    $$insert into public.prompt_usage_logs (user_id, prompt_id, version_id, action, metadata)
      select (select auth.uid()), v.prompt_id, v.id, 'copy', '{"marker": "version-test"}'
        from public.prompt_versions v
       where v.prompt_id = '30000000-0000-4000-a000-000000000001' and v.version_number = 1$$, keep => true),
    pg_temp.rows(1), 'learner logs an event that names version 1 of prompt 01');
select is((select l.version_id from public.prompt_usage_logs l where l.metadata ->> 'marker' = 'version-test'),
          (select p.current_version_id from public.prompts p where p.id = '30000000-0000-4000-a000-000000000001'),
          'the stored version_id is the current version of the prompt, not the one sent');
select is((select v.version_number from public.prompt_usage_logs l join public.prompt_versions v on v.id = l.version_id
            where l.metadata ->> 'marker' = 'version-test'), 3, '... which is version 3');

-- prompt_access_audit --------------------------------------------------------------------------------
select pg_temp.matrix('prompt_access_audit', array[
    --                       anon   outsider usermeta revoked learner admin  jwtadmin service_role
    ['select',              'denied 0        0        0       0       2      2        2',
     $$select * from public.prompt_access_audit$$],
    ['insert',              'denied denied   denied   denied  denied  denied denied   1',
     $$insert into public.prompt_access_audit (user_id, decision, reason) values ((select auth.uid()), 'granted', 'admin')$$],
    ['update',              'denied denied   denied   denied  denied  denied denied   denied',
     $$update public.prompt_access_audit set decision = 'granted'$$],
    ['delete',              'denied denied   denied   denied  denied  denied denied   denied',
     $$delete from public.prompt_access_audit$$]]);

select ok(not has_table_privilege('service_role', 'public.prompt_access_audit', 'update, delete, truncate'),
          'service_role holds no update, delete or truncate privilege on prompt_access_audit');

select * from finish();
rollback;
