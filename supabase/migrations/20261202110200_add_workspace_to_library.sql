/**
 * The v1 library moves into workspaces (contract §8, §16):
 *   - `prompt_modules`, `prompt_lessons`, `prompts` carry `workspace_id`; `prompt_usage_logs` keeps
 *     it for analytics (set by the database from the prompt). Versions and favourites belong to a
 *     workspace through their prompt. Existing rows move into the default course workspace.
 *   - Composite foreign keys make "a lesson's / prompt's workspace is its module's" a constraint;
 *     a prompt's workspace never changes. `prompts.module_id` becomes nullable; a course workspace
 *     requires it. Writes that name no workspace go to the default course workspace.
 *   - Slugs: module slugs and prompt slugs become unique per workspace. v1 prompt slugs that repeat
 *     across modules are renamed deterministically: in order of (module position, module slug,
 *     prompt position, prompt id) the first keeps its slug, each later one gets the smallest free
 *     suffix `-2`, `-3`, ... (cut to 100 characters).
 *   - RLS on every content table is rewritten in terms of workspace roles, each policy testing
 *     `workspace_id = any((select private.caller_workspace_ids(<role>)))` (an InitPlan array):
 *     viewers read published, non-deleted prompts and their published versions; contributors and
 *     up read and write everything in their workspace except publishing state; admins publish,
 *     archive, delete and write modules and lessons (v1 let prompt admins only read modules and
 *     lessons). Every signed-in user still reads the default course workspace's outline (v1 §3).
 */

-- The backfills below move rows, they do not edit them: updated_at keeps its value.
alter table public.prompt_modules disable trigger prompt_modules_set_updated_at;
alter table public.prompt_lessons disable trigger prompt_lessons_set_updated_at;
alter table public.prompts disable trigger prompts_set_updated_at;

-- Modules ---------------------------------------------------------------------------------------
alter table public.prompt_modules add column workspace_id uuid references public.workspaces (id) on delete cascade;
update public.prompt_modules set workspace_id = private.default_workspace_id();
alter table public.prompt_modules
    alter column workspace_id set not null,
    alter column workspace_id set default private.default_workspace_id(),
    drop constraint prompt_modules_slug_key,
    add constraint prompt_modules_workspace_id_slug_key unique (workspace_id, slug),
    -- Target of lessons' and prompts' (module_id, workspace_id) foreign keys.
    add constraint prompt_modules_id_workspace_id_key unique (id, workspace_id);
comment on column public.prompt_modules.workspace_id is 'The workspace this module belongs to (default: the default course workspace).';

-- Lessons ---------------------------------------------------------------------------------------
alter table public.prompt_lessons add column workspace_id uuid;
update public.prompt_lessons l set workspace_id = m.workspace_id from public.prompt_modules m where m.id = l.module_id;
-- The composite foreign key replaces v1's module_id one (it checks the same module, and its
-- workspace): two foreign keys between the same tables would make `prompt_modules?select=*,
-- prompt_lessons(*)` ambiguous for PostgREST (300 PGRST201).
alter table public.prompt_lessons
    alter column workspace_id set not null,
    add constraint prompt_lessons_module_id_workspace_id_fkey
        foreign key (module_id, workspace_id) references public.prompt_modules (id, workspace_id)
        on update cascade on delete cascade,
    drop constraint prompt_lessons_module_id_fkey;
create index prompt_lessons_module_id_workspace_id_idx on public.prompt_lessons (module_id, workspace_id);
create index prompt_lessons_workspace_id_idx on public.prompt_lessons (workspace_id);
comment on column public.prompt_lessons.workspace_id is 'Its module''s workspace (set by the database).';

-- Prompts ---------------------------------------------------------------------------------------
alter table public.prompts add column workspace_id uuid;
update public.prompts p set workspace_id = m.workspace_id from public.prompt_modules m where m.id = p.module_id;

do $$
declare
    r record;
    v_n integer;
    v_candidate text;
