-- workspaces (contract §8, §16): the RLS matrix, create_workspace(), personal workspaces, soft
-- delete and restore, and what deleting an auth.users row does to the workspaces it owns.
-- Every user and workspace is made here (helpers: make_cast, make_outsiders).
begin;
\ir _helpers.psql
select plan(180);

select pg_temp.make_outsiders();
select pg_temp.make_cast('wa');
select pg_temp.make_cast('wb');
-- A prompt in wa (published) so "content hidden while deleted" has something to hide.
insert into public.prompts (id, workspace_id, slug, title, status, created_by)
values ('41000000-0000-4000-a000-000000000001', pg_temp.wsid('wa'), 'wa-prompt', 'A prompt of wa', 'draft',
        pg_temp.uid('wa-contributor'));
insert into public.prompt_versions (prompt_id, markdown_body, created_by)
values ('41000000-0000-4000-a000-000000000001', 'Body', pg_temp.uid('wa-contributor'));
select public.publish_prompt_version('41000000-0000-4000-a000-000000000001',
    (select v.id from public.prompt_versions v where v.prompt_id = '41000000-0000-4000-a000-000000000001'));

-- The matrix ----------------------------------------------------------------------------------------
select pg_temp.ws_matrix('workspaces', array[
    --                       anon   stranger viewer contrib approver admin owner padmin jwtadmin service_role
    ['select',              'denied 0        1      1       1        1     1     1      1        1',
     $$select * from public.workspaces where id = pg_temp.wsid('wa')$$],
    ['insert (team)',       'denied 1        1      1       1        1     1     1      1        1',
     $$insert into public.workspaces (slug, name) values ('matrix-new', 'New')$$],
    ['insert (personal)',   'denied 42501    42501  42501   42501    42501 42501 42501  42501    23514',
     $$insert into public.workspaces (slug, name, kind) values ('matrix-personal', 'Mine', 'personal')$$],
    ['insert (default course)', 'denied 42501 42501 42501   42501    42501 42501 42501  42501    23505',
     $$insert into public.workspaces (slug, name, kind, is_default) values ('matrix-default', 'Default', 'course', true)$$],
    ['update (name)',       'denied 0        0      0       0        1     1     1      1        1',
     $$update public.workspaces set name = 'Renamed' where id = pg_temp.wsid('wa')$$],
    ['update (require_approval)', 'denied 0  0      0       0        1     1     1      1        1',
     $$update public.workspaces set require_approval = true where id = pg_temp.wsid('wa')$$],
    ['update (soft delete)', 'denied 0       0      0       0        PT403 1     PT403  PT403    1',
     $$update public.workspaces set deleted_at = now() where id = pg_temp.wsid('wa')$$],
    ['update (kind)',       'denied denied   denied denied  denied   denied denied denied denied PT409',
     $$update public.workspaces set kind = 'course' where id = pg_temp.wsid('wa')$$],
    ['update (created_by)', 'denied denied   denied denied  denied   denied denied denied denied PT409',
     $$update public.workspaces set created_by = auth.uid() where id = pg_temp.wsid('wa')$$],
    ['delete',              'denied denied   denied denied  denied   denied denied denied denied 1',
     $$delete from public.workspaces where id = pg_temp.wsid('wa')$$]]);

select pg_temp.untouched_by('public.workspaces',
    array['stranger', 'wa-viewer', 'wa-contributor', 'wa-approver', 'wb-owner'],
    array[$$update public.workspaces set name = 'Changed', description = 'x' where id = pg_temp.wsid('wa')$$,
          $$update public.workspaces set deleted_at = now() where id = pg_temp.wsid('wa')$$]);

-- An unfiltered read returns exactly the caller's workspaces.
select is(pg_temp.call_as('wa-viewer', $$select jsonb_agg(slug order by slug) from public.workspaces$$),
          jsonb_build_array('u-' || replace(pg_temp.uid('wa-viewer')::text, '-', ''), 'wa'),
          'a member reads exactly their workspaces: wa and their personal one');
select is(pg_temp.call_as('stranger', $$select jsonb_agg(id) from public.workspaces$$),
          jsonb_build_array(pg_temp.personal_ws('stranger')),
          'a non-member reads only their personal workspace');

