/**
 * Tenancy (contract §8): workspaces, their members and the cohorts bound to course workspaces,
 * and the ONE definition of "the caller's role in workspace W" every policy and RPC uses.
 *   - `workspaces`: personal (one per auth user, created with the user, private to them),
 *     team and course. The migration creates the default course workspace (`is_default`), bound
 *     to every cohort implicitly; the next migration moves the v1 library into it.
 *   - `workspace_members` (workspace, user, role) with roles ordered
 *     viewer < contributor < approver < admin < owner (enum order). The last owner of a workspace
 *     can never be removed, demoted or leave: a trigger checks it under a lock on the workspace row,
 *     so two concurrent demotions cannot both pass.
 *   - `workspace_cohorts`: cohorts bound to a course workspace; their active members are its viewers.
 *   - `private.caller_workspace_roles()`: the caller's effective role in every workspace they can
 *     reach (member rows, cohort viewers, platform admins as admins outside personal workspaces).
 *     `private.caller_workspace_ids(min_role)` (an array for policies, evaluated once per
 *     statement as an InitPlan) and `private.workspace_role(ws)` (for RPCs and triggers) are
 *     derived from it and nothing else.
 */

create type public.workspace_role as enum ('viewer', 'contributor', 'approver', 'admin', 'owner');
comment on type public.workspace_role is 'Workspace roles, ordered: viewer < contributor < approver < admin < owner.';
create type public.workspace_kind as enum ('personal', 'team', 'course');
comment on type public.workspace_kind is 'personal (one per user, private), team, or course (cohort members are viewers).';

