-- RLS matrix (contract §8, §16) of the content tables in a PERSONAL workspace ("d", solo's: nobody
-- else, not even platform admins, sees or writes anything of it) and in a second COURSE workspace
-- ("c", bound to cohort "wsc-cohort": its active members are viewers; cohort2, active in another
-- cohort, is not). Course viewers lose access while PROMPT_MANAGER_ENABLED is off; team and
-- personal workspaces do not. Then where content lands: a prompt's workspace is its module's
-- (composite foreign key) and never changes, a course workspace requires a module, writes that
-- name no workspace go to the default course workspace, slugs are unique per workspace.
begin;
\ir _helpers.psql
\ir _workspace_helpers.psql
select plan(545);

-- Personal workspace -----------------------------------------------------------------------------------
select pg_temp.content_matrix(m.tbl, m.cells, 'anon stranger a-owner solo padmin jwtadmin cohort service_role')
  from (values
    ('prompt_modules', array[
    --                   anon   stranger a-owner solo padmin jwtadmin cohort service_role
    ['select',          'denied 0        0       2    0      0        0      2',
     $$select * from public.prompt_modules where workspace_id = 'e0000000-0000-4000-a000-00000000000d'$$],
    ['insert',          'denied rls      rls     1    rls    rls      rls    1',
     $$insert into public.prompt_modules (workspace_id, slug, title) values ('e0000000-0000-4000-a000-00000000000d', 'mx', 'M')$$],
    ['update',          'denied 0        0       1    0      0        0      1',
     $$update public.prompt_modules set title = 'Changed' where id = 'e1000000-0000-4000-a000-0000000000d1'$$],
    ['delete',          'denied 0        0       1    0      0        0      1',
     $$delete from public.prompt_modules where id = 'e1000000-0000-4000-a000-0000000000d2'$$]]),
    ('prompt_lessons', array[
    ['select',          'denied 0        0       2    0      0        0      2',
     $$select * from public.prompt_lessons where workspace_id = 'e0000000-0000-4000-a000-00000000000d'$$],
    ['insert',          'denied rls      rls     1    rls    rls      rls    1',
     $$insert into public.prompt_lessons (module_id, slug, title) values ('e1000000-0000-4000-a000-0000000000d1', 'lx', 'L')$$],
    ['update',          'denied 0        0       1    0      0        0      1',
     $$update public.prompt_lessons set title = 'Changed' where id = 'e2000000-0000-4000-a000-0000000000d1'$$],
    ['delete',          'denied 0        0       1    0      0        0      1',
     $$delete from public.prompt_lessons where id = 'e2000000-0000-4000-a000-0000000000d2'$$]]),
    ('prompts', array[
    ['select',          'denied 0        0       5    0      0        0      5',
     $$select * from public.prompts where workspace_id = 'e0000000-0000-4000-a000-00000000000d'$$],
    ['insert (a draft)', 'denied rls     rls     1    rls    rls      rls    1',
     $$insert into public.prompts (workspace_id, slug, title) values ('e0000000-0000-4000-a000-00000000000d', 'px', 'P')$$],
    ['insert (archived)', 'denied !PT403 !PT403  1    !PT403 !PT403   !PT403 1',
     $$insert into public.prompts (workspace_id, slug, title, status, archived_at)
       values ('e0000000-0000-4000-a000-00000000000d', 'px', 'P', 'archived', now())$$],
    ['update (content)', 'denied 0       0       1    0      0        0      1',
     $$update public.prompts set title = 'Changed' where id = 'e3000000-0000-4000-a000-0000000000d1'$$],
    ['update (archive)', 'denied 0       0       1    0      0        0      1',
     $$update public.prompts set status = 'archived', archived_at = now() where id = 'e3000000-0000-4000-a000-0000000000d1'$$],
    ['delete',          'denied 0        0       1    0      0        0      1',
     $$delete from public.prompts where id = 'e3000000-0000-4000-a000-0000000000d2'$$]]),
    ('prompt_versions', array[
    ['select',          'denied 0        0       6    0      0        0      6',
     $$select * from public.prompt_versions
        where id between 'e4000000-0000-4000-a000-000000000d00' and 'e4000000-0000-4000-a000-000000000dff'$$],
    ['insert (a draft version)', 'denied rls rls 1    rls    rls      rls    1',
     $$insert into public.prompt_versions (prompt_id, markdown_body) values ('e3000000-0000-4000-a000-0000000000d2', 'V')$$],
    ['insert (a published version)', 'denied !PT403 !PT403 1 !PT403 !PT403 !PT403 1',
     $$insert into public.prompt_versions (prompt_id, markdown_body, published) values ('e3000000-0000-4000-a000-0000000000d2', 'V', true)$$],
    ['update (publish: PATCH published)', 'denied 0 0 1   0      0        0      1',
     $$update public.prompt_versions set published = true where id = 'e4000000-0000-4000-a000-000000000d12'$$],
    ['delete (a draft version)', 'denied 0 0     1    0      0        0      1',
     $$delete from public.prompt_versions where id = 'e4000000-0000-4000-a000-000000000d12'$$]]),
    ('prompt_favorites', array[
    ['select',          'denied 0        0       2    0      0        0      2',
     $$select * from public.prompt_favorites
        where prompt_id between 'e3000000-0000-4000-a000-0000000000d0' and 'e3000000-0000-4000-a000-0000000000df'$$],
    ['insert (own)',    'denied rls      rls     1    rls    rls      rls    null-user_id',
     $$insert into public.prompt_favorites (prompt_id) values ('e3000000-0000-4000-a000-0000000000d1')$$],
    ['delete',          'denied 0        0       2    0      0        0      2',
     $$delete from public.prompt_favorites
        where prompt_id between 'e3000000-0000-4000-a000-0000000000d0' and 'e3000000-0000-4000-a000-0000000000df'$$]]),
    ('prompt_usage_logs', array[
    ['select',          'denied 0        0       1    0      0        0      1',
     $$select * from public.prompt_usage_logs where workspace_id = 'e0000000-0000-4000-a000-00000000000d'$$],
    ['insert (own event)', 'denied rls   rls     1    rls    rls      rls    1',
     $$insert into public.prompt_usage_logs (user_id, prompt_id, action)
       values (auth.uid(), 'e3000000-0000-4000-a000-0000000000d1', 'view')$$]])
  ) as m (tbl, cells);

