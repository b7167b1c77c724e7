-- workspace_invitations (contract §8): the RLS matrix (the token hash readable by no API user),
-- invite_workspace_member() (token shown once, only its sha256 stored, role up to the inviter's,
-- expiry) and accept_workspace_invitation() (single use, not revoked or expired, only for a
-- signed-in user whose CONFIRMED e-mail matches; an existing member keeps the higher role).
begin;
\ir _helpers.psql
select plan(181);

select pg_temp.make_outsiders();
select pg_temp.make_cast('wa');
select pg_temp.make_user('invitee');
select pg_temp.make_user('pending', confirmed => false);

-- Two pending invitations of wa: to invitee (confirmed) and to pending (e-mail not confirmed).
create temporary table invite (who text primary key, result jsonb) on commit drop;
insert into invite values
    ('invitee', pg_temp.call_as('wa-admin', $$select public.invite_workspace_member(pg_temp.wsid('wa'), 'invitee@example.com')$$)),
    ('pending', pg_temp.call_as('wa-admin', $$select public.invite_workspace_member(pg_temp.wsid('wa'), 'pending@example.com', 'contributor')$$));

-- The matrix ----------------------------------------------------------------------------------------
select pg_temp.ws_matrix('workspace_invitations', array[
    --                       anon   stranger viewer contrib approver admin owner padmin jwtadmin service_role invitee pending
    ['select',              'denied 0        0      0       0        2     2     2      2        2            1       0',
     $$select id, workspace_id, email, role, invited_by, expires_at, accepted_at, accepted_by, revoked_at, created_at, updated_at
         from public.workspace_invitations where workspace_id = pg_temp.wsid('wa')$$],
    -- token_hash is readable like the other columns (so select=* works); it is a one-way sha256.
    ['select (token_hash)', 'denied 0        0      0       0        2     2     2      2        2            1       0',
     $$select token_hash from public.workspace_invitations where workspace_id = pg_temp.wsid('wa')$$],
    ['select (*)',          'denied 0        0      0       0        2     2     2      2        2            1       0',
     $$select * from public.workspace_invitations where workspace_id = pg_temp.wsid('wa')$$],
    ['insert (viewer)',     'denied PT403    PT403  PT403   PT403    1     1     1      1        1            PT403   PT403',
     $$insert into public.workspace_invitations (workspace_id, email, role, token_hash)
       values (pg_temp.wsid('wa'), 'matrix@example.com', 'viewer', sha256('matrix-token-0123456789'::bytea))$$],
    ['insert (admin)',      'denied PT403    PT403  PT403   PT403    1     1     1      1        1            PT403   PT403',
     $$insert into public.workspace_invitations (workspace_id, email, role, token_hash)
       values (pg_temp.wsid('wa'), 'matrix@example.com', 'admin', sha256('matrix-token-0123456789'::bytea))$$],
    ['insert (owner)',      'denied PT403    PT403  PT403   PT403    PT403 1     PT403  PT403    1            PT403   PT403',
     $$insert into public.workspace_invitations (workspace_id, email, role, token_hash)
       values (pg_temp.wsid('wa'), 'matrix@example.com', 'owner', sha256('matrix-token-0123456789'::bytea))$$],
    ['insert (accepted)',   'denied denied   denied denied  denied   denied denied denied denied 1           denied  denied',
     $$insert into public.workspace_invitations (workspace_id, email, token_hash, accepted_at, accepted_by)
       values (pg_temp.wsid('wa'), 'matrix@example.com', sha256('matrix-token-0123456789'::bytea), now(), pg_temp.uid('stranger'))$$],
    ['update (revoke)',     'denied 0        0      0       0        1     1     1      1        1            0       0',
     $$update public.workspace_invitations set revoked_at = now() where email = 'invitee@example.com'$$],
    ['update (role)',       'denied denied   denied denied  denied   denied denied denied denied 1           denied  denied',
     $$update public.workspace_invitations set role = 'owner' where email = 'invitee@example.com'$$],
    ['update (expires_at)', 'denied denied   denied denied  denied   denied denied denied denied 1           denied  denied',
     $$update public.workspace_invitations set expires_at = now() + interval '20 days' where email = 'invitee@example.com'$$],
    ['delete',              'denied denied   denied denied  denied   denied denied denied denied 1           denied  denied',
     $$delete from public.workspace_invitations where email = 'invitee@example.com'$$]],
    'anon stranger wa-viewer wa-contributor wa-approver wa-admin wa-owner padmin jwtadmin service_role invitee pending');

