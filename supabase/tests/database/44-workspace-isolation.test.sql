-- Cross-workspace isolation (contract §8): a member of workspace A can never read, write, count or
-- detect anything of another workspace B (its row, members, invitations, cohorts, outline and
-- prompts), through a table or an RPC: every statement naming B gives exactly what the same
-- statement naming an id that does not exist gives (PT404 from an RPC, never PT403). Also for
-- someone else's personal workspace, and for platform admins there.
begin;
\ir _helpers.psql
select plan(300);

update public.prompt_feature_flags set enabled = true where key = 'PROMPT_MANAGER_ENABLED';
select pg_temp.make_outsiders();
select pg_temp.make_cast('wa');
select pg_temp.make_cast('wb', 'course');
select pg_temp.make_cast('wt');
insert into public.workspace_cohorts (workspace_id, cohort_id) values (pg_temp.wsid('wb'), 'cohort-t44');
insert into public.prompt_modules (id, workspace_id, slug, title)
values ('44000000-0000-4000-a000-000000000001', pg_temp.wsid('wb'), 'module', 'Module');
insert into public.prompts (workspace_id, module_id, slug, title)
values (pg_temp.wsid('wb'), '44000000-0000-4000-a000-000000000001', 'b-prompt', 'B prompt'),
       (pg_temp.wsid('wt'), null, 't-prompt', 'T prompt');
select pg_temp.call_as('wb-admin', $$select public.invite_workspace_member(pg_temp.wsid('wb'), 'someone@example.com')$$);
select pg_temp.call_as('wt-admin', $$select public.invite_workspace_member(pg_temp.wsid('wt'), 'someone@example.com')$$);

-- Reads and counts ---------------------------------------------------------------------------------
create function pg_temp.visible(ws uuid) returns text language sql
    as $$ select format($q$select jsonb_build_array(
             (select count(*) from public.workspaces where id = %1$L),
             (select count(*) from public.workspace_members where workspace_id = %1$L),
             (select count(*) from public.workspace_invitations where workspace_id = %1$L),
             (select count(*) from public.workspace_cohorts where workspace_id = %1$L),
             (select count(*) from public.prompt_modules where workspace_id = %1$L),
             (select count(*) from public.prompts where workspace_id = %1$L))$q$, ws) $$;

select is(pg_temp.call_as(a, pg_temp.visible(t.ws)), '[0, 0, 0, 0, 0, 0]',
          format('%s counts nothing of %s (row, members, invitations, cohorts, modules, prompts)', a, t.name))
  from unnest(array['wa-owner', 'wa-admin', 'wa-viewer', 'stranger']) a,
       (values ('wb (course)', pg_temp.wsid('wb')), ('wt (team)', pg_temp.wsid('wt')),
               ('the personal workspace of wb-owner', pg_temp.personal_ws('wb-owner'))) as t (name, ws);
select is(pg_temp.call_as(a, pg_temp.visible(pg_temp.personal_ws('wb-owner'))), '[0, 0, 0, 0, 0, 0]',
          a || ' (platform admin) counts nothing of someone else''s personal workspace')
  from unnest(array['padmin', 'jwtadmin']) a;
select is(pg_temp.call_as('wb-owner', pg_temp.visible(pg_temp.wsid('wb'))), '[1, 5, 1, 1, 1, 1]',
          'control: the owner of wb sees all of it');

select is(pg_temp.call_as('wa-owner', $$select jsonb_build_array(
              (select count(*) from public.workspaces where slug in ('wb', 'wt')),
              (select count(*) from public.workspace_members where user_id in (pg_temp.uid('wb-owner'), pg_temp.uid('wt-owner'))),
              (select count(*) from public.workspace_members where workspace_id <> pg_temp.wsid('wa')),
              (select count(*) from public.workspace_invitations),
              (select count(*) from public.workspace_cohorts))$$),
          '[0, 0, 1, 0, 0]',
          'unfiltered, a member of wa reads only wa''s rows and their own personal membership');
-- An invitation to a member of wa from wb: the invitee reads the invitation, not the workspace.
select pg_temp.call_as('wb-admin', $$select public.invite_workspace_member(pg_temp.wsid('wb'), 'wa-viewer@example.com')$$);
select is(pg_temp.call_as('wa-viewer', $$select jsonb_agg(jsonb_build_array(i.workspace_id, w.name, (select count(*) from public.workspace_members m where m.workspace_id = i.workspace_id)))
                                           from public.workspace_invitations i left join public.workspaces w on w.id = i.workspace_id$$),
          jsonb_build_array(jsonb_build_array(pg_temp.wsid('wb'), null, 0)),
          'an invitee reads the invitation addressed to them, but nothing of the workspace (no name, no members) before accepting');

