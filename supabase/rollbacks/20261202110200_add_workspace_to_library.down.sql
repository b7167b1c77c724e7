/**
 * Rollback of 20261202110200_add_workspace_to_library.sql.
 *   - restores v1's policies on prompt_modules, prompt_lessons, prompts, prompt_versions and
 *     prompt_usage_logs (select), v1's grants on modules and lessons, and v1's bodies of
 *     private.set_usage_log_version(), private.assert_prompt_admin() and private.lock_prompt();
 *   - drops the workspace triggers and columns, and restores v1's constraints: module and prompt
 *     slugs unique per module again, prompts.module_id required, RESTRICT foreign keys, the
 *     module_id foreign keys of lessons and prompts, and the composite current-version one.
 * LOSES DATA: v1 has one library, so every module, lesson and prompt (with its versions, favourites
 * and usage events) of a workspace other than the default course workspace is deleted, and the
 * other rows lose their workspace_id. Slugs renamed by the migration keep their new names.
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

-- Rows v1 cannot hold -----------------------------------------------------------------------------
delete from public.prompts where workspace_id <> private.default_workspace_id();
delete from public.prompt_lessons where workspace_id <> private.default_workspace_id();
delete from public.prompt_modules where workspace_id <> private.default_workspace_id();

-- Policies --------------------------------------------------------------------------------------
drop policy if exists "prompt_usage_logs: own events (opted in), workspace admins all" on public.prompt_usage_logs;
drop policy if exists "prompt_versions: contributors delete unpublished versions" on public.prompt_versions;
drop policy if exists "prompt_versions: contributors update versions" on public.prompt_versions;
drop policy if exists "prompt_versions: contributors create versions" on public.prompt_versions;
drop policy if exists "prompt_versions: viewers read published, contributors all" on public.prompt_versions;
drop policy if exists "prompts: admins delete prompts" on public.prompts;
drop policy if exists "prompts: contributors update prompts of their workspace" on public.prompts;
drop policy if exists "prompts: contributors create prompts in their workspace" on public.prompts;
drop policy if exists "prompts: viewers read published, contributors all prompts" on public.prompts;
drop policy if exists "prompt_lessons: admins delete lessons" on public.prompt_lessons;
drop policy if exists "prompt_lessons: admins update lessons" on public.prompt_lessons;
drop policy if exists "prompt_lessons: admins create lessons" on public.prompt_lessons;
drop policy if exists "prompt_lessons: viewers read lessons, all the default outline" on public.prompt_lessons;
drop policy if exists "prompt_modules: admins delete modules" on public.prompt_modules;
drop policy if exists "prompt_modules: admins update modules" on public.prompt_modules;
drop policy if exists "prompt_modules: admins create modules" on public.prompt_modules;
drop policy if exists "prompt_modules: viewers read modules, all the default outline" on public.prompt_modules;
revoke insert, update, delete on table public.prompt_modules from authenticated;
revoke insert, update, delete on table public.prompt_lessons from authenticated;

-- v1's policies and function bodies, verbatim.
create or replace function private.set_usage_log_version()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    new.version_id := (select p.current_version_id from public.prompts p where p.id = new.prompt_id);
    new.created_at := pg_catalog.now();
    return new;
end;
$$;

create or replace function private.assert_prompt_admin()
    returns void
    language plpgsql
    stable
    security invoker
    set search_path = ''
as $$
begin
    if not (public.fn_is_prompt_admin() or coalesce(auth.role(), '') = 'service_role') then
        raise exception 'only prompt admins can do this' using errcode = 'PT403';
    end if;
end;
$$;

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
    if not found then
        raise exception 'prompt % not found', target using errcode = 'PT404';
    end if;
    return v_prompt;
end;
$$;

create policy "prompt_modules: signed-in users can read modules"
    on public.prompt_modules for select to authenticated
    using ((select auth.uid()) is not null);
create policy "prompt_lessons: signed-in users can read lessons"
    on public.prompt_lessons for select to authenticated
    using ((select auth.uid()) is not null);
create policy "prompts: learners with access read published prompts, admins read all"
    on public.prompts for select to authenticated
    using (
        (status = 'published' and not is_deleted and (select public.fn_user_has_prompt_access()))
        or (select public.fn_is_prompt_admin())
    );
create policy "prompts: admins can create prompts"
    on public.prompts for insert to authenticated
    with check ((select public.fn_is_prompt_admin()) and created_by = (select auth.uid()));
create policy "prompts: admins can update prompts"
    on public.prompts for update to authenticated
    using ((select public.fn_is_prompt_admin()))
    with check ((select public.fn_is_prompt_admin()));
create policy "prompts: admins can delete prompts"
    on public.prompts for delete to authenticated
    using ((select public.fn_is_prompt_admin()));
create policy "prompt_versions: learners read published versions of visible prompts, admins read all"
    on public.prompt_versions for select to authenticated
    using (
        (published and exists (select 1 from public.prompts p where p.id = prompt_id))
        or (select public.fn_is_prompt_admin())
    );
create policy "prompt_versions: admins can create versions"
    on public.prompt_versions for insert to authenticated
    with check ((select public.fn_is_prompt_admin()) and created_by = (select auth.uid()));
create policy "prompt_versions: admins can update versions"
    on public.prompt_versions for update to authenticated
    using ((select public.fn_is_prompt_admin()))
    with check ((select public.fn_is_prompt_admin()));
create policy "prompt_versions: admins can delete unpublished versions"
    on public.prompt_versions for delete to authenticated
    using ((select public.fn_is_prompt_admin()) and not published);
create policy "prompt_usage_logs: users read their own events while opted in, admins read all"
    on public.prompt_usage_logs for select to authenticated
    using (
        (select public.fn_is_prompt_admin())
        or (
            user_id = (select auth.uid())
            and not (select public.fn_user_has_opted_out())
            and (select public.fn_user_has_prompt_access())
        )
    );

-- Triggers and functions -------------------------------------------------------------------------
drop trigger if exists prompt_versions_guard_publishing on public.prompt_versions;
drop function if exists private.guard_version_publishing();
drop trigger if exists prompts_a_prepare_write on public.prompts;
drop function if exists private.prepare_prompt_write();
drop trigger if exists prompt_lessons_set_workspace on public.prompt_lessons;
drop function if exists private.set_lesson_workspace();

-- Columns and constraints ------------------------------------------------------------------------
alter table public.prompt_usage_logs drop column if exists workspace_id;

alter table public.prompts
    drop constraint if exists prompts_lesson_id_module_id_fkey,
    add constraint prompts_lesson_id_module_id_fkey
        foreign key (lesson_id, module_id) references public.prompt_lessons (id, module_id) on delete restrict,
    drop constraint if exists prompts_module_id_fkey,
    add constraint prompts_module_id_fkey foreign key (module_id) references public.prompt_modules (id) on delete restrict,
    drop constraint if exists prompts_module_id_workspace_id_fkey,
    drop constraint if exists prompts_workspace_id_fkey,
    drop constraint if exists prompts_workspace_id_slug_key,
    drop constraint if exists prompts_lesson_id_module_id_check,
    add constraint prompts_module_id_slug_key unique (module_id, slug),
    alter column module_id set not null;
comment on column public.prompts.module_id is null;
alter table public.prompts
    add constraint prompts_current_version_id_fkey
    foreign key (id, current_version_id) references public.prompt_versions (prompt_id, id);
create index prompts_id_current_version_id_idx on public.prompts (id, current_version_id);
comment on column public.prompts.current_version_id is 'The published version learners see; always a published version of this prompt.';
drop index if exists public.prompts_module_id_workspace_id_idx;
drop index if exists public.prompts_workspace_id_position_idx;
alter table public.prompts drop column if exists workspace_id;

drop index if exists public.prompt_lessons_workspace_id_idx;
drop index if exists public.prompt_lessons_module_id_workspace_id_idx;
alter table public.prompt_lessons
    add constraint prompt_lessons_module_id_fkey
        foreign key (module_id) references public.prompt_modules (id) on delete cascade,
    drop constraint if exists prompt_lessons_module_id_workspace_id_fkey,
    drop column if exists workspace_id;

alter table public.prompt_modules
    drop constraint if exists prompt_modules_id_workspace_id_key,
    drop constraint if exists prompt_modules_workspace_id_slug_key,
    add constraint prompt_modules_slug_key unique (slug),
    drop column if exists workspace_id;

delete from supabase_migrations.schema_migrations where version = '20261202110200';

commit;
