-- workspace_cohorts (contract §8, §16): the RLS matrix; only course workspaces (other than the
-- default one) bind cohorts; active, non-revoked members of a bound cohort with a confirmed e-mail
-- are viewers without a members row, inactive / revoked / unconfirmed ones are not;
-- PROMPT_MANAGER_ENABLED off removes viewer access to course workspaces, never to team or
-- personal ones.
begin;
\ir _helpers.psql
select plan(103);

update public.prompt_feature_flags set enabled = true where key = 'PROMPT_MANAGER_ENABLED';
select pg_temp.make_outsiders();
select pg_temp.make_cast('wa', 'course');
select pg_temp.make_cast('wt', 'team');
insert into public.workspace_cohorts (workspace_id, cohort_id) values (pg_temp.wsid('wa'), 'cohort-t43');

-- Cohort members: one per case.
select pg_temp.make_user(n, confirmed => n <> 'unconfirmed43')
  from unnest(array['learner43', 'inactive43', 'revoked43', 'unconfirmed43', 'elsewhere43']) n;
insert into public.course_cohort_members (cohort_id, email, status, revoked_at, source_hash) values
    ('cohort-t43', 'Learner43@Example.com', 'active', null, md5('1')),
    ('cohort-t43', 'inactive43@example.com', 'inactive', now() - interval '1 day', md5('2')),
    ('cohort-t43', 'revoked43@example.com', 'revoked', now() - interval '1 day', md5('3')),
    ('cohort-t43', 'unconfirmed43@example.com', 'active', null, md5('4')),
    ('cohort-elsewhere', 'elsewhere43@example.com', 'active', null, md5('5'));

-- Content of wa (course: prompts belong to a module) and of wt: one published prompt and one draft each.
insert into public.prompt_modules (id, workspace_id, slug, title)
values ('43000000-0000-4000-a000-000000000001', pg_temp.wsid('wa'), 'module', 'Module');
insert into public.prompts (id, workspace_id, module_id, slug, title) values
    ('43000000-0000-4000-a000-0000000000a1', pg_temp.wsid('wa'), '43000000-0000-4000-a000-000000000001', 'published', 'Published'),
    ('43000000-0000-4000-a000-0000000000a2', pg_temp.wsid('wa'), '43000000-0000-4000-a000-000000000001', 'draft', 'Draft'),
    ('43000000-0000-4000-a000-0000000000b1', pg_temp.wsid('wt'), null, 'published', 'Published'),
    ('43000000-0000-4000-a000-0000000000b2', pg_temp.wsid('wt'), null, 'draft', 'Draft');
insert into public.prompt_versions (prompt_id, markdown_body)
select id, 'Body' from public.prompts where id::text like '43000000-%';
select public.publish_prompt_version(p.id, v.id)
  from public.prompts p join public.prompt_versions v on v.prompt_id = p.id
 where p.id in ('43000000-0000-4000-a000-0000000000a1', '43000000-0000-4000-a000-0000000000b1');

