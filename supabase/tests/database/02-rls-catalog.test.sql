-- RLS matrix (contract §3) for the outline and the settings tables: prompt_modules, prompt_lessons,
-- prompt_feature_flags, prompt_admins. Every actor × select/insert/update/delete; each cell runs
-- alone (its effects are rolled back) against the seed. Plus: who counts as a prompt admin.
begin;
\ir _helpers.psql
select plan(137);

-- A module and a lesson no prompt uses, so a permitted delete is not stopped by a foreign key.
insert into public.prompt_modules (id, slug, title) values
    ('10000000-0000-4000-a000-000000000099', 'spare-module', 'Spare module');
insert into public.prompt_lessons (id, module_id, slug, title) values
    ('20000000-0000-4000-a000-000000000099', '10000000-0000-4000-a000-000000000099', 'spare-lesson', 'Spare lesson');

-- prompt_modules and prompt_lessons: every signed-in user reads the default course workspace's outline;
-- its admins (v1's prompt admins are platform admins, so admins of it) and the service role write
-- (contract §16: v1 let prompt admins only read them).
select pg_temp.matrix('prompt_modules', array[
    --                       anon   outsider usermeta revoked learner admin  jwtadmin service_role
    ['select',              'denied 4        4        4       4       4      4        4',
     $$select * from public.prompt_modules$$],
    ['insert',              'denied rls      rls      rls     rls     1      1        1',
     $$insert into public.prompt_modules (slug, title) values ('matrix-module', 'Matrix')$$],
    ['update',              'denied 0        0        0       0       1      1        1',
     $$update public.prompt_modules set title = 'Changed' where id = '10000000-0000-4000-a000-000000000001'$$],
    ['delete',              'denied 0        0        0       0       1      1        1',
     $$delete from public.prompt_modules where id = '10000000-0000-4000-a000-000000000099'$$]]);

select pg_temp.matrix('prompt_lessons', array[
    --                       anon   outsider usermeta revoked learner admin  jwtadmin service_role
    ['select',              'denied 7        7        7       7       7      7        7',
     $$select * from public.prompt_lessons$$],
    ['insert',              'denied rls      rls      rls     rls     1      1        1',
     $$insert into public.prompt_lessons (module_id, slug, title)
       values ('10000000-0000-4000-a000-000000000001', 'matrix-lesson', 'Matrix')$$],
    ['update',              'denied 0        0        0       0       1      1        1',
     $$update public.prompt_lessons set title = 'Changed' where id = '20000000-0000-4000-a000-000000000001'$$],
    ['delete',              'denied 0        0        0       0       1      1        1',
     $$delete from public.prompt_lessons where id = '20000000-0000-4000-a000-000000000099'$$]]);

-- prompt_feature_flags: every signed-in user reads; prompt admins (row or claim) and the service
-- role write; other writes are refused (insert) or match no row (update, delete).
select pg_temp.matrix('prompt_feature_flags', array[
    --                       anon   outsider usermeta revoked learner admin  jwtadmin service_role
    ['select',              'denied 2        2        2       2       2      2        2',
     $$select * from public.prompt_feature_flags$$],
    ['insert',              'denied rls      rls      rls     rls     1      1        1',
     $$insert into public.prompt_feature_flags (key, enabled) values ('MATRIX_FLAG', true)$$],
    ['update',              'denied 0        0        0       0       1      1        1',
     $$update public.prompt_feature_flags set enabled = false where key = 'PROMPT_MANAGER_ENABLED'$$],
    ['delete',              'denied 0        0        0       0       1      1        1',
     $$delete from public.prompt_feature_flags where key = 'PROMPT_USAGE_LOGGING_ENABLED'$$]]);

select pg_temp.untouched_by('public.prompt_feature_flags',
    array['outsider', 'usermeta', 'revoked', 'learner'],
    array[$$update public.prompt_feature_flags set enabled = false$$,
          $$delete from public.prompt_feature_flags$$]);

-- prompt_admins: a user reads only their own row; only the service role writes.
select pg_temp.matrix('prompt_admins', array[
    --                       anon   outsider usermeta revoked learner admin  jwtadmin service_role
    ['select',              'denied 0        0        0       0       1      0        1',
     $$select * from public.prompt_admins$$],
    ['insert (the outsider)', 'denied denied denied   denied  denied  denied denied   1',
     $$insert into public.prompt_admins (user_id) values ('00000000-0000-4000-a000-000000000003')$$],
    ['update',              'denied denied   denied   denied  denied  denied denied   1',
     $$update public.prompt_admins set note = 'Changed'$$],
    ['delete',              'denied denied   denied   denied  denied  denied denied   1',
     $$delete from public.prompt_admins$$]]);

-- Who is a prompt admin: the prompt_admins row or app_metadata.prompt_admin = true, nothing else.
select is(pg_temp.call_as(g.actor, 'select to_jsonb(public.fn_is_prompt_admin())', g.claims), g.expected,
          format('fn_is_prompt_admin() for %s %s is %s', g.actor, g.claims, g.expected))
  from (values
        ('admin',    '{}'::jsonb, 'true'::jsonb),
        ('jwtadmin', '{}', 'true'),
        ('learner',  '{}', 'false'),
        ('usermeta', '{}', 'false'),
        ('outsider', '{"prompt_admin": true}', 'false'),
        ('outsider', '{"app_metadata": {"prompt_admin": "true"}}', 'false'),
        ('outsider', '{"app_metadata": {"prompt_admin": false}}', 'false'),
        ('outsider', '{"app_metadata": {"prompt_admin": true}}', 'true')
       ) as g (actor, claims, expected);

select * from finish();
rollback;
