/**
 * Workspace RPCs (contract §8). All are security invoker: the caller's RLS policies and the
 * membership guard trigger decide, these only give each operation one call, clear errors and a
 * result. Errors: PT403 (role too low), PT404 (unknown, or a workspace the caller cannot read),
 * PT409 (last owner, personal workspace), 22023 (bad arguments).
 *   - create_workspace(slug, name, kind, description): team or course; the caller becomes owner.
 *   - add_workspace_member(workspace_id, user_id, role), change_workspace_member_role(...),
 *     remove_workspace_member(workspace_id, user_id), leave_workspace(workspace_id),
 *     transfer_workspace_ownership(workspace_id, new_owner_id).
 *   - delete_workspace(workspace_id) / restore_workspace(workspace_id): owners; soft delete.
 */

/** The public shape of a membership. */
create function private.member_json(m public.workspace_members)
    returns jsonb
    language sql
    stable
    security invoker
    set search_path = ''
as $$
    select jsonb_build_object('workspace_id', m.workspace_id, 'user_id', m.user_id, 'role', m.role,
                              'updated_at', m.updated_at);
$$;
revoke execute on function private.member_json(public.workspace_members) from public, anon;
grant execute on function private.member_json(public.workspace_members) to authenticated, service_role;

/** RPC: create a team or course workspace; the caller becomes its owner. Returns the workspace row. */
create function public.create_workspace(
    slug text,
    name text,
    kind public.workspace_kind default 'team',
    description text default null
)
    returns public.workspaces
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_row public.workspaces;
begin
    if auth.uid() is null then
        raise exception 'sign in to create a workspace' using errcode = '42501';
    end if;
    if create_workspace.kind is null or create_workspace.kind not in ('team', 'course') then
        raise exception 'kind must be team or course (every user already has a personal workspace)'
            using errcode = '22023';
    end if;
    if create_workspace.slug is null or create_workspace.name is null then
        raise exception 'slug and name are required' using errcode = '22023';
    end if;
    -- The unique index decides, not a look-up: the caller cannot read most workspaces.
    -- Slugs are global; saying one is taken reveals no content of the other workspace.
    begin
        insert into public.workspaces (slug, name, kind, description)
        values (create_workspace.slug, create_workspace.name, create_workspace.kind, create_workspace.description)
        returning * into v_row;
    exception when unique_violation then
        raise exception 'the slug % is taken', create_workspace.slug using errcode = 'PT409';
    end;
    return v_row;
end;
$$;
comment on function public.create_workspace(text, text, public.workspace_kind, text) is
    'Create a team or course workspace; the caller becomes its owner.';
revoke execute on function public.create_workspace(text, text, public.workspace_kind, text) from public, anon;
grant execute on function public.create_workspace(text, text, public.workspace_kind, text) to authenticated;

/** Raise 22023 for a missing workspace_id / user_id / role. */
create function private.require_member_args(ws uuid, member uuid, new_role public.workspace_role, need_role boolean)
    returns void
    language plpgsql
    immutable
    security invoker
    set search_path = ''
as $$
begin
    if ws is null or member is null or (need_role and new_role is null) then
        raise exception 'workspace_id, user_id%are required', case when need_role then ' and role ' else ' ' end
            using errcode = '22023';
    end if;
end;
$$;
revoke execute on function private.require_member_args(uuid, uuid, public.workspace_role, boolean) from public, anon;
grant execute on function private.require_member_args(uuid, uuid, public.workspace_role, boolean) to authenticated, service_role;

/**
 * Raise the refusal for a membership write that changed no row: PT404 when the caller cannot read
 * the workspace or the member is not in it, else PT403 (the caller's role is too low).
 */
create function private.explain_member_refusal(ws uuid, member uuid)
    returns void
    language plpgsql
    stable
    security invoker
    set search_path = ''
as $$
begin
    perform private.assert_workspace_role(ws, 'viewer');
    if member is not null and not exists (select 1 from public.workspace_members m
                                           where m.workspace_id = ws and m.user_id = member) then
        raise exception 'user % is not a member of workspace %', member, ws using errcode = 'PT404';
    end if;
    raise exception 'admins manage members up to admin; only owners manage owners' using errcode = 'PT403';
end;
$$;
revoke execute on function private.explain_member_refusal(uuid, uuid) from public, anon;
grant execute on function private.explain_member_refusal(uuid, uuid) to authenticated, service_role;

