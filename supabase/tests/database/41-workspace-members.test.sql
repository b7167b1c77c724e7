-- workspace_members (contract §8): the RLS matrix, role ceilings (admins manage up to admin, only
-- owners manage owners), last-owner protection through plain statements and through the RPCs,
-- and the membership RPCs (add, change role, remove, leave, transfer ownership).
begin;
\ir _helpers.psql
select plan(208);

select pg_temp.make_outsiders();
select pg_temp.make_cast('wa');
select pg_temp.make_user('joiner');
select pg_temp.make_user('joiner2');

-- The matrix ----------------------------------------------------------------------------------------
select pg_temp.ws_matrix('workspace_members', array[
    --                       anon   stranger viewer contrib approver admin owner padmin jwtadmin service_role
    ['select',              'denied 0        5      5       5        5     5     5      5        5',
     $$select * from public.workspace_members where workspace_id = pg_temp.wsid('wa')$$],
    ['insert (viewer)',     'denied rls      rls    rls     rls      1     1     1      1        1',
     $$insert into public.workspace_members (workspace_id, user_id, role) values (pg_temp.wsid('wa'), pg_temp.uid('joiner'), 'viewer')$$],
    ['insert (admin)',      'denied rls      rls    rls     rls      1     1     1      1        1',
     $$insert into public.workspace_members (workspace_id, user_id, role) values (pg_temp.wsid('wa'), pg_temp.uid('joiner'), 'admin')$$],
    ['insert (owner)',      'denied rls      rls    rls     rls      rls   1     rls    rls      1',
     $$insert into public.workspace_members (workspace_id, user_id, role) values (pg_temp.wsid('wa'), pg_temp.uid('joiner'), 'owner')$$],
    ['insert (themselves)', 'denied rls      rls    rls     rls      23505 23505 1      1        23502',
     $$insert into public.workspace_members (workspace_id, user_id, role) values (pg_temp.wsid('wa'), auth.uid(), 'viewer')$$],
    ['update (viewer -> approver)', 'denied 0 0     0       0        1     1     1      1        1',
     $$update public.workspace_members set role = 'approver' where workspace_id = pg_temp.wsid('wa') and user_id = pg_temp.uid('wa-viewer')$$],
    ['update (viewer -> owner)', 'denied 0   0      0       0        rls   1     rls    rls      1',
     $$update public.workspace_members set role = 'owner' where workspace_id = pg_temp.wsid('wa') and user_id = pg_temp.uid('wa-viewer')$$],
    ['update (demote the only owner)', 'denied 0 0  0       0        0     PT409 0      0        PT409',
     $$update public.workspace_members set role = 'admin' where workspace_id = pg_temp.wsid('wa') and user_id = pg_temp.uid('wa-owner')$$],
    ['update (own role to admin)', 'denied 0  0      0       0        1     PT409 0      0        0',
     $$update public.workspace_members set role = 'admin' where workspace_id = pg_temp.wsid('wa') and user_id = auth.uid()$$],
    ['update (user_id)',    'denied denied   denied denied  denied   denied denied denied denied PT409',
     $$update public.workspace_members set user_id = pg_temp.uid('joiner') where workspace_id = pg_temp.wsid('wa') and user_id = pg_temp.uid('wa-viewer')$$],
    ['update (workspace_id)', 'denied denied denied denied  denied   denied denied denied denied PT409',
     $$update public.workspace_members set workspace_id = gen_random_uuid() where workspace_id = pg_temp.wsid('wa') and user_id = pg_temp.uid('wa-viewer')$$],
    ['delete (the viewer)', 'denied 0        1      0       0        1     1     1      1        1',
     $$delete from public.workspace_members where workspace_id = pg_temp.wsid('wa') and user_id = pg_temp.uid('wa-viewer')$$],
    ['delete (the admin)',  'denied 0        0      0       0        1     1     1      1        1',
     $$delete from public.workspace_members where workspace_id = pg_temp.wsid('wa') and user_id = pg_temp.uid('wa-admin')$$],
    ['delete (the only owner)', 'denied 0    0      0       0        0     PT409 0      0        PT409',
     $$delete from public.workspace_members where workspace_id = pg_temp.wsid('wa') and user_id = pg_temp.uid('wa-owner')$$],
    ['delete (own row: leave)', 'denied 0    1      1       1        1     PT409 0      0        0',
     $$delete from public.workspace_members where workspace_id = pg_temp.wsid('wa') and user_id = auth.uid()$$]]);