-- Inserting: the caller is the creator and owner, whatever created_by says; REST's insert ... returning works.
select is(pg_temp.call_as('stranger',
              $$with w as (insert into public.workspaces (slug, name, created_by, created_at)
                           values ('strangers-team', 'Team', pg_temp.uid('wa-owner'), now() - interval '9 days')
                           returning created_by, created_at = now() as fresh, kind)
                select to_jsonb(w) from w$$),
          jsonb_build_object('created_by', pg_temp.uid('stranger'), 'fresh', true, 'kind', 'team'),
          'insert ... returning: the creator is the caller, created_at is now, kind team');
select is((select role::text from public.workspace_members m
            join public.workspaces w on w.id = m.workspace_id
           where w.slug = 'strangers-team' and m.user_id = pg_temp.uid('stranger')), 'owner',
          'the creator became the owner');
select is((select count(*)::integer from public.workspace_members m
            join public.workspaces w on w.id = m.workspace_id where w.slug = 'strangers-team'), 1,
          'the creator is the only member (created_by could not be forged)');
select is(pg_temp.call_as('stranger', $$select to_jsonb(count(*)) from public.workspaces where slug = 'strangers-team'$$),
          '1', 'the creator reads the new workspace in a later statement');

-- create_workspace() ----------------------------------------------------------------------------------
select is(pg_temp.outcome('stranger', $$select to_jsonb(w) - 'id' - 'created_at' - 'updated_at'
                                          from public.create_workspace('rpc-team', 'RPC team') w$$)::jsonb,
          jsonb_build_object('slug', 'rpc-team', 'name', 'RPC team', 'description', null, 'kind', 'team',
                             'personal_user_id', null, 'is_default', false, 'require_approval', false,
                             'created_by', pg_temp.uid('stranger'), 'updated_by', pg_temp.uid('stranger'),
                             'deleted_at', null),
          'create_workspace returns the new team workspace, created by the caller');
select is(pg_temp.call_as('stranger', $$select jsonb_agg(role) from public.workspace_members m
                                         join public.workspaces w on w.id = m.workspace_id where w.slug = 'rpc-team'$$),
          '["owner"]', 'create_workspace: the caller is its one member, as owner');
select is(pg_temp.outcome('wa-viewer', $$select to_jsonb(w.kind) from public.create_workspace('rpc-course', 'Course', 'course') w$$),
          '"course"', 'create_workspace creates a course workspace');
select matches(pg_temp.outcome('wa-viewer', $$select to_jsonb(public.create_workspace('wb', 'Taken'))$$),
               '^PT409: the slug wb is taken', 'create_workspace: a slug taken (by a workspace the caller cannot read) is PT409');
select matches(pg_temp.outcome('wa-viewer', $$select to_jsonb(public.create_workspace('rpc-team', 'Taken'))$$),
               '^PT409: ', 'create_workspace: a slug taken in this transaction is PT409');
select matches(pg_temp.outcome('wa-viewer', $$select to_jsonb(public.create_workspace('mine', 'Mine', 'personal'))$$),
               '^22023: kind must be team or course', 'create_workspace refuses kind personal (22023)');
select matches(pg_temp.outcome('wa-viewer', $$select to_jsonb(public.create_workspace('Bad Slug', 'Bad'))$$),
               '^23514: ', 'create_workspace refuses a malformed slug (23514)');
select matches(pg_temp.outcome('wa-viewer', $$select to_jsonb(public.create_workspace(null, 'No slug'))$$),
               '^22023: ', 'create_workspace refuses a missing slug (22023)');
select matches(pg_temp.outcome('wa-viewer', $$select to_jsonb(public.create_workspace('blank-name', '   '))$$),
               '^23514: ', 'create_workspace refuses a blank name (23514)');
select is(pg_temp.attempt('anon', $$select public.create_workspace('anon-team', 'Anon')$$),
          pg_temp.denied_fn('create_workspace'), 'anon may not call create_workspace');
select matches(pg_temp.outcome('service_role', $$select to_jsonb(public.create_workspace('svc-team', 'Service'))$$),
               '^42501: sign in to create a workspace', 'create_workspace needs a signed-in user (the service role has none)');

-- Personal workspaces ---------------------------------------------------------------------------------
select pg_temp.make_user('newcomer');
select is((select jsonb_build_object('count', count(*), 'kind', min(w.kind::text), 'default', bool_or(w.is_default),
                                     'deleted', bool_or(w.deleted_at is not null))
             from public.workspaces w where w.personal_user_id = pg_temp.uid('newcomer')),
          '{"count": 1, "kind": "personal", "default": false, "deleted": false}',
          'a new auth.users row gets exactly one personal workspace');