-- Course workspace bound to a cohort ---------------------------------------------------------------------
select pg_temp.content_matrix(m.tbl, m.cells,
                         'anon stranger c-viewer c-contrib c-approver c-admin c-owner padmin jwtadmin cohort cohort2 service_role')
  from (values
    ('prompt_modules', array[
    --         anon   stranger c-viewer c-contrib c-approver c-admin c-owner padmin jwtadmin cohort cohort2 service_role
    ['select', 'denied 0       2        2         2          2       2       2      2        2      0       2',
     $$select * from public.prompt_modules where workspace_id = 'e0000000-0000-4000-a000-00000000000c'$$],
    ['insert', 'denied rls     rls      rls       rls        1       1       1      1        rls    rls     1',
     $$insert into public.prompt_modules (workspace_id, slug, title) values ('e0000000-0000-4000-a000-00000000000c', 'mx', 'M')$$],
    ['update', 'denied 0       0        0         0          1       1       1      1        0      0       1',
     $$update public.prompt_modules set title = 'Changed' where id = 'e1000000-0000-4000-a000-0000000000c1'$$],
    ['delete', 'denied 0       0        0         0          1       1       1      1        0      0       1',
     $$delete from public.prompt_modules where id = 'e1000000-0000-4000-a000-0000000000c2'$$]]),
    ('prompt_lessons', array[
    ['select', 'denied 0       2        2         2          2       2       2      2        2      0       2',
     $$select * from public.prompt_lessons where workspace_id = 'e0000000-0000-4000-a000-00000000000c'$$],
    ['insert', 'denied rls     rls      rls       rls        1       1       1      1        rls    rls     1',
     $$insert into public.prompt_lessons (module_id, slug, title) values ('e1000000-0000-4000-a000-0000000000c1', 'lx', 'L')$$],
    ['update', 'denied 0       0        0         0          1       1       1      1        0      0       1',
     $$update public.prompt_lessons set title = 'Changed' where id = 'e2000000-0000-4000-a000-0000000000c1'$$],
    ['delete', 'denied 0       0        0         0          1       1       1      1        0      0       1',
     $$delete from public.prompt_lessons where id = 'e2000000-0000-4000-a000-0000000000c2'$$]]),
    ('prompts', array[
    ['select', 'denied 0       2        5         5          5       5       5      5        2      0       5',
     $$select * from public.prompts where workspace_id = 'e0000000-0000-4000-a000-00000000000c'$$],
    ['insert (a draft in module c1)',
               'denied rls     rls      1         1          1       1       1      1        rls    rls     1',
     $$insert into public.prompts (module_id, slug, title) values ('e1000000-0000-4000-a000-0000000000c1', 'px', 'P')$$],
    ['update (content)',
               'denied 0       0        1         1          1       1       1      1        0      0       1',
     $$update public.prompts set title = 'Changed' where id = 'e3000000-0000-4000-a000-0000000000c1'$$],
    ['update (archive)',
               'denied 0       0        !PT403    !PT403     1       1       1      1        0      0       1',
     $$update public.prompts set status = 'archived', archived_at = now() where id = 'e3000000-0000-4000-a000-0000000000c1'$$],
    ['update (soft delete)',
               'denied 0       0        !PT403    !PT403     1       1       1      1        0      0       1',
     $$update public.prompts set is_deleted = true, deleted_at = now() where id = 'e3000000-0000-4000-a000-0000000000c5'$$],
    ['delete', 'denied 0       0        0         0          1       1       1      1        0      0       1',
     $$delete from public.prompts where id = 'e3000000-0000-4000-a000-0000000000c2'$$]]),
    ('prompt_versions', array[
    ['select', 'denied 0       2        6         6          6       6       6      6        2      0       6',
     $$select * from public.prompt_versions
        where id between 'e4000000-0000-4000-a000-000000000c00' and 'e4000000-0000-4000-a000-000000000cff'$$],
    ['insert (a draft version)',
               'denied rls     rls      1         1          1       1       1      1        rls    rls     1',
     $$insert into public.prompt_versions (prompt_id, markdown_body) values ('e3000000-0000-4000-a000-0000000000c2', 'V')$$],
    ['update (publish: PATCH published)',
               'denied 0       0        !PT403    !PT403     1       1       1      1        0      0       1',
     $$update public.prompt_versions set published = true where id = 'e4000000-0000-4000-a000-000000000c12'$$],
    ['delete (a draft version)',
               'denied 0       0        1         1          1       1       1      1        0      0       1',
     $$delete from public.prompt_versions where id = 'e4000000-0000-4000-a000-000000000c12'$$]]),
    ('prompt_favorites', array[
    ['select', 'denied 0       0        1         0          0       0       0      0        1      0       2',
     $$select * from public.prompt_favorites
        where prompt_id between 'e3000000-0000-4000-a000-0000000000c0' and 'e3000000-0000-4000-a000-0000000000cf'$$],
    ['insert (own, a published prompt)',
               'denied rls     1        1         1          1       1       1      1        1      rls     null-user_id',
     $$insert into public.prompt_favorites (prompt_id) values ('e3000000-0000-4000-a000-0000000000c1')$$],
    ['insert (own, the draft)',
               'denied rls     rls      1         1          1       1       1      1        rls    rls     null-user_id',
     $$insert into public.prompt_favorites (prompt_id) values ('e3000000-0000-4000-a000-0000000000c2')$$],
    ['delete', 'denied 0       0        1         0          0       0       0      0        1      0       2',
     $$delete from public.prompt_favorites
        where prompt_id between 'e3000000-0000-4000-a000-0000000000c0' and 'e3000000-0000-4000-a000-0000000000cf'$$]]),
    ('prompt_usage_logs', array[
    ['select', 'denied 0       0        1         0          2       2       2      2        1      0       2',
     $$select * from public.prompt_usage_logs where workspace_id = 'e0000000-0000-4000-a000-00000000000c'$$],
    ['insert (own event)',
               'denied rls     1        1         1          1       1       1      1        1      rls     1',
     $$insert into public.prompt_usage_logs (user_id, prompt_id, action)
       values (auth.uid(), 'e3000000-0000-4000-a000-0000000000c1', 'view')$$]])
  ) as m (tbl, cells);