-- A direct insert records the caller as inviter and refuses personal workspaces.
select is(pg_temp.call_as('wa-owner', $$with i as (insert into public.workspace_invitations (workspace_id, email, token_hash)
                                                  values (pg_temp.wsid('wa'), 'Direct@Example.COM', sha256('direct-token-0123456789'::bytea))
                                                  returning invited_by, email)
                                        select to_jsonb(i) from i$$),
          jsonb_build_object('invited_by', pg_temp.uid('wa-owner'), 'email', 'direct@example.com'),
          'a direct insert records the caller as inviter and stores the e-mail normalised');
select matches(pg_temp.attempt('wa-owner', format($$insert into public.workspace_invitations (workspace_id, email, token_hash)
                                                    values (%L, 'friend@example.com', sha256('x'::bytea))$$, pg_temp.personal_ws('wa-owner'))),
               '^PT409: a personal workspace has no other members', 'no invitation into a personal workspace, even by its owner');

-- invite_workspace_member(): the token, shown once --------------------------------------------------
select is((select jsonb_build_object('keys', (select jsonb_agg(k order by k) from jsonb_object_keys(result) k),
                                     'email', result->'email', 'role', result->'role',
                                     'token_length', char_length(result->>'token')) from invite where who = 'invitee'),
          '{"keys": ["email", "expires_at", "invitation_id", "role", "token", "workspace_id"], "email": "invitee@example.com", "role": "viewer", "token_length": 43}',
          'invite_workspace_member returns the invitation and a 43-character token');
select is((select i.token_hash = sha256(convert_to(v.result->>'token', 'UTF8'))
             from public.workspace_invitations i join invite v on i.id = (v.result->>'invitation_id')::uuid where v.who = 'invitee'),
          true, 'only the token''s sha256 is stored');
select is((select count(*)::integer from public.workspace_invitations i, invite v
            where strpos(to_jsonb(i)::text, v.result->>'token') > 0
               or strpos(encode(i.token_hash, 'escape'), v.result->>'token') > 0), 0,
          'no stored invitation contains a token');
select isnt((select result->>'token' from invite where who = 'invitee'), (select result->>'token' from invite where who = 'pending'),
            'each invitation gets its own token');
select is((select (i.expires_at - i.created_at)::text from public.workspace_invitations i join invite v
             on i.id = (v.result->>'invitation_id')::uuid where v.who = 'invitee'),
          '7 days', 'an invitation expires after 7 days by default');
select is(pg_temp.call_as('wa-owner', $$select to_jsonb(((public.invite_workspace_member(pg_temp.wsid('wa'), 'short@example.com', 'viewer', 1))->>'expires_at')::timestamptz - now() = interval '1 day')$$),
          'true', 'valid_days sets the expiry');

select matches(pg_temp.outcome(a, format($$select public.invite_workspace_member(pg_temp.wsid('wa'), 'someone@example.com', %L, %s)$$, r, d)),
               '^' || e || ': ', format('invite_workspace_member by %s (role %s, %s days) -> %s', a, r, d, e))
  from (values
        ('stranger', 'viewer', 7, 'PT404'),
        ('wa-viewer', 'viewer', 7, 'PT403'),
        ('wa-contributor', 'viewer', 7, 'PT403'),
        ('wa-approver', 'viewer', 7, 'PT403'),
        ('wa-admin', 'owner', 7, 'PT403'),
        ('padmin', 'owner', 7, 'PT403'),
        ('wa-owner', 'viewer', 0, '22023'),
        ('wa-owner', 'viewer', 31, '22023'),
        ('wa-owner', 'viewer', -1, '22023')
       ) as t (a, r, d, e);
