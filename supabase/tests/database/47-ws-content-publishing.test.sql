-- Publishing RPCs and usage ingest by workspace role (contract §4, §8, §16): publish_prompt_version,
-- archive_prompt, unarchive_prompt, soft_delete_prompt, restore_prompt are for admins of the
-- prompt's workspace (owners, platform admins outside personal workspaces, the service role).
-- Refusals never reveal a prompt the caller cannot read (private.lock_prompt): callers who
-- administer some shared workspace get PT404, everybody else PT403, for a hidden prompt exactly as
-- for one that does not exist. ingest_usage_events stores events only on prompts the caller can
-- read and drops the rest.
begin;
\ir _helpers.psql
\ir _workspace_helpers.psql
select plan(380);

/** The SQL of RPC `name` on prompt `id` ('publish': publish its version 1, whose id the fixtures derive from the prompt's). */
create function pg_temp.rpc(name text, id text)
    returns text
    language sql
    immutable
as $$
    select case name
               when 'publish' then format('select public.publish_prompt_version(%L, %L)',
                                          id, 'e4000000-0000-4000-a000-000000000' || right(id, 2) || '1')
               when 'publish new content' then format('select public.publish_prompt_version(%L, markdown_body => %L, changelog => %L)',
                                                      id, 'New body', 'New')
               else format('select public.%s_prompt(%L)', name, id)
           end;
$$;

-- Team workspace a ---------------------------------------------------------------------------------------
select pg_temp.content_matrix('prompts', array[
    --        anon   stranger a-viewer a-contrib a-approver a-admin a-owner padmin jwtadmin cohort b-admin service_role
    ['publish_prompt_version (the draft''s version)',
              '!42501 !PT403   !PT403   !PT403    !PT403     1       1       1      1        !PT403 !PT404  1',
     pg_temp.rpc('publish', 'e3000000-0000-4000-a000-0000000000a2')],
    ['publish_prompt_version (new content of p1)',
              '!42501 !PT403   !PT403   !PT403    !PT403     1       1       1      1        !PT403 !PT404  1',
     pg_temp.rpc('publish new content', 'e3000000-0000-4000-a000-0000000000a1')],
    ['archive_prompt (p1)',
              '!42501 !PT403   !PT403   !PT403    !PT403     1       1       1      1        !PT403 !PT404  1',
     pg_temp.rpc('archive', 'e3000000-0000-4000-a000-0000000000a1')],
    ['unarchive_prompt (p3)',
              '!42501 !PT403   !PT403   !PT403    !PT403     1       1       1      1        !PT403 !PT404  1',
     pg_temp.rpc('unarchive', 'e3000000-0000-4000-a000-0000000000a3')],
    ['soft_delete_prompt (p5)',
              '!42501 !PT403   !PT403   !PT403    !PT403     1       1       1      1        !PT403 !PT404  1',
     pg_temp.rpc('soft_delete', 'e3000000-0000-4000-a000-0000000000a5')],
    ['restore_prompt (p4)',
              '!42501 !PT403   !PT403   !PT403    !PT403     1       1       1      1        !PT403 !PT404  1',
     pg_temp.rpc('restore', 'e3000000-0000-4000-a000-0000000000a4')]],
    'anon stranger a-viewer a-contrib a-approver a-admin a-owner padmin jwtadmin cohort b-admin service_role');

-- Personal workspace d: its owner publishes; platform admins and admins of other workspaces get
-- PT404 (they cannot see it), everybody else PT403.
select pg_temp.content_matrix('prompts', array[
    --        anon   stranger a-owner solo padmin jwtadmin cohort service_role
    [r.name || ' (personal d, p' || r.n || ')',
              '!42501 !PT403   !PT404  1    !PT404 !PT404   !PT403 1',
     pg_temp.rpc(r.name, 'e3000000-0000-4000-a000-0000000000d' || r.n)]],
    'anon stranger a-owner solo padmin jwtadmin cohort service_role')
  from (values ('publish', 2), ('archive', 1), ('unarchive', 3), ('soft_delete', 5), ('restore', 4)) r (name, n);