select pg_temp.untouched_by('public.workspace_members',
    array['stranger', 'wa-viewer', 'wa-contributor', 'wa-approver'],
    array[$$update public.workspace_members set role = 'owner' where workspace_id = pg_temp.wsid('wa')$$,
          $$delete from public.workspace_members where workspace_id = pg_temp.wsid('wa') and user_id <> auth.uid()$$]);
select pg_temp.untouched_by('public.workspace_members',
    array['wa-admin', 'padmin', 'jwtadmin'],
    array[$$update public.workspace_members set role = 'viewer' where workspace_id = pg_temp.wsid('wa') and role = 'owner'$$,
          $$delete from public.workspace_members where workspace_id = pg_temp.wsid('wa') and role = 'owner'$$]);

-- A second owner: now an owner may step down or leave, and owners manage each other.
select pg_temp.make_member('wa', 'wa-owner2', 'owner');
select is(pg_temp.attempt('wa-owner', $$update public.workspace_members set role = 'admin' where workspace_id = pg_temp.wsid('wa') and user_id = auth.uid()$$),
          pg_temp.rows(1), 'with a second owner, an owner may demote themselves');
select is(pg_temp.attempt('wa-owner', $$delete from public.workspace_members where workspace_id = pg_temp.wsid('wa') and user_id = auth.uid()$$),
          pg_temp.rows(1), 'with a second owner, an owner may leave');
select is(pg_temp.attempt('wa-owner', $$delete from public.workspace_members where workspace_id = pg_temp.wsid('wa') and user_id = pg_temp.uid('wa-owner2')$$),
          pg_temp.rows(1), 'an owner removes another owner');
select is(pg_temp.attempt('wa-admin', $$delete from public.workspace_members where workspace_id = pg_temp.wsid('wa') and user_id = pg_temp.uid('wa-owner2')$$),
          pg_temp.rows(0), 'an admin cannot remove an owner, even with two of them');
select matches(pg_temp.attempt('wa-owner', $$delete from public.workspace_members where workspace_id = pg_temp.wsid('wa') and role = 'owner'$$),
               '^PT409: the last owner', 'removing both owners in one statement is refused');
select matches(pg_temp.attempt('wa-owner', $$update public.workspace_members set role = 'admin' where workspace_id = pg_temp.wsid('wa') and role = 'owner'$$),
               '^PT409: the last owner', 'demoting both owners in one statement is refused');
select matches(pg_temp.attempt('service_role', $$delete from public.workspace_members where workspace_id = pg_temp.wsid('wa') and role = 'owner'$$),
               '^PT409: the last owner', 'the service role cannot remove the last owner either');
delete from public.workspace_members where workspace_id = pg_temp.wsid('wa') and user_id = pg_temp.uid('wa-owner2');

-- The RPCs: add ---------------------------------------------------------------------------------------
select is(pg_temp.outcome(a, format($$select public.add_workspace_member(pg_temp.wsid('wa'), pg_temp.uid(%L), %L) - 'updated_at'$$, u, r))::text,
          e, format('add_workspace_member by %s of %s with role %s -> %s', a, u, r, e))
  from (values
        ('stranger', 'joiner', 'viewer', 'PT404: workspace ' || pg_temp.wsid('wa') || ' not found'),
        ('wa-viewer', 'joiner', 'viewer', 'PT403: this needs the admin role in this workspace (you are viewer)'),
        ('wa-approver', 'joiner', 'viewer', 'PT403: this needs the admin role in this workspace (you are approver)'),
        ('wa-admin', 'joiner', 'owner', 'PT403: this needs the owner role in this workspace (you are admin)'),
        ('padmin', 'joiner', 'owner', 'PT403: this needs the owner role in this workspace (you are admin)'),
        ('wa-admin', 'joiner', 'admin', jsonb_build_object('workspace_id', pg_temp.wsid('wa'), 'user_id', pg_temp.uid('joiner'), 'role', 'admin')::text),
        ('jwtadmin', 'joiner2', 'contributor', jsonb_build_object('workspace_id', pg_temp.wsid('wa'), 'user_id', pg_temp.uid('joiner2'), 'role', 'contributor')::text)
       ) as t (a, u, r, e);
