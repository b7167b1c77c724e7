-- Rules the database enforces whoever writes: immutable versions, numbering, the publish pointer,
-- updated_at, and what soft delete, archive and hard delete do to what learners see.
begin;
\ir _helpers.psql
select plan(74);

-- Version content is immutable: API roles lack the column privilege, the service role hits the trigger.
select pg_temp.expect(a.actor, format('update %s of a version', c.col),
           format('update public.prompt_versions set %I = %s where id = pg_temp.version_id(2, 1)', c.col, c.val),
           case when a.actor = 'service_role'
                then 'PT409: prompt versions are immutable: create a new version instead'
                else pg_temp.denied('prompt_versions') end)
  from (values ('markdown_body', $$'Rewritten'$$),
               ('version_number', '99'),
               ('prompt_id', 'pg_temp.prompt_id(3)'),
               ('created_by', $$'00000000-0000-4000-a000-000000000002'$$),
               ('created_at', $$now() - interval '1 day'$$),
               ('id', 'gen_random_uuid()')) as c (col, val)
 cross join (values ('admin'), ('jwtadmin'), ('service_role')) as a (actor);

select pg_temp.expect('service_role', 'rewrite a version with its own content (no change)',
    $$update public.prompt_versions set markdown_body = markdown_body, created_at = created_at
       where id = pg_temp.version_id(2, 1)$$, pg_temp.rows(1));
select pg_temp.expect('admin', 'update the changelog of a published version',
    $$update public.prompt_versions set changelog = 'Fixed a typo' where id = pg_temp.version_id(2, 1)$$, pg_temp.rows(1));

-- published only goes false -> true; published_at is the database's.
select pg_temp.expect(a, 'unpublish a version', $$update public.prompt_versions set published = false
                                                    where id = pg_temp.version_id(2, 1)$$,
                      'PT409: a published version cannot be unpublished; publish another version instead')
  from unnest(array['admin', 'service_role']) as a;
select pg_temp.expect('admin', 'set published_at', $$update public.prompt_versions set published_at = now()
                                                       where id = pg_temp.version_id(2, 3)$$,
                      pg_temp.denied('prompt_versions'));
select is(pg_temp.attempt('service_role', $$update public.prompt_versions set published_at = '2000-01-01'
                                             where id = pg_temp.version_id(2, 1)$$, keep => true),
          pg_temp.rows(1), 'service_role: set published_at of a published version');
select isnt((select published_at from public.prompt_versions where id = pg_temp.version_id(2, 1)),
            '2000-01-01'::timestamptz, '... published_at keeps its original value');
select is(pg_temp.attempt('admin', $$update public.prompt_versions set published = true
                                      where id = pg_temp.version_id(2, 3)$$, keep => true),
          pg_temp.rows(1), 'admin publishes the draft version 3 of prompt 02');
select is((select published_at from public.prompt_versions where id = pg_temp.version_id(2, 3)), now(),
          '... and published_at is set by the database');

-- version_number is max + 1 per prompt whatever is sent; created_at and published_at are the database's.
select is(pg_temp.attempt('admin', $$insert into public.prompt_versions (prompt_id, version_number, markdown_body, created_at)
                                     values (pg_temp.prompt_id(2), 99, 'v4', '2000-01-01')$$, keep => true),
          pg_temp.rows(1), 'admin inserts a version of prompt 02 claiming number 99');
select is(pg_temp.attempt('service_role', $$insert into public.prompt_versions (prompt_id, version_number, markdown_body, published_at)
                                            values (pg_temp.prompt_id(2), 1, 'v5', '2000-01-01')$$, keep => true),
          pg_temp.rows(1), 'service_role inserts a version of prompt 02 claiming number 1');
select results_eq(
    $$select version_number, created_at, published_at from public.prompt_versions
       where prompt_id = pg_temp.prompt_id(2) and markdown_body in ('v4', 'v5') order by version_number$$,
    $$values (4, now(), null::timestamptz), (5, now(), null::timestamptz)$$,
    'they become versions 4 and 5, created now, unpublished (published_at sent is dropped)');
insert into public.prompts (id, module_id, slug, title, updated_at)
values ('30000000-0000-4000-a000-000000000099', '10000000-0000-4000-a000-000000000001', 'fresh', 'Fresh', '2000-01-01');
insert into public.prompt_versions (prompt_id, version_number, markdown_body, published)
values ('30000000-0000-4000-a000-000000000099', 7, 'first', true);
select results_eq($$select version_number, published_at from public.prompt_versions where prompt_id = pg_temp.prompt_id(99)$$,
                  $$values (1, now())$$, 'the first version of a new prompt is number 1; inserted published, it gets published_at');