-- cohort2 is a viewer of the default course workspace (bound to every cohort), not of c.
select is(pg_temp.call_as('cohort2', $$select to_jsonb(array_agg(distinct workspace_id)) from public.prompts$$),
          to_jsonb(array[private.default_workspace_id()]),
          'cohort2 reads prompts of the default course workspace only');

-- With PROMPT_MANAGER_ENABLED off, course viewers (cohort or member row) read nothing of c;
-- contributors and up keep working; team and personal workspaces are not affected.
update public.prompt_feature_flags set enabled = false where key = 'PROMPT_MANAGER_ENABLED';
select pg_temp.content_matrix('prompts', array[
    ['select (course c, prompt manager off)', '0 0 5 5 5',
     $$select * from public.prompts where workspace_id = 'e0000000-0000-4000-a000-00000000000c'$$],
    ['select (team a, prompt manager off)', '0 0 0 0 5',
     $$select * from public.prompts where workspace_id = 'e0000000-0000-4000-a000-00000000000a'$$]],
    'c-viewer cohort c-contrib c-admin padmin');
select pg_temp.content_matrix('prompts', array[
    ['select (team a / personal d, prompt manager off)', '2 5 5',
     $$select * from public.prompts where workspace_id in ('e0000000-0000-4000-a000-00000000000a', 'e0000000-0000-4000-a000-00000000000d')$$]],
    'a-viewer a-contrib solo');
