/**
 * Identity helpers: the one SQL definition of each rule that checks, RPCs, policies and the
 * workspaces stream use (issue 17, items 1, 10, 19).
 *   - `private.normalize_email(text)`: how an e-mail is compared and stored: every surrounding
 *     whitespace character removed (space, tab, CR, LF, VT, FF, and the Unicode spaces), then
 *     lower-cased. Immutable, so it can back an index or a generated column.
 *   - `private.is_valid_email(text)`: the e-mail pattern (and the 320-character limit), for
 *     checks that must not raise (the sync reports invalid rows instead of failing).
 *   - domain `public.email_address` (citext, valid e-mail) and domain `public.slug` (text, the
 *     slug pattern, at most 100 characters): the column types that carry those rules.
 *   - `private.caller_confirmed_email()`: the caller's e-mail as Supabase Auth stores it, but only
 *     once it is confirmed (`auth.users.email_confirmed_at`); NULL otherwise. Access decisions and
 *     invitation acceptance use it instead of the JWT's `email` claim, which any sign-up carries
 *     before confirming.
 */

/**
 * The canonical form of an e-mail: surrounding whitespace of any kind removed, lower-cased.
 * PL/pgSQL rather than SQL: a SQL function with a SET clause is not inlined and is planned again
 * on every call (the sync calls it once per member row); PL/pgSQL keeps its plan.
 */
create function private.normalize_email(raw text)
    returns text
    language plpgsql
    immutable
    strict
    parallel safe
    security invoker
    set search_path = ''
as $$
begin
    -- [[:space:]] is locale-dependent; the set is spelled out: ASCII TAB LF VT FF CR SPACE, NEL,
    -- NO-BREAK SPACE, OGHAM SPACE, EN QUAD .. HAIR SPACE, LINE/PARAGRAPH SEPARATOR, NARROW NBSP,
    -- MEDIUM MATHEMATICAL SPACE, IDEOGRAPHIC SPACE, ZERO WIDTH NO-BREAK SPACE (BOM).
    return pg_catalog.lower(pg_catalog.btrim(raw,
        E'\t\n\u000B\f\r \u0085\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF'));
end;
$$;
comment on function private.normalize_email(text) is
    'The canonical e-mail: all surrounding whitespace removed, lower-cased. One definition for sync, checks and lookups.';
revoke execute on function private.normalize_email(text) from public, anon;
grant execute on function private.normalize_email(text) to authenticated, service_role;

/** True when `candidate` is a syntactically valid e-mail of at most 320 characters (as given: normalise first). */
create function private.is_valid_email(candidate text)
    returns boolean
    language plpgsql
    immutable
    strict
    parallel safe
    security invoker
    set search_path = ''
as $$
begin
    return pg_catalog.char_length(candidate) <= 320
       and candidate operator(pg_catalog.~) '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$';
end;
$$;
comment on function private.is_valid_email(text) is 'The e-mail pattern (local@domain.tld, no whitespace, at most 320 characters).';
-- A domain check runs with the privileges of whoever writes the value: every role that writes.
revoke execute on function private.is_valid_email(text) from public, anon;
grant execute on function private.is_valid_email(text) to authenticated, service_role;

/** An e-mail address column: case-insensitive (citext), valid per private.is_valid_email(). */
create domain public.email_address as extensions.citext
    constraint email_address_check check (private.is_valid_email(value::text));
comment on domain public.email_address is 'A valid e-mail address (case-insensitive, at most 320 characters).';

/** A machine name: lower-case letters and digits in dash-separated groups, at most 100 characters. */
create domain public.slug as text
    constraint slug_check check (char_length(value) <= 100 and value ~ '^[a-z0-9]+(-[a-z0-9]+)*$');
comment on domain public.slug is 'A slug: ^[a-z0-9]+(-[a-z0-9]+)*$, at most 100 characters.';

/**
 * The caller's e-mail (normalised) when Supabase Auth has confirmed it, else NULL: no JWT, a JWT
 * without a user, a deleted user, or an address not (yet) confirmed. One primary-key probe on
 * auth.users per call; policies call it once per statement through the access helpers.
 * Security definer: API roles cannot read auth.users; it only ever reads the caller's own row.
 * Claims are read as private.is_prompt_admin() reads them (request.jwt.claims, and the legacy
 * request.jwt.claim.sub that auth.uid() also honours).
 */
create function private.caller_confirmed_email()
    returns text
    language plpgsql
    stable
    security definer
    set search_path = ''
as $$
declare
    v_sub text := coalesce(nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
                           nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub');
begin
    if v_sub is null or v_sub !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        return null;
    end if;
    return (select private.normalize_email(u.email)
              from auth.users u
             where u.id = v_sub::uuid
               and u.email_confirmed_at is not null
               and u.deleted_at is null);
end;
$$;
comment on function private.caller_confirmed_email() is
    'The caller''s confirmed e-mail (normalised) from auth.users, or NULL when unconfirmed or not signed in.';
revoke execute on function private.caller_confirmed_email() from public, anon;
grant execute on function private.caller_confirmed_email() to authenticated, service_role;