/** A workspace: the unit of tenancy. Every library row belongs to exactly one. */
create table public.workspaces (
    id uuid primary key default gen_random_uuid(),
    slug public.slug not null unique,
    name text not null check (char_length(name) between 1 and 200 and name ~ '[^[:space:]]'),
    description text check (char_length(description) <= 2000),
    kind public.workspace_kind not null default 'team',
    -- The user a personal workspace belongs to; it lives as long as they do.
    personal_user_id uuid unique references auth.users (id) on delete cascade,
    is_default boolean not null default false,
    require_approval boolean not null default false,
    created_by uuid default auth.uid(),
    updated_by uuid default auth.uid(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz,
    constraint workspaces_personal_user_id_check check ((kind = 'personal') = (personal_user_id is not null)),
    constraint workspaces_is_default_check check (not is_default or kind = 'course'),
    -- One member could never approve anything (contract §16).
    constraint workspaces_require_approval_check check (not (require_approval and kind = 'personal'))
);
comment on table public.workspaces is
    'Workspaces (personal, team, course). Members read their workspaces; admins edit settings; owners delete. A non-member sees nothing.';
comment on column public.workspaces.is_default is
    'The default course workspace: holds the v1 library, bound to every cohort; writes that name no workspace go to it.';
comment on column public.workspaces.require_approval is 'Only approved versions can be published or labelled (contract §9).';
comment on column public.workspaces.deleted_at is 'Soft delete (owners): the workspace and all its content disappear for every API user.';

create unique index workspaces_is_default_key on public.workspaces (is_default) where is_default;
-- The few soft-deleted workspaces: private.caller_workspace_roles() probes this small index per
-- membership instead of fetching every workspace row.
create index workspaces_deleted_idx on public.workspaces (id) where deleted_at is not null;
create index workspaces_created_by_idx on public.workspaces (created_by);

create trigger workspaces_set_updated_at
    before update on public.workspaces
    for each row execute function private.set_updated_at();

/** A user's role in a workspace. Cohort viewers of course workspaces have no row here. */
create table public.workspace_members (
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    user_id uuid not null references auth.users (id) on delete cascade,
    role public.workspace_role not null default 'viewer',
    created_by uuid default auth.uid(),
    updated_by uuid default auth.uid(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (workspace_id, user_id)
);
comment on table public.workspace_members is
    'Workspace members and roles. Members read their workspace''s list; admins manage roles up to admin, owners manage owners.';

-- Every policy starts from "the caller's memberships": one index range per statement.
create index workspace_members_user_id_idx on public.workspace_members (user_id, workspace_id, role);

create trigger workspace_members_set_updated_at
    before update on public.workspace_members
    for each row execute function private.set_updated_at();

/** Cohorts bound to a course workspace: their active, non-revoked members are its viewers. */
create table public.workspace_cohorts (
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    cohort_id text not null check (char_length(cohort_id) between 1 and 200),
    created_by uuid default auth.uid(),
    created_at timestamptz not null default now(),
    primary key (workspace_id, cohort_id)
);
comment on table public.workspace_cohorts is
    'Cohorts bound to course workspaces (their active members are viewers). The default course workspace is bound to every cohort implicitly.';
create index workspace_cohorts_cohort_id_idx on public.workspace_cohorts (cohort_id);

/** The default course workspace (holds the v1 library). */
insert into public.workspaces (slug, name, description, kind, is_default, created_by, updated_by)
values ('course', 'Course library', 'The course''s prompt library (v1).', 'course', true, null, null);

/** The id of the default course workspace (stable; one index probe). */
create function private.default_workspace_id()
    returns uuid
    language sql
    stable
    security definer
    set search_path = ''
as $$
    select w.id from public.workspaces w where w.is_default;
$$;
comment on function private.default_workspace_id() is
    'Security definer so column defaults and triggers find the default workspace whatever the caller may read.';
revoke execute on function private.default_workspace_id() from public, anon;
grant execute on function private.default_workspace_id() to authenticated, service_role;

/** True when the workspace is a course workspace (one primary-key probe; for policies and RPCs). */
create function private.is_course_workspace(ws uuid)
    returns boolean
    language plpgsql
    stable
    security definer
    set search_path = ''
as $$
begin
    return exists (select 1 from public.workspaces w where w.id = ws and w.kind = 'course');
end;
$$;
comment on function private.is_course_workspace(uuid) is
    'Security definer: reads only the kind of one workspace, whatever the caller may read (a kind reveals nothing the caller''s row does not already name).';
revoke execute on function private.is_course_workspace(uuid) from public, anon;
grant execute on function private.is_course_workspace(uuid) to authenticated, service_role;

/**
 * The caller's cohorts: cohort ids where the caller's CONFIRMED e-mail is an active, non-revoked
 * member (private.active_cohort_ids(), the same lookup as the v1 access rule). Security definer: the lookup must not run through the members table's own policy, and
 * it only ever looks up the caller's own e-mail.
 */
create function private.caller_active_cohort_ids()
    returns text[]
    language plpgsql
    stable
    security definer
    set search_path = ''
as $$
declare
    v_email text := private.caller_confirmed_email();
begin
    if v_email is null then
        return '{}';
    end if;
    -- The membership half of the access rule, one probe of the email_key index.
    return private.active_cohort_ids(v_email);
end;
$$;
revoke execute on function private.caller_active_cohort_ids() from public, anon;
grant execute on function private.caller_active_cohort_ids() to authenticated, service_role;

/**
 * THE rule: the caller's effective role in each workspace they can reach.
 *   - a workspace_members row gives its role;
 *   - an active cohort membership makes the caller a viewer of the default course workspace and of
 *     every course workspace bound to that cohort;
 *   - platform admins (v1 prompt admins) are admins of every team and course workspace, never of
 *     someone else's personal workspace;
 *   - in course workspaces, viewer access exists only while PROMPT_MANAGER_ENABLED is on (v1);
 *   - the highest of these wins. `deleted` says the workspace is soft-deleted (content hidden).
 * Security definer: the members policy itself asks this question, so reading members under RLS
 * would recurse; it only ever reads the caller's own rows.
 * Cost (every policy evaluates it once per statement, bench/README.md): PL/pgSQL with a generic
 * plan cached for the session (a custom plan would be planned again on every call); per
 * membership one index-only read of the caller's members rows and one probe of the small index of
 * deleted workspaces; a workspace's kind is only looked at while PROMPT_MANAGER_ENABLED is off.
 * `jit = off`: the generic plan's estimate (the platform-admin branch counts every workspace)
 * passes jit_above_cost at 10k workspaces, and JIT-compiling it cost ~25 ms on every call.
 */
create function private.caller_workspace_roles()
    returns table (workspace_id uuid, role public.workspace_role, deleted boolean)
    language plpgsql
    stable
    security definer
    set search_path = ''
    set plan_cache_mode = force_generic_plan
    set jit = off
as $$
declare
    v_claims jsonb := nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb;
    v_uid uuid := coalesce(nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
                           v_claims ->> 'sub')::uuid;
    v_cohorts text[];
    v_padmin boolean;
    v_course_on boolean;
begin
    if v_uid is null then
        return;
    end if;
    v_cohorts := private.caller_active_cohort_ids();
    v_padmin := private.is_prompt_admin();
    v_course_on := coalesce((select f.enabled from public.prompt_feature_flags f
                              where f.key = 'PROMPT_MANAGER_ENABLED'), false);
    return query
    select g.workspace_id, pg_catalog.max(g.role),
           exists (select 1 from public.workspaces x where x.id = g.workspace_id and x.deleted_at is not null)
      from (
            select m.workspace_id, m.role from public.workspace_members m where m.user_id = v_uid
            union all
            select c.workspace_id, 'viewer'::public.workspace_role
              from public.workspace_cohorts c where c.cohort_id = any(v_cohorts)
            union all
            select d.id, 'viewer'::public.workspace_role
              from public.workspaces d where d.is_default and cardinality(v_cohorts) > 0
            union all
            select a.id, 'admin'::public.workspace_role
              from public.workspaces a where v_padmin and a.kind <> 'personal'
           ) g
     where v_course_on or g.role > 'viewer'
        or not exists (select 1 from public.workspaces k where k.id = g.workspace_id and k.kind = 'course')
     group by g.workspace_id;
end;
$$;
comment on function private.caller_workspace_roles() is
    'The caller''s effective role per workspace (members, cohort viewers, platform admins). The one definition every policy and RPC uses.';
revoke execute on function private.caller_workspace_roles() from public, anon;
grant execute on function private.caller_workspace_roles() to authenticated, service_role;

/**
 * Workspaces (not soft-deleted) where the caller holds at least `min_role`. Policies call it as
 * `workspace_id = any((select private.caller_workspace_ids('viewer'))::uuid[])`: one InitPlan per statement.
 * PL/pgSQL, not SQL: a SQL function with a SET clause is never inlined and is parsed and planned
 * again on every call; PL/pgSQL keeps its (generic) plan for the session.
 */
create function private.caller_workspace_ids(min_role public.workspace_role)
    returns uuid[]
    language plpgsql
    stable
    security invoker
    set search_path = ''
    set plan_cache_mode = force_generic_plan
    set jit = off
as $$
begin
    return coalesce((select pg_catalog.array_agg(r.workspace_id)
                       from private.caller_workspace_roles() r
                      where r.role >= min_role and not r.deleted), '{}');
end;
$$;
revoke execute on function private.caller_workspace_ids(public.workspace_role) from public, anon;
grant execute on function private.caller_workspace_ids(public.workspace_role) to authenticated, service_role;

/** The caller's role in one workspace (NULL: none), also when it is soft-deleted. For RPCs and triggers. */
create function private.workspace_role(ws uuid)
    returns public.workspace_role
    language sql
    stable
    security invoker
    set search_path = ''
as $$
    select r.role from private.caller_workspace_roles() r where r.workspace_id = ws;
$$;
revoke execute on function private.workspace_role(uuid) from public, anon;
grant execute on function private.workspace_role(uuid) to authenticated, service_role;

/** True for callers the database trusts without a role check: service_role and table owners (no JWT). */
create function private.is_trusted_caller()
    returns boolean
    language sql
    stable
    security invoker
    set search_path = ''
as $$
    select coalesce(auth.role(), '') not in ('authenticated', 'anon');
$$;
revoke execute on function private.is_trusted_caller() from public, anon;
grant execute on function private.is_trusted_caller() to authenticated, service_role;

/**
 * Raise unless the caller holds at least `min_role` in `ws` (trusted callers pass). A workspace the
 * caller cannot read at all is PT404, so a refusal never reveals that it exists.
 */
create function private.assert_workspace_role(ws uuid, min_role public.workspace_role)
    returns void
    language plpgsql
    stable
    security invoker
    set search_path = ''
as $$
declare
    v_role public.workspace_role;
begin
    if private.is_trusted_caller() then
        return;
    end if;
    v_role := private.workspace_role(ws);
    if v_role is null then
        raise exception 'workspace % not found', ws using errcode = 'PT404';
    end if;
    if v_role < min_role then
        raise exception 'this needs the % role in this workspace (you are %)', min_role, v_role
            using errcode = 'PT403';
    end if;
end;
$$;
revoke execute on function private.assert_workspace_role(uuid, public.workspace_role) from public, anon;
grant execute on function private.assert_workspace_role(uuid, public.workspace_role) to authenticated, service_role;

/**
 * BEFORE INSERT/UPDATE on workspaces: kind, personal owner and the default flag never change
 * through the API; updated_by is the caller; soft delete and restore need the owner role.
 */
create function private.guard_workspace_write()
    returns trigger
    language plpgsql
    security invoker
    set search_path = ''
as $$
begin
    if tg_op = 'INSERT' then
        if not private.is_trusted_caller() then
            if new.kind = 'personal' or new.is_default then
                raise exception 'personal and default workspaces are created by the database'
                    using errcode = '42501';
            end if;
            new.created_by := auth.uid();
            new.created_at := pg_catalog.now();
            new.deleted_at := null;
        end if;
        new.updated_by := new.created_by;
        return new;
    end if;
    if new.kind is distinct from old.kind or new.personal_user_id is distinct from old.personal_user_id
       or new.is_default is distinct from old.is_default or new.created_by is distinct from old.created_by
       or new.created_at is distinct from old.created_at or new.id is distinct from old.id then
        raise exception 'a workspace''s kind, owner user, default flag and creation never change'
            using errcode = 'PT409';
    end if;
    if new.deleted_at is distinct from old.deleted_at then
        if old.kind = 'personal' or old.is_default then
            raise exception 'personal and default workspaces cannot be deleted' using errcode = 'PT409';
        end if;
        perform private.assert_workspace_role(old.id, 'owner');
    end if;
    new.updated_by := coalesce(auth.uid(), new.updated_by);
    return new;
end;
$$;
revoke execute on function private.guard_workspace_write() from public;

create trigger workspaces_guard_write
    before insert or update on public.workspaces
    for each row execute function private.guard_workspace_write();

/**
 * AFTER INSERT on workspaces: the creator of a team or course workspace becomes its owner.
 * Security definer: the creator is not yet a member, so the members policy would refuse the row.
 */
create function private.add_workspace_creator()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    if new.kind <> 'personal' and new.created_by is not null then
        insert into public.workspace_members (workspace_id, user_id, role, created_by, updated_by)
        values (new.id, new.created_by, 'owner', new.created_by, new.created_by)
        on conflict (workspace_id, user_id) do update set role = 'owner';
    end if;
    return null;
end;
$$;
revoke execute on function private.add_workspace_creator() from public;

create trigger workspaces_add_creator
    after insert on public.workspaces
    for each row execute function private.add_workspace_creator();

/**
 * BEFORE INSERT/UPDATE/DELETE on workspace_members:
 *   - a personal workspace has exactly one member, its user, as owner;
 *   - workspace and user of a row never change;
 *   - the last owner of a workspace is never removed or demoted. Checked under a lock on the
 *     workspace row (FOR NO KEY UPDATE: it does not block foreign-key checks), so concurrent
 *     demotions are serialised and the second one sees the first. Deleting the user itself
 *     (auth.users cascade) is not refused: private.hand_over_workspaces() ran before it.
 * Security definer: it must count owners the caller may not see.
 */
create function private.guard_workspace_member()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
declare
    v_ws public.workspaces;
begin
    if tg_op = 'UPDATE' and (new.workspace_id is distinct from old.workspace_id
                             or new.user_id is distinct from old.user_id) then
        raise exception 'a membership''s workspace and user never change' using errcode = 'PT409';
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        select * into v_ws from public.workspaces w where w.id = new.workspace_id;
        -- Asked only of callers with a role here (others are refused by RLS), so that the answer
        -- never tells a non-member that the id is a personal workspace.
        if v_ws.kind = 'personal' and (new.user_id is distinct from v_ws.personal_user_id or new.role <> 'owner')
           and (private.is_trusted_caller() or private.workspace_role(new.workspace_id) is not null) then
            raise exception 'a personal workspace has only its own user, as owner' using errcode = 'PT409';
        end if;
        new.updated_by := coalesce(auth.uid(), new.updated_by);
        if tg_op = 'INSERT' then
            new.created_by := coalesce(auth.uid(), new.created_by);
        end if;
    end if;
    if tg_op in ('UPDATE', 'DELETE') and old.role = 'owner'
       and (tg_op = 'DELETE' or new.role <> 'owner') then
        select * into v_ws from public.workspaces w where w.id = old.workspace_id for no key update;
        if not found or not exists (select 1 from auth.users u where u.id = old.user_id) then
            -- The workspace or the user is being deleted: nothing to protect.
            return case tg_op when 'DELETE' then old else new end;
        end if;
        if v_ws.kind = 'personal' then
            raise exception 'nobody can leave or be removed from their personal workspace' using errcode = 'PT409';
        end if;
        if not exists (select 1 from public.workspace_members m
                        where m.workspace_id = old.workspace_id and m.role = 'owner'
                          and m.user_id <> old.user_id) then
            raise exception 'the last owner of a workspace cannot leave, be removed or be demoted'
                using errcode = 'PT409',
                      hint = 'Transfer ownership (transfer_workspace_ownership) or add another owner first.';
        end if;
    end if;
    return case tg_op when 'DELETE' then old else new end;
end;
$$;
revoke execute on function private.guard_workspace_member() from public;

create trigger workspace_members_guard
    before insert or update or delete on public.workspace_members
    for each row execute function private.guard_workspace_member();

/** BEFORE INSERT on workspace_cohorts: only course workspaces bind cohorts; the default one binds all implicitly. */
create function private.guard_workspace_cohort()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    -- A caller who may not bind cohorts here is refused by RLS: answering first would tell a
    -- non-member whether the id is a course workspace.
    if not private.is_trusted_caller() and coalesce(private.workspace_role(new.workspace_id) < 'admin', true) then
        return new;
    end if;
    if not exists (select 1 from public.workspaces w
                    where w.id = new.workspace_id and w.kind = 'course' and not w.is_default) then
        raise exception 'only course workspaces (other than the default one, bound to every cohort) bind cohorts'
            using errcode = '23514';
    end if;
    new.created_by := coalesce(auth.uid(), new.created_by);
    new.cohort_id := pg_catalog.btrim(new.cohort_id);
    return new;
end;
$$;
revoke execute on function private.guard_workspace_cohort() from public;

create trigger workspace_cohorts_guard
    before insert or update on public.workspace_cohorts
    for each row execute function private.guard_workspace_cohort();

/**
 * Personal workspaces: AFTER INSERT on auth.users creates the user's one personal workspace,
 * with the user as owner. Security definer: runs as the owner, whoever inserts the user.
 */
create function private.create_personal_workspace()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
declare
    v_ws uuid;
begin
    insert into public.workspaces (slug, name, kind, personal_user_id, created_by, updated_by)
    values ('u-' || pg_catalog.replace(new.id::text, '-', ''), 'Personal library', 'personal', new.id, new.id, new.id)
    on conflict (personal_user_id) do nothing
    returning id into v_ws;
    if v_ws is not null then
        insert into public.workspace_members (workspace_id, user_id, role, created_by, updated_by)
        values (v_ws, new.id, 'owner', new.id, new.id);
    end if;
    return null;
end;
$$;
revoke execute on function private.create_personal_workspace() from public;

create trigger on_auth_user_created_create_personal_workspace
    after insert on auth.users
    for each row execute function private.create_personal_workspace();

/**
 * BEFORE DELETE on auth.users: the stated rule for the team and course workspaces the user is the
 * last owner of. Ownership passes to the longest-standing member with the highest role; a workspace
 * with no other member is soft-deleted (its content stays, for service_role to export or purge).
 * The personal workspace goes with the user (foreign key cascade).
 * Security definer: it changes memberships the deleting role need not see.
 */
create function private.hand_over_workspaces()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
declare
    v_ws uuid;
    v_heir uuid;
begin
    for v_ws in
        select m.workspace_id from public.workspace_members m
          join public.workspaces w on w.id = m.workspace_id
         where m.user_id = old.id and m.role = 'owner' and w.kind <> 'personal'
           and not exists (select 1 from public.workspace_members o
                            where o.workspace_id = m.workspace_id and o.role = 'owner' and o.user_id <> old.id)
    loop
        select m.user_id into v_heir from public.workspace_members m
         where m.workspace_id = v_ws and m.user_id <> old.id
         order by m.role desc, m.created_at, m.user_id
         limit 1;
        if v_heir is not null then
            update public.workspace_members m set role = 'owner' where m.workspace_id = v_ws and m.user_id = v_heir;
        else
            update public.workspaces w set deleted_at = coalesce(w.deleted_at, pg_catalog.now()) where w.id = v_ws;
        end if;
    end loop;
    return old;
end;
$$;
revoke execute on function private.hand_over_workspaces() from public;

create trigger on_auth_user_deleted_hand_over_workspaces
    before delete on auth.users
    for each row execute function private.hand_over_workspaces();

-- Existing users get their personal workspace too.
insert into public.workspaces (slug, name, kind, personal_user_id, created_by, updated_by)
select 'u-' || replace(u.id::text, '-', ''), 'Personal library', 'personal', u.id, u.id, u.id
  from auth.users u
on conflict (personal_user_id) do nothing;
insert into public.workspace_members (workspace_id, user_id, role, created_by, updated_by)
select w.id, w.personal_user_id, 'owner', w.personal_user_id, w.personal_user_id
  from public.workspaces w
 where w.kind = 'personal'
on conflict (workspace_id, user_id) do nothing;

-- Grants and policies ------------------------------------------------------------------------------

alter table public.workspaces enable row level security;
revoke all on table public.workspaces from anon, authenticated;
grant select, insert on table public.workspaces to authenticated;
grant update (slug, name, description, require_approval, deleted_at) on table public.workspaces to authenticated;
grant all on table public.workspaces to service_role;

-- The second branch lets a creator read the row back in the transaction that creates it (insert
-- ... returning), before the owner row written by the AFTER trigger is part of the snapshot.
create policy "workspaces: members read their workspaces"
    on public.workspaces for select to authenticated
    using (
        id = any((select private.caller_workspace_ids('viewer'))::uuid[])
        or (created_by = (select auth.uid()) and created_at = now())
    );
create policy "workspaces: signed-in users create team and course workspaces"
    on public.workspaces for insert to authenticated
    with check (created_by = (select auth.uid()) and kind in ('team', 'course') and not is_default);
-- Restoring a soft-deleted workspace goes through restore_workspace() (owners), so the update
-- policy covers live workspaces only.
create policy "workspaces: admins update their workspaces"
    on public.workspaces for update to authenticated
    using (id = any((select private.caller_workspace_ids('admin'))::uuid[]))
    with check (id = any((select private.caller_workspace_ids('admin'))::uuid[]) or deleted_at is not null);

alter table public.workspace_members enable row level security;
revoke all on table public.workspace_members from anon, authenticated;
grant select, insert, delete on table public.workspace_members to authenticated;
grant update (role) on table public.workspace_members to authenticated;
grant all on table public.workspace_members to service_role;

create policy "workspace_members: members read their workspace's members"
    on public.workspace_members for select to authenticated
    using (workspace_id = any((select private.caller_workspace_ids('viewer'))::uuid[]));
-- Admins manage roles up to admin; only owners grant, change or remove the owner role.
create policy "workspace_members: admins add members up to their own role"
    on public.workspace_members for insert to authenticated
    with check (
        workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[])
        and (role < 'owner' or workspace_id = any((select private.caller_workspace_ids('owner'))::uuid[]))
    );
create policy "workspace_members: admins change roles up to their own"
    on public.workspace_members for update to authenticated
    using (
        workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[])
        and (role < 'owner' or workspace_id = any((select private.caller_workspace_ids('owner'))::uuid[]))
    )
    with check (
        workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[])
        and (role < 'owner' or workspace_id = any((select private.caller_workspace_ids('owner'))::uuid[]))
    );
create policy "workspace_members: admins remove members, members leave"
    on public.workspace_members for delete to authenticated
    using (
        user_id = (select auth.uid())
        or (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[])
            and (role < 'owner' or workspace_id = any((select private.caller_workspace_ids('owner'))::uuid[])))
    );

alter table public.workspace_cohorts enable row level security;
revoke all on table public.workspace_cohorts from anon, authenticated;
grant select, insert, delete on table public.workspace_cohorts to authenticated;
grant all on table public.workspace_cohorts to service_role;

create policy "workspace_cohorts: admins read their workspace's cohorts"
    on public.workspace_cohorts for select to authenticated
    using (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]));
create policy "workspace_cohorts: admins bind cohorts"
    on public.workspace_cohorts for insert to authenticated
    with check (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]));
create policy "workspace_cohorts: admins unbind cohorts"
    on public.workspace_cohorts for delete to authenticated
    using (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]));
