-- Publishing RPCs: publish_prompt_version (new content, an existing version, a rollback), and
-- archive / unarchive / soft delete / restore. Admin (or service role) only.
-- Seed prompt 02: v1, v2 published (current v2), v3 draft.
begin;
\ir _helpers.psql
select plan(56);

create temporary table published (step text primary key, result jsonb);
grant all on published to public;

/** Publish as `actor` with the given named arguments; remember the result under `step`. */
create function pg_temp.publish(step text, actor text, args text)
    returns jsonb
    language plpgsql
as $$
declare
    v_result jsonb := pg_temp.call_as(actor, format('select public.publish_prompt_version(%s)', args));
begin
    insert into pg_temp.published values (step, v_result);
    return v_result;
end;
$$;

/** The publishing state of prompt n as postgres sees it, in the RPCs' result shape. */
create function pg_temp.state(n integer)
    returns jsonb
    language sql
as $$
    select jsonb_build_object('prompt_id', p.id, 'current_version_id', p.current_version_id,
                              'version_number', v.version_number, 'status', p.status,
                              'published_at', p.published_at, 'archived_at', p.archived_at,
                              'is_deleted', p.is_deleted)
      from public.prompts p
      left join public.prompt_versions v on v.id = p.current_version_id
     where p.id = pg_temp.prompt_id(n);
$$;

-- New content becomes the next version, published and current, in one call.
select is(pg_temp.publish('new', 'admin', $$pg_temp.prompt_id(2), markdown_body => 'Fresh body', changelog => 'Rewritten'$$)
          - 'current_version_id',
          jsonb_build_object('prompt_id', pg_temp.prompt_id(2), 'version_number', 4, 'status', 'published',
                             'published_at', now(), 'archived_at', null, 'is_deleted', false),
          'publish new content: version 4, published now');
select is((select result from published where step = 'new'), pg_temp.state(2), '... the result is the stored state');
select results_eq(
    $$select markdown_body, changelog, published, published_at, created_by from public.prompt_versions
       where id = (select (result ->> 'current_version_id')::uuid from published where step = 'new')$$,
    $$values ('Fresh body', 'Rewritten', true, now(), '00000000-0000-4000-a000-000000000001'::uuid)$$,
    '... current_version_id is the new version, with its body, changelog and author');

-- An existing draft is published as is; an older version is a rollback.
select is(pg_temp.publish('draft', 'admin', 'pg_temp.prompt_id(2), version_id => pg_temp.version_id(2, 3)') ->> 'version_number',
          '3', 'publish the existing draft version 3');
select results_eq($$select published, published_at, changelog from public.prompt_versions where id = pg_temp.version_id(2, 3)$$,
                  $$values (true, now(), 'Added an example')$$, '... which is now published, with its own changelog');
select is(pg_temp.publish('rollback', 'jwtadmin', 'pg_temp.prompt_id(2), version_id => pg_temp.version_id(2, 1)'),
          pg_temp.state(2), 'roll back to version 1 (a JWT-claim admin)');
select is(pg_temp.state(2) ->> 'current_version_id', pg_temp.version_id(2, 1)::text, '... current_version_id is version 1');
select is((select count(*)::int from public.prompt_versions where prompt_id = pg_temp.prompt_id(2)), 4,
          '... and no version was created by publishing existing ones');
select is(pg_temp.publish('again', 'service_role', 'pg_temp.prompt_id(2), version_id => pg_temp.version_id(2, 1)') ->> 'version_number',
          '1', 'publishing the current version again is harmless (service role)');

-- A draft prompt and an archived prompt become published, visible to learners.
select is(pg_temp.publish('draft prompt', 'admin', 'pg_temp.prompt_id(12), version_id => pg_temp.version_id(12, 2)') ->> 'status',
          'published', 'publish the draft prompt 12');
select is(pg_temp.publish('archived prompt', 'admin', $$pg_temp.prompt_id(13), markdown_body => 'Back again'$$)
          - 'current_version_id' - 'published_at' - 'prompt_id',
          '{"version_number": 4, "status": "published", "archived_at": null, "is_deleted": false}',
          'publish new content on the archived prompt 13: unarchived');