-- A prompt nobody can see (here: none exists) is refused by RLS before the foreign key is checked.
select pg_temp.expect('admin', 'insert a version of an unknown prompt',
    $$insert into public.prompt_versions (prompt_id, markdown_body) values (gen_random_uuid(), 'orphan')$$,
    pg_temp.rls('prompt_versions'));
select is(pg_temp.attempt('service_role', $$insert into public.prompt_versions (prompt_id, markdown_body) values (gen_random_uuid(), 'orphan')$$),
          '23503: insert or update on table "prompt_versions" violates foreign key constraint "prompt_versions_prompt_id_fkey"',
          'service_role: a version of an unknown prompt is refused by the foreign key');

-- Only never-published drafts can be deleted through the API; the current version never.
select pg_temp.expect('admin', 'delete a published version', $$delete from public.prompt_versions
                                                               where id = pg_temp.version_id(3, 1)$$, pg_temp.rows(0));
select pg_temp.expect('admin', 'delete a draft version', $$delete from public.prompt_versions
                                                            where id = pg_temp.version_id(3, 3)$$, pg_temp.rows(1));
-- The current version is published, and published versions are never deleted (issue 17 item 11;
-- before, the foreign key refused it with 23503 and other published versions could go).
select pg_temp.expect('service_role', 'delete the current version', $$delete from public.prompt_versions
                                                                       where id = pg_temp.version_id(3, 2)$$,
    format('PT409: version 2 of prompt %s is published: published versions are history', pg_temp.prompt_id(3)));

-- current_version_id: a published version of the same prompt, and a published prompt has one.
select pg_temp.expect(a.actor, 'point current_version_id at ' || t.what,
           format('update public.prompts set current_version_id = %s where id = pg_temp.prompt_id(3)', t.target),
           '23514: current_version_id must point at a published version of the same prompt')
  from (values ('a draft of the same prompt', 'pg_temp.version_id(3, 3)'),
               ('a published version of another prompt', 'pg_temp.version_id(5, 1)'),
               ('no version at all', 'gen_random_uuid()')) as t (what, target)
 cross join (values ('admin'), ('service_role')) as a (actor);
select pg_temp.expect('admin', 'point current_version_id at an older published version (rollback)',
    'update public.prompts set current_version_id = pg_temp.version_id(3, 1) where id = pg_temp.prompt_id(3)',
    pg_temp.rows(1));
-- v2 dropped v1's composite foreign key (it made prompts?select=*,prompt_versions(*) ambiguous for
-- PostgREST): the trigger is the guard, and no API role can switch it off.
select pg_temp.expect('service_role', 'switch off the current-version trigger',
    'alter table public.prompts disable trigger prompts_guard_current_version',
    '42501: must be owner of table prompts');
select pg_temp.expect(a, t.what, t.sql,
           '23514: new row for relation "prompts" violates check constraint "prompts_published_has_version_check"')
  from (values ('publish the draft prompt 12 without a version',
                $$update public.prompts set status = 'published' where id = pg_temp.prompt_id(12)$$),
               ('clear the version of a published prompt',
                $$update public.prompts set current_version_id = null where id = pg_temp.prompt_id(5)$$),
               ('insert a published prompt without a version',
                $$insert into public.prompts (module_id, slug, title, status)
                  values ('10000000-0000-4000-a000-000000000001', 'no-version', 'No version', 'published')$$)) as t (what, sql)
 cross join unnest(array['admin', 'service_role']) as a;

-- updated_at: set by the trigger on every update, whatever the client sends.
insert into public.prompt_modules (id, slug, title, updated_at)
values ('10000000-0000-4000-a000-000000000099', 'old-module', 'Old', '2000-01-01');
insert into public.prompt_lessons (id, module_id, slug, title, updated_at)
values ('20000000-0000-4000-a000-000000000099', '10000000-0000-4000-a000-000000000099', 'old-lesson', 'Old', '2000-01-01');
insert into public.prompt_feature_flags (key, updated_at) values ('OLD_FLAG', '2000-01-01');
insert into public.course_cohort_members (cohort_id, email, source_hash, updated_at)
values ('cohort-old', 'old@example.org', 'x', '2000-01-01');
insert into public.prompt_user_preferences (user_id, updated_at) values ('00000000-0000-4000-a000-000000000003', '2000-01-01');
select is(pg_temp.call_as('service_role', format($$with u as (update %s set %s where %s returning updated_at)
                                                    select to_jsonb(u.updated_at) from u$$, t.tbl, t.assignment, t.cond)),
          to_jsonb(now()), format('%s: updated_at goes from 2000-01-01 to now() on update', t.tbl))
  from (values ('public.prompts', $$title = 'New'$$, 'id = pg_temp.prompt_id(99)'),
               ('public.prompt_modules', $$title = 'New'$$, $$slug = 'old-module'$$),
               ('public.prompt_lessons', $$title = 'New', updated_at = '2001-01-01'$$, $$slug = 'old-lesson'$$),
               ('public.prompt_feature_flags', 'enabled = true', $$key = 'OLD_FLAG'$$),
               ('public.course_cohort_members', $$first_name = 'Olga'$$, $$email = 'old@example.org'$$),
               ('public.prompt_user_preferences', 'telemetry_opt_out = false',
                $$user_id = '00000000-0000-4000-a000-000000000003'$$)) as t (tbl, assignment, cond);

