-- RLS matrix (contract §8, §16) of the content tables in a TEAM workspace ("a", see
-- _workspace_helpers.psql): every actor x select/insert/update/delete on prompt_modules,
-- prompt_lessons, prompts, prompt_versions, prompt_favorites, prompt_usage_logs. Viewers read
-- published, non-deleted prompts and their published versions; contributors and approvers write
-- drafts and content but never publishing state (PT403 from the triggers); admins, owners and
-- platform admins (row or claim) publish, archive, delete and write modules and lessons. Cohort
-- members are nobody here. Each cell runs alone (its effects are rolled back).
begin;
\ir _helpers.psql
\ir _workspace_helpers.psql
select plan(502);

-- prompt_modules, prompt_lessons: members read; admins and up write -----------------------------
select pg_temp.content_matrix('prompt_modules', array[
    --        anon   stranger a-viewer a-contrib a-approver a-admin a-owner padmin jwtadmin cohort service_role
    ['select', 'denied 0       2        2         2          2       2       2      2        0      2',
     $$select * from public.prompt_modules where workspace_id = 'e0000000-0000-4000-a000-00000000000a'$$],
    ['insert', 'denied rls     rls      rls       rls        1       1       1      1        rls    1',
     $$insert into public.prompt_modules (workspace_id, slug, title)
       values ('e0000000-0000-4000-a000-00000000000a', 'mx', 'Matrix')$$],
    ['update', 'denied 0       0        0         0          1       1       1      1        0      1',
     $$update public.prompt_modules set title = 'Changed' where id = 'e1000000-0000-4000-a000-0000000000a1'$$],
    ['delete', 'denied 0       0        0         0          1       1       1      1        0      1',
     $$delete from public.prompt_modules where id = 'e1000000-0000-4000-a000-0000000000a2'$$]]);

select pg_temp.content_matrix('prompt_lessons', array[
    --        anon   stranger a-viewer a-contrib a-approver a-admin a-owner padmin jwtadmin cohort service_role
    ['select', 'denied 0       2        2         2          2       2       2      2        0      2',
     $$select * from public.prompt_lessons where workspace_id = 'e0000000-0000-4000-a000-00000000000a'$$],
    ['insert', 'denied rls     rls      rls       rls        1       1       1      1        rls    1',
     $$insert into public.prompt_lessons (module_id, slug, title)
       values ('e1000000-0000-4000-a000-0000000000a1', 'lx', 'Matrix')$$],
    ['update', 'denied 0       0        0         0          1       1       1      1        0      1',
     $$update public.prompt_lessons set title = 'Changed' where id = 'e2000000-0000-4000-a000-0000000000a1'$$],
    ['delete', 'denied 0       0        0         0          1       1       1      1        0      1',
     $$delete from public.prompt_lessons where id = 'e2000000-0000-4000-a000-0000000000a2'$$]]);

