-- Published history survives and version numbers stay gap-free, for every role (issue 17,
-- items 2 and 11); soft delete with the flag alone (item 18).
-- Before 20261202100600 / 20261202100700 the assertions marked [item N] failed.
-- Seed: prompt 1 is published (v1..v3 published, v3 current); prompt 2 has v3 as a never-published
-- draft. Prompt D (made here) was never published: three drafts.
begin;
\ir _helpers.psql
select plan(26);

create function pg_temp.versions(n integer) returns integer[] language sql as $$
    select array_agg(v.version_number order by v.version_number) from public.prompt_versions v
     where v.prompt_id = pg_temp.prompt_id(n);
$$;
insert into public.prompts (id, module_id, lesson_id, slug, title) values
    ('30000000-0000-4000-d000-000000000024', '10000000-0000-4000-a000-000000000001',
     '20000000-0000-4000-a000-000000000001', 'guard-drafts', 'Never published');
insert into public.prompt_versions (prompt_id, markdown_body)
select '30000000-0000-4000-d000-000000000024', 'draft ' || n from generate_series(1, 3) n;
create function pg_temp.d_version(n integer) returns uuid language sql as $$
    select v.id from public.prompt_versions v where v.prompt_id = '30000000-0000-4000-d000-000000000024' and v.version_number = n;
$$;
create function pg_temp.refusal(what text) returns text language sql as $$ select 'PT409: ' || what $$;

-- [item 2] Hard delete of a prompt that has been published: refused for API roles.
select pg_temp.expect('admin', 'delete published prompt 1', format('delete from public.prompts where id = %L', pg_temp.prompt_id(1)),
    pg_temp.refusal(format('prompt %s has been published: its versions are history and cannot be deleted', pg_temp.prompt_id(1))));
select pg_temp.expect('jwtadmin', 'delete published prompt 1', format('delete from public.prompts where id = %L', pg_temp.prompt_id(1)),
    pg_temp.refusal(format('prompt %s has been published: its versions are history and cannot be deleted', pg_temp.prompt_id(1))));
select pg_temp.expect('service_role', 'delete published prompt 1', format('delete from public.prompts where id = %L', pg_temp.prompt_id(1)),
    pg_temp.refusal(format('prompt %s has been published: its versions are history and cannot be deleted', pg_temp.prompt_id(1))));
select pg_temp.expect('admin', 'delete soft-deleted published prompt 14', format('delete from public.prompts where id = %L', pg_temp.prompt_id(14)),
    pg_temp.refusal(format('prompt %s has been published: its versions are history and cannot be deleted', pg_temp.prompt_id(14))));
select is(pg_temp.versions(1), array[1, 2, 3], '[item 2] ... prompt 1 keeps all its versions');
select pg_temp.expect('learner', 'delete published prompt 1', format('delete from public.prompts where id = %L', pg_temp.prompt_id(1)),
                      pg_temp.rows(0));

-- A never-published prompt can still be deleted, with its drafts.
select pg_temp.expect('admin', 'delete never-published prompt D', $$delete from public.prompts where id = '30000000-0000-4000-d000-000000000024'$$,
                      pg_temp.rows(1));
select pg_temp.expect('service_role', 'delete never-published prompt D', $$delete from public.prompts where id = '30000000-0000-4000-d000-000000000024'$$,
                      pg_temp.rows(1));
-- The database owner may purge a published prompt with its history (outside the API).
select pg_temp.expect(null, 'postgres purges published prompt 1', format('delete from public.prompts where id = %L', pg_temp.prompt_id(1)),
                      pg_temp.rows(1));

-- [item 11] Published versions: refused for every role, the service role included.
select pg_temp.expect('service_role', 'delete published v1 of prompt 1',
    format('delete from public.prompt_versions where id = %L', pg_temp.version_id(1, 1)),
    pg_temp.refusal(format('version 1 of prompt %s is published: published versions are history', pg_temp.prompt_id(1))));