select is((select jsonb_agg(jsonb_build_object('user', m.user_id, 'role', m.role))
             from public.workspace_members m where m.workspace_id = pg_temp.personal_ws('newcomer')),
          jsonb_build_array(jsonb_build_object('user', pg_temp.uid('newcomer'), 'role', 'owner')),
          'its only member is its user, as owner');
select is(pg_temp.call_as('newcomer', format($$select to_jsonb(count(*)) from public.workspaces where id = %L$$,
                                             pg_temp.personal_ws('newcomer'))),
          '1', 'the user reads their personal workspace');
select is(pg_temp.call_as(a, format($$select to_jsonb(count(*)) from public.workspaces where id = %L$$,
                                    pg_temp.personal_ws('newcomer'))),
          '0', a || ' cannot read someone else''s personal workspace')
  from unnest(array['padmin', 'jwtadmin', 'stranger', 'wa-owner']) a;
select is(pg_temp.call_as('padmin', $$select to_jsonb(count(*)) from public.workspaces where kind = 'personal'$$),
          '1', 'a platform admin reads no personal workspace but their own');
select is(pg_temp.attempt(a, format($$update public.workspaces set name = 'Hijacked' where id = %L$$,
                                    pg_temp.personal_ws('newcomer'))),
          pg_temp.rows(0), a || ' cannot rename someone else''s personal workspace')
  from unnest(array['padmin', 'jwtadmin']) a;
select is(pg_temp.attempt('newcomer', format($$update public.workspaces set name = 'My prompts' where id = %L$$,
                                             pg_temp.personal_ws('newcomer'))),
          pg_temp.rows(1), 'the user renames their personal workspace');
select matches(pg_temp.attempt(a, format($$update public.workspaces set deleted_at = now() where id = %L$$,
                                         pg_temp.personal_ws('newcomer'))),
               '^PT409: personal and default workspaces cannot be deleted', a || ' cannot soft-delete a personal workspace')
  from unnest(array['newcomer', 'service_role']) a;
select matches(pg_temp.attempt('newcomer', format($$update public.workspaces set require_approval = true where id = %L$$,
                                                  pg_temp.personal_ws('newcomer'))),
               '^23514: ', 'require_approval cannot be switched on for a personal workspace');
select matches(pg_temp.outcome('newcomer', format($$select public.delete_workspace(%L)::text::jsonb$$,
                                                  pg_temp.personal_ws('newcomer'))),
               '^PT409: ', 'delete_workspace refuses the personal workspace');
-- Nobody else can ever be a member.
select matches(pg_temp.outcome('newcomer', format($$select public.add_workspace_member(%L, %L, 'viewer')$$,
                                                  pg_temp.personal_ws('newcomer'), pg_temp.uid('stranger'))),
               '^PT409: a personal workspace has only its own user', 'its owner cannot add a member (RPC)');
select matches(pg_temp.attempt(a, format($$insert into public.workspace_members (workspace_id, user_id, role) values (%L, %L, 'owner')$$,
                                         pg_temp.personal_ws('newcomer'), pg_temp.uid('stranger'))),
               '^PT409: a personal workspace has only its own user', a || ' cannot add a member (insert)')
  from unnest(array['newcomer', 'service_role']) a;
select matches(pg_temp.attempt('service_role', format($$update public.workspace_members set role = 'admin' where workspace_id = %L$$,
                                                      pg_temp.personal_ws('newcomer'))),
               '^PT409: ', 'nobody demotes the user of a personal workspace');
select matches(pg_temp.outcome('newcomer', format($$select public.invite_workspace_member(%L, 'friend@example.com')$$,
                                                  pg_temp.personal_ws('newcomer'))),
               '^PT409: a personal workspace has no other members', 'its owner cannot invite anybody');
-- Its owner cannot leave it.
select matches(pg_temp.outcome('newcomer', format($$select public.leave_workspace(%L)$$, pg_temp.personal_ws('newcomer'))),
               '^PT409: nobody can leave', 'the user cannot leave their personal workspace (RPC)');
select matches(pg_temp.attempt(a, format($$delete from public.workspace_members where workspace_id = %L$$,
                                         pg_temp.personal_ws('newcomer'))),
               '^PT409: nobody can leave', a || ' cannot delete the personal membership row')
  from unnest(array['newcomer', 'service_role']) a;
select matches(pg_temp.outcome('newcomer', format($$select public.transfer_workspace_ownership(%L, %L)$$,
                                                  pg_temp.personal_ws('newcomer'), pg_temp.uid('stranger'))),
               '^PT404: ', 'ownership of a personal workspace cannot be transferred (nobody else is a member)');