-- prompts -------------------------------------------------------------------------------------------
select pg_temp.content_matrix('prompts', array[
    --        anon   stranger a-viewer a-contrib a-approver a-admin a-owner padmin jwtadmin cohort service_role
    ['select', 'denied 0       2        5         5          5       5       5      5        0      5',
     $$select * from public.prompts where workspace_id = 'e0000000-0000-4000-a000-00000000000a'$$],
    ['insert (a draft)',
               'denied rls     rls      1         1          1       1       1      1        rls    1',
     $$insert into public.prompts (workspace_id, slug, title) values ('e0000000-0000-4000-a000-00000000000a', 'px', 'Matrix')$$],
    ['insert (archived)',
               'denied !PT403  !PT403   !PT403    !PT403     1       1       1      1        !PT403 1',
     $$insert into public.prompts (workspace_id, slug, title, status, archived_at)
       values ('e0000000-0000-4000-a000-00000000000a', 'px', 'Matrix', 'archived', now())$$],
    ['insert (soft-deleted)',
               'denied !PT403  !PT403   !PT403    !PT403     1       1       1      1        !PT403 1',
     $$insert into public.prompts (workspace_id, slug, title, is_deleted, deleted_at)
       values ('e0000000-0000-4000-a000-00000000000a', 'px', 'Matrix', true, now())$$],
    ['update (content of a published prompt)',
               'denied 0       0        1         1          1       1       1      1        0      1',
     $$update public.prompts set title = 'Changed', description = 'New', tags = '{x}', position = 9
        where id = 'e3000000-0000-4000-a000-0000000000a1'$$],
    ['update (content of a draft)',
               'denied 0       0        1         1          1       1       1      1        0      1',
     $$update public.prompts set title = 'Changed' where id = 'e3000000-0000-4000-a000-0000000000a2'$$],
    ['update (archive)',
               'denied 0       0        !PT403    !PT403     1       1       1      1        0      1',
     $$update public.prompts set status = 'archived', archived_at = now() where id = 'e3000000-0000-4000-a000-0000000000a1'$$],
    ['update (unarchive)',
               'denied 0       0        !PT403    !PT403     1       1       1      1        0      1',
     $$update public.prompts set status = 'published', archived_at = null where id = 'e3000000-0000-4000-a000-0000000000a3'$$],
    ['update (soft delete)',
               'denied 0       0        !PT403    !PT403     1       1       1      1        0      1',
     $$update public.prompts set is_deleted = true, deleted_at = now() where id = 'e3000000-0000-4000-a000-0000000000a1'$$],
    ['update (restore)',
               'denied 0       0        !PT403    !PT403     1       1       1      1        0      1',
     $$update public.prompts set is_deleted = false, deleted_at = null where id = 'e3000000-0000-4000-a000-0000000000a4'$$],
    ['update (unpublish)',
               'denied 0       0        !PT403    !PT403     1       1       1      1        0      1',
     $$update public.prompts set status = 'draft', current_version_id = null, published_at = null
        where id = 'e3000000-0000-4000-a000-0000000000a5'$$],
    ['update (current_version_id only)',
               'denied 0       0        !PT403    !PT403     1       1       1      1        0      1',
     $$update public.prompts set current_version_id = null where id = 'e3000000-0000-4000-a000-0000000000a3'$$],
    ['update (published_at only)',
               'denied 0       0        !PT403    !PT403     1       1       1      1        0      1',
     $$update public.prompts set published_at = now() - interval '1 day' where id = 'e3000000-0000-4000-a000-0000000000a1'$$],
    ['delete (the draft)',
               'denied 0       0        0         0          1       1       1      1        0      1',
     $$delete from public.prompts where id = 'e3000000-0000-4000-a000-0000000000a2'$$],
    -- Published history is never hard-deleted through the API (issue 17 item 2): soft-delete it.
    ['delete (a published prompt with favorites and events)',
               'denied 0       0        0         0          !PT409  !PT409  !PT409 !PT409   0      !PT409',
     $$delete from public.prompts where id = 'e3000000-0000-4000-a000-0000000000a5'$$]]);

-- Refused writes that match no row change nothing (viewers, cohort members and strangers).
select pg_temp.untouched_by('public.prompts',
    array['stranger', 'a-viewer', 'cohort'],
    array[$$update public.prompts set title = 'Changed' where workspace_id = 'e0000000-0000-4000-a000-00000000000a'$$,
          $$delete from public.prompts where workspace_id = 'e0000000-0000-4000-a000-00000000000a'$$]);

-- A viewer reads exactly p1 and p5 (not the draft, the archived or the soft-deleted prompt).
select is(pg_temp.call_as('a-viewer', $$select jsonb_agg(slug order by slug) from public.prompts
                                         where workspace_id = 'e0000000-0000-4000-a000-00000000000a'$$),
          '["p1", "p5"]', 'a-viewer reads exactly the published, non-deleted prompts p1 and p5');

-- prompt_versions ------------------------------------------------------------------------------------
select pg_temp.content_matrix('prompt_versions', array[
    --        anon   stranger a-viewer a-contrib a-approver a-admin a-owner padmin jwtadmin cohort service_role
    ['select', 'denied 0       2        6         6          6       6       6      6        0      6',
     $$select * from public.prompt_versions
        where id between 'e4000000-0000-4000-a000-000000000a00' and 'e4000000-0000-4000-a000-000000000aff'$$],
    ['insert (a draft version)',
               'denied rls     rls      1         1          1       1       1      1        rls    1',
     $$insert into public.prompt_versions (prompt_id, markdown_body) values ('e3000000-0000-4000-a000-0000000000a2', 'Matrix')$$],
    ['insert (a published version)',
               'denied !PT403  !PT403   !PT403    !PT403     1       1       1      1        !PT403 1',
     $$insert into public.prompt_versions (prompt_id, markdown_body, published)
       values ('e3000000-0000-4000-a000-0000000000a2', 'Matrix', true)$$],
    ['update (changelog)',
               'denied 0       0        1         1          1       1       1      1        0      1',
     $$update public.prompt_versions set changelog = 'Changed' where id = 'e4000000-0000-4000-a000-000000000a12'$$],
    ['update (publish: PATCH published)',
               'denied 0       0        !PT403    !PT403     1       1       1      1        0      1',
     $$update public.prompt_versions set published = true where id = 'e4000000-0000-4000-a000-000000000a12'$$],
    ['delete (a draft version)',
               'denied 0       0        1         1          1       1       1      1        0      1',
     $$delete from public.prompt_versions where id = 'e4000000-0000-4000-a000-000000000a12'$$],
    -- Published versions are history; for the service role the current-version foreign key holds.
    ['delete (the current, published version)',
               'denied 0       0        0         0          0       0       0      0        0      !PT409',
     $$delete from public.prompt_versions where id = 'e4000000-0000-4000-a000-000000000a11'$$]]);