select pg_temp.expect(null, 'postgres deletes published v1 of prompt 1',
    format('delete from public.prompt_versions where id = %L', pg_temp.version_id(1, 1)),
    pg_temp.refusal(format('version 1 of prompt %s is published: published versions are history', pg_temp.prompt_id(1))));
select pg_temp.expect('admin', 'delete published v2 of prompt 1',
    format('delete from public.prompt_versions where id = %L', pg_temp.version_id(1, 2)), pg_temp.rows(0));

-- [item 11] Drafts: only the newest, so numbers stay gap-free.
select pg_temp.expect('admin', 'delete draft v1 of prompt D (v2, v3 exist)',
    format('delete from public.prompt_versions where id = %L', pg_temp.d_version(1)),
    pg_temp.refusal('version 1 of prompt 30000000-0000-4000-d000-000000000024 is not the newest: deleting it would leave a gap in the numbers'));
select pg_temp.expect('service_role', 'delete draft v2 of prompt D (v3 exists)',
    format('delete from public.prompt_versions where id = %L', pg_temp.d_version(2)),
    pg_temp.refusal('version 2 of prompt 30000000-0000-4000-d000-000000000024 is not the newest: deleting it would leave a gap in the numbers'));
select is((select array_agg(v.version_number order by 1) from public.prompt_versions v
            where v.prompt_id = '30000000-0000-4000-d000-000000000024'), array[1, 2, 3], '[item 11] ... prompt D keeps 1, 2, 3');
select pg_temp.expect('admin', 'delete the newest draft v3 of prompt 2',
    format('delete from public.prompt_versions where id = %L', pg_temp.version_id(2, 3)), pg_temp.rows(1));
select pg_temp.expect('service_role', 'delete the newest draft v3 of prompt D',
    format('delete from public.prompt_versions where id = %L', pg_temp.d_version(3)), pg_temp.rows(1));
-- Delete the drafts newest first: each step is allowed, and the next number is max + 1 again.
select is(pg_temp.attempt('admin', format('delete from public.prompt_versions where id = %L', pg_temp.d_version(3)), keep => true),
          pg_temp.rows(1), 'newest-first deletion of drafts: v3');
select is(pg_temp.attempt('admin', format('delete from public.prompt_versions where id = %L', pg_temp.d_version(2)), keep => true),
          pg_temp.rows(1), '... then v2');
select is((pg_temp.call_as('admin', $$with v as (insert into public.prompt_versions (prompt_id, markdown_body, created_by)
             values ('30000000-0000-4000-d000-000000000024', 'again', auth.uid()) returning version_number)
             select to_jsonb(v.version_number) from v$$)),
          '2', '... and the next version is number 2: gap-free');

-- [item 18] Soft delete with the flag alone; the database maintains deleted_at.
select is(pg_temp.attempt('admin', format('update public.prompts set is_deleted = true where id = %L', pg_temp.prompt_id(3)), keep => true),
          pg_temp.rows(1), '[item 18] an admin sets is_deleted = true alone (REST PATCH)');
select ok((select p.deleted_at is not null and p.is_deleted from public.prompts p where p.id = pg_temp.prompt_id(3)),
          '[item 18] ... and the database set deleted_at');
select is(pg_temp.attempt('admin', format('update public.prompts set is_deleted = false where id = %L', pg_temp.prompt_id(3)), keep => true),
          pg_temp.rows(1), '[item 18] is_deleted = false alone restores it');
select ok((select p.deleted_at is null and not p.is_deleted from public.prompts p where p.id = pg_temp.prompt_id(3)),
          '[item 18] ... and clears deleted_at');
select is(pg_temp.attempt('service_role', format('update public.prompts set deleted_at = now() where id = %L', pg_temp.prompt_id(3)), keep => true),
          pg_temp.rows(1), '[item 18] deleted_at alone is accepted too');
select ok((select p.is_deleted from public.prompts p where p.id = pg_temp.prompt_id(3)), '[item 18] ... and the flag follows it');

select * from finish();
rollback;
