/**
 * Supabase-compatible bootstrap for a PLAIN PostgreSQL 15 cluster (the Docker-less local stack).
 *
 * It recreates the parts of the Supabase database image (supabase/postgres init scripts) that this
 * project's migrations, RLS policies and tests rely on: the API roles, the `auth` schema with
 * `auth.users` and the `auth.*()` claim helpers, the `extensions` schema, and Supabase's default
 * privileges on `public`.
 *
 * This is NOT a migration and must never run against a Supabase database (hosted or `supabase
 * start`): it refuses to run where an `auth` schema already exists. Run it as a superuser.
 */

do $$
begin
    if exists (select 1 from pg_catalog.pg_namespace where nspname = 'auth') then
        raise exception 'bootstrap refused: schema "auth" already exists; this looks like a Supabase database (or one already bootstrapped)'
            using errcode = 'P0001',
                  hint = 'The bootstrap is only for a fresh plain PostgreSQL cluster made by devstack.';
    end if;
end
$$;

-- Roles -------------------------------------------------------------------------------------------
-- Attributes as in supabase/postgres: API roles cannot log in; `authenticator` logs in and switches.
do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'postgres') then
        create role postgres login;
    end if;
end
$$;
-- On hosted projects `postgres` is not a superuser; it may create roles/databases and bypass RLS.
alter role postgres nosuperuser createrole createdb replication bypassrls login password 'postgres';

create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
create role authenticator login noinherit password 'postgres';
create role supabase_auth_admin login noinherit createrole password 'postgres';

grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres with admin option;

-- Statement timeouts as set on Supabase's API roles.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';

-- The database belongs to postgres, as on Supabase (so postgres owns `public` via pg_database_owner).
do $$
begin
    execute format('alter database %I owner to postgres', current_database());
    execute format('alter database %I set search_path to "$user", public, extensions', current_database());
end
$$;

-- Schema `extensions` ------------------------------------------------------------------------------
create schema extensions authorization postgres;
grant usage on schema extensions to anon, authenticated, service_role;
alter default privileges in schema extensions grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges in schema extensions grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges in schema extensions grant all on sequences to postgres, anon, authenticated, service_role;

create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;

-- Extensions Supabase ships that need a superuser to enable; installed where the packages exist.
do $$
begin
    if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pgtap') then
        create extension if not exists pgtap with schema extensions;
    end if;
    if exists (select 1 from pg_catalog.pg_available_extensions where name = 'plpgsql_check') then
        create extension if not exists plpgsql_check with schema extensions;
    end if;
    if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_cron')
       and pg_catalog.current_setting('shared_preload_libraries') like '%pg_cron%' then
        create extension if not exists pg_cron with schema pg_catalog;  -- as on Supabase
        grant usage on schema cron to postgres with grant option;
        grant all on all tables in schema cron to postgres with grant option;
        grant all on all sequences in schema cron to postgres with grant option;
        grant all on all functions in schema cron to postgres with grant option;
    end if;
end
$$;

-- Schema `auth` (owned by supabase_auth_admin, as on Supabase) ---------------------------------------
create schema auth authorization supabase_auth_admin;
grant usage on schema auth to anon, authenticated, service_role, postgres;

/** The user table Supabase Auth (GoTrue) maintains; the columns apps and policies rely on. */
create table auth.users (
    instance_id uuid,
    id uuid primary key default gen_random_uuid(),
    aud varchar(255) default 'authenticated',
    role varchar(255) default 'authenticated',
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    invited_at timestamptz,
    confirmation_token varchar(255),
    confirmation_sent_at timestamptz,
    recovery_token varchar(255),
    recovery_sent_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb default '{}'::jsonb,
    raw_user_meta_data jsonb default '{}'::jsonb,
    is_super_admin boolean,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    phone text unique default null,
    phone_confirmed_at timestamptz,
    confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
    banned_until timestamptz,
    is_sso_user boolean not null default false,
    deleted_at timestamptz,
    is_anonymous boolean not null default false
);
create index users_instance_id_idx on auth.users (instance_id);
create index users_is_anonymous_idx on auth.users (is_anonymous);
create unique index users_email_partial_key on auth.users (email) where (is_sso_user = false);
alter table auth.users owner to supabase_auth_admin;
alter table auth.users enable row level security;
-- Migrations may reference auth.users(id) in foreign keys, as on Supabase.
grant references, select on auth.users to postgres;
grant all on auth.users to postgres;
-- GoTrue looks signup confirmations up by token hash (supabase/auth migrations: confirmation_token_idx).
create unique index confirmation_token_idx on auth.users (confirmation_token)
    where confirmation_token !~ '^[0-9 ]*$';

/**
 * Sessions and refresh tokens, as Supabase Auth keeps them (supabase/auth migrations: sessions,
 * refresh_tokens with the parent chain, mfa_amr_claims for the `amr` claim). Only the columns the
 * local Auth stand-in (devstack/auth) and `make token` use, with the real types.
 */
create type auth.aal_level as enum ('aal1', 'aal2', 'aal3');
alter type auth.aal_level owner to supabase_auth_admin;

create table auth.sessions (
    id uuid primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    created_at timestamptz,
    updated_at timestamptz,
    aal auth.aal_level,
    not_after timestamptz,
    refreshed_at timestamp,
    user_agent text,
    ip inet
);
create index sessions_user_id_idx on auth.sessions (user_id);
create index user_id_created_at_idx on auth.sessions (user_id, created_at);