-- The personal slug, kind and owner user never change.
select matches(pg_temp.attempt('service_role', format($$update public.workspaces set personal_user_id = %L where id = %L$$,
                                                      pg_temp.uid('stranger'), pg_temp.personal_ws('newcomer'))),
               '^PT409: ', 'a personal workspace never changes its user');

-- Soft delete and restore -------------------------------------------------------------------------
select matches(pg_temp.outcome(a, $$select to_jsonb(public.delete_workspace(pg_temp.wsid('wa')))$$),
               '^' || e || ': ', format('delete_workspace by %s -> %s', a, e))
  from (values ('stranger', 'PT404'), ('wb-owner', 'PT404'), ('wa-viewer', 'PT403'), ('wa-admin', 'PT403'),
               ('padmin', 'PT403'), ('jwtadmin', 'PT403')) as t (a, e);
select is(pg_temp.outcome('wa-owner', $$select to_jsonb((public.delete_workspace(pg_temp.wsid('wa'))).deleted_at is not null)$$),
          'true', 'the owner soft-deletes their workspace');
select is(pg_temp.call_as(a, $$select jsonb_build_array(
                                  (select count(*) from public.workspaces where id = pg_temp.wsid('wa')),
                                  (select count(*) from public.workspace_members where workspace_id = pg_temp.wsid('wa')),
                                  (select count(*) from public.prompts where workspace_id = pg_temp.wsid('wa')),
                                  (select count(*) from public.prompt_versions where prompt_id = '41000000-0000-4000-a000-000000000001'))$$),
          '[0, 0, 0, 0]', 'while deleted, ' || a || ' reads nothing of it (row, members, prompts, versions)')
  from unnest(array['wa-owner', 'wa-admin', 'wa-viewer', 'padmin', 'jwtadmin']) a;
select is(pg_temp.attempt(a, $$update public.workspaces set name = 'Ghost' where id = pg_temp.wsid('wa')$$),
          pg_temp.rows(0), 'while deleted, ' || a || ' cannot edit it')
  from unnest(array['wa-owner', 'padmin']) a;
select is(pg_temp.attempt('wa-contributor', $$insert into public.prompts (workspace_id, slug, title)
                                              values (pg_temp.wsid('wa'), 'ghost', 'Ghost')$$),
          pg_temp.rls('prompts'), 'while deleted, contributors cannot write content into it');
select is(pg_temp.call_as('service_role', $$select to_jsonb(count(*)) from public.prompts where workspace_id = pg_temp.wsid('wa')$$),
          '1', 'the service role still sees its content (soft delete keeps it)');
select matches(pg_temp.outcome(a, $$select to_jsonb(public.restore_workspace(pg_temp.wsid('wa')))$$),
               '^' || e || ': ', format('restore_workspace by %s -> %s', a, e))
  from (values ('stranger', 'PT404'), ('wb-owner', 'PT404'), ('wa-viewer', 'PT403'), ('wa-admin', 'PT403'),
               ('padmin', 'PT403')) as t (a, e);
select is(pg_temp.attempt('anon', $$select public.restore_workspace(pg_temp.wsid('wa'))$$),
          pg_temp.denied_fn('restore_workspace'), 'anon may not call restore_workspace');
select is(pg_temp.outcome('wa-owner', $$select to_jsonb((public.restore_workspace(pg_temp.wsid('wa'))).deleted_at is null)$$),
          'true', 'the owner restores it');
select is(pg_temp.call_as('wa-viewer', $$select jsonb_build_array(
                                            (select count(*) from public.workspaces where id = pg_temp.wsid('wa')),
                                            (select count(*) from public.prompts where workspace_id = pg_temp.wsid('wa')))$$),
          '[1, 1]', 'restored: its viewer reads it and its published prompt again');
select matches(pg_temp.outcome('wa-owner', $$select to_jsonb(public.restore_workspace(gen_random_uuid()))$$),
               '^PT404: ', 'restore_workspace of an unknown id is PT404');
select matches(pg_temp.outcome('padmin', format($$select to_jsonb(public.delete_workspace(%L))$$, private.default_workspace_id())),
               '^PT403: ', 'a platform admin cannot delete the default course workspace');