update public.prompt_feature_flags set enabled = true where key = 'PROMPT_MANAGER_ENABLED';

-- Where content lands -----------------------------------------------------------------------------------
-- A module of the default course workspace (a write that names no workspace lands there).
insert into public.prompt_modules (id, slug, title) values ('e1000000-0000-4000-a000-0000000000f1', 'wsc-default-module', 'Default');
select is((select workspace_id from public.prompt_modules where id = 'e1000000-0000-4000-a000-0000000000f1'),
          private.default_workspace_id(), 'a module written without a workspace lands in the default course workspace');

/** The workspace a row written by `actor` with `sql` (an insert ... returning workspace_id) landed in. */
create function pg_temp.landed(actor text, sql text)
    returns text
    language sql
as $$
    select coalesce(w.slug, '?') || case when w.is_default then ' (default)' else '' end
      from (select pg_temp.call_as(actor, format('with i as (%s) select to_jsonb(i.workspace_id) from i', sql)) ->> 0 as id) r
      left join public.workspaces w on w.id = r.id::uuid;
$$;

select is(pg_temp.landed('padmin', $$insert into public.prompt_modules (slug, title) values ('landing', 'L') returning workspace_id$$),
          'course (default)', 'padmin: a module naming no workspace lands in the default course workspace');
select is(pg_temp.landed('padmin', $$insert into public.prompts (module_id, slug, title)
                                     values ('e1000000-0000-4000-a000-0000000000f1', 'landing', 'L') returning workspace_id$$),
          'course (default)', 'padmin: a prompt in a default-course module lands in the default course workspace');
select is(pg_temp.landed('a-contrib', $$insert into public.prompts (module_id, slug, title)
                                        values ('e1000000-0000-4000-a000-0000000000a1', 'landing', 'L') returning workspace_id$$),
          'wsc-a', 'a-contrib: a prompt naming only a module of a lands in a (its module''s workspace)');
select is(pg_temp.landed('padmin', $$insert into public.prompt_lessons (module_id, workspace_id, slug, title)
                                     values ('e1000000-0000-4000-a000-0000000000a1', 'e0000000-0000-4000-a000-00000000000c', 'landing', 'L')
                                     returning workspace_id$$),
          'wsc-a', 'padmin: a lesson is in its module''s workspace, whatever workspace_id is sent');

select pg_temp.content_matrix('prompts', array[
    -- No workspace, no module: the default course workspace, which requires a module (said to
    -- those who can see it; c-contrib cannot write it, so RLS refuses first).
    ['insert (no workspace, no module)', 'rls !23514 !23514',
     $$insert into public.prompts (slug, title) values ('nowhere', 'N')$$],
    ['insert (course c, no module)', '!23514 !23514 !23514',
     $$insert into public.prompts (workspace_id, slug, title) values ('e0000000-0000-4000-a000-00000000000c', 'nomodule', 'N')$$],
    ['update (course c: drop the module)', '!23514 !23514 !23514',
     $$update public.prompts set module_id = null, lesson_id = null where id = 'e3000000-0000-4000-a000-0000000000c1'$$]],
    'c-contrib padmin service_role');
select pg_temp.content_matrix('prompts', array[
    ['insert (team a, no module)', '1 1',
     $$insert into public.prompts (workspace_id, slug, title) values ('e0000000-0000-4000-a000-00000000000a', 'nomodule', 'N')$$],
    ['update (team a: drop the module)', '1 1',
     $$update public.prompts set module_id = null where id = 'e3000000-0000-4000-a000-0000000000a1'$$],
    ['update (team a: another module of a)', '1 1',
     $$update public.prompts set module_id = 'e1000000-0000-4000-a000-0000000000a2' where id = 'e3000000-0000-4000-a000-0000000000a1'$$]],
    'a-contrib padmin');

