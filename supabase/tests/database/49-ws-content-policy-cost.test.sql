-- Content policies cost O(1) per statement (contract §8, §16): the caller's workspace sets come
-- from private.caller_workspace_ids() as InitPlans, each executed once per statement, never a
-- function call or a membership lookup per row; a viewer's list read of one workspace uses the
-- (workspace_id, position, id) index. Checked on EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) plans
-- with 100 more workspaces (a-viewer is a viewer of each), 5,000 prompts in them and 1,000 more
-- published prompts in a.
begin;
\ir _helpers.psql
\ir _workspace_helpers.psql
select plan(21);

insert into public.workspaces (id, slug, name, kind)
select ('e5000000-0000-4000-a000-' || lpad(n::text, 12, '0'))::uuid, 'wsc-bulk-' || n, 'Bulk ' || n, 'team'
  from generate_series(1, 100) n;
insert into public.workspace_members (workspace_id, user_id, role)
select w.id, u.id, 'viewer' from public.workspaces w, auth.users u
 where w.slug like 'wsc-bulk-%' and u.email = 'a-viewer@example.com';
insert into public.prompts (workspace_id, slug, title, position)
select w.id, 'bulk-' || n, 'Bulk', n from public.workspaces w, generate_series(1, 50) n where w.slug like 'wsc-bulk-%';
insert into public.prompts (id, workspace_id, module_id, slug, title, position)
select ('e6000000-0000-4000-a000-' || lpad(n::text, 12, '0'))::uuid, 'e0000000-0000-4000-a000-00000000000a',
       'e1000000-0000-4000-a000-0000000000a1', 'bulk-' || n, 'Bulk', n
  from generate_series(1, 1000) n;
insert into public.prompt_versions (id, prompt_id, markdown_body, published)
select ('e7000000-0000-4000-a000-' || lpad(n::text, 12, '0'))::uuid, ('e6000000-0000-4000-a000-' || lpad(n::text, 12, '0'))::uuid,
       'Body', true
  from generate_series(1, 1000) n;
update public.prompts p set status = 'published', current_version_id = ('e7000000' || substr(p.id::text, 9))::uuid, published_at = now()
 where p.id::text like 'e6000000-%';
insert into public.prompt_favorites (user_id, prompt_id)
select u.id, p.id from auth.users u, public.prompts p where u.email = 'a-viewer@example.com' and p.id::text like 'e6000000-%';
analyze public.prompts;
analyze public.prompt_versions;
analyze public.prompt_favorites;
analyze public.workspace_members;
analyze public.workspaces;

/** The executed plan (EXPLAIN ANALYZE VERBOSE) of `sql` run as `actor`. */
create function pg_temp.plan(actor text, sql text)
    returns jsonb
    language sql
as $$
    select pg_temp.call_as(actor, 'explain (analyze, verbose, format json, timing off, summary off) ' || sql) -> 0 -> 'Plan';
$$;

/** Every node of a plan, without its children. */
create function pg_temp.plan_nodes(plan jsonb)
    returns setof jsonb
    language sql
    immutable
as $$
    select n - 'Plans' from jsonb_path_query(plan, 'strict $.** ? (@.type() == "object" && exists (@."Node Type"))') n;
$$;

/**
 * What a plan says about the role helpers: how many nodes call them, how many of those are
 * InitPlans, the most times any of them ran, and how many SubPlans (per-row subqueries) it has.
 */
create function pg_temp.helper_calls(plan jsonb)
    returns jsonb
    language sql
    immutable
as $$
    select jsonb_build_object(
        'nodes calling helpers', count(*) filter (where n::text like '%caller_workspace%'),
        'of them InitPlans', count(*) filter (where n::text like '%caller_workspace%' and n ->> 'Parent Relationship' = 'InitPlan'),
        'max InitPlan runs', coalesce(max((n ->> 'Actual Loops')::integer) filter (where n ->> 'Parent Relationship' = 'InitPlan'), 0))
      from pg_temp.plan_nodes(plan) n;
$$;