create table auth.refresh_tokens (
    instance_id uuid,
    id bigserial primary key,
    token varchar(255) unique,
    user_id varchar(255),
    revoked boolean,
    created_at timestamptz,
    updated_at timestamptz,
    parent varchar(255),
    session_id uuid references auth.sessions (id) on delete cascade
);
create index refresh_tokens_parent_idx on auth.refresh_tokens (parent);
create index refresh_tokens_session_id_revoked_idx on auth.refresh_tokens (session_id, revoked);

create table auth.mfa_amr_claims (
    id uuid primary key,
    session_id uuid not null references auth.sessions (id) on delete cascade,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    authentication_method text not null,
    constraint mfa_amr_claims_session_id_authentication_method_pkey unique (session_id, authentication_method)
);

-- PKCE (the supabase-py / supabase-js default flow): a sign-up's code challenge until the code exchange.
create type auth.code_challenge_method as enum ('s256', 'plain');
alter type auth.code_challenge_method owner to supabase_auth_admin;
create table auth.flow_state (
    id uuid primary key,
    user_id uuid,
    auth_code text not null,
    code_challenge_method auth.code_challenge_method not null,
    code_challenge text not null,
    provider_type text not null,
    provider_access_token text,
    provider_refresh_token text,
    created_at timestamptz,
    updated_at timestamptz,
    authentication_method text not null,
    auth_code_issued_at timestamptz
);
create index idx_auth_code on auth.flow_state (auth_code);
create index idx_user_id_auth_method on auth.flow_state (user_id, authentication_method);

do $$
declare
    t text;
begin
    foreach t in array array['sessions', 'refresh_tokens', 'mfa_amr_claims', 'flow_state'] loop
        execute format('alter table auth.%I owner to supabase_auth_admin', t);
        execute format('alter table auth.%I enable row level security', t);
        execute format('grant all on auth.%I to postgres', t);
    end loop;
end
$$;
alter sequence auth.refresh_tokens_id_seq owner to supabase_auth_admin;
grant usage on sequence auth.refresh_tokens_id_seq to postgres;

-- The claim helpers read `request.jwt.claims` (PostgREST >= 9) or the legacy per-claim GUCs.
create function auth.uid() returns uuid
    language sql stable
    set search_path = ''
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
        (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;
comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';

create function auth.role() returns text
    language sql stable
    set search_path = ''
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim.role', true), ''),
        (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;
comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';

create function auth.email() returns text
    language sql stable
    set search_path = ''
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim.email', true), ''),
        (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$$;
comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';

create function auth.jwt() returns jsonb
    language sql stable
    set search_path = ''
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim', true), ''),
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
    to postgres, anon, authenticated, service_role;

-- Schema `public`: Supabase's default privileges --------------------------------------------------
-- On Supabase the API roles get ALL on every new table, sequence and function in `public`: RLS and
-- explicit revokes are what protect data, not missing grants. Reproduce that, so a missing revoke
-- fails here exactly as it would in production.
grant usage on schema public to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to anon, authenticated, service_role;

-- PostgREST's `graphql_public` schema exists on Supabase (it is in the exposed schema list).
create schema if not exists graphql_public authorization postgres;
grant usage on schema graphql_public to anon, authenticated, service_role;

-- Reload signal PostgREST listens on; harmless here, kept so migrations that notify work.
comment on schema auth is 'Supabase Auth schema (recreated by devstack/bootstrap.sql for local, Docker-less use)';

-- PostgREST schema-cache reloads -----------------------------------------------------------------
-- The Supabase image's event triggers, verbatim (supabase/postgres
-- migrations/db/migrations/20220321174452_fix-postgrest-alter-type-event-trigger.sql, as in its
-- migrations/schema-15.sql; PostgREST docs "Schema Cache: finer-grained event trigger"): after DDL
-- on API-relevant objects, or when one is dropped, `NOTIFY pgrst, 'reload schema'`. The stand-in
-- LISTENs on `pgrst` exactly as PostgREST does.
create or replace function extensions.pgrst_ddl_watch() returns event_trigger as $$
declare
  cmd record;
begin
  for cmd in select * from pg_event_trigger_ddl_commands()
  loop
    if cmd.command_tag in (
      'CREATE SCHEMA', 'ALTER SCHEMA'
    , 'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'ALTER TABLE'
    , 'CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE'
    , 'CREATE VIEW', 'ALTER VIEW'
    , 'CREATE MATERIALIZED VIEW', 'ALTER MATERIALIZED VIEW'
    , 'CREATE FUNCTION', 'ALTER FUNCTION'
    , 'CREATE TRIGGER'
    , 'CREATE TYPE', 'ALTER TYPE'
    , 'CREATE RULE'
    , 'COMMENT'
    )
    -- don't notify in case of CREATE TEMP table or other objects created on pg_temp
    and cmd.schema_name is distinct from 'pg_temp'
    then
      notify pgrst, 'reload schema';
    end if;
  end loop;
end; $$ language plpgsql;

create or replace function extensions.pgrst_drop_watch() returns event_trigger as $$
declare
  obj record;
begin
  for obj in select * from pg_event_trigger_dropped_objects()
  loop
    if obj.object_type in (
      'schema'
    , 'table'
    , 'foreign table'
    , 'view'
    , 'materialized view'
    , 'function'
    , 'trigger'
    , 'type'
    , 'rule'
    )
    and obj.is_temporary is false -- no pg_temp objects
    then
      notify pgrst, 'reload schema';
    end if;
  end loop;
end; $$ language plpgsql;

drop event trigger if exists pgrst_ddl_watch;
create event trigger pgrst_ddl_watch
  on ddl_command_end
  execute procedure extensions.pgrst_ddl_watch();

drop event trigger if exists pgrst_drop_watch;
create event trigger pgrst_drop_watch
  on sql_drop
  execute procedure extensions.pgrst_drop_watch();