-- outcome() keeps effects: the successful adds above are real.
select is((select role::text from public.workspace_members where workspace_id = pg_temp.wsid('wa') and user_id = pg_temp.uid('joiner')),
          'admin', 'the first successful add made joiner an admin');
select matches(pg_temp.outcome('wa-owner', $$select public.add_workspace_member(pg_temp.wsid('wa'), pg_temp.uid('joiner'), 'viewer')$$),
               '^PT409: user .* is already a member', 'adding an existing member is PT409');
select matches(pg_temp.outcome('wa-owner', $$select public.add_workspace_member(pg_temp.wsid('wa'), gen_random_uuid(), 'viewer')$$),
               '^23503: ', 'adding a user who does not exist is a foreign-key error');
select matches(pg_temp.outcome('wa-owner', $$select public.add_workspace_member(pg_temp.wsid('wa'), null, 'viewer')$$),
               '^22023: ', 'add_workspace_member without a user is 22023');
select is(pg_temp.attempt('anon', $$select public.add_workspace_member(pg_temp.wsid('wa'), pg_temp.uid('joiner'))$$),
          pg_temp.denied_fn('add_workspace_member'), 'anon may not call add_workspace_member');

-- change role -------------------------------------------------------------------------------------------
select is(pg_temp.outcome(a, format($$select public.change_workspace_member_role(pg_temp.wsid('wa'), pg_temp.uid(%L), %L)->'role'$$, m, r)),
          e, format('change_workspace_member_role by %s: %s -> %s gives %s', a, m, r, e))
  from (values
        (1, 'stranger', 'joiner', 'viewer', 'PT404: workspace ' || pg_temp.wsid('wa') || ' not found'),
        (2, 'wa-contributor', 'joiner', 'viewer', 'PT403: admins manage members up to admin; only owners manage owners'),
        (3, 'wa-admin', 'joiner', 'owner', 'PT403: this needs the owner role in this workspace (you are admin)'),
        (4, 'wa-admin', 'wa-owner', 'admin', 'PT403: admins manage members up to admin; only owners manage owners'),
        (5, 'wa-admin', 'stranger', 'viewer', 'PT404: user ' || pg_temp.uid('stranger') || ' is not a member of workspace ' || pg_temp.wsid('wa')),
        (6, 'wa-owner', 'wa-owner', 'admin', 'PT409: the last owner of a workspace cannot leave, be removed or be demoted'),
        (7, 'wa-admin', 'joiner', 'approver', '"approver"'),
        (8, 'wa-owner', 'joiner', 'owner', '"owner"'),
        (9, 'wa-admin', 'joiner', 'viewer', 'PT403: admins manage members up to admin; only owners manage owners'),
        (10, 'joiner', 'wa-owner', 'viewer', '"viewer"'),
        (11, 'joiner', 'joiner', 'admin', 'PT409: the last owner of a workspace cannot leave, be removed or be demoted'),
        (12, 'joiner', 'wa-owner', 'owner', '"owner"')
       ) as t (n, a, m, r, e)
 order by n;

-- remove -----------------------------------------------------------------------------------------------
select pg_temp.make_member('wa', 'leaver', 'contributor');
select is(pg_temp.outcome(a, format($$select public.remove_workspace_member(pg_temp.wsid('wa'), pg_temp.uid(%L))->'role'$$, m)),
          e, format('remove_workspace_member by %s of %s gives %s', a, m, e))
  from (values
        (1, 'stranger', 'leaver', 'PT404: workspace ' || pg_temp.wsid('wa') || ' not found'),
        (2, 'wa-approver', 'leaver', 'PT403: admins manage members up to admin; only owners manage owners'),
        (3, 'wa-admin', 'joiner', 'PT403: admins manage members up to admin; only owners manage owners'),
        (4, 'wa-admin', 'stranger', 'PT404: user ' || pg_temp.uid('stranger') || ' is not a member of workspace ' || pg_temp.wsid('wa')),
        (5, 'wa-admin', 'leaver', '"contributor"'),
        (6, 'wa-owner', 'joiner', '"owner"'),
        (7, 'wa-owner', 'wa-owner', 'PT409: the last owner of a workspace cannot leave, be removed or be demoted')
       ) as t (n, a, m, e)
 order by n;