-- The matrix ----------------------------------------------------------------------------------------
select pg_temp.ws_matrix('workspace_cohorts', array[
    --                       anon   stranger viewer contrib approver admin owner padmin jwtadmin service_role learner43
    ['select',              'denied 0        0      0       0        1     1     1      1        1            0',
     $$select * from public.workspace_cohorts where workspace_id = pg_temp.wsid('wa')$$],
    ['insert',              'denied rls      rls    rls     rls      1     1     1      1        1            rls',
     $$insert into public.workspace_cohorts (workspace_id, cohort_id) values (pg_temp.wsid('wa'), 'cohort-new')$$],
    ['insert (already bound)', 'denied rls   rls    rls     rls      23505 23505 23505  23505    23505        rls',
     $$insert into public.workspace_cohorts (workspace_id, cohort_id) values (pg_temp.wsid('wa'), 'cohort-t43')$$],
    -- Only a caller allowed to bind cohorts in the workspace learns that it is not a course workspace.
    ['insert (a team workspace)', 'denied rls rls   rls     rls      rls   rls   23514  23514    23514        rls',
     $$insert into public.workspace_cohorts (workspace_id, cohort_id) values (pg_temp.wsid('wt'), 'cohort-new')$$],
    ['insert (the default course workspace)', 'denied rls rls rls rls rls  rls   23514  23514    23514        rls',
     format($$insert into public.workspace_cohorts (workspace_id, cohort_id) values (%L, 'cohort-new')$$, private.default_workspace_id())],
    ['update',              'denied denied   denied denied  denied   denied denied denied denied 1           denied',
     $$update public.workspace_cohorts set cohort_id = 'cohort-renamed' where workspace_id = pg_temp.wsid('wa')$$],
    ['delete',              'denied 0        0      0       0        1     1     1      1        1            0',
     $$delete from public.workspace_cohorts where workspace_id = pg_temp.wsid('wa')$$]],
    'anon stranger wa-viewer wa-contributor wa-approver wa-admin wa-owner padmin jwtadmin service_role learner43');

select is(pg_temp.attempt('wt-admin', $$insert into public.workspace_cohorts (workspace_id, cohort_id) values (pg_temp.wsid('wt'), 'cohort-new')$$),
          '23514: only course workspaces (other than the default one, bound to every cohort) bind cohorts',
          'the admin of a team workspace cannot bind a cohort to it');
select is(pg_temp.call_as('wa-admin', $$with c as (insert into public.workspace_cohorts (workspace_id, cohort_id, created_by)
                                                  values (pg_temp.wsid('wa'), '  cohort-padded  ', pg_temp.uid('stranger'))
                                                  returning cohort_id, created_by)
                                        select to_jsonb(c) from c$$),
          jsonb_build_object('cohort_id', 'cohort-padded', 'created_by', pg_temp.uid('wa-admin')),
          'a bound cohort id is stored trimmed, created by the caller');
delete from public.workspace_cohorts where cohort_id = 'cohort-padded';

-- Cohort viewers -------------------------------------------------------------------------------------
create function pg_temp.sees(ws text) returns text language sql
    as $$ select format($q$select jsonb_build_object(
                             'workspace', (select count(*) from public.workspaces where id = %1$L),
                             'prompts', (select coalesce(jsonb_agg(slug order by slug), '[]') from public.prompts where workspace_id = %1$L),
                             'role', private.workspace_role(%1$L))$q$, pg_temp.wsid(ws)) $$;

select is(pg_temp.call_as('learner43', pg_temp.sees('wa')), '{"workspace": 1, "prompts": ["published"], "role": "viewer"}',
          'an active member of a bound cohort is a viewer: reads the workspace and its published prompt');
select is((select count(*)::integer from public.workspace_members where user_id = pg_temp.uid('learner43') and role <> 'owner'), 0,
          'a cohort viewer has no members row');
select is(pg_temp.call_as('learner43', format($$select to_jsonb(count(*)) from public.workspaces where id = %L$$, private.default_workspace_id())),
          '1', 'an active cohort member also reads the default course workspace');
select is(pg_temp.call_as(a, pg_temp.sees('wa')), '{"workspace": 0, "prompts": [], "role": null}',
          a || ' (' || why || ') is no viewer of the course workspace')
  from (values ('inactive43', 'inactive'), ('revoked43', 'revoked'), ('unconfirmed43', 'e-mail not confirmed'),
               ('elsewhere43', 'active in a cohort that is not bound'), ('stranger', 'in no cohort')) as t (a, why);
select is(pg_temp.call_as('elsewhere43', format($$select to_jsonb(count(*)) from public.workspaces where id = %L$$, private.default_workspace_id())),
          '1', 'a member of any active cohort reads the default course workspace (bound to every cohort)');