-- Writes and RPCs: naming B gives exactly what naming a missing id gives ------------------------------
create temporary table probe (n integer primary key, sql text not null) on commit drop;
insert into probe (n, sql) values
    (1, $$insert into public.workspace_members (workspace_id, user_id, role) values (%1$L, pg_temp.uid('stranger'), 'viewer')$$),
    (2, $$insert into public.workspace_members (workspace_id, user_id, role) values (%1$L, auth.uid(), 'owner')$$),
    (3, $$insert into public.workspace_invitations (workspace_id, email, role, token_hash) values (%1$L, 'x@example.com', 'viewer', sha256('probe'::bytea))$$),
    (4, $$insert into public.workspace_cohorts (workspace_id, cohort_id) values (%1$L, 'cohort-probe')$$),
    (5, $$insert into public.prompt_modules (workspace_id, slug, title) values (%1$L, 'probe', 'Probe')$$),
    (6, $$insert into public.prompts (workspace_id, slug, title) values (%1$L, 'probe', 'Probe')$$),
    (7, $$update public.workspaces set name = 'Probe', deleted_at = now() where id = %1$L$$),
    (8, $$update public.workspace_members set role = 'owner' where workspace_id = %1$L$$),
    (9, $$delete from public.workspace_members where workspace_id = %1$L$$),
    (10, $$update public.workspace_invitations set revoked_at = now() where workspace_id = %1$L$$),
    (11, $$delete from public.workspace_cohorts where workspace_id = %1$L$$),
    (12, $$update public.prompts set title = 'Probe' where workspace_id = %1$L$$),
    (13, $$select public.add_workspace_member(%1$L, pg_temp.uid('stranger'), 'viewer')$$),
    (14, $$select public.add_workspace_member(%1$L, pg_temp.uid('stranger'), 'owner')$$),
    (15, $$select public.change_workspace_member_role(%1$L, pg_temp.uid('wb-viewer'), 'admin')$$),
    (16, $$select public.change_workspace_member_role(%1$L, pg_temp.uid('wb-viewer'), 'owner')$$),
    (17, $$select public.remove_workspace_member(%1$L, pg_temp.uid('wb-owner'))$$),
    (18, $$select public.leave_workspace(%1$L)$$),
    (19, $$select public.transfer_workspace_ownership(%1$L, pg_temp.uid('wb-viewer'))$$),
    (20, $$select public.delete_workspace(%1$L)$$),
    (21, $$select public.restore_workspace(%1$L)$$),
    (22, $$select public.invite_workspace_member(%1$L, 'x@example.com')$$),
    (23, $$select public.invite_workspace_member(%1$L, 'x@example.com', 'owner')$$);

/** What `actor` gets from probe `n` against workspace `ws`, with the id itself masked. */
create function pg_temp.probe(actor text, n integer, ws uuid) returns text language sql
    as $$ select replace(pg_temp.attempt(actor, format(p.sql, ws)), ws::text, '<workspace>') from probe p where p.n = probe.n $$;

select is(pg_temp.probe(a, p.n, t.ws), pg_temp.probe(a, p.n, '44000000-0000-4000-a000-00000000dead'),
          format('%s, probe %s against %s: same answer as for a missing id (%s)', a, p.n, t.name,
                 pg_temp.probe(a, p.n, '44000000-0000-4000-a000-00000000dead')))
  from unnest(array['wa-owner', 'wa-viewer', 'stranger']) a,
       (values ('wb (course)', pg_temp.wsid('wb')), ('wt (team)', pg_temp.wsid('wt')),
               ('a personal workspace', pg_temp.personal_ws('wb-owner'))) as t (name, ws),
       probe p
 order by a, t.name, p.n;
select is(pg_temp.probe(a, p.n, pg_temp.personal_ws('wb-owner')), pg_temp.probe(a, p.n, '44000000-0000-4000-a000-00000000dead'),
          format('%s (platform admin), probe %s against someone else''s personal workspace: same answer as for a missing id', a, p.n))
  from unnest(array['padmin', 'jwtadmin']) a, probe p
 order by a, p.n;
select is(pg_temp.probe('stranger', p.n, '44000000-0000-4000-a000-00000000dead') !~ '^ok, [1-9]', true,
          format('probe %s against a missing id changes nothing (%s)', p.n, pg_temp.probe('stranger', p.n, '44000000-0000-4000-a000-00000000dead')))
  from probe p order by p.n;
select is(pg_temp.probe('wa-owner', 20, pg_temp.wsid('wa')) ~ '^ok, 1 row', true, 'control: the probes do work on the caller''s own workspace');

-- And nothing changed, statement by statement run for real.
select pg_temp.untouched_by(t, array['wa-owner', 'wa-admin', 'wa-viewer', 'stranger'],
                            (select array_agg(format(p.sql, w.ws) order by p.n, w.ws)
                               from probe p, (values (pg_temp.wsid('wb')), (pg_temp.wsid('wt')), (pg_temp.personal_ws('wb-owner'))) w (ws)),
                            -- the refusals the probes above proved identical to a missing id's
                            array['42501', 'PT403', 'PT404', 'PT409', '23514', '22023'])
  from unnest(array['public.workspaces', 'public.workspace_members', 'public.workspace_invitations',
                    'public.workspace_cohorts', 'public.prompts', 'public.prompt_modules']::regclass[]) t;

select * from finish();
rollback;