select matches(pg_temp.outcome('wa-owner', $$select public.invite_workspace_member(pg_temp.wsid('wa'), 'not an e-mail')$$),
               '^23514: ', 'an invalid e-mail is refused (23514)');
select matches(pg_temp.outcome('wa-owner', $$select public.invite_workspace_member(pg_temp.wsid('wa'), null)$$),
               '^22023: ', 'a missing e-mail is 22023');
select is(pg_temp.outcome(a, format($$select public.invite_workspace_member(pg_temp.wsid('wa'), 'someone@example.com', %L)->'role'$$, r)),
          to_jsonb(r)::text, format('%s invites with role %s', a, r))
  from (values ('wa-admin', 'admin'), ('wa-owner', 'owner'), ('padmin', 'admin'), ('jwtadmin', 'viewer')) as t (a, r);
select is(pg_temp.attempt('anon', $$select public.invite_workspace_member(pg_temp.wsid('wa'), 'a@example.com')$$),
          pg_temp.denied_fn('invite_workspace_member'), 'anon may not call invite_workspace_member');

-- accept_workspace_invitation() ---------------------------------------------------------------------
create function pg_temp.accept(who text) returns text language sql
    as $$ select format($q$select public.accept_workspace_invitation(%L)$q$, (select result->>'token' from invite where invite.who = accept.who)) $$;

select is(pg_temp.attempt('anon', pg_temp.accept('invitee')), pg_temp.denied_fn('accept_workspace_invitation'),
          'anon may not call accept_workspace_invitation');
select is(pg_temp.outcome('stranger', pg_temp.accept('invitee')),
          'PT403: this invitation is for another e-mail address, or yours is not confirmed',
          'a user with another e-mail cannot accept it');
select is(pg_temp.outcome('stranger', pg_temp.accept('invitee'), '{"email": "invitee@example.com"}'),
          'PT403: this invitation is for another e-mail address, or yours is not confirmed',
          'the JWT email claim does not count (only the confirmed e-mail in auth.users)');
select is(pg_temp.outcome('pending', pg_temp.accept('pending')),
          'PT403: this invitation is for another e-mail address, or yours is not confirmed',
          'a user with the right e-mail, not yet confirmed, cannot accept it');
select is(pg_temp.outcome('invitee', $$select public.accept_workspace_invitation(repeat('x', 43))$$),
          'PT404: invitation not found', 'an unknown token is PT404');
select is(pg_temp.outcome('invitee', $$select public.accept_workspace_invitation('short')$$),
          '22023: token is required', 'a token of the wrong length is 22023');
select is(pg_temp.outcome('invitee', $$select public.accept_workspace_invitation(null)$$),
          '22023: token is required', 'a missing token is 22023');
select matches(pg_temp.outcome('service_role', pg_temp.accept('invitee')),
               '^42501: ', 'the service role (no user) cannot accept');
select is(pg_temp.call_as('invitee', $$select to_jsonb(count(*)) from public.workspaces where id = pg_temp.wsid('wa')$$),
          '0', 'before accepting, the invitee cannot read the workspace');
select is(pg_temp.outcome('invitee', pg_temp.accept('invitee'))::jsonb,
          jsonb_build_object('workspace_id', pg_temp.wsid('wa'), 'user_id', pg_temp.uid('invitee'), 'role', 'viewer'),
          'the invitee (confirmed e-mail) accepts and becomes a viewer');
select is(pg_temp.call_as('invitee', $$select to_jsonb(count(*)) from public.workspaces where id = pg_temp.wsid('wa')$$),
          '1', 'after accepting, the invitee reads the workspace');
select is((select jsonb_build_array(i.accepted_by, i.accepted_at is not null) from public.workspace_invitations i
            where i.email = 'invitee@example.com'),
          jsonb_build_array(pg_temp.uid('invitee'), true), 'the invitation records who accepted it');
select is(pg_temp.outcome('invitee', pg_temp.accept('invitee')),
          'PT409: this invitation has already been used', 'a token is single-use');
select is(pg_temp.outcome('stranger', pg_temp.accept('invitee')),
          'PT403: this invitation is for another e-mail address, or yours is not confirmed',
          'to another user, a used invitation says nothing more than before');