-- Deleting an auth.users row ---------------------------------------------------------------------------
-- Hand-over team: sole owner ho-owner; an approver who joined first, two admins (the older one inherits).
select pg_temp.make_user('ho-owner');
select pg_temp.make_workspace('ho', 'team', 'ho-owner');
select pg_temp.make_member('ho', 'ho-owner', 'owner', '30 days');
select pg_temp.make_member('ho', 'ho-approver', 'approver', '20 days');
select pg_temp.make_member('ho', 'ho-admin-new', 'admin', '2 days');
select pg_temp.make_member('ho', 'ho-admin-old', 'admin', '10 days');
-- Co-owned team: another owner stays, nobody is promoted.
select pg_temp.make_workspace('co', 'team', 'ho-owner');
select pg_temp.make_member('co', 'co-owner', 'owner', '1 day');
select pg_temp.make_member('co', 'co-admin', 'admin', '9 days');
-- Alone: soft-deleted.
select pg_temp.make_workspace('alone', 'course', 'ho-owner');
with m as (insert into public.prompt_modules (workspace_id, slug, title) values (pg_temp.wsid('alone'), 'm', 'M') returning id)
insert into public.prompts (workspace_id, slug, title, module_id) select pg_temp.wsid('alone'), 'kept', 'Kept', m.id from m;
-- An invitation ho-owner sent, and one ho-owner accepted.
select pg_temp.call_as('ho-owner', $$select public.invite_workspace_member(pg_temp.wsid('ho'), 'later@example.com')$$);
select pg_temp.make_user('inviter');
select pg_temp.make_workspace('inv', 'team', 'inviter');
select pg_temp.call_as('ho-owner', format($$select public.accept_workspace_invitation(%L)$$,
    pg_temp.call_as('inviter', $$select public.invite_workspace_member(pg_temp.wsid('inv'), 'ho-owner@example.com', 'admin')$$)->>'token'));
select is((select role::text from public.workspace_members where workspace_id = pg_temp.wsid('inv') and user_id = pg_temp.uid('ho-owner')),
          'admin', 'setup: ho-owner accepted an invitation to inv');

select lives_ok($$delete from auth.users where id = pg_temp.uid('ho-owner')$$,
                'deleting a user who solely owns workspaces succeeds');
select is((select jsonb_object_agg(u.email, m.role order by u.email)
             from public.workspace_members m join auth.users u on u.id = m.user_id
            where m.workspace_id = pg_temp.wsid('ho')),
          '{"ho-admin-new@example.com": "admin", "ho-admin-old@example.com": "owner", "ho-approver@example.com": "approver"}',
          'the sole-owner team passes to the longest-standing member with the highest role');
select is((select jsonb_object_agg(u.email, m.role order by u.email)
             from public.workspace_members m join auth.users u on u.id = m.user_id
            where m.workspace_id = pg_temp.wsid('co')),
          '{"co-admin@example.com": "admin", "co-owner@example.com": "owner"}',
          'a co-owned team keeps its other owner and promotes nobody');
select is((select jsonb_build_array(w.deleted_at is not null, (select count(*) from public.prompts p where p.workspace_id = w.id))
             from public.workspaces w where w.id = pg_temp.wsid('alone')),
          '[true, 1]', 'a workspace with no other member is soft-deleted, its content kept');
select is((select count(*)::integer from public.workspaces w where w.slug = 'u-' || replace(pg_temp.uid('ho-owner')::text, '-', '')),
          0, 'the personal workspace went with its user');
select is((select count(*)::integer from public.workspace_invitations i
            where i.workspace_id = pg_temp.wsid('ho') and i.invited_by is null), 1,
          'an invitation the user sent stays, without its inviter');
select is((select jsonb_build_array(i.accepted_by, i.accepted_at is not null) from public.workspace_invitations i
            where i.workspace_id = pg_temp.wsid('inv')),
          '[null, true]', 'an invitation the user accepted stays accepted, without the user');
select is(pg_temp.call_as('ho-admin-old', $$select to_jsonb((public.delete_workspace(pg_temp.wsid('ho'))).deleted_at is not null)$$),
          'true', 'the heir has every owner power (deletes the workspace)');

-- A user who is the last owner AND whose only co-member is deleted in the same statement.
select pg_temp.make_user('pair-a');
select pg_temp.make_workspace('pair', 'team', 'pair-a');
select pg_temp.make_member('pair', 'pair-b', 'viewer');
select lives_ok($$delete from auth.users where id in (pg_temp.uid('pair-a'), pg_temp.uid('pair-b'))$$,
                'deleting the owner and the only other member together succeeds');
select is((select count(*)::integer from public.workspace_members where workspace_id = pg_temp.wsid('pair')), 0,
          'no membership of the deleted users is left');

select * from finish();
rollback;
