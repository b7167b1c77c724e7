-- Catalog checks that hold for every object, present and future: search_path, security definer,
-- EXECUTE and table privileges, RLS on, policies scoped to a role, updated_at triggers.
begin;
\ir _helpers.psql
select plan(15);

select tables_are('public', array[
    'prompt_modules', 'prompt_lessons', 'prompts', 'prompt_versions', 'prompt_favorites',
    'prompt_usage_logs', 'course_cohort_members', 'course_cohort_sync_runs', 'prompt_access_audit',
    'prompt_feature_flags', 'prompt_admins', 'prompt_user_preferences',
    'workspaces', 'workspace_members', 'workspace_invitations', 'workspace_cohorts'
], 'public has exactly the contract''s tables');

create temporary view app_functions as
select p.oid, n.nspname as schema, p.oid::regprocedure::text as signature, p.prosecdef, p.proconfig
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
 where n.nspname in ('public', 'private');

create temporary view public_tables as
select c.oid, c.relname, c.relkind, c.relrowsecurity
  from pg_class c
 where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f');

select ok((select count(*) from app_functions) >= 20, 'the catalog query finds the functions of public and private');

select is_empty(
    $$select signature from app_functions where not coalesce(proconfig @> array['search_path=""'], false)$$,
    'every function in public and private has search_path = '''''
);
select is_empty(
    $$select signature from app_functions where schema = 'public' and prosecdef$$,
    'no function in public is security definer (definer helpers live in private)'
);
select is_empty(
    $$select signature from app_functions where has_function_privilege('anon', oid, 'execute')$$,
    'anon can execute no function in public or private'
);
select is_empty(
    $$select f.signature from app_functions f join pg_proc p on p.oid = f.oid,
             aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
       where a.grantee = 0$$,
    'PUBLIC holds EXECUTE on no function in public or private'
);
select ok(not has_schema_privilege('anon', 'private', 'usage'), 'anon has no usage on schema private');

select is_empty(
    $$select relname from public_tables where not relrowsecurity$$,
    'every table in public has row level security enabled'
);
select is_empty(
    $$select relname from public_tables
       where has_table_privilege('anon', oid, 'select, insert, update, delete, truncate, references, trigger')
          or has_any_column_privilege('anon', oid, 'select, insert, update, references')$$,
    'anon holds no privilege on any table in public, nor on any column'
);
select is_empty(
    $$select relname from public_tables
       where has_table_privilege('authenticated', oid, 'truncate, references, trigger')$$,
    'authenticated holds no truncate, references or trigger privilege in public'
);
select is_empty(
    $$select relname from public_tables where relkind <> 'r'$$,
    'public holds only tables (no view can bypass RLS)'
);

select is_empty(
    $$select tablename || ': ' || policyname from pg_policies
       where schemaname = 'public' and (roles <> array['authenticated']::name[] or cmd = 'ALL')$$,
    'every policy is for one command and for role authenticated only'
);
select is_empty(
    $$select tablename || ': ' || policyname from pg_policies
       where schemaname = 'public' and (cmd in ('SELECT', 'DELETE') and (qual is null or with_check is not null)
                                        or cmd = 'INSERT' and (with_check is null or qual is not null)
                                        or cmd = 'UPDATE' and (qual is null or with_check is null))$$,
    'select/delete policies have using, insert policies with check, update policies both'
);

select is_empty(
    $$select c.table_name from information_schema.columns c
       where c.table_schema = 'public' and c.column_name = 'updated_at'
         and not exists (
             select 1 from pg_trigger t
               join pg_proc p on p.oid = t.tgfoid
              where t.tgrelid = format('public.%I', c.table_name)::regclass
                and p.oid = 'private.set_updated_at()'::regprocedure
                and t.tgtype & 2 = 2 and t.tgtype & 16 = 16 and not t.tgisinternal)$$,
    'every table with updated_at has a BEFORE UPDATE trigger calling private.set_updated_at()'
);
select is_empty(
    $$select relname from public_tables t
       where not exists (select 1 from pg_description d
                          where d.objoid = t.oid and d.classoid = 'pg_class'::regclass and d.objsubid = 0)$$,
    'every table in public has a comment'
);

select * from finish();
rollback;