select is(pg_temp.call_as('a-viewer', $$select jsonb_agg(id order by id) from public.prompt_versions
                                         where id::text like 'e4000000-0000-4000-a000-000000000a%'$$),
          '["e4000000-0000-4000-a000-000000000a11", "e4000000-0000-4000-a000-000000000a51"]',
          'a-viewer reads exactly the published versions of visible prompts (p1 v1, p5 v1): no draft version, nothing of p3 or p4');

-- The pointer: only admins move current_version_id, and only to a published version of the prompt.
select pg_temp.content_matrix('prompts', array[
    ['update (point the draft at its draft version)', '!PT403 !PT403 !23514 !23514',
     $$update public.prompts set current_version_id = 'e4000000-0000-4000-a000-000000000a21'
        where id = 'e3000000-0000-4000-a000-0000000000a2'$$],
    ['update (point p1 at p5''s version)', '!PT403 !PT403 !23514 !23514',
     $$update public.prompts set current_version_id = 'e4000000-0000-4000-a000-000000000a51'
        where id = 'e3000000-0000-4000-a000-0000000000a1'$$]],
    'a-contrib a-approver a-admin service_role');

-- prompt_favorites: own rows, on prompts the caller can see ---------------------------------------------
select pg_temp.content_matrix('prompt_favorites', array[
    --        anon   stranger a-viewer a-contrib a-approver a-admin a-owner padmin jwtadmin cohort service_role
    ['select', 'denied 0       1        1         0          0       0       0      0        0      2',
     $$select * from public.prompt_favorites
        where prompt_id between 'e3000000-0000-4000-a000-0000000000a0' and 'e3000000-0000-4000-a000-0000000000af'$$],
    ['insert (own, a published prompt)',
               'denied rls     1        1         1          1       1       1      1        rls    null-user_id',
     $$insert into public.prompt_favorites (prompt_id) values ('e3000000-0000-4000-a000-0000000000a1')$$],
    ['insert (own, the draft)',
               'denied rls     rls      1         1          1       1       1      1        rls    null-user_id',
     $$insert into public.prompt_favorites (prompt_id) values ('e3000000-0000-4000-a000-0000000000a2')$$],
    ['insert (own, the soft-deleted prompt)',
               'denied rls     rls      1         1          1       1       1      1        rls    null-user_id',
     $$insert into public.prompt_favorites (prompt_id) values ('e3000000-0000-4000-a000-0000000000a4')$$],
    ['insert (as a-viewer)',
               'denied rls     1        rls       rls        rls     rls     rls    rls      rls    1',
     format($$insert into public.prompt_favorites (user_id, prompt_id) values (%L, 'e3000000-0000-4000-a000-0000000000a1')$$,
            (select id from auth.users where email = 'a-viewer@example.com'))],
    ['update', 'denied denied  denied   denied    denied     denied  denied  denied denied   denied 2',
     $$update public.prompt_favorites set created_at = now()
        where prompt_id between 'e3000000-0000-4000-a000-0000000000a0' and 'e3000000-0000-4000-a000-0000000000af'$$],
    ['delete', 'denied 0       1        1         0          0       0       0      0        0      2',
     $$delete from public.prompt_favorites
        where prompt_id between 'e3000000-0000-4000-a000-0000000000a0' and 'e3000000-0000-4000-a000-0000000000af'$$]]);

-- prompt_usage_logs: own events while opted in; admins read their workspace's ----------------------------
select pg_temp.content_matrix('prompt_usage_logs', array[
    --        anon   stranger a-viewer a-contrib a-approver a-admin a-owner padmin jwtadmin cohort service_role
    ['select', 'denied 0       1        1         0          2       2       2      2        0      2',
     $$select * from public.prompt_usage_logs where workspace_id = 'e0000000-0000-4000-a000-00000000000a'$$],
    ['insert (own event, a published prompt)',
               'denied rls     1        1         1          1       1       1      1        rls    1',
     $$insert into public.prompt_usage_logs (user_id, prompt_id, action)
       values (auth.uid(), 'e3000000-0000-4000-a000-0000000000a1', 'view')$$],
    ['insert (own event, the draft)',
               'denied rls     rls      1         1          1       1       1      1        rls    1',
     $$insert into public.prompt_usage_logs (user_id, prompt_id, action)
       values (auth.uid(), 'e3000000-0000-4000-a000-0000000000a2', 'copy')$$],
    ['insert (as a-viewer)',
               'denied rls     1        rls       rls        rls     rls     rls    rls      rls    1',
     format($$insert into public.prompt_usage_logs (user_id, prompt_id, action) values (%L, 'e3000000-0000-4000-a000-0000000000a1', 'view')$$,
            (select id from auth.users where email = 'a-viewer@example.com'))],
    ['update', 'denied denied  denied   denied    denied     denied  denied  denied denied   denied 2',
     $$update public.prompt_usage_logs set metadata = null where workspace_id = 'e0000000-0000-4000-a000-00000000000a'$$],
    ['delete', 'denied denied  denied   denied    denied     denied  denied  denied denied   denied 2',
     $$delete from public.prompt_usage_logs where workspace_id = 'e0000000-0000-4000-a000-00000000000a'$$]]);