select is(pg_temp.attempt('wa-admin', $$update public.workspace_invitations set revoked_at = now() where email = 'invitee@example.com'$$),
          pg_temp.rows(0), 'an accepted invitation can no longer be revoked');
-- Confirming the e-mail is what makes the difference.
update auth.users set email_confirmed_at = now() where id = pg_temp.uid('pending');
select is(pg_temp.outcome('pending', pg_temp.accept('pending'))::jsonb->'role', '"contributor"',
          'once their e-mail is confirmed, the same user accepts with the invited role');

-- Revoked, expired, deleted workspace.
select pg_temp.make_user('revokee');
select pg_temp.make_user('latecomer');
insert into invite values
    ('revokee', pg_temp.call_as('wa-admin', $$select public.invite_workspace_member(pg_temp.wsid('wa'), 'revokee@example.com')$$)),
    ('latecomer', pg_temp.call_as('wa-admin', $$select public.invite_workspace_member(pg_temp.wsid('wa'), 'latecomer@example.com')$$));
select is(pg_temp.attempt('wa-admin', $$update public.workspace_invitations set revoked_at = now() where email = 'revokee@example.com'$$, keep => true),
          pg_temp.rows(1), 'an admin revokes an invitation');
select is(pg_temp.outcome('revokee', pg_temp.accept('revokee')), 'PT409: this invitation was revoked',
          'a revoked invitation cannot be accepted');
update public.workspace_invitations set created_at = now() - interval '8 days', expires_at = now() - interval '1 day'
 where email = 'latecomer@example.com';
select matches(pg_temp.outcome('latecomer', pg_temp.accept('latecomer')), '^PT409: this invitation expired',
               'an expired invitation cannot be accepted');
select is((select count(*)::integer from public.workspace_members where workspace_id = pg_temp.wsid('wa')
              and user_id in (pg_temp.uid('revokee'), pg_temp.uid('latecomer'))), 0,
          'neither became a member');

select pg_temp.make_cast('wd');
select pg_temp.make_user('too-late');
insert into invite values
    ('too-late', pg_temp.call_as('wd-owner', $$select public.invite_workspace_member(pg_temp.wsid('wd'), 'too-late@example.com')$$));
select pg_temp.call_as('wd-owner', $$select to_jsonb(public.delete_workspace(pg_temp.wsid('wd')))$$);
select is(pg_temp.outcome('too-late', pg_temp.accept('too-late')), 'PT404: invitation not found',
          'an invitation to a soft-deleted workspace is PT404');
select is(pg_temp.call_as('too-late', $$select to_jsonb(count(*)) from public.workspace_invitations where workspace_id = pg_temp.wsid('wd')$$),
          '1', 'the invitee still reads the invitation addressed to them');

-- An existing member keeps the higher role; a lower one is raised. E-mails match case-insensitively.
insert into invite values
    ('wa-approver', pg_temp.call_as('wa-admin', $$select public.invite_workspace_member(pg_temp.wsid('wa'), 'WA-Approver@Example.com', 'viewer')$$)),
    ('wa-viewer', pg_temp.call_as('wa-admin', $$select public.invite_workspace_member(pg_temp.wsid('wa'), 'wa-viewer@example.com', 'contributor')$$));
select is(pg_temp.outcome('wa-approver', pg_temp.accept('wa-approver'))::jsonb->'role', '"approver"',
          'an approver invited as viewer stays approver (e-mail matched case-insensitively)');
select is(pg_temp.outcome('wa-viewer', pg_temp.accept('wa-viewer'))::jsonb->'role', '"contributor"',
          'a viewer invited as contributor becomes contributor');
select is((select jsonb_object_agg(u.email, m.role) from public.workspace_members m join auth.users u on u.id = m.user_id
            where m.workspace_id = pg_temp.wsid('wa') and u.email in ('wa-approver@example.com', 'wa-viewer@example.com')),
          '{"wa-viewer@example.com": "contributor", "wa-approver@example.com": "approver"}', 'the stored roles agree');

select * from finish();
rollback;
