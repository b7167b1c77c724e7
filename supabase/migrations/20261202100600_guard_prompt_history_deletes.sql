/**
 * Published versions are history, and version numbers stay gap-free, whoever deletes
 * (issue 17, items 2 and 11). The RLS delete policy on prompt_versions (`not published`) bound
 * only `authenticated`: the service role bypassed it, and a hard delete of a prompt cascaded to
 * its published versions for admins too. Triggers hold for every role:
 *   - prompts (BEFORE DELETE): an API role (anon, authenticated, service_role) cannot hard-delete
 *     a prompt that has ever been published (it has a published version, or published_at):
 *     PT409, soft-delete it instead (soft_delete_prompt()). Never-published prompts can be
 *     deleted (their drafts go with them). The database owner (migrations, an operator with the
 *     database password) may still purge a prompt with its history: that is a deliberate act
 *     outside the API.
 *   - prompt_versions (BEFORE DELETE), every role: a published version is never deleted, and
 *     only the newest version of a prompt can be deleted (so 1..n stays gap-free), both PT409.
 *     The version delete that a prompt's own deletion cascades to is allowed (the prompt is gone,
 *     and with it the numbering); it is under the rule above.
 */

/** True when the prompt has ever been published (a published version exists, or published_at). */
create function private.prompt_has_history(target uuid)
    returns boolean
    language plpgsql
    stable
    security definer
    set search_path = ''
as $$
begin
    return exists (select 1 from public.prompts p where p.id = target and p.published_at is not null)
        or exists (select 1 from public.prompt_versions v where v.prompt_id = target and v.published);
end;
$$;
comment on function private.prompt_has_history(uuid) is 'True when the prompt has ever been published.';
revoke execute on function private.prompt_has_history(uuid) from public, anon;
grant execute on function private.prompt_has_history(uuid) to authenticated, service_role;

/**
 * BEFORE DELETE on prompts: API roles may not hard-delete a prompt with published history.
 * Security invoker: current_user is the deleting role; the history check is a definer helper.
 */
create function private.guard_prompt_delete()
    returns trigger
    language plpgsql
    security invoker
    set search_path = ''
as $$
begin
    if current_user in ('anon', 'authenticated', 'service_role') and private.prompt_has_history(old.id) then
        raise exception 'prompt % has been published: its versions are history and cannot be deleted', old.id
            using errcode = 'PT409',
                  hint = 'Soft-delete it instead (soft_delete_prompt(), or set is_deleted = true).';
    end if;
    return old;
end;
$$;
revoke execute on function private.guard_prompt_delete() from public;

create trigger prompts_guard_delete
    before delete on public.prompts
    for each row execute function private.guard_prompt_delete();

/**
 * BEFORE DELETE on prompt_versions, every role: never a published version; only the newest one
 * (gap-free numbers). Allowed without checks when the prompt itself is being deleted (cascade).
 * Security definer: the lock and the checks must see the prompt and all its versions whatever
 * the deleting role may read; it only touches the prompt of the deleted row.
 */
create function private.guard_prompt_version_delete()
    returns trigger
    language plpgsql
    security definer
    set search_path = ''
as $$
begin
    -- Serialise with version creation (which locks the prompt too); a prompt already deleted in
    -- this statement (the cascade of its own delete) is not found.
    perform 1 from public.prompts p where p.id = old.prompt_id for update;
    if not found then
        return old;
    end if;
    if old.published then
        raise exception 'version % of prompt % is published: published versions are history', old.version_number, old.prompt_id
            using errcode = 'PT409',
                  hint = 'Publish another version instead; only never-published drafts can be deleted.';
    end if;
    if exists (select 1 from public.prompt_versions v
                where v.prompt_id = old.prompt_id and v.version_number > old.version_number) then
        raise exception 'version % of prompt % is not the newest: deleting it would leave a gap in the numbers',
                old.version_number, old.prompt_id
            using errcode = 'PT409',
                  hint = 'Only the newest version, when it is a never-published draft, can be deleted.';
    end if;
    return old;
end;
$$;
revoke execute on function private.guard_prompt_version_delete() from public;

create trigger prompt_versions_guard_delete
    before delete on public.prompt_versions
    for each row execute function private.guard_prompt_version_delete();
