/**
 * Idempotent publishing: publish-prompt's `Idempotency-Key` header (IETF
 * draft-ietf-httpapi-idempotency-key-header; the same semantics as Stripe's header).
 *   - private.publish_idempotency_keys remembers, per caller and key, a fingerprint of the request
 *     and the result it committed, for 24 hours;
 *   - public.publish_prompt_version_idempotent(idempotency_key, prompt_id, ...) is
 *     publish_prompt_version() run at most once per (caller, key): a retry with the same request
 *     returns the first result with `replayed = true` and creates nothing; the same key with a
 *     different request is refused (PT422, HTTP 422); a retry while the first request is still in
 *     flight is refused (PT409, HTTP 409; retry it). A request that fails stores nothing (its
 *     transaction rolls back), so retrying it runs it again.
 * Additive: publish_prompt_version() and its helpers are unchanged and still the only place that
 * publishes.
 */

/** Idempotency keys of publish requests: one row per caller and key, kept 24 hours. */
create table private.publish_idempotency_keys (
    caller text not null,
    idempotency_key text not null check (idempotency_key ~ '^[\x21-\x7e]{1,255}$'),
    request_hash bytea not null,
    result jsonb not null,
    created_at timestamptz not null default now(),
    primary key (caller, idempotency_key)
);
comment on table private.publish_idempotency_keys is
    'Idempotency-Key of publish-prompt requests: the request fingerprint and committed result per caller and key (24 hours).';
comment on column private.publish_idempotency_keys.caller is
    'auth.uid() of the caller, or the API role (service_role) for a caller without a user.';
alter table private.publish_idempotency_keys enable row level security;

revoke all on table private.publish_idempotency_keys from public, anon, authenticated, service_role;
grant select, insert, delete on table private.publish_idempotency_keys to authenticated, service_role;

/** The caller an idempotency key belongs to: the user, else the API role. */
create function private.idempotency_caller()
    returns text
    language sql
    stable
    security invoker
    set search_path = ''
as $$
    select coalesce(auth.uid()::text, nullif(auth.role(), ''), current_user::text);
$$;
revoke execute on function private.idempotency_caller() from public, anon;
grant execute on function private.idempotency_caller() to authenticated, service_role;

create policy "publish_idempotency_keys: callers can read their own keys"
    on private.publish_idempotency_keys for select to authenticated
    using (caller = (select private.idempotency_caller()));
create policy "publish_idempotency_keys: callers can add their own keys"
    on private.publish_idempotency_keys for insert to authenticated
    with check (caller = (select private.idempotency_caller()));
create policy "publish_idempotency_keys: callers can expire their own keys"
    on private.publish_idempotency_keys for delete to authenticated
    using (caller = (select private.idempotency_caller()));

/**
 * publish_prompt_version() at most once per caller and idempotency key (see the file comment).
 * Returns publish_prompt_version()'s result plus `replayed`. Errors: those of
 * publish_prompt_version(), 22023 malformed key, PT409 the key's first request is still in
 * flight, PT422 the key was used for a different request.
 */
create function public.publish_prompt_version_idempotent(
    idempotency_key text,
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
    v_caller text := private.idempotency_caller();
    v_key text := publish_prompt_version_idempotent.idempotency_key;
    v_hash bytea;
    v_stored private.publish_idempotency_keys;
    v_result jsonb;
begin
    if v_key is null or v_key !~ '^[\x21-\x7e]{1,255}$' then
        raise exception 'Idempotency-Key must be 1 to 255 visible ASCII characters' using errcode = '22023';
    end if;
    v_hash := pg_catalog.sha256(pg_catalog.convert_to(jsonb_build_object(
        'prompt_id', publish_prompt_version_idempotent.prompt_id,
        'version_id', publish_prompt_version_idempotent.version_id,
        'markdown_body', publish_prompt_version_idempotent.markdown_body,
        'changelog', publish_prompt_version_idempotent.changelog)::text, 'UTF8'));

    -- Held until commit: a concurrent request with the same key is answered 409 at once instead
    -- of publishing a second time (or waiting on a lock an admin's client may hold for long).
    if not pg_catalog.pg_try_advisory_xact_lock(
            pg_catalog.hashtextextended('publish_idempotency_keys:' || v_caller || ':' || v_key, 0)) then
        raise exception 'a request with this Idempotency-Key is still in progress; retry it later'
            using errcode = 'PT409';
    end if;

    select * into v_stored
      from private.publish_idempotency_keys k
     where k.caller = v_caller and k.idempotency_key = v_key
       and k.created_at > pg_catalog.now() - interval '24 hours';
    if found then
        if v_stored.request_hash <> v_hash then
            raise exception 'this Idempotency-Key was already used for a different request; use a new key'
                using errcode = 'PT422';
        end if;
        return v_stored.result || jsonb_build_object('replayed', true);
    end if;

    v_result := public.publish_prompt_version(
        prompt_id => publish_prompt_version_idempotent.prompt_id,
        version_id => publish_prompt_version_idempotent.version_id,
        markdown_body => publish_prompt_version_idempotent.markdown_body,
        changelog => publish_prompt_version_idempotent.changelog);

    delete from private.publish_idempotency_keys k
     where k.caller = v_caller and k.created_at <= pg_catalog.now() - interval '24 hours';
    insert into private.publish_idempotency_keys (caller, idempotency_key, request_hash, result)
    values (v_caller, v_key, v_hash, v_result);
    return v_result || jsonb_build_object('replayed', false);
end;
$$;
comment on function public.publish_prompt_version_idempotent(text, uuid, uuid, text, text) is
    'Admin: publish_prompt_version() at most once per caller and Idempotency-Key (24 hours); a retry returns the first result.';
revoke execute on function public.publish_prompt_version_idempotent(text, uuid, uuid, text, text) from public, anon;
grant execute on function public.publish_prompt_version_idempotent(text, uuid, uuid, text, text) to authenticated, service_role;