begin
    for r in
        select p.id, p.slug, p.workspace_id
          from (select p.*, row_number() over (partition by p.workspace_id, p.slug
                                               order by m.position, m.slug, p.position, p.id) as rn
                  from public.prompts p join public.prompt_modules m on m.id = p.module_id) p
         where p.rn > 1
         order by p.workspace_id, p.slug, p.rn
    loop
        v_n := 2;
        loop
            v_candidate := left(r.slug, 100 - char_length('-' || v_n)) || '-' || v_n;
            exit when not exists (select 1 from public.prompts q
                                   where q.workspace_id = r.workspace_id and q.slug = v_candidate);
            v_n := v_n + 1;
        end loop;
        update public.prompts set slug = v_candidate where id = r.id;
    end loop;
end;
$$;

alter table public.prompt_modules enable trigger prompt_modules_set_updated_at;
alter table public.prompt_lessons enable trigger prompt_lessons_set_updated_at;
alter table public.prompts enable trigger prompts_set_updated_at;

alter table public.prompts
    alter column workspace_id set not null,
    alter column module_id drop not null,
    -- With module_id null the (lesson_id, module_id) foreign key is not checked: a lesson needs a module.
    add constraint prompts_lesson_id_module_id_check check (lesson_id is null or module_id is not null),
    drop constraint prompts_module_id_slug_key,
    add constraint prompts_workspace_id_slug_key unique (workspace_id, slug),
    add constraint prompts_workspace_id_fkey
        foreign key (workspace_id) references public.workspaces (id) on delete cascade,
    add constraint prompts_module_id_workspace_id_fkey
        foreign key (module_id, workspace_id) references public.prompt_modules (id, workspace_id),
    -- The composite foreign key above replaces v1's module_id one, for the same reason as on
    -- lessons (one relationship per pair of tables for embedding). It is NO ACTION (checked at the
    -- end of the statement) where v1's was RESTRICT: deleting a module that still has prompts still
    -- fails, but deleting a whole workspace deletes both together.
    drop constraint prompts_module_id_fkey,
    drop constraint prompts_lesson_id_module_id_fkey,
    add constraint prompts_lesson_id_module_id_fkey
        foreign key (lesson_id, module_id) references public.prompt_lessons (id, module_id);
-- v1's composite foreign key (id, current_version_id) -> prompt_versions (prompt_id, id) goes too:
-- with it, prompts and prompt_versions are related twice and the most common read,
-- `prompts?select=*,prompt_versions(*)`, is ambiguous for PostgREST (300 PGRST201). What it
-- guaranteed stays enforced by triggers, for every role: the pointer names a published version of
-- the same prompt (prompts_guard_current_version, v1), a version's prompt_id never changes (v1),
-- and a published version is never deleted except with its prompt (prompt_versions_guard_delete).
alter table public.prompts drop constraint prompts_current_version_id_fkey;
drop index public.prompts_id_current_version_id_idx;
comment on column public.prompts.current_version_id is
    'The published version learners see; always a published version of this prompt (enforced by triggers).';

comment on column public.prompts.workspace_id is
    'The prompt''s workspace: its module''s when it has one, else the one written (default: the default course workspace). Never changes.';
comment on column public.prompts.module_id is 'The course module (required in course workspaces; optional elsewhere).';

-- A workspace's prompts in order (the viewer list read of a team or personal library).
create index prompts_workspace_id_position_idx on public.prompts (workspace_id, position, id);
create index prompts_module_id_workspace_id_idx on public.prompts (module_id, workspace_id);

-- Usage logs ------------------------------------------------------------------------------------
alter table public.prompt_usage_logs add column workspace_id uuid references public.workspaces (id) on delete cascade;
update public.prompt_usage_logs l set workspace_id = p.workspace_id from public.prompts p where p.id = l.prompt_id;
alter table public.prompt_usage_logs alter column workspace_id set not null;
create index prompt_usage_logs_workspace_id_idx on public.prompt_usage_logs (workspace_id);
comment on column public.prompt_usage_logs.workspace_id is 'The prompt''s workspace (set by the database), for analytics.';

/**
 * BEFORE INSERT on prompt_usage_logs: record the prompt's current version and workspace.
 * Security definer: reads the prompt whatever the inserting role may read; the insert itself is
 * still checked by the caller's RLS policy.
 */