-- The workspace is the module's (composite foreign key) and never changes.
select pg_temp.content_matrix('prompts', array[
    ['insert (workspace a, module of c)', '!23503 !23503',
     $$insert into public.prompts (workspace_id, module_id, slug, title)
       values ('e0000000-0000-4000-a000-00000000000a', 'e1000000-0000-4000-a000-0000000000c1', 'mixed', 'M')$$],
    ['update (a prompt of a into a module of c)', '!23503 !23503',
     $$update public.prompts set module_id = 'e1000000-0000-4000-a000-0000000000c1' where id = 'e3000000-0000-4000-a000-0000000000a1'$$],
    ['update (a prompt of a into a lesson of another module)', '!23503 !23503',
     $$update public.prompts set lesson_id = 'e2000000-0000-4000-a000-0000000000a2' where id = 'e3000000-0000-4000-a000-0000000000a1'$$],
    -- Without a module the (lesson_id, module_id) key is not checked, so a check asks for the module.
    ['insert (a lesson of a, no module)', '!23514 !23514',
     $$insert into public.prompts (workspace_id, lesson_id, slug, title)
       values ('e0000000-0000-4000-a000-00000000000a', 'e2000000-0000-4000-a000-0000000000a1', 'nomodule', 'N')$$],
    ['update (a lesson, no module)', '!23514 !23514',
     $$update public.prompts set lesson_id = 'e2000000-0000-4000-a000-0000000000a1' where id = 'e3000000-0000-4000-a000-0000000000a2'$$],
    ['update (workspace_id)', 'denied !PT409',
     $$update public.prompts set workspace_id = 'e0000000-0000-4000-a000-00000000000c' where id = 'e3000000-0000-4000-a000-0000000000a5'$$]],
    'padmin service_role');
-- Only the service role moves a module (its lessons follow); a lesson alone never leaves its module's workspace.
select pg_temp.content_matrix(m.tbl, array[[
    'update (workspace_id of the spare one)', m.codes,
    format($$update public.%I set workspace_id = 'e0000000-0000-4000-a000-00000000000c', slug = 'moved' where id = %L$$, m.tbl, m.id)]],
    'a-admin padmin service_role')
  from (values ('prompt_modules', 'denied denied 1', 'e1000000-0000-4000-a000-0000000000a2'),
               ('prompt_lessons', 'denied denied !23503', 'e2000000-0000-4000-a000-0000000000a2')) m (tbl, codes, id);

-- Slugs are unique per workspace: the same slug in two workspaces is fine (the fixtures' p1 .. p5
-- and m1, m2 are in all four), a repeat inside one is not.
select is((select count(*)::integer from public.prompts where slug = 'p1' and workspace_id::text like 'e0000000-%'), 4,
          'the slug p1 exists in four workspaces');
insert into public.prompts (workspace_id, slug, title) values ('e0000000-0000-4000-a000-00000000000b', 'only-in-b', 'B');
select pg_temp.content_matrix('prompts', array[
    ['insert (a slug of a)', '!23505 !23505',
     $$insert into public.prompts (workspace_id, slug, title) values ('e0000000-0000-4000-a000-00000000000a', 'p1', 'Again')$$],
    ['insert (a slug of b, into a)', '1 1',
     $$insert into public.prompts (workspace_id, slug, title) values ('e0000000-0000-4000-a000-00000000000a', 'only-in-b', 'A')$$],
    ['update (to a slug of a)', '!23505 !23505',
     $$update public.prompts set slug = 'p2' where id = 'e3000000-0000-4000-a000-0000000000a1'$$],
    ['update (to a slug of b only)', '1 1',
     $$update public.prompts set slug = 'only-in-b' where id = 'e3000000-0000-4000-a000-0000000000a1'$$]],
    'a-contrib service_role');
select pg_temp.content_matrix('prompt_modules', array[
    ['insert (a slug of a)', '!23505 !23505',
     $$insert into public.prompt_modules (workspace_id, slug, title) values ('e0000000-0000-4000-a000-00000000000a', 'm1', 'Again')$$],
    ['insert (a new slug)', '1 1',
     $$insert into public.prompt_modules (workspace_id, slug, title) values ('e0000000-0000-4000-a000-00000000000a', 'm3', 'New')$$]],
    'a-admin service_role');

select * from finish();
rollback;