select is(pg_temp.call_as('learner', $$select jsonb_agg(id order by id) from public.prompts where id in (pg_temp.prompt_id(12), pg_temp.prompt_id(13))$$),
          to_jsonb(array[pg_temp.prompt_id(12), pg_temp.prompt_id(13)]), 'learner now sees prompts 12 and 13');

-- Refusals. Nothing is left behind by a refused or failed publish.
select pg_temp.expect(t.actor, t.what, format('select public.publish_prompt_version(%s)', t.args), t.expected)
  from (values
        ('learner', 'publish', $$pg_temp.prompt_id(5), markdown_body => 'x'$$, 'PT403: only prompt admins can do this'),
        ('outsider', 'publish', $$pg_temp.prompt_id(5), markdown_body => 'x'$$, 'PT403: only prompt admins can do this'),
        ('usermeta', 'publish', $$pg_temp.prompt_id(5), markdown_body => 'x'$$, 'PT403: only prompt admins can do this'),
        ('revoked', 'publish', $$pg_temp.prompt_id(5), markdown_body => 'x'$$, 'PT403: only prompt admins can do this'),
        ('anon', 'publish', $$pg_temp.prompt_id(5), markdown_body => 'x'$$, pg_temp.denied_fn('publish_prompt_version')),
        ('admin', 'publish on an unknown prompt', $$pg_temp.prompt_id(98), markdown_body => 'x'$$,
         'PT404: prompt 30000000-0000-4000-a000-000000000098 not found'),
        ('admin', 'publish an unknown version', $$pg_temp.prompt_id(5), version_id => '40000000-0000-4000-a000-000000000000'$$,
         'PT404: version 40000000-0000-4000-a000-000000000000 not found for prompt 30000000-0000-4000-a000-000000000005'),
        ('admin', 'publish a version of another prompt', 'pg_temp.prompt_id(5), version_id => pg_temp.version_id(6, 1)',
         format('PT404: version %s not found for prompt 30000000-0000-4000-a000-000000000005', pg_temp.version_id(6, 1))),
        ('admin', 'publish on the soft-deleted prompt 14', $$pg_temp.prompt_id(14), markdown_body => 'x'$$,
         'PT409: prompt 30000000-0000-4000-a000-000000000014 is deleted; restore it before publishing'),
        ('admin', 'publish with both version_id and markdown_body',
         $$pg_temp.prompt_id(5), version_id => pg_temp.version_id(5, 1), markdown_body => 'x'$$,
         '22023: give exactly one of version_id (publish an existing version) or markdown_body (publish new content)'),
        ('admin', 'publish with neither', 'pg_temp.prompt_id(5)',
         '22023: give exactly one of version_id (publish an existing version) or markdown_body (publish new content)'),
        ('admin', 'publish an existing version with a changelog',
         $$pg_temp.prompt_id(5), version_id => pg_temp.version_id(5, 1), changelog => 'x'$$,
         '22023: changelog goes with markdown_body; an existing version keeps its changelog'),
        ('admin', 'publish without a prompt', $$null, markdown_body => 'x'$$, '22023: prompt_id is required'),
        ('admin', 'publish a body over 100000 characters', $$pg_temp.prompt_id(5), markdown_body => repeat('x', 100001)$$,
         '23514: new row for relation "prompt_versions" violates check constraint "prompt_versions_markdown_body_check"')
       ) as t (actor, what, args, expected);
select pg_temp.untouched_by('public.prompt_versions', array['learner', 'admin'],
    array[$$select public.publish_prompt_version(pg_temp.prompt_id(5), markdown_body => repeat('x', 100001))$$,
          $$select public.publish_prompt_version(pg_temp.prompt_id(14), markdown_body => 'x')$$],
    refusals => array['PT403', 'PT409', '23514']);