-- Soft delete hides a prompt, its versions and favorites from learners; admins still see them.
select is(pg_temp.call_as('admin', 'select public.soft_delete_prompt(pg_temp.prompt_id(1))') ->> 'is_deleted', 'true',
          'admin soft-deletes prompt 01');
select is(pg_temp.call_as(t.actor, t.sql), t.expected, t.actor || ' after soft delete: ' || t.what)
  from (values ('learner', 'the prompt', 'select to_jsonb(count(*)) from public.prompts where id = pg_temp.prompt_id(1)', '0'::jsonb),
               ('learner', 'its versions', 'select to_jsonb(count(*)) from public.prompt_versions where prompt_id = pg_temp.prompt_id(1)', '0'),
               ('learner', 'favorites (05 left)', 'select jsonb_agg(prompt_id) from public.prompt_favorites', to_jsonb(array[pg_temp.prompt_id(5)])),
               ('admin', 'the prompt', 'select to_jsonb(count(*)) from public.prompts where id = pg_temp.prompt_id(1)', '1'),
               ('admin', 'its versions', 'select to_jsonb(count(*)) from public.prompt_versions where prompt_id = pg_temp.prompt_id(1)', '3')
       ) as t (actor, what, sql, expected);
select pg_temp.expect('learner', 'favorite the soft-deleted prompt',
    'insert into public.prompt_favorites (prompt_id) values (pg_temp.prompt_id(1))', pg_temp.rls('prompt_favorites'));
select pg_temp.expect('learner', 'log usage of the soft-deleted prompt',
    $$insert into public.prompt_usage_logs (user_id, prompt_id, action) values (auth.uid(), pg_temp.prompt_id(1), 'view')$$,
    pg_temp.rls('prompt_usage_logs'));
select is(pg_temp.call_as('admin', 'select public.restore_prompt(pg_temp.prompt_id(1))') ->> 'is_deleted', 'false',
          'admin restores prompt 01');
select is(pg_temp.call_as('learner', 'select to_jsonb(count(*)) from public.prompt_versions where prompt_id = pg_temp.prompt_id(1)'),
          '3', 'after restore the learner sees its three published versions again');

-- Archive hides a prompt and its versions from learners.
select is(pg_temp.call_as('admin', 'select public.archive_prompt(pg_temp.prompt_id(2))') ->> 'status', 'archived',
          'admin archives prompt 02');
select is(pg_temp.call_as('learner', $$select to_jsonb(count(*)) from public.prompts where id = pg_temp.prompt_id(2)$$),
          '0', 'learner no longer sees the archived prompt');
select is(pg_temp.call_as('learner', $$select to_jsonb(count(*)) from public.prompt_versions where prompt_id = pg_temp.prompt_id(2)$$),
          '0', '... nor its versions');

-- Deleting a prompt deletes its versions, favorites and usage events. A published one only by
-- the database owner (issue 17 item 2: API roles are refused, pgTAP 24).
select is(pg_temp.attempt(null, 'delete from public.prompts where id = pg_temp.prompt_id(1)', keep => true),
          pg_temp.rows(1), 'the database owner purges prompt 01');
select is((select count(*) from public.prompt_versions where prompt_id = pg_temp.prompt_id(1)), 0::bigint, 'its versions are gone');
select is((select count(*) from public.prompt_favorites where prompt_id = pg_temp.prompt_id(1)), 0::bigint, 'its favorites are gone');
select is((select count(*) from public.prompt_usage_logs where prompt_id = pg_temp.prompt_id(1)), 0::bigint, 'its usage events are gone');

select is(pg_temp.attempt('admin', $$insert into public.prompt_versions (prompt_id, markdown_body) values ('30000000-0000-4000-a000-000000000003', E'  \n\t ')$$),
          '23514: new row for relation "prompt_versions" violates check constraint "prompt_versions_markdown_body_check"',
          'a version whose markdown is only white space is refused');

select * from finish();
rollback;
