/**
 * Workspace invitations (contract §8): an admin invites an e-mail with a role no higher than their
 * own (owners invite owners). The token is returned once by invite_workspace_member(); only its
 * sha256 is stored. It expires (default 7 days), is single-use, and accept_workspace_invitation()
 * succeeds only for a signed-in user whose CONFIRMED e-mail (auth.users.email_confirmed_at) matches.
 */

create table public.workspace_invitations (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    email public.email_address not null,
    role public.workspace_role not null default 'viewer',
    token_hash bytea not null unique check (octet_length(token_hash) = 32),
    invited_by uuid default auth.uid() references auth.users (id) on delete set null,
    expires_at timestamptz not null default now() + interval '7 days',
    accepted_at timestamptz,
    accepted_by uuid references auth.users (id) on delete set null,
    revoked_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint workspace_invitations_expires_at_check check (expires_at > created_at and expires_at <= created_at + interval '30 days'),
    -- accepted_by goes null when that user is deleted; the invitation stays used.
    constraint workspace_invitations_accepted_check check (accepted_by is null or accepted_at is not null)
);
comment on table public.workspace_invitations is
    'Invitations to a workspace. Admins read and revoke their workspace''s; the invitee reads those to their confirmed e-mail. Only the token''s sha256 is stored.';
comment on column public.workspace_invitations.token_hash is 'sha256 of the token; the token itself is shown once, by invite_workspace_member().';

create index workspace_invitations_workspace_id_idx on public.workspace_invitations (workspace_id, created_at desc);
create index workspace_invitations_email_idx on public.workspace_invitations using hash (email);
create index workspace_invitations_invited_by_idx on public.workspace_invitations (invited_by);
create index workspace_invitations_accepted_by_idx on public.workspace_invitations (accepted_by);

create trigger workspace_invitations_set_updated_at
    before update on public.workspace_invitations
    for each row execute function private.set_updated_at();

/**
 * BEFORE INSERT on workspace_invitations: the inviter is the caller; the role is at most the
 * inviter's own; no invitations to personal workspaces; the e-mail is stored normalised.
 */
create function private.guard_workspace_invitation()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
declare
    v_role public.workspace_role;
begin
    new.email := private.normalize_email(new.email);
    new.created_at := pg_catalog.now();
    if not private.is_trusted_caller() then
        new.invited_by := auth.uid();
        new.accepted_at := null;
        new.accepted_by := null;
        new.revoked_at := null;
        v_role := private.workspace_role(new.workspace_id);
        if v_role is null or v_role < 'admin' then
            raise exception 'only workspace admins invite members' using errcode = 'PT403';
        end if;
        if new.role > v_role then
            raise exception 'you cannot invite with a role (%) above your own (%)', new.role, v_role
                using errcode = 'PT403';
        end if;
    end if;
    -- After the role check: a non-member must not learn that the id is a personal workspace.
    if exists (select 1 from public.workspaces w where w.id = new.workspace_id and w.kind = 'personal') then
        raise exception 'a personal workspace has no other members' using errcode = 'PT409';
    end if;
    return new;
end;
$$;
revoke execute on function private.guard_workspace_invitation() from public;

create trigger workspace_invitations_guard
    before insert on public.workspace_invitations
    for each row execute function private.guard_workspace_invitation();

alter table public.workspace_invitations enable row level security;
revoke all on table public.workspace_invitations from anon, authenticated;
-- token_hash is readable like every other column (so `select=*` works): a sha256 of 32 random
-- bytes does not give the token back to anyone, admins included.
grant select on table public.workspace_invitations to authenticated;
grant insert (workspace_id, email, role, token_hash, expires_at) on table public.workspace_invitations to authenticated;
grant update (revoked_at) on table public.workspace_invitations to authenticated;
grant all on table public.workspace_invitations to service_role;

create policy "workspace_invitations: admins and the invitee read invitations"
    on public.workspace_invitations for select to authenticated
    using (
        workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[])
        or email = ((select private.caller_confirmed_email()))::extensions.citext
    );
create policy "workspace_invitations: admins invite"
    on public.workspace_invitations for insert to authenticated
    with check (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]));
create policy "workspace_invitations: admins revoke invitations"
    on public.workspace_invitations for update to authenticated
    using (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]) and accepted_at is null)
    with check (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]));

/**
 * RPC: invite `email` to `workspace_id` with `role` (default viewer), valid for `valid_days`
 * (1-30, default 7). Returns {invitation_id, token, expires_at}: the token is shown only here.
 */
create function public.invite_workspace_member(
    workspace_id uuid,
    email text,
    role public.workspace_role default 'viewer',
    valid_days integer default 7
)
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_token text := pg_catalog.translate(pg_catalog.encode(extensions.gen_random_bytes(32), 'base64'), '+/=', '-_');
    v_row public.workspace_invitations;
