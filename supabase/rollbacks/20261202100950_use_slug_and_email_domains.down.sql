/**
 * Rollback of 20261202100950_use_slug_and_email_domains.sql.
 *   - the slug columns go back to text, and they and course_cohort_members.email get their own
 *     pattern checks again.
 * Loses no data. Run after every later migration is rolled back (`python -m devstack.rollback`
 * does); the history row is deleted so `supabase migration up` applies the migration again.
 */

begin;

alter table public.course_cohort_members drop constraint course_cohort_members_email_check;
alter table public.course_cohort_members add constraint course_cohort_members_email_check
    check (char_length(email) <= 320 and email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$');

alter table public.prompts alter column slug type text;
alter table public.prompts add constraint prompts_slug_check
    check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 100);

alter table public.prompt_lessons alter column slug type text;
alter table public.prompt_lessons add constraint prompt_lessons_slug_check
    check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 100);

alter table public.prompt_modules alter column slug type text;
alter table public.prompt_modules add constraint prompt_modules_slug_check
    check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 100);

delete from supabase_migrations.schema_migrations where version = '20261202100950';

commit;