-- Course workspace c: cohort viewers never publish.
select pg_temp.content_matrix('prompts', array[
    --        c-viewer c-contrib c-approver c-admin c-owner cohort cohort2 padmin
    [r.name || ' (course c, p' || r.n || ')',
              '!PT403  !PT403    !PT403     1       1       !PT403 !PT403  1',
     pg_temp.rpc(r.name, 'e3000000-0000-4000-a000-0000000000c' || r.n)]],
    'c-viewer c-contrib c-approver c-admin c-owner cohort cohort2 padmin')
  from (values ('publish', 2), ('archive', 1), ('unarchive', 3), ('soft_delete', 5), ('restore', 4)) r (name, n);

-- What the admin's publish did: the draft is live at v1 for a's viewers.
select is(pg_temp.call_as('a-admin', pg_temp.rpc('publish', 'e3000000-0000-4000-a000-0000000000a2'))
              - 'published_at' - 'archived_at',
          '{"prompt_id": "e3000000-0000-4000-a000-0000000000a2", "current_version_id": "e4000000-0000-4000-a000-000000000a21",
            "version_number": 1, "status": "published", "is_deleted": false}',
          'a-admin publishes the draft''s version 1');
select is(pg_temp.call_as('a-viewer', $$select jsonb_agg(v.id order by v.id) from public.prompt_versions v
                                         where v.prompt_id = 'e3000000-0000-4000-a000-0000000000a2'$$),
          '["e4000000-0000-4000-a000-000000000a21"]', 'a-viewer now reads the published version');

-- A hidden prompt answers exactly like a prompt that does not exist -------------------------------------
-- For every actor who cannot read workspace b, every RPC on each of b's prompts (published, draft,
-- archived, soft-deleted) fails with the SQLSTATE and message it fails with on a random id.
select is(replace(pg_temp.attempt(a.actor, pg_temp.rpc(r.name, 'e3000000-0000-4000-a000-0000000000b' || n)),
                  'e3000000-0000-4000-a000-0000000000b' || n, '<id>'),
          replace(pg_temp.attempt(a.actor, pg_temp.rpc(r.name, 'e3000000-0000-4000-a000-0000000000f' || n)),
                  'e3000000-0000-4000-a000-0000000000f' || n, '<id>'),
          format('%s: %s on b''s prompt p%s answers as on a prompt that does not exist', a.actor, r.name, n))
  from (values ('stranger'), ('a-viewer'), ('a-contrib'), ('a-admin'), ('solo'), ('cohort'), ('c-admin')) a (actor),
       (values ('publish'), ('publish new content'), ('archive'), ('unarchive'), ('soft_delete'), ('restore')) r (name),
       generate_series(1, 5) n
;
-- ... and those answers are refusals: PT404 for admins of a shared workspace, PT403 for the rest.
select is(split_part(pg_temp.attempt(a.actor, pg_temp.rpc('archive', 'e3000000-0000-4000-a000-0000000000b1')), ':', 1),
          a.code, format('%s: archive_prompt on b''s published p1 -> %s', a.actor, a.code))
  from (values ('stranger', 'PT403'), ('a-viewer', 'PT403'), ('a-contrib', 'PT403'), ('a-admin', 'PT404'),
               ('solo', 'PT403'), ('cohort', 'PT403'), ('c-admin', 'PT404')) a (actor, code);
-- A version of b's prompt, named with a's own prompt, is a version that does not exist.
select is(replace(pg_temp.attempt('a-admin', $$select public.publish_prompt_version('e3000000-0000-4000-a000-0000000000a2',
                                                 'e4000000-0000-4000-a000-000000000b11')$$), 'e4000000-0000-4000-a000-000000000b11', '<v>'),
          replace(pg_temp.attempt('a-admin', $$select public.publish_prompt_version('e3000000-0000-4000-a000-0000000000a2',
                                                 'e4000000-0000-4000-a000-000000000f11')$$), 'e4000000-0000-4000-a000-000000000f11', '<v>'),
          'a-admin: publishing b''s version on a''s prompt answers as for a version that does not exist');
