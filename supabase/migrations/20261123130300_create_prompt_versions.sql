/**
 * Immutable, numbered prompt versions, and the rules that tie `prompts.current_version_id` to them.
 *   - `version_number` is assigned by the database: max + 1 per prompt, in the inserting
 *     transaction, under a lock on the parent prompt row, so it is gap-free and unique even
 *     under concurrent inserts (a rolled-back insert frees its number).
 *   - `markdown_body`, `version_number`, `prompt_id`, `created_by`, `created_at` never change;
 *     `published` only goes from false to true.
 *   - `prompts.current_version_id` references (prompt_id, id) of a version of the SAME prompt
 *     (composite foreign key) and a trigger requires that version to be published.
 */

create table public.prompt_versions (
    id uuid primary key default gen_random_uuid(),
    prompt_id uuid not null references public.prompts (id) on delete cascade,
    version_number integer not null check (version_number > 0),
    markdown_body text not null check (char_length(markdown_body) between 1 and 100000 and markdown_body ~ '[^[:space:]]'),
    changelog text check (char_length(changelog) <= 2000),
    published boolean not null default false,
    published_at timestamptz,
    created_by uuid default auth.uid(),
    created_at timestamptz not null default now(),
    unique (prompt_id, version_number),
    -- Target of prompts' (id, current_version_id) foreign key.
    unique (prompt_id, id),
    constraint prompt_versions_published_at_check check (published = (published_at is not null))
);
comment on table public.prompt_versions is
    'Immutable prompt versions, numbered per prompt by the database. Learners with access read published versions of visible prompts.';
comment on column public.prompt_versions.version_number is 'Assigned by the database (max + 1 per prompt); any value sent is ignored.';

create index prompt_versions_created_by_idx on public.prompt_versions (created_by);

alter table public.prompts
    add constraint prompts_current_version_id_fkey
    foreign key (id, current_version_id) references public.prompt_versions (prompt_id, id);
-- Covers the composite foreign key (the primary key alone would serve lookups too; this keeps
-- the advisors' unindexed_foreign_keys check clean).
create index prompts_id_current_version_id_idx on public.prompts (id, current_version_id);

/**
 * BEFORE INSERT on prompt_versions: lock the parent prompt and assign max + 1.
 * Security definer: the lock and the max() must see every version of the prompt, whatever the
 * inserting role may read; it only ever touches the prompt named by the new row.
 */
create function private.assign_prompt_version_number()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    -- Serialise version creation per prompt; a missing prompt is left to the foreign key.
    perform 1 from public.prompts p where p.id = new.prompt_id for update;
    select coalesce(max(v.version_number), 0) + 1
      into new.version_number
      from public.prompt_versions v
     where v.prompt_id = new.prompt_id;
    new.created_at := pg_catalog.now();
    if new.published then
        new.published_at := coalesce(new.published_at, pg_catalog.now());
    else
        new.published_at := null;
    end if;
    return new;
end;
$$;
revoke execute on function private.assign_prompt_version_number() from public;

create trigger prompt_versions_assign_version_number
    before insert on public.prompt_versions
    for each row execute function private.assign_prompt_version_number();

/** BEFORE UPDATE on prompt_versions: content is immutable; published only goes false → true. */
create function private.guard_prompt_version_update()
    returns trigger
    language plpgsql
    security invoker
    set search_path = ''
as $$
begin
    if new.markdown_body is distinct from old.markdown_body
       or new.version_number is distinct from old.version_number
       or new.prompt_id is distinct from old.prompt_id
       or new.created_by is distinct from old.created_by
       or new.created_at is distinct from old.created_at
       or new.id is distinct from old.id then
        raise exception 'prompt versions are immutable: create a new version instead'
            using errcode = 'PT409',
                  hint = 'Only changelog and publishing can change on an existing version.';
    end if;
    if old.published and not new.published then
        raise exception 'a published version cannot be unpublished; publish another version instead'
            using errcode = 'PT409';
    end if;
    if new.published and not old.published then
        new.published_at := coalesce(new.published_at, pg_catalog.now());
    elsif new.published_at is distinct from old.published_at then
        new.published_at := old.published_at;
    end if;
    return new;
end;
$$;
revoke execute on function private.guard_prompt_version_update() from public;

create trigger prompt_versions_guard_update
    before update on public.prompt_versions
    for each row execute function private.guard_prompt_version_update();

/**
 * BEFORE INSERT/UPDATE on prompts: current_version_id must be a PUBLISHED version of this prompt
 * (the composite foreign key already guarantees "of this prompt").
 * Security definer: it must see the version whatever the writer may read.
 */
create function private.guard_prompt_current_version()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    if new.current_version_id is not null
       and (tg_op = 'INSERT' or new.current_version_id is distinct from old.current_version_id)
       and not exists (
           select 1 from public.prompt_versions v
            where v.id = new.current_version_id
              and v.prompt_id = new.id
              and v.published
       ) then
        raise exception 'current_version_id must point at a published version of the same prompt'
            using errcode = '23514',
                  hint = 'Publish the version with publish_prompt_version().';
    end if;
    return new;
end;
$$;
revoke execute on function private.guard_prompt_current_version() from public;

create trigger prompts_guard_current_version
    before insert or update of current_version_id on public.prompts
    for each row execute function private.guard_prompt_current_version();

alter table public.prompt_versions enable row level security;
revoke all on table public.prompt_versions from anon, authenticated;
grant select, insert, delete on table public.prompt_versions to authenticated;
-- Through the API only the changelog and the publish flag of a version can be written.
grant update (changelog, published) on table public.prompt_versions to authenticated;
grant all on table public.prompt_versions to service_role;

-- "Visible prompt" is decided by the prompts policy, which applies inside the EXISTS (published,
-- not deleted, caller has access; admins see all): repeating its conditions here ran the access
-- helper twice per statement. Learner branch first, as on prompts.
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
-- Published versions are history: only never-published drafts can be deleted.
create policy "prompt_versions: admins can delete unpublished versions"
    on public.prompt_versions for delete to authenticated
    using ((select public.fn_is_prompt_admin()) and not published);
