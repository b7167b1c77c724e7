-- Cross-workspace isolation of the content tables (contract §8): a member of team a, whatever
-- their role, and everybody else outside b, can never read, count, write or detect b's rows:
-- not through any table, not through joins, subqueries or embeds, not through a predicate that
-- would fail on a hidden row, and every refused write fails exactly as it fails for an id that does
-- not exist. (Publishing RPCs and ingest: 47.)
begin;
\ir _helpers.psql
\ir _workspace_helpers.psql
select plan(474);

-- Reads: nothing of b, however asked ---------------------------------------------------------------------
select is(pg_temp.call_as(a.actor, format('select to_jsonb(count(*)) from (%s) q', q.sql)), '0'::jsonb,
          format('%s counts no rows of b: %s', a.actor, q.what))
  from (values ('a-viewer'), ('a-contrib'), ('a-approver'), ('a-admin'), ('a-owner'), ('c-admin'), ('solo'), ('cohort'), ('stranger')) a (actor),
       (values
        ('modules', $$select * from public.prompt_modules where workspace_id = 'e0000000-0000-4000-a000-00000000000b'$$),
        ('lessons', $$select * from public.prompt_lessons where workspace_id = 'e0000000-0000-4000-a000-00000000000b'$$),
        ('lessons of a module of b', $$select * from public.prompt_lessons where module_id = 'e1000000-0000-4000-a000-0000000000b1'$$),
        ('prompts', $$select * from public.prompts where workspace_id = 'e0000000-0000-4000-a000-00000000000b'$$),
        ('prompts by id', $$select * from public.prompts where id::text like 'e3000000-0000-4000-a000-0000000000b%'$$),
        ('prompts by slug of b only', $$select * from public.prompts where slug = 'only-in-b'$$),
        ('versions', $$select * from public.prompt_versions where id::text like 'e4000000-0000-4000-a000-000000000b%'$$),
        ('versions of a prompt of b', $$select * from public.prompt_versions where prompt_id = 'e3000000-0000-4000-a000-0000000000b1'$$),
        ('versions joined to prompts of b', $$select v.* from public.prompt_versions v join public.prompts p on p.id = v.prompt_id
                                              where p.workspace_id = 'e0000000-0000-4000-a000-00000000000b'$$),
        ('versions through an exists on b', $$select * from public.prompt_versions v
                                             where exists (select 1 from public.prompts p where p.id = v.prompt_id
                                                            and p.workspace_id = 'e0000000-0000-4000-a000-00000000000b')$$),
        ('favorites', $$select * from public.prompt_favorites where prompt_id::text like 'e3000000-0000-4000-a000-0000000000b%'$$),
        ('favorites joined to prompts of b', $$select f.* from public.prompt_favorites f join public.prompts p on p.id = f.prompt_id
                                               where p.workspace_id = 'e0000000-0000-4000-a000-00000000000b'$$),
        ('usage events', $$select * from public.prompt_usage_logs where workspace_id = 'e0000000-0000-4000-a000-00000000000b'$$),
        ('usage events on a prompt of b', $$select * from public.prompt_usage_logs where prompt_id = 'e3000000-0000-4000-a000-0000000000b1'$$),
        ('an embed: modules of b with their prompts',
         $$select m.id, (select jsonb_agg(p.id) from public.prompts p where p.module_id = m.id) as prompts
             from public.prompt_modules m where m.workspace_id = 'e0000000-0000-4000-a000-00000000000b'$$),
        ('an embed: a''s prompts with prompts of b by slug',
         $$select p.id from public.prompts p join public.prompts q on q.slug = p.slug and q.id <> p.id
            where q.workspace_id = 'e0000000-0000-4000-a000-00000000000b'$$),
        ('the workspace row', $$select * from public.workspaces where id = 'e0000000-0000-4000-a000-00000000000b'$$),
        ('its members', $$select * from public.workspace_members where workspace_id = 'e0000000-0000-4000-a000-00000000000b'$$),
        ('a predicate that fails on b''s rows',
         $$select * from public.prompts where id = 'e3000000-0000-4000-a000-0000000000b1' and 1 / (length(slug) - 2) = 1$$),
        ('a predicate that fails on b''s versions',
         $$select * from public.prompt_versions where prompt_id = 'e3000000-0000-4000-a000-0000000000b1'
              and 1 / (version_number - 1) = 1$$)
       ) q (what, sql);
-- The last two would have raised 22012 had the hidden rows reached them:
select is(pg_temp.attempt('service_role', $$select * from public.prompts where id = 'e3000000-0000-4000-a000-0000000000b1'
                                            and 1 / (length(slug) - 2) = 1$$),
          '22012: division by zero', 'service_role (who reads b) gets the division by zero');

-- Writes: refused exactly as for an id that does not exist ---------------------------------------------------
/**
 * Two assertions: `actor` running `template` with the id of a hidden row (of workspace b, c or d)
 * gets `expected` (a SQLSTATE, or 'ok, N rows'), and exactly the same outcome (message included,
 * the id itself masked) as with the same id in a workspace letter f that does not exist.
 */