-- Every content read, by a viewer and by an admin: the helpers run only in InitPlans, at most
-- once each, however many rows the statement reads.
select ok((h -> 'nodes calling helpers')::integer > 0
          and h -> 'nodes calling helpers' = h -> 'of them InitPlans'
          and (h -> 'max InitPlan runs')::integer <= 1,
          format('%s: %s: role helpers only in InitPlans, each run at most once (%s)', a.actor, q.what, h))
  from (values ('a-viewer'), ('a-admin')) a (actor),
       (values
        ('modules of a', $$select * from public.prompt_modules where workspace_id = 'e0000000-0000-4000-a000-00000000000a' order by position$$),
        ('lessons of a module', $$select * from public.prompt_lessons where module_id = 'e1000000-0000-4000-a000-0000000000a1'$$),
        ('prompts of a, first 50', $$select * from public.prompts where workspace_id = 'e0000000-0000-4000-a000-00000000000a'
                                      order by position limit 50$$),
        ('prompts of a module, first 50', $$select * from public.prompts where module_id = 'e1000000-0000-4000-a000-0000000000a1'
                                             order by position limit 50$$),
        ('all readable prompts', $$select * from public.prompts$$),
        ('versions of a''s prompts', $$select * from public.prompt_versions
                                       where prompt_id in (select id from public.prompts where workspace_id = 'e0000000-0000-4000-a000-00000000000a')$$),
        ('all readable versions', $$select * from public.prompt_versions$$),
        ('own favorites with their prompts', $$select f.*, p.title from public.prompt_favorites f join public.prompts p on p.id = f.prompt_id
                                                where f.user_id = auth.uid()$$),
        ('usage events of a', $$select * from public.prompt_usage_logs where workspace_id = 'e0000000-0000-4000-a000-00000000000a'$$)
       ) q (what, sql),
       lateral pg_temp.helper_calls(pg_temp.plan(a.actor, q.sql)) h;

-- The viewer's list read of one workspace: an index on workspace_id, no sequential scan, no SubPlan,
-- two InitPlans (the viewer and the contributor sets), and the same plan whether the caller is in
-- 102 workspaces (a-viewer) or 2 (a-approver).
select is(jsonb_build_object(
              -- the planner picks the (workspace_id, position, id) index or, for a workspace of ~1,000
              -- prompts, a bitmap scan of the (workspace_id, slug) one and a top-N sort: either way an
              -- index on workspace_id (bench/ measures the time)
              'index scans on prompts by workspace_id',
              (select count(*) from pg_temp.plan_nodes(p.plan) n
                where n ->> 'Index Name' in ('prompts_workspace_id_position_idx', 'prompts_workspace_id_slug_key')) > 0,
              'sequential scans', (select count(*) from pg_temp.plan_nodes(p.plan) n where n ->> 'Node Type' = 'Seq Scan'),
              'SubPlans', (select count(*) from pg_temp.plan_nodes(p.plan) n where n ->> 'Subplan Name' like 'SubPlan%'),
              'InitPlans', (select count(*) from pg_temp.plan_nodes(p.plan) n where n ->> 'Parent Relationship' = 'InitPlan'),
              'rows', p.plan -> 'Actual Rows'),
          '{"index scans on prompts by workspace_id": true, "sequential scans": 0, "SubPlans": 0, "InitPlans": 2, "rows": 50}',
          format('%s: the list read of workspace a uses its index, with the helpers as two InitPlans', p.actor))
  from (select a.actor, pg_temp.plan(a.actor, $$select * from public.prompts where workspace_id = 'e0000000-0000-4000-a000-00000000000a'
                                                 order by position limit 50$$) as plan
          from (values ('a-viewer'), ('a-approver')) a (actor)) p;

select is((select jsonb_agg(n ->> 'Node Type') from pg_temp.plan_nodes(pg_temp.plan('a-viewer', q.sql)) n),
          (select jsonb_agg(n ->> 'Node Type') from pg_temp.plan_nodes(pg_temp.plan('a-approver', q.sql)) n),
          'the plan does not depend on how many workspaces the caller is in (102 vs 2)')
  from (values ($$select * from public.prompts where workspace_id = 'e0000000-0000-4000-a000-00000000000a' order by position limit 50$$)) q (sql);

select * from finish();
rollback;