/** RPC: add an existing user to a workspace (admins up to admin; owners any role). */
create function public.add_workspace_member(workspace_id uuid, user_id uuid, role public.workspace_role default 'viewer')
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_row public.workspace_members;
begin
    perform private.require_member_args(add_workspace_member.workspace_id, add_workspace_member.user_id,
                                        add_workspace_member.role, true);
    perform private.assert_workspace_role(add_workspace_member.workspace_id, 'admin');
    if exists (select 1 from public.workspace_members m
                where m.workspace_id = add_workspace_member.workspace_id and m.user_id = add_workspace_member.user_id) then
        raise exception 'user % is already a member; change their role instead', add_workspace_member.user_id
            using errcode = 'PT409';
    end if;
    if add_workspace_member.role = 'owner' then
        perform private.assert_workspace_role(add_workspace_member.workspace_id, 'owner');
    end if;
    insert into public.workspace_members (workspace_id, user_id, role)
    values (add_workspace_member.workspace_id, add_workspace_member.user_id, add_workspace_member.role)
    returning * into v_row;
    return private.member_json(v_row);
end;
$$;
comment on function public.add_workspace_member(uuid, uuid, public.workspace_role) is
    'Admin: add a user with a role up to admin (owners: any role).';
revoke execute on function public.add_workspace_member(uuid, uuid, public.workspace_role) from public, anon;
grant execute on function public.add_workspace_member(uuid, uuid, public.workspace_role) to authenticated;

/** RPC: change a member's role. The last owner is never demoted (PT409). */
create function public.change_workspace_member_role(workspace_id uuid, user_id uuid, role public.workspace_role)
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_row public.workspace_members;
begin
    perform private.require_member_args(change_workspace_member_role.workspace_id,
                                        change_workspace_member_role.user_id, change_workspace_member_role.role, true);
    if change_workspace_member_role.role = 'owner' then
        perform private.assert_workspace_role(change_workspace_member_role.workspace_id, 'owner');
    end if;
    update public.workspace_members m set role = change_workspace_member_role.role
     where m.workspace_id = change_workspace_member_role.workspace_id
       and m.user_id = change_workspace_member_role.user_id
    returning * into v_row;
    if not found then
        perform private.explain_member_refusal(change_workspace_member_role.workspace_id,
                                               change_workspace_member_role.user_id);
    end if;
    return private.member_json(v_row);
end;
$$;
comment on function public.change_workspace_member_role(uuid, uuid, public.workspace_role) is
    'Admin: change a member''s role (up to admin; owners: owners too). The last owner is never demoted.';
revoke execute on function public.change_workspace_member_role(uuid, uuid, public.workspace_role) from public, anon;
grant execute on function public.change_workspace_member_role(uuid, uuid, public.workspace_role) to authenticated;

/** RPC: remove a member (admins: up to admin; owners: owners too). The last owner stays (PT409). */
create function public.remove_workspace_member(workspace_id uuid, user_id uuid)
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_row public.workspace_members;
begin
    perform private.require_member_args(remove_workspace_member.workspace_id, remove_workspace_member.user_id,
                                        null, false);
    delete from public.workspace_members m
     where m.workspace_id = remove_workspace_member.workspace_id and m.user_id = remove_workspace_member.user_id
    returning * into v_row;
    if not found then
        perform private.explain_member_refusal(remove_workspace_member.workspace_id, remove_workspace_member.user_id);
    end if;
    return private.member_json(v_row);
end;
$$;
comment on function public.remove_workspace_member(uuid, uuid) is 'Admin: remove a member. The last owner cannot be removed.';
revoke execute on function public.remove_workspace_member(uuid, uuid) from public, anon;
grant execute on function public.remove_workspace_member(uuid, uuid) to authenticated;

/** RPC: leave a workspace. The last owner cannot leave (PT409); nobody leaves their personal workspace. */
create function public.leave_workspace(workspace_id uuid)
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_row public.workspace_members;
begin
    if auth.uid() is null then
        raise exception 'sign in to leave a workspace' using errcode = '42501';
    end if;
    perform private.require_member_args(leave_workspace.workspace_id, auth.uid(), null, false);
    delete from public.workspace_members m
     where m.workspace_id = leave_workspace.workspace_id and m.user_id = auth.uid()
    returning * into v_row;
    if not found then
        raise exception 'you are not a member of workspace %', leave_workspace.workspace_id using errcode = 'PT404';
    end if;
    return private.member_json(v_row);
end;
$$;
comment on function public.leave_workspace(uuid) is 'Leave a workspace (not the personal one; the last owner cannot leave).';
revoke execute on function public.leave_workspace(uuid) from public, anon;
grant execute on function public.leave_workspace(uuid) to authenticated;