begin
    if invite_workspace_member.workspace_id is null or invite_workspace_member.email is null
       or invite_workspace_member.role is null then
        raise exception 'workspace_id, email and role are required' using errcode = '22023';
    end if;
    if valid_days is null or valid_days not between 1 and 30 then
        raise exception 'valid_days must be between 1 and 30' using errcode = '22023';
    end if;
    perform private.assert_workspace_role(invite_workspace_member.workspace_id, 'admin');
    insert into public.workspace_invitations (workspace_id, email, role, token_hash, expires_at)
    values (invite_workspace_member.workspace_id, private.normalize_email(invite_workspace_member.email),
            invite_workspace_member.role,
            pg_catalog.sha256(pg_catalog.convert_to(v_token, 'UTF8')),
            pg_catalog.now() + pg_catalog.make_interval(days => valid_days))
    returning * into v_row;
    return jsonb_build_object('invitation_id', v_row.id, 'workspace_id', v_row.workspace_id,
                              'email', v_row.email, 'role', v_row.role,
                              'token', v_token, 'expires_at', v_row.expires_at);
end;
$$;
comment on function public.invite_workspace_member(uuid, text, public.workspace_role, integer) is
    'Admin: invite an e-mail with a role up to your own. Returns the token once; only its hash is stored.';
revoke execute on function public.invite_workspace_member(uuid, text, public.workspace_role, integer) from public, anon;
grant execute on function public.invite_workspace_member(uuid, text, public.workspace_role, integer) to authenticated;

/**
 * Accept an invitation by its token. Security definer: the invitee is not yet a member, so
 * neither the invitation (unless addressed to them) nor the members insert is allowed under their
 * RLS. It only ever acts for the caller, on the one invitation the token names, and only when the
 * caller's confirmed e-mail is the invited one. The invitation row is locked, so a token is used
 * once even by concurrent requests. An existing member keeps the higher of the two roles.
 */
create function private.accept_workspace_invitation(token text)
    returns jsonb
    language plpgsql
    volatile
    security definer
    set search_path = ''
as $$
declare
    v_uid uuid := auth.uid();
    v_email text := private.caller_confirmed_email();
    v_inv public.workspace_invitations;
    v_role public.workspace_role;
begin
    if v_uid is null then
        raise exception 'sign in to accept an invitation' using errcode = '42501';
    end if;
    if token is null or char_length(token) not between 20 and 200 then
        raise exception 'token is required' using errcode = '22023';
    end if;
    select * into v_inv from public.workspace_invitations i
     where i.token_hash = pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8'))
       for update;
    if not found then
        raise exception 'invitation not found' using errcode = 'PT404';
    end if;
    if v_email is null or v_inv.email operator(extensions.<>) v_email::extensions.citext then
        -- Same answer whether the e-mail differs or is unconfirmed: nothing about the invitation leaks.
        raise exception 'this invitation is for another e-mail address, or yours is not confirmed'
            using errcode = 'PT403';
    end if;
    if v_inv.accepted_at is not null then
        raise exception 'this invitation has already been used' using errcode = 'PT409';
    end if;
    if v_inv.revoked_at is not null then
        raise exception 'this invitation was revoked' using errcode = 'PT409';
    end if;
    if v_inv.expires_at <= pg_catalog.now() then
        raise exception 'this invitation expired at %', v_inv.expires_at using errcode = 'PT409';
    end if;
    if exists (select 1 from public.workspaces w where w.id = v_inv.workspace_id and w.deleted_at is not null) then
        raise exception 'invitation not found' using errcode = 'PT404';
    end if;

    insert into public.workspace_members as m (workspace_id, user_id, role, created_by, updated_by)
    values (v_inv.workspace_id, v_uid, v_inv.role, v_inv.invited_by, v_uid)
    on conflict (workspace_id, user_id) do update set role = greatest(m.role, excluded.role)
    returning m.role into v_role;
    update public.workspace_invitations i set accepted_at = pg_catalog.now(), accepted_by = v_uid
     where i.id = v_inv.id;
    return jsonb_build_object('workspace_id', v_inv.workspace_id, 'user_id', v_uid, 'role', v_role);
end;
$$;
revoke execute on function private.accept_workspace_invitation(text) from public, anon;
grant execute on function private.accept_workspace_invitation(text) to authenticated;

/** RPC: accept a workspace invitation (signed in, confirmed e-mail matching). Returns {workspace_id, user_id, role}. */
create function public.accept_workspace_invitation(token text)
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
begin
    return private.accept_workspace_invitation(token);
end;
$$;
comment on function public.accept_workspace_invitation(text) is
    'Accept an invitation with its token; only for the invited, confirmed e-mail; single use.';
revoke execute on function public.accept_workspace_invitation(text) from public, anon;
grant execute on function public.accept_workspace_invitation(text) to authenticated;