create or replace function private.set_usage_log_version()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    select p.current_version_id, p.workspace_id into new.version_id, new.workspace_id
      from public.prompts p where p.id = new.prompt_id;
    new.created_at := pg_catalog.now();
    return new;
end;
$$;

-- Triggers --------------------------------------------------------------------------------------

/** BEFORE INSERT/UPDATE on prompt_lessons: a lesson's workspace is its module's. */
create function private.set_lesson_workspace()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    -- For API users an unknown module leaves no workspace, so RLS refuses the write exactly as it
    -- refuses a module of a workspace the caller cannot write (a foreign-key error would tell them apart).
    new.workspace_id := coalesce((select m.workspace_id from public.prompt_modules m where m.id = new.module_id),
                                 case when private.is_trusted_caller() then new.workspace_id end);
    return new;
end;
$$;
comment on function private.set_lesson_workspace() is
    'Security definer: reads the module whatever the writer may read; the write is still checked by RLS.';
revoke execute on function private.set_lesson_workspace() from public;

create trigger prompt_lessons_set_workspace
    before insert or update of module_id on public.prompt_lessons
    for each row execute function private.set_lesson_workspace();

/**
 * BEFORE INSERT/UPDATE on prompts:
 *   - workspace: the module's when there is one, else the one written, else the default course
 *     workspace; it never changes afterwards;
 *   - a prompt in a course workspace belongs to a module;
 *   - for API users, publishing state (status, current_version_id, published_at, archived_at,
 *     is_deleted, deleted_at) is written only by admins of the prompt's workspace: contributors
 *     write drafts and content.
 * Security definer: reads modules and workspaces whatever the writer may read; the write is still
 * checked by the caller's RLS policies, and the role check reads only the caller's own roles.
 */
create function private.prepare_prompt_write()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    if tg_op = 'INSERT' then
        if new.module_id is not null then
            new.workspace_id := coalesce(new.workspace_id,
                                         (select m.workspace_id from public.prompt_modules m where m.id = new.module_id));
        end if;
        -- For API users an unknown module leaves no workspace (RLS refuses the row), so it is refused
        -- exactly like a module of a workspace they cannot see.
        if new.module_id is null or private.is_trusted_caller() then
            new.workspace_id := coalesce(new.workspace_id, private.default_workspace_id());
        end if;
    elsif new.workspace_id is distinct from old.workspace_id then
        raise exception 'a prompt never moves to another workspace' using errcode = 'PT409';
    end if;
    -- Asked only of callers with a role in the workspace (others are refused by RLS), so that the
    -- answer never tells a non-member that the id is a course workspace.
    if new.module_id is null
       and (private.is_trusted_caller() or private.workspace_role(new.workspace_id) is not null)
       and private.is_course_workspace(new.workspace_id) then
        raise exception 'a prompt in a course workspace belongs to a module' using errcode = '23514',
            hint = 'Give module_id.';
    end if;
    if not private.is_trusted_caller()
       and (case tg_op
                when 'INSERT' then new.status <> 'draft' or new.current_version_id is not null
                                   or new.published_at is not null or new.archived_at is not null or new.is_deleted
                else new.status is distinct from old.status
                     or new.current_version_id is distinct from old.current_version_id
                     or new.published_at is distinct from old.published_at
                     or new.archived_at is distinct from old.archived_at
                     or new.is_deleted is distinct from old.is_deleted
                     or new.deleted_at is distinct from old.deleted_at
            end)
       and coalesce(private.workspace_role(new.workspace_id) < 'admin', true) then
        raise exception 'only workspace admins publish, archive or delete prompts' using errcode = 'PT403';
    end if;
    return new;
end;
$$;
revoke execute on function private.prepare_prompt_write() from public;

-- Named to fire before prompts_guard_current_version (triggers fire in name order).
create trigger prompts_a_prepare_write
    before insert or update on public.prompts
    for each row execute function private.prepare_prompt_write();

/**
 * BEFORE INSERT/UPDATE OF published on prompt_versions: for API users, only admins of the prompt's
 * workspace publish a version. Security definer: reads the prompt's workspace whatever the writer
 * may read (the write is still checked by RLS).
 */