select pg_temp.untouched_by('public.prompts', array['learner', 'admin'],
    array[$$select public.publish_prompt_version(pg_temp.prompt_id(5), version_id => pg_temp.version_id(6, 1))$$,
          $$select public.publish_prompt_version(pg_temp.prompt_id(5), markdown_body => repeat('x', 100001))$$],
    refusals => array['PT403', 'PT404', '23514']);

-- archive / unarchive / soft delete / restore.
select is(pg_temp.call_as('admin', 'select public.archive_prompt(pg_temp.prompt_id(5))'), pg_temp.state(5),
          'archive_prompt returns the stored state');
select results_eq($$select status, archived_at from public.prompts where id = pg_temp.prompt_id(5)$$,
                  $$values ('archived', now())$$, '... archived now');
select is(pg_temp.call_as('learner', 'select to_jsonb(count(*)) from public.prompts where id = pg_temp.prompt_id(5)'), '0',
          '... hidden from learners');
select is(pg_temp.call_as('jwtadmin', 'select public.unarchive_prompt(pg_temp.prompt_id(5))') - 'current_version_id' - 'published_at',
          jsonb_build_object('prompt_id', pg_temp.prompt_id(5), 'version_number', 2, 'status', 'published',
                             'archived_at', null, 'is_deleted', false),
          'unarchive_prompt: published again at its current version');
select is(pg_temp.call_as('learner', 'select to_jsonb(count(*)) from public.prompts where id = pg_temp.prompt_id(5)'), '1',
          '... visible to learners again');
insert into public.prompts (id, module_id, slug, title)
values ('30000000-0000-4000-a000-000000000099', '10000000-0000-4000-a000-000000000001', 'never-published', 'Never published');
select is(pg_temp.call_as('service_role', 'select public.archive_prompt(pg_temp.prompt_id(99))') ->> 'status', 'archived',
          'archive a prompt that was never published (service role)');
select is(pg_temp.call_as('admin', 'select public.unarchive_prompt(pg_temp.prompt_id(99))') ->> 'status', 'draft',
          '... unarchived, it is a draft again (no current version)');

select is(pg_temp.call_as('admin', 'select public.soft_delete_prompt(pg_temp.prompt_id(6))'), pg_temp.state(6),
          'soft_delete_prompt returns the stored state');
select results_eq($$select is_deleted, deleted_at, status from public.prompts where id = pg_temp.prompt_id(6)$$,
                  $$values (true, now(), 'published')$$, '... deleted now, status kept');
select is(pg_temp.call_as('admin', 'select public.restore_prompt(pg_temp.prompt_id(6))') ->> 'is_deleted', 'false',
          'restore_prompt undoes it');
select results_eq($$select is_deleted, deleted_at from public.prompts where id = pg_temp.prompt_id(6)$$,
                  $$values (false, null::timestamptz)$$, '... deleted_at cleared');
select ok((select deleted_at < now() from public.prompts where id = pg_temp.prompt_id(14))
          and pg_temp.call_as('admin', 'select public.soft_delete_prompt(pg_temp.prompt_id(14))') ->> 'is_deleted' = 'true'
          and (select deleted_at < now() from public.prompts where id = pg_temp.prompt_id(14)),
          'soft-deleting a deleted prompt again keeps its original deleted_at');

select pg_temp.expect(t.actor, format('%s(%s)', f.fn, t.prompt), format('select public.%s(pg_temp.prompt_id(%s))', f.fn, t.prompt),
                      coalesce(t.expected, pg_temp.denied_fn(f.fn)))
  from unnest(array['archive_prompt', 'unarchive_prompt', 'soft_delete_prompt', 'restore_prompt']) as f (fn)
 cross join (values ('anon', 7, null),
                    ('learner', 7, 'PT403: only prompt admins can do this'),
                    ('usermeta', 7, 'PT403: only prompt admins can do this'),
                    ('admin', 98, 'PT404: prompt 30000000-0000-4000-a000-000000000098 not found')) as t (actor, prompt, expected);

select * from finish();
rollback;