-- The workspace and version of an event are the database's, whatever the client sends.
select is(pg_temp.call_as('a-viewer',
              $$with e as (insert into public.prompt_usage_logs (user_id, prompt_id, action, workspace_id, version_id)
                           values (auth.uid(), 'e3000000-0000-4000-a000-0000000000a1', 'view',
                                   'e0000000-0000-4000-a000-00000000000b', 'e4000000-0000-4000-a000-000000000b11')
                           returning workspace_id, version_id)
                select to_jsonb(e) from e$$),
          '{"workspace_id": "e0000000-0000-4000-a000-00000000000a", "version_id": "e4000000-0000-4000-a000-000000000a11"}',
          'an event records its prompt''s workspace and current version, not the ones sent');

-- Own events are readable only while opted in: a-viewer logs an event, then opts out (past events
-- anonymised; no identified event of theirs can be stored afterwards, by anyone): the event stays
-- visible to their admins as an anonymous one, and nothing is "own" for them any more.
insert into public.prompt_usage_logs (user_id, prompt_id, action)
select id, 'e3000000-0000-4000-a000-0000000000a5', 'copy' from auth.users where email = 'a-viewer@example.com';
select is(pg_temp.call_as('a-viewer', $$select public.set_telemetry_opt_out(true) -> 'telemetry_opt_out'$$), 'true',
          'a-viewer opts out');
select pg_temp.content_matrix('prompt_usage_logs', array[
    ['select (own events, opted out)', '0 1',
     $$select * from public.prompt_usage_logs where user_id = auth.uid() or prompt_id = 'e3000000-0000-4000-a000-0000000000a5'$$]],
    'a-viewer a-admin');
select is(pg_temp.call_as('a-viewer', $$select public.set_telemetry_opt_out(false) -> 'telemetry_opt_out'$$), 'false',
          'a-viewer opts in again');
-- The anonymised event stays anonymous; a new one is theirs again.
insert into public.prompt_usage_logs (user_id, prompt_id, action)
select id, 'e3000000-0000-4000-a000-0000000000a5', 'view' from auth.users where email = 'a-viewer@example.com';
select pg_temp.content_matrix('prompt_usage_logs', array[
    ['select (own events, opted in)', '1 2',
     $$select * from public.prompt_usage_logs where user_id = auth.uid() or prompt_id = 'e3000000-0000-4000-a000-0000000000a5'$$]],
    'a-viewer a-admin');

-- A favorite on a prompt that stops being visible is neither readable nor removable by a viewer.
update public.prompts set status = 'archived', archived_at = now() where id = 'e3000000-0000-4000-a000-0000000000a5';
select pg_temp.content_matrix('prompt_favorites', array[
    ['select (own favorite, prompt archived)', '0 1',
     $$select * from public.prompt_favorites where prompt_id = 'e3000000-0000-4000-a000-0000000000a5'$$],
    ['delete (own favorite, prompt archived)', '0 1',
     $$delete from public.prompt_favorites where prompt_id = 'e3000000-0000-4000-a000-0000000000a5'$$]],
    'a-viewer service_role');

-- Another published version: only admins move the pointer to it (a rollback is the same move).
update public.prompt_versions set published = true where id = 'e4000000-0000-4000-a000-000000000a12';
select pg_temp.content_matrix('prompts', array[
    ['update (point p1 at its other published version)', '0 !PT403 !PT403 1 1 1',
     $$update public.prompts set current_version_id = 'e4000000-0000-4000-a000-000000000a12'
        where id = 'e3000000-0000-4000-a000-0000000000a1'$$]],
    'a-viewer a-contrib a-approver a-admin padmin service_role');

-- Leaving the workspace ends reading one's own past events there.
delete from public.workspace_members
 where workspace_id = 'e0000000-0000-4000-a000-00000000000a'
   and user_id = (select id from auth.users where email = 'a-contrib@example.com');
select pg_temp.content_matrix('prompt_usage_logs', array[
    ['select (own events, after leaving)', '0',
     $$select * from public.prompt_usage_logs where user_id = auth.uid()$$]],
    'a-contrib');

select * from finish();
rollback;
