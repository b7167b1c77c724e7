-- Issue 17 item 19: each rule has one SQL definition. Before 20261202100950 (and 100200, 100300)
-- the slug pattern sat in three check constraints, the e-mail pattern in a check and in the sync,
-- the access rule in two functions, and these assertions failed.
begin;
select plan(7);

select is(array_agg(format('%s.%s', c.table_name, c.column_name) order by c.table_name),
          array['prompt_lessons.slug', 'prompt_modules.slug', 'prompts.slug', 'workspaces.slug'],
          'every slug column (v1''s and the workspaces'') has the domain public.slug')
  from information_schema.columns c
 where c.table_schema = 'public' and c.domain_name = 'slug';
select is((select count(*)::integer from pg_constraint k
            where k.conrelid <> 0 and k.connamespace = 'public'::regnamespace
              and pg_get_constraintdef(k.oid) like '%[a-z0-9]+(-[a-z0-9]+)*%'),
          0, 'no table check repeats the slug pattern');
select is((select count(*)::integer from pg_constraint k
            where k.conrelid <> 0 and k.connamespace = 'public'::regnamespace
              and pg_get_constraintdef(k.oid) like '%[^@[:space:]]+@%'),
          0, 'no table check repeats the e-mail pattern');
select is((select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
            where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
              and p.prosrc like '%[^@[:space:]]+@%'),
          array['private.is_valid_email(text)'], 'the e-mail pattern is written once, in private.is_valid_email()');
select is((select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
            where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
              and p.prosrc ~ 'status = ''active''' and p.prosrc ~ 'revoked_at is null'
              and p.prosrc ~ 'course_cohort_members'),
          array['private.active_cohort_ids(text)'], 'the active-membership rule is written once, in private.active_cohort_ids()');
select is((select count(*)::integer from pg_proc p
            where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
              and p.prosrc ~* 'lower\(\s*btrim\([^)]*email'),
          0, 'e-mails are normalised only by private.normalize_email()');
select is((select count(*)::integer from pg_proc p
            where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
              and p.prosrc ~ '''succeeded'''), 0, 'no function writes the old status succeeded');

select * from finish();
rollback;