/**
 * RPC: an owner hands ownership to another member, who becomes owner; the caller becomes admin.
 * One transaction: the new owner is promoted before the caller steps down, so the last-owner
 * guard always sees an owner.
 */
create function public.transfer_workspace_ownership(workspace_id uuid, new_owner_id uuid)
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_uid uuid := auth.uid();
begin
    if v_uid is null then
        raise exception 'sign in to transfer ownership' using errcode = '42501';
    end if;
    perform private.require_member_args(transfer_workspace_ownership.workspace_id,
                                        transfer_workspace_ownership.new_owner_id, null, false);
    if transfer_workspace_ownership.new_owner_id = v_uid then
        raise exception 'you cannot transfer ownership to yourself' using errcode = '22023';
    end if;
    perform private.assert_workspace_role(transfer_workspace_ownership.workspace_id, 'owner');
    if not exists (select 1 from public.workspace_members m
                    where m.workspace_id = transfer_workspace_ownership.workspace_id and m.user_id = v_uid
                      and m.role = 'owner') then
        raise exception 'only a member who is an owner can transfer ownership' using errcode = 'PT403';
    end if;
    update public.workspace_members m set role = 'owner'
     where m.workspace_id = transfer_workspace_ownership.workspace_id
       and m.user_id = transfer_workspace_ownership.new_owner_id;
    if not found then
        raise exception 'user % is not a member of workspace %', transfer_workspace_ownership.new_owner_id,
            transfer_workspace_ownership.workspace_id using errcode = 'PT404';
    end if;
    update public.workspace_members m set role = 'admin'
     where m.workspace_id = transfer_workspace_ownership.workspace_id and m.user_id = v_uid;
    return jsonb_build_object('workspace_id', transfer_workspace_ownership.workspace_id,
                              'owner_id', transfer_workspace_ownership.new_owner_id,
                              'previous_owner_id', v_uid, 'previous_owner_role', 'admin');
end;
$$;
comment on function public.transfer_workspace_ownership(uuid, uuid) is
    'Owner: make another member the owner; the caller becomes admin.';
revoke execute on function public.transfer_workspace_ownership(uuid, uuid) from public, anon;
grant execute on function public.transfer_workspace_ownership(uuid, uuid) to authenticated;

/** RPC: an owner soft-deletes a team or course workspace (its content disappears for API users). */
create function public.delete_workspace(workspace_id uuid)
    returns public.workspaces
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_row public.workspaces;
begin
    if delete_workspace.workspace_id is null then
        raise exception 'workspace_id is required' using errcode = '22023';
    end if;
    perform private.assert_workspace_role(delete_workspace.workspace_id, 'owner');
    update public.workspaces w set deleted_at = coalesce(w.deleted_at, pg_catalog.now())
     where w.id = delete_workspace.workspace_id
    returning * into v_row;
    if not found then
        raise exception 'workspace % not found', delete_workspace.workspace_id using errcode = 'PT404';
    end if;
    return v_row;
end;
$$;
comment on function public.delete_workspace(uuid) is 'Owner: soft-delete a team or course workspace.';
revoke execute on function public.delete_workspace(uuid) from public, anon;
grant execute on function public.delete_workspace(uuid) to authenticated;

/**
 * Undo a soft delete. Security definer: a deleted workspace is invisible to every API policy, so
 * its owner cannot reach the row under RLS; this checks the caller is its owner (the one role
 * rule) and touches only that row.
 */
create function private.restore_workspace(ws uuid)
    returns public.workspaces
    language plpgsql
    volatile
    security definer
    set search_path = ''
as $$
declare
    v_row public.workspaces;
begin
    if ws is null then
        raise exception 'workspace_id is required' using errcode = '22023';
    end if;
    perform private.assert_workspace_role(ws, 'owner');
    update public.workspaces w set deleted_at = null where w.id = ws returning * into v_row;
    return v_row;
end;
$$;
revoke execute on function private.restore_workspace(uuid) from public, anon;
grant execute on function private.restore_workspace(uuid) to authenticated;

/** RPC: an owner restores their soft-deleted workspace. */
create function public.restore_workspace(workspace_id uuid)
    returns public.workspaces
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
begin
    return private.restore_workspace(restore_workspace.workspace_id);
end;
$$;
comment on function public.restore_workspace(uuid) is 'Owner: undo the soft delete of a workspace.';
revoke execute on function public.restore_workspace(uuid) from public, anon;
grant execute on function public.restore_workspace(uuid) to authenticated;
