/**
 * Soft delete works with the schema proposal's flag alone (issue 17, item 18): an admin's
 * `PATCH prompts {is_deleted: true}` used to fail prompts_deleted_at_check, because the client
 * also had to send deleted_at. The database now keeps the two together, for every writer:
 *   - is_deleted changed (or set on insert): deleted_at := now() (or the given time) when true,
 *     NULL when false;
 *   - only deleted_at changed: is_deleted follows it.
 * The check constraint stays as the invariant.
 */

/** BEFORE INSERT/UPDATE on prompts: derive deleted_at from is_deleted (or the flag from the time). */
create function private.maintain_prompt_deleted_at()
    returns trigger
    language plpgsql
    security invoker
    set search_path = ''
as $$
begin
    if tg_op = 'INSERT' then
        new.is_deleted := new.is_deleted or new.deleted_at is not null;
    elsif new.is_deleted is not distinct from old.is_deleted and new.deleted_at is distinct from old.deleted_at then
        new.is_deleted := new.deleted_at is not null;
    end if;
    new.deleted_at := case when new.is_deleted then coalesce(new.deleted_at, pg_catalog.now()) end;
    return new;
end;
$$;
revoke execute on function private.maintain_prompt_deleted_at() from public;

create trigger prompts_maintain_deleted_at
    before insert or update of is_deleted, deleted_at on public.prompts
    for each row execute function private.maintain_prompt_deleted_at();