create function pg_temp.as_missing(actor text, what text, template text, id text, expected text)
    returns setof text
    language plpgsql
as $$
declare
    v_missing text := left(id, 33) || translate(right(id, 3), 'bcd', 'fff');
    v_hidden text := replace(pg_temp.attempt(actor, format(template, id)), id, '<id>');
begin
    if v_missing = id then
        raise exception 'as_missing: % names no fixture workspace', id;
    end if;
    return next is(case when v_hidden like expected || '%' then expected else v_hidden end, expected,
                   format('%s: %s -> %s', actor, what, expected));
    return next is(v_hidden, replace(pg_temp.attempt(actor, format(template, v_missing)), v_missing, '<id>'),
                   format('%s: %s answers as for an id that does not exist', actor, what));
end;
$$;

-- (Writes "into a" are refused by RLS for those who cannot write a, before any key is looked at.)
select pg_temp.as_missing(a.actor, w.what, w.template, w.id,
                          case when w.what like '%into a %' and a.actor not in ('a-contrib', 'a-admin', 'a-owner') then '42501'
                               else w.expected end)
  from (values ('a-viewer'), ('a-contrib'), ('a-admin'), ('a-owner'), ('c-admin'), ('solo')) a (actor),
       (values
        ('insert a module into b', 'e0000000-0000-4000-a000-00000000000b', '42501',
         $$insert into public.prompt_modules (workspace_id, slug, title) values (%L, 'mx', 'M')$$),
        ('insert a lesson into a module of b', 'e1000000-0000-4000-a000-0000000000b1', '42501',
         $$insert into public.prompt_lessons (module_id, slug, title) values (%L, 'lx', 'L')$$),
        ('insert a prompt into b', 'e0000000-0000-4000-a000-00000000000b', '42501',
         $$insert into public.prompts (workspace_id, slug, title) values (%L, 'px', 'P')$$),
        ('insert a prompt into b with a slug of b', 'e0000000-0000-4000-a000-00000000000b', '42501',
         $$insert into public.prompts (workspace_id, slug, title) values (%L, 'p1', 'P')$$),
        ('insert an archived prompt into b', 'e0000000-0000-4000-a000-00000000000b', 'PT403',
         $$insert into public.prompts (workspace_id, slug, title, status, archived_at) values (%L, 'px', 'P', 'archived', now())$$),
        ('insert a prompt into a module of b', 'e1000000-0000-4000-a000-0000000000b1', '42501',
         $$insert into public.prompts (module_id, slug, title) values (%L, 'px', 'P')$$),
        ('insert a prompt into a with a module of b', 'e1000000-0000-4000-a000-0000000000b1', '23503',
         $$insert into public.prompts (workspace_id, module_id, slug, title) values ('e0000000-0000-4000-a000-00000000000a', %L, 'px', 'P')$$),
        ('insert a prompt into a with a lesson of b', 'e2000000-0000-4000-a000-0000000000b1', '23503',
         $$insert into public.prompts (workspace_id, module_id, lesson_id, slug, title)
           values ('e0000000-0000-4000-a000-00000000000a', 'e1000000-0000-4000-a000-0000000000a1', %L, 'px', 'P')$$),
        ('insert a version of a prompt of b', 'e3000000-0000-4000-a000-0000000000b2', '42501',
         $$insert into public.prompt_versions (prompt_id, markdown_body) values (%L, 'V')$$),
        ('insert a published version of a prompt of b', 'e3000000-0000-4000-a000-0000000000b2', 'PT403',
         $$insert into public.prompt_versions (prompt_id, markdown_body, published) values (%L, 'V', true)$$),
        ('favorite a prompt of b', 'e3000000-0000-4000-a000-0000000000b1', '42501',
         $$insert into public.prompt_favorites (prompt_id) values (%L)$$),
        ('log an event on a prompt of b', 'e3000000-0000-4000-a000-0000000000b1', '42501',
         $$insert into public.prompt_usage_logs (user_id, prompt_id, action) values (auth.uid(), %L, 'view')$$),
        ('update a module of b', 'e1000000-0000-4000-a000-0000000000b1', 'ok, 0 rows',
         $$update public.prompt_modules set title = 'X' where id = %L$$),
        ('update a lesson of b', 'e2000000-0000-4000-a000-0000000000b1', 'ok, 0 rows',
         $$update public.prompt_lessons set title = 'X' where id = %L$$),
        ('update a prompt of b', 'e3000000-0000-4000-a000-0000000000b1', 'ok, 0 rows',
         $$update public.prompts set title = 'X' where id = %L$$),
        ('archive a prompt of b by PATCH', 'e3000000-0000-4000-a000-0000000000b1', 'ok, 0 rows',
         $$update public.prompts set status = 'archived', archived_at = now() where id = %L$$),
        ('update a version of b', 'e4000000-0000-4000-a000-000000000b12', 'ok, 0 rows',
         $$update public.prompt_versions set changelog = 'X', published = true where id = %L$$),
        ('delete a module of b', 'e1000000-0000-4000-a000-0000000000b2', 'ok, 0 rows',
         $$delete from public.prompt_modules where id = %L$$),
        ('delete a lesson of b', 'e2000000-0000-4000-a000-0000000000b2', 'ok, 0 rows',
         $$delete from public.prompt_lessons where id = %L$$),
        ('delete a prompt of b', 'e3000000-0000-4000-a000-0000000000b2', 'ok, 0 rows',
         $$delete from public.prompts where id = %L$$),
        ('delete a draft version of b', 'e4000000-0000-4000-a000-000000000b12', 'ok, 0 rows',
         $$delete from public.prompt_versions where id = %L$$),
        ('delete a favorite on a prompt of b', 'e3000000-0000-4000-a000-0000000000b5', 'ok, 0 rows',
         $$delete from public.prompt_favorites where prompt_id = %L$$)
       ) w (what, id, expected, template)