create function private.guard_version_publishing()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    if new.published and (tg_op = 'INSERT' or not old.published) and not private.is_trusted_caller()
       and coalesce(private.workspace_role((select p.workspace_id from public.prompts p where p.id = new.prompt_id))
                    < 'admin', true) then
        raise exception 'only workspace admins publish versions' using errcode = 'PT403';
    end if;
    return new;
end;
$$;
revoke execute on function private.guard_version_publishing() from public;

create trigger prompt_versions_guard_publishing
    before insert or update of published on public.prompt_versions
    for each row execute function private.guard_version_publishing();

-- Publishing RPCs: the role check moves from "prompt admin" to "admin of the prompt's workspace".

/**
 * Raise PT403 unless the caller may administer prompts somewhere: every signed-in user owns their
 * personal workspace, so the real check is private.lock_prompt()'s, on the prompt's workspace.
 */
create or replace function private.assert_prompt_admin()
    returns void
    language plpgsql
    stable
    security invoker
    set search_path = ''
as $$
begin
    if not (private.is_trusted_caller() or auth.uid() is not null) then
        raise exception 'only prompt admins can do this' using errcode = 'PT403';
    end if;
end;
$$;

/**
 * Lock and return a prompt for a state change by an admin of its workspace. A prompt the caller
 * cannot see is PT404 for admins of some shared workspace and PT403 for everyone else (who may
 * administer only their personal library): neither answer depends on the hidden row.
 */
create or replace function private.lock_prompt(target uuid)
    returns public.prompts
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_prompt public.prompts;
begin
    if target is null then
        raise exception 'prompt_id is required' using errcode = '22023';
    end if;
    select * into v_prompt from public.prompts p where p.id = target for update;
    if found then
        if private.is_trusted_caller() or private.workspace_role(v_prompt.workspace_id) >= 'admin' then
            return v_prompt;
        end if;
    elsif private.is_trusted_caller() then
        raise exception 'prompt % not found', target using errcode = 'PT404';
    elsif not exists (select 1 from public.prompts p where p.id = target)  -- not even readable
          and exists (select 1 from public.workspaces w
                       where w.id = any(private.caller_workspace_ids('admin')) and w.kind <> 'personal') then
        raise exception 'prompt % not found', target using errcode = 'PT404';
    end if;
    raise exception 'only prompt admins can do this' using errcode = 'PT403',
        hint = 'Publishing, archiving and deleting need the admin role in the prompt''s workspace.';
end;
$$;

-- Policies --------------------------------------------------------------------------------------

drop policy "prompt_modules: signed-in users can read modules" on public.prompt_modules;
grant insert, delete on table public.prompt_modules to authenticated;
grant update (slug, title, description, position) on table public.prompt_modules to authenticated;

create policy "prompt_modules: viewers read modules, all the default outline"
    on public.prompt_modules for select to authenticated
    using (
        workspace_id = any((select private.caller_workspace_ids('viewer'))::uuid[])
        or workspace_id = (select private.default_workspace_id())
    );
create policy "prompt_modules: admins create modules"
    on public.prompt_modules for insert to authenticated
    with check (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]));
create policy "prompt_modules: admins update modules"
    on public.prompt_modules for update to authenticated
    using (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]))
    with check (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]));
create policy "prompt_modules: admins delete modules"
    on public.prompt_modules for delete to authenticated
    using (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]));

drop policy "prompt_lessons: signed-in users can read lessons" on public.prompt_lessons;
grant insert, delete on table public.prompt_lessons to authenticated;
grant update (module_id, slug, title, description, position) on table public.prompt_lessons to authenticated;

create policy "prompt_lessons: viewers read lessons, all the default outline"
    on public.prompt_lessons for select to authenticated
    using (
        workspace_id = any((select private.caller_workspace_ids('viewer'))::uuid[])
        or workspace_id = (select private.default_workspace_id())
    );
create policy "prompt_lessons: admins create lessons"
    on public.prompt_lessons for insert to authenticated
    with check (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]));
create policy "prompt_lessons: admins update lessons"
    on public.prompt_lessons for update to authenticated
    using (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]))
    with check (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]));
create policy "prompt_lessons: admins delete lessons"
    on public.prompt_lessons for delete to authenticated
    using (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]));

