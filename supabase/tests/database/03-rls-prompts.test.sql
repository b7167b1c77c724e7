-- RLS matrix (contract §3) for prompts and prompt_versions: learners with access read what is
-- published and not deleted, admins (row or claim) manage everything, nobody writes as another user.
-- Seed: prompts 01-11 published (3 versions each; v1, v2 published, v3 too for 01, 04, 09),
-- 12 draft, 13 archived, 14 soft-deleted.
begin;
\ir _helpers.psql
select plan(74);

-- A prompt that was never published (12 has published versions, never current): only such a
-- prompt can be hard-deleted through the API (issue 17 item 2; pgTAP 24 covers the refusals).
insert into public.prompts (id, module_id, slug, title) values
    ('30000000-0000-4000-d000-000000000003', '10000000-0000-4000-a000-000000000001', 'never-published', 'Never published');

-- prompts ----------------------------------------------------------------------------------------
select pg_temp.matrix('prompts', array[
    --                       anon   outsider usermeta revoked learner admin  jwtadmin service_role
    -- admins: the 15 course prompts (14 of the seed, one of this file) and the 3 of the seed's demo
    -- team workspace (platform admins are admins of every team and course workspace).
    ['select',              'denied 0        0        0       11      18     18       18',
     $$select * from public.prompts$$],
    ['insert',              'denied rls      rls      rls     rls     1      1        1',
     $$insert into public.prompts (module_id, slug, title)
       values ('10000000-0000-4000-a000-000000000001', 'matrix-prompt', 'Matrix prompt')$$],
    ['update',              'denied 0        0        0       0       1      1        1',
     $$update public.prompts set title = 'Changed' where id = '30000000-0000-4000-a000-000000000001'$$],
    ['delete (never published)', 'denied 0        0        0       0       1      1        1',
     $$delete from public.prompts where id = '30000000-0000-4000-d000-000000000003'$$]]);

select pg_temp.untouched_by('public.prompts',
    array['outsider', 'usermeta', 'revoked', 'learner'],
    array[$$update public.prompts set title = 'Changed', status = 'archived'$$,
          $$update public.prompts set is_deleted = false, deleted_at = null$$,
          $$delete from public.prompts$$]);

select is(pg_temp.call_as('learner', $$select jsonb_agg(id order by id) from public.prompts$$),
          (select jsonb_agg(format('30000000-0000-4000-a000-%s', lpad(n::text, 12, '0'))::uuid order by n)
             from generate_series(1, 11) n),
          'learner sees exactly the published, non-deleted prompts 01-11');

-- Nobody forges created_by, or rewrites id / created_by / created_at.
select pg_temp.expect('admin', 'insert a prompt as the learner',
    $$insert into public.prompts (module_id, slug, title, created_by)
      values ('10000000-0000-4000-a000-000000000001', 'forged', 'Forged', '00000000-0000-4000-a000-000000000002')$$,
    pg_temp.rls('prompts'));
select pg_temp.expect('admin', 'update ' || c, format($$update public.prompts set %I = %s where id = '30000000-0000-4000-a000-000000000001'$$, c, v),
    pg_temp.denied('prompts'))
  from (values ('created_by', $$'00000000-0000-4000-a000-000000000002'$$),
               ('id', 'gen_random_uuid()'),
               ('created_at', 'now()')) as t (c, v);

-- prompt_versions ----------------------------------------------------------------------------------
select pg_temp.matrix('prompt_versions', array[
    --                       anon   outsider usermeta revoked learner admin  jwtadmin service_role
    ['select',              'denied 0        0        0       25      45     45       45',
     $$select * from public.prompt_versions$$],
    ['insert',              'denied rls      rls      rls     rls     1      1        1',
     $$insert into public.prompt_versions (prompt_id, markdown_body)
       values ('30000000-0000-4000-a000-000000000002', 'Matrix body')$$],
    ['update (changelog)',  'denied 0        0        0       0       1      1        1',
     $$update public.prompt_versions set changelog = 'Changed'
        where prompt_id = '30000000-0000-4000-a000-000000000002' and version_number = 1$$],
    ['delete (a draft)',    'denied 0        0        0       0       1      1        1',
     $$delete from public.prompt_versions
        where prompt_id = '30000000-0000-4000-a000-000000000002' and version_number = 3$$]]);

select pg_temp.untouched_by('public.prompt_versions',
    array['outsider', 'usermeta', 'revoked', 'learner'],
    array[$$update public.prompt_versions set changelog = 'Changed', published = true$$,
          $$delete from public.prompt_versions$$]);

select is(pg_temp.call_as('learner', $$select jsonb_agg(id order by id) from public.prompt_versions$$),
          (select jsonb_agg(v.id order by v.id) from public.prompt_versions v
            where v.prompt_id <= '30000000-0000-4000-a000-000000000011'
              and (v.version_number <= 2
                   or v.prompt_id in ('30000000-0000-4000-a000-000000000001', '30000000-0000-4000-a000-000000000004',
                                      '30000000-0000-4000-a000-000000000009'))),
          'learner sees exactly the published versions of prompts 01-11 (no drafts, nothing of 12-14)');

select pg_temp.expect('admin', 'insert a version as the learner',
    $$insert into public.prompt_versions (prompt_id, markdown_body, created_by)
      values ('30000000-0000-4000-a000-000000000002', 'Forged', '00000000-0000-4000-a000-000000000002')$$,
    pg_temp.rls('prompt_versions'));
select pg_temp.expect('jwtadmin', 'update created_by of a version',
    $$update public.prompt_versions set created_by = '00000000-0000-4000-b000-000000000001'$$,
    pg_temp.denied('prompt_versions'));

select * from finish();
rollback;