select matches(pg_temp.attempt('a-admin', $$select public.publish_prompt_version('e3000000-0000-4000-a000-0000000000a2',
                                              'e4000000-0000-4000-a000-000000000b11')$$),
               '^PT404: ', '... and that answer is PT404');

-- Usage ingest: events on prompts the caller cannot read are dropped ---------------------------------------
/** ingest_usage_events for `actor` with one view event per prompt id (kept). */
create function pg_temp.ingest(actor text, prompts text[])
    returns jsonb
    language sql
as $$
    select pg_temp.call_as(actor, format('select public.ingest_usage_events(%L)',
        (select jsonb_agg(jsonb_build_object('prompt_id', p, 'action', 'view')) from unnest(prompts) p)));
$$;

select is(pg_temp.ingest(i.actor, i.prompts), i.expected::jsonb, format('%s ingests %s -> %s', i.actor, i.what, i.expected))
  from (values
    ('a-viewer', 'a: p1, p5, the archived p3; b: p1; a random id',
     array['e3000000-0000-4000-a000-0000000000a1', 'e3000000-0000-4000-a000-0000000000a5', 'e3000000-0000-4000-a000-0000000000a3',
           'e3000000-0000-4000-a000-0000000000b1', 'e3000000-0000-4000-a000-0000000000f1'],
     '{"accepted": 2, "anonymized": 0, "dropped": 3}'),
    ('a-contrib', 'a: p2, the soft-deleted p4; b: p1, p2',
     array['e3000000-0000-4000-a000-0000000000a2', 'e3000000-0000-4000-a000-0000000000a4',
           'e3000000-0000-4000-a000-0000000000b1', 'e3000000-0000-4000-a000-0000000000b2'],
     '{"accepted": 2, "anonymized": 0, "dropped": 2}'),
    ('cohort', 'c: p1, the draft; a: p1; d: p1',
     array['e3000000-0000-4000-a000-0000000000c1', 'e3000000-0000-4000-a000-0000000000c2',
           'e3000000-0000-4000-a000-0000000000a1', 'e3000000-0000-4000-a000-0000000000d1'],
     '{"accepted": 1, "anonymized": 0, "dropped": 3}'),
    ('solo', 'd: p1, the draft; a: p1',
     array['e3000000-0000-4000-a000-0000000000d1', 'e3000000-0000-4000-a000-0000000000d2', 'e3000000-0000-4000-a000-0000000000a1'],
     '{"accepted": 2, "anonymized": 0, "dropped": 1}'),
    ('padmin', 'd: p1 (personal); a: p2; c: the draft',
     array['e3000000-0000-4000-a000-0000000000d1', 'e3000000-0000-4000-a000-0000000000a2', 'e3000000-0000-4000-a000-0000000000c2'],
     '{"accepted": 2, "anonymized": 0, "dropped": 1}'),
    ('b-admin', 'a: p1; c: p1; d: p1',
     array['e3000000-0000-4000-a000-0000000000a1', 'e3000000-0000-4000-a000-0000000000c1', 'e3000000-0000-4000-a000-0000000000d1'],
     '{"accepted": 0, "anonymized": 0, "dropped": 3}')
  ) as i (actor, what, prompts, expected);

-- What was stored: per workspace, the events above and nothing else (b: its 2 fixture events).
select is((select jsonb_object_agg(w.slug, (select count(*) from public.prompt_usage_logs l where l.workspace_id = w.id))
             from public.workspaces w where w.slug in ('wsc-a', 'wsc-b', 'wsc-c', 'wsc-d')),
          '{"wsc-a": 7, "wsc-b": 2, "wsc-c": 4, "wsc-d": 3}',
          'ingested events are stored in their prompt''s workspace only: a 2+2+2+1, b none, c 2+1+1, d 1+2');

select * from finish();
rollback;