drop policy "prompts: learners with access read published prompts, admins read all" on public.prompts;
drop policy "prompts: admins can create prompts" on public.prompts;
drop policy "prompts: admins can update prompts" on public.prompts;
drop policy "prompts: admins can delete prompts" on public.prompts;

-- "Viewer of the workspace, and the prompt is published or the caller a contributor there" (the
-- contributor set is part of the viewer set). One workspace test ANDed with the rest, not an OR of
-- two: an OR of two `= any(...)` made the planner read a workspace's prompts through a BitmapOr and
-- sort them all, where `workspace_id = W order by position limit 50` should stop after 50 index
-- entries (bench/README.md). The contributor InitPlan runs only when a row is not published.
create policy "prompts: viewers read published, contributors all prompts"
    on public.prompts for select to authenticated
    using (
        workspace_id = any((select private.caller_workspace_ids('viewer'))::uuid[])
        and ((status = 'published' and not is_deleted)
             or workspace_id = any((select private.caller_workspace_ids('contributor'))::uuid[]))
    );
create policy "prompts: contributors create prompts in their workspace"
    on public.prompts for insert to authenticated
    with check (workspace_id = any((select private.caller_workspace_ids('contributor'))::uuid[])
                and created_by = (select auth.uid()));
create policy "prompts: contributors update prompts of their workspace"
    on public.prompts for update to authenticated
    using (workspace_id = any((select private.caller_workspace_ids('contributor'))::uuid[]))
    with check (workspace_id = any((select private.caller_workspace_ids('contributor'))::uuid[]));
create policy "prompts: admins delete prompts"
    on public.prompts for delete to authenticated
    using (workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[]));

drop policy "prompt_versions: learners read published versions of visible prompts, admins read all" on public.prompt_versions;
drop policy "prompt_versions: admins can create versions" on public.prompt_versions;
drop policy "prompt_versions: admins can update versions" on public.prompt_versions;
drop policy "prompt_versions: admins can delete unpublished versions" on public.prompt_versions;

-- "Visible prompt" is decided by the prompts policy inside the EXISTS; a viewer sees only the
-- published versions, contributors and up every version of their workspace's prompts.
create policy "prompt_versions: viewers read published, contributors all"
    on public.prompt_versions for select to authenticated
    using (exists (select 1 from public.prompts p
                    where p.id = prompt_id
                      and (published or p.workspace_id = any((select private.caller_workspace_ids('contributor'))::uuid[]))));
create policy "prompt_versions: contributors create versions"
    on public.prompt_versions for insert to authenticated
    with check (created_by = (select auth.uid())
                and exists (select 1 from public.prompts p
                             where p.id = prompt_id
                               and p.workspace_id = any((select private.caller_workspace_ids('contributor'))::uuid[])));
create policy "prompt_versions: contributors update versions"
    on public.prompt_versions for update to authenticated
    using (exists (select 1 from public.prompts p
                    where p.id = prompt_id
                      and p.workspace_id = any((select private.caller_workspace_ids('contributor'))::uuid[])))
    with check (exists (select 1 from public.prompts p
                         where p.id = prompt_id
                           and p.workspace_id = any((select private.caller_workspace_ids('contributor'))::uuid[])));
-- Published versions are history: only never-published drafts can be deleted.
create policy "prompt_versions: contributors delete unpublished versions"
    on public.prompt_versions for delete to authenticated
    using (not published
           and exists (select 1 from public.prompts p
                        where p.id = prompt_id
                          and p.workspace_id = any((select private.caller_workspace_ids('contributor'))::uuid[])));

drop policy "prompt_usage_logs: users read their own events while opted in, admins read all" on public.prompt_usage_logs;

-- Both branches are index conditions (user_id; workspace_id), so a learner's own events and an
-- admin's workspace events are index scans, not a scan of the whole log.
create policy "prompt_usage_logs: own events (opted in), workspace admins all"
    on public.prompt_usage_logs for select to authenticated
    using (
        (user_id = (select auth.uid())
         and workspace_id = any((select private.caller_workspace_ids('viewer'))::uuid[])
         and not (select public.fn_user_has_opted_out()))
        or workspace_id = any((select private.caller_workspace_ids('admin'))::uuid[])
    );
