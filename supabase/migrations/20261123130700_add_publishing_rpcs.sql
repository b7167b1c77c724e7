/**
 * Publishing RPCs (admin only; security invoker, so the admin's RLS policies apply as well):
 *   - publish_prompt_version(prompt_id, version_id | markdown_body [, changelog]): in one
 *     transaction, optionally create the next version, mark it published, point
 *     current_version_id at it, set status = 'published' and published_at. Publishing an older
 *     version is a rollback.
 *   - archive_prompt, unarchive_prompt, soft_delete_prompt, restore_prompt.
 * Errors: PT403 not a prompt admin, PT404 unknown prompt/version, PT409 deleted prompt,
 * 22023 bad arguments. PostgREST turns PTxxx into HTTP status xxx.
 */

/** Raise PT403 unless the caller is a prompt admin or the service role. */
create function private.assert_prompt_admin()
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
revoke execute on function private.assert_prompt_admin() from public, anon;
grant execute on function private.assert_prompt_admin() to authenticated, service_role;

/** The public shape of a prompt's publishing state. */
create function private.prompt_state(p public.prompts)
    returns jsonb
    language sql
    stable
    security invoker
    set search_path = ''
as $$
    select jsonb_build_object(
        'prompt_id', p.id,
        'current_version_id', p.current_version_id,
        'version_number', (select v.version_number from public.prompt_versions v where v.id = p.current_version_id),
        'status', p.status,
        'published_at', p.published_at,
        'archived_at', p.archived_at,
        'is_deleted', p.is_deleted
    );
$$;
revoke execute on function private.prompt_state(public.prompts) from public, anon;
grant execute on function private.prompt_state(public.prompts) to authenticated, service_role;

/** Lock and return a prompt for a state change, or raise PT404. */
create function private.lock_prompt(target uuid)
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
revoke execute on function private.lock_prompt(uuid) from public, anon;
grant execute on function private.lock_prompt(uuid) to authenticated, service_role;

create function public.publish_prompt_version(
    prompt_id uuid,
    version_id uuid default null,
    markdown_body text default null,
    changelog text default null
)
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_prompt public.prompts;
    v_version public.prompt_versions;
begin
    perform private.assert_prompt_admin();
    if (publish_prompt_version.version_id is null) = (publish_prompt_version.markdown_body is null) then
        raise exception 'give exactly one of version_id (publish an existing version) or markdown_body (publish new content)'
            using errcode = '22023';
    end if;
    if publish_prompt_version.version_id is not null and publish_prompt_version.changelog is not null then
        raise exception 'changelog goes with markdown_body; an existing version keeps its changelog'
            using errcode = '22023';
    end if;

    v_prompt := private.lock_prompt(publish_prompt_version.prompt_id);
    if v_prompt.is_deleted then
        raise exception 'prompt % is deleted; restore it before publishing', v_prompt.id using errcode = 'PT409';
    end if;

    if publish_prompt_version.markdown_body is not null then
        insert into public.prompt_versions (prompt_id, markdown_body, changelog, published)
        values (v_prompt.id, publish_prompt_version.markdown_body, publish_prompt_version.changelog, true)
        returning * into v_version;
    else
        select * into v_version
          from public.prompt_versions v
         where v.id = publish_prompt_version.version_id and v.prompt_id = v_prompt.id;
        if not found then
            raise exception 'version % not found for prompt %', publish_prompt_version.version_id, v_prompt.id
                using errcode = 'PT404';
        end if;
        if not v_version.published then
            update public.prompt_versions v set published = true where v.id = v_version.id;
        end if;
    end if;

    update public.prompts p
       set current_version_id = v_version.id,
           status = 'published',
           published_at = pg_catalog.now(),
           archived_at = null
     where p.id = v_prompt.id
    returning * into v_prompt;

    return private.prompt_state(v_prompt);
end;
$$;
comment on function public.publish_prompt_version(uuid, uuid, text, text) is
    'Admin: publish an existing version (rollback when older) or new content as the next version, atomically.';
revoke execute on function public.publish_prompt_version(uuid, uuid, text, text) from public, anon;
grant execute on function public.publish_prompt_version(uuid, uuid, text, text) to authenticated, service_role;

/**
 * Apply one admin state change to a prompt under its row lock: 'archive' (hidden from learners,
 * kept for admins), 'unarchive' (published again when it has a current version, else draft),
 * 'soft_delete' (hidden from learners with all its versions) or 'restore' (undo a soft delete).
 */
create function private.change_prompt_state(target uuid, change text)
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_prompt public.prompts;
begin
    perform private.assert_prompt_admin();
    if change is null or change not in ('archive', 'unarchive', 'soft_delete', 'restore') then
        raise exception 'unknown prompt state change %', change using errcode = '22023';
    end if;
    v_prompt := private.lock_prompt(target);
    update public.prompts p
       set status = case change
                        when 'archive' then 'archived'
                        when 'unarchive' then case when p.current_version_id is null then 'draft' else 'published' end
                        else p.status
                    end,
           archived_at = case change
                             when 'archive' then coalesce(p.archived_at, pg_catalog.now())
                             when 'unarchive' then null
                             else p.archived_at
                         end,
           is_deleted = case change when 'soft_delete' then true when 'restore' then false else p.is_deleted end,
           deleted_at = case change
                            when 'soft_delete' then coalesce(p.deleted_at, pg_catalog.now())
                            when 'restore' then null
                            else p.deleted_at
                        end
     where p.id = v_prompt.id
    returning * into v_prompt;
    return private.prompt_state(v_prompt);
end;
$$;
revoke execute on function private.change_prompt_state(uuid, text) from public, anon;
grant execute on function private.change_prompt_state(uuid, text) to authenticated, service_role;

create function public.archive_prompt(prompt_id uuid)
    returns jsonb
    language sql
    volatile
    security invoker
    set search_path = ''
as $$
    select private.change_prompt_state(archive_prompt.prompt_id, 'archive');
$$;
comment on function public.archive_prompt(uuid) is 'Admin: archive a prompt (learners stop seeing it).';

create function public.unarchive_prompt(prompt_id uuid)
    returns jsonb
    language sql
    volatile
    security invoker
    set search_path = ''
as $$
    select private.change_prompt_state(unarchive_prompt.prompt_id, 'unarchive');
$$;
comment on function public.unarchive_prompt(uuid) is 'Admin: unarchive a prompt (published again when it has a current version).';

create function public.soft_delete_prompt(prompt_id uuid)
    returns jsonb
    language sql
    volatile
    security invoker
    set search_path = ''
as $$
    select private.change_prompt_state(soft_delete_prompt.prompt_id, 'soft_delete');
$$;
comment on function public.soft_delete_prompt(uuid) is 'Admin: soft-delete a prompt; learners stop seeing it and its versions.';

create function public.restore_prompt(prompt_id uuid)
    returns jsonb
    language sql
    volatile
    security invoker
    set search_path = ''
as $$
    select private.change_prompt_state(restore_prompt.prompt_id, 'restore');
$$;
comment on function public.restore_prompt(uuid) is 'Admin: undo a soft delete.';

revoke execute on function public.archive_prompt(uuid), public.unarchive_prompt(uuid),
    public.soft_delete_prompt(uuid), public.restore_prompt(uuid) from public, anon;
grant execute on function public.archive_prompt(uuid), public.unarchive_prompt(uuid),
    public.soft_delete_prompt(uuid), public.restore_prompt(uuid) to authenticated, service_role;