select is(pg_temp.call_as('unconfirmed43', format($$select to_jsonb(count(*)) from public.workspaces where id = %L$$, private.default_workspace_id())),
          '0', 'an unconfirmed user is not a cohort member anywhere');
select is(pg_temp.attempt('learner43', $$insert into public.prompts (workspace_id, module_id, slug, title)
                                         values (pg_temp.wsid('wa'), '43000000-0000-4000-a000-000000000001', 'mine', 'Mine')$$),
          pg_temp.rls('prompts'), 'a cohort viewer cannot write content');
select is(pg_temp.call_as('learner43', $$select to_jsonb(count(*)) from public.workspace_cohorts$$), '0',
          'a cohort viewer does not read the bound cohorts');
select is(pg_temp.call_as('learner43', pg_temp.sees('wt')), '{"workspace": 0, "prompts": [], "role": null}',
          'a cohort viewer sees nothing of a team workspace');

-- A member who is also a cohort viewer keeps the higher role.
insert into public.course_cohort_members (cohort_id, email, status, source_hash)
values ('cohort-t43', 'wa-contributor@example.com', 'active', md5('6'));
select is(pg_temp.call_as('wa-contributor', $$select to_jsonb(private.workspace_role(pg_temp.wsid('wa')))$$), '"contributor"',
          'a contributor who is also in a bound cohort stays contributor');

-- Unbinding the cohort ends the access.
select is(pg_temp.attempt('wa-admin', $$delete from public.workspace_cohorts where workspace_id = pg_temp.wsid('wa') and cohort_id = 'cohort-t43'$$, keep => true),
          pg_temp.rows(1), 'the admin unbinds the cohort');
select is(pg_temp.call_as('learner43', pg_temp.sees('wa')), '{"workspace": 0, "prompts": [], "role": null}',
          'once the cohort is unbound, its members are no viewers');
insert into public.workspace_cohorts (workspace_id, cohort_id) values (pg_temp.wsid('wa'), 'cohort-t43');

-- PROMPT_MANAGER_ENABLED off: course viewers lose access, team and personal workspaces do not.
update public.prompt_feature_flags set enabled = false where key = 'PROMPT_MANAGER_ENABLED';
select is(pg_temp.call_as(a, pg_temp.sees('wa')), '{"workspace": 0, "prompts": [], "role": null}',
          'flag off: ' || a || ' (viewer of the course workspace) reads nothing of it')
  from unnest(array['learner43', 'wa-viewer']) a;
select is(pg_temp.call_as('learner43', format($$select to_jsonb(count(*)) from public.workspaces where id = %L$$, private.default_workspace_id())),
          '0', 'flag off: a cohort member no longer reads the default course workspace');
select is(pg_temp.call_as('wa-contributor', pg_temp.sees('wa')), '{"workspace": 1, "prompts": ["draft", "published"], "role": "contributor"}',
          'flag off: a contributor of the course workspace keeps working');
select is(pg_temp.call_as('wt-viewer', pg_temp.sees('wt')), '{"workspace": 1, "prompts": ["published"], "role": "viewer"}',
          'flag off: a viewer of a team workspace still reads it');
select is(pg_temp.call_as('wt-viewer', format($$select to_jsonb(count(*)) from public.workspaces where id = %L$$, pg_temp.personal_ws('wt-viewer'))),
          '1', 'flag off: the personal workspace is still there');
select is(pg_temp.call_as('wa-admin', $$select to_jsonb(count(*)) from public.workspace_cohorts where workspace_id = pg_temp.wsid('wa')$$),
          '1', 'flag off: the course admin still manages its cohorts');
update public.prompt_feature_flags set enabled = true where key = 'PROMPT_MANAGER_ENABLED';
select is(pg_temp.call_as('learner43', pg_temp.sees('wa')), '{"workspace": 1, "prompts": ["published"], "role": "viewer"}',
          'flag on again: the cohort viewer reads the course workspace again');

select * from finish();
rollback;