;

-- The same for the moves an admin of a might try with their own rows.
select pg_temp.as_missing('a-admin', w.what, w.template, w.id, w.expected)
  from (values
        ('point a prompt of a at a version of b', 'e4000000-0000-4000-a000-000000000b11', '23514',
         $$update public.prompts set current_version_id = %L where id = 'e3000000-0000-4000-a000-0000000000a1'$$),
        ('move a prompt of a into a module of b', 'e1000000-0000-4000-a000-0000000000b1', '23503',
         $$update public.prompts set module_id = %L where id = 'e3000000-0000-4000-a000-0000000000a1'$$),
        ('move a prompt of a into a lesson of b', 'e2000000-0000-4000-a000-0000000000b1', '23503',
         $$update public.prompts set lesson_id = %L where id = 'e3000000-0000-4000-a000-0000000000a1'$$),
        ('move a lesson of a into a module of b', 'e1000000-0000-4000-a000-0000000000b2', '42501',
         $$update public.prompt_lessons set module_id = %L where id = 'e2000000-0000-4000-a000-0000000000a2'$$)
       ) w (what, id, expected, template);

-- Platform admins write the default course workspace: a module of solo's personal workspace is to
-- them a module that does not exist (not a default-course prompt whose module is missing).
select pg_temp.as_missing('padmin', w.what, w.template, w.id, w.expected)
  from (values
        ('insert a prompt into a module of personal d', 'e1000000-0000-4000-a000-0000000000d1', '42501',
         $$insert into public.prompts (module_id, slug, title) values (%L, 'px', 'P')$$),
        ('insert a lesson into a module of personal d', 'e1000000-0000-4000-a000-0000000000d1', '42501',
         $$insert into public.prompt_lessons (module_id, workspace_id, slug, title)
           values (%L, 'e0000000-0000-4000-a000-00000000000a', 'lx', 'L')$$),
        ('move a lesson of a into a module of personal d', 'e1000000-0000-4000-a000-0000000000d1', '42501',
         $$update public.prompt_lessons set module_id = %L where id = 'e2000000-0000-4000-a000-0000000000a2'$$)
       ) w (what, id, expected, template);

-- A course workspace the caller is not in is not even detectable by its "needs a module" rule.
select pg_temp.as_missing(a.actor, 'insert a prompt without a module into course workspace c',
                          $$insert into public.prompts (workspace_id, slug, title) values (%L, 'px', 'P')$$,
                          'e0000000-0000-4000-a000-00000000000c', '42501')
  from (values ('a-viewer'), ('a-admin'), ('b-owner'), ('solo'), ('stranger')) a (actor);

-- Nothing any of them tried, for real this time, changed anything of b.
select pg_temp.untouched_by(t.tbl, array['a-viewer', 'a-contrib', 'a-admin', 'a-owner', 'c-admin', 'solo', 'cohort'],
    array[format($$update public.%s set %s where %s$$, t.tbl, t.set_clause, t.b_rows),
          format($$delete from public.%s where %s$$, t.tbl, t.b_rows)])
  from (values
        ('public.prompt_modules'::regclass, 'title = ''X''', 'workspace_id = ''e0000000-0000-4000-a000-00000000000b'''),
        ('public.prompt_lessons', 'title = ''X''', 'workspace_id = ''e0000000-0000-4000-a000-00000000000b'''),
        ('public.prompts', 'title = ''X'', status = ''archived'', archived_at = now()', 'workspace_id = ''e0000000-0000-4000-a000-00000000000b'''),
        ('public.prompt_versions', 'changelog = ''X''', 'prompt_id::text like ''e3000000-0000-4000-a000-0000000000b%'''),
        ('public.prompt_favorites', 'created_at = now()', 'prompt_id::text like ''e3000000-0000-4000-a000-0000000000b%''')
       ) t (tbl, set_clause, b_rows);

select * from finish();
rollback;