-- leave ------------------------------------------------------------------------------------------------
select is(pg_temp.outcome(a, $$select public.leave_workspace(pg_temp.wsid('wa'))->'role'$$),
          e, format('leave_workspace by %s gives %s', a, e))
  from (values
        (1, 'stranger', 'PT404: you are not a member of workspace ' || pg_temp.wsid('wa')),
        (2, 'padmin', 'PT404: you are not a member of workspace ' || pg_temp.wsid('wa')),
        (3, 'wa-owner', 'PT409: the last owner of a workspace cannot leave, be removed or be demoted'),
        (4, 'wa-viewer', '"viewer"'),
        (5, 'wa-viewer', 'PT404: you are not a member of workspace ' || pg_temp.wsid('wa'))
       ) as t (n, a, e)
 order by n;
select is(pg_temp.call_as('wa-viewer', $$select to_jsonb(count(*)) from public.workspace_members where workspace_id = pg_temp.wsid('wa')$$),
          '0', 'after leaving, the former viewer reads none of its members');
select matches(pg_temp.outcome('service_role', $$select public.leave_workspace(pg_temp.wsid('wa'))$$),
               '^42501: sign in', 'the service role has no membership to leave');

-- transfer ownership -----------------------------------------------------------------------------------
select is(pg_temp.outcome(a, format($$select public.transfer_workspace_ownership(pg_temp.wsid('wa'), pg_temp.uid(%L))->'owner_id'$$, m)),
          e, format('transfer_workspace_ownership by %s to %s gives %s', a, m, e))
  from (values
        (1, 'stranger', 'wa-admin', 'PT404: workspace ' || pg_temp.wsid('wa') || ' not found'),
        (2, 'wa-admin', 'wa-approver', 'PT403: this needs the owner role in this workspace (you are admin)'),
        (3, 'padmin', 'wa-admin', 'PT403: this needs the owner role in this workspace (you are admin)'),
        (4, 'wa-owner', 'wa-owner', '22023: you cannot transfer ownership to yourself'),
        (5, 'wa-owner', 'stranger', 'PT404: user ' || pg_temp.uid('stranger') || ' is not a member of workspace ' || pg_temp.wsid('wa')),
        (6, 'wa-owner', 'wa-contributor', to_jsonb(pg_temp.uid('wa-contributor')::text)::text)
       ) as t (n, a, m, e)
 order by n;
select is((select jsonb_object_agg(u.email, m.role order by u.email) from public.workspace_members m
             join auth.users u on u.id = m.user_id where m.workspace_id = pg_temp.wsid('wa') and m.role >= 'admin'),
          '{"wa-admin@example.com": "admin", "wa-owner@example.com": "admin", "wa-contributor@example.com": "owner"}',
          'after the transfer the new owner is the only owner, the old one an admin');
select matches(pg_temp.outcome('wa-owner', $$select public.transfer_workspace_ownership(pg_temp.wsid('wa'), pg_temp.uid('wa-admin'))$$),
               '^PT403: ', 'the former owner can no longer transfer');
select is(pg_temp.attempt('anon', $$select public.transfer_workspace_ownership(pg_temp.wsid('wa'), pg_temp.uid('wa-admin'))$$),
          pg_temp.denied_fn('transfer_workspace_ownership'), 'anon may not call transfer_workspace_ownership');
select matches(pg_temp.outcome('wa-contributor', $$select public.leave_workspace(pg_temp.wsid('wa'))$$),
               '^PT409: the last owner', 'the new owner is now the last owner and cannot leave');

-- Guard: nobody forges created_by / updated_by of a membership.
select is(pg_temp.call_as('wa-admin', $$with m as (insert into public.workspace_members (workspace_id, user_id, role, created_by, updated_by)
                                                   values (pg_temp.wsid('wa'), pg_temp.uid('stranger'), 'viewer', pg_temp.uid('wa-contributor'), pg_temp.uid('wa-contributor'))
                                                   returning created_by, updated_by)
                                        select to_jsonb(m) from m$$),
          jsonb_build_object('created_by', pg_temp.uid('wa-admin'), 'updated_by', pg_temp.uid('wa-admin')),
          'created_by and updated_by of a membership are the caller, whatever was sent');

select * from finish();
rollback;
