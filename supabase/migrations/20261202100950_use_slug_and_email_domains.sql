/**
 * One definition of the slug and e-mail patterns (issue 17, item 19): the v1 columns take the
 * domains of 20261202100000 instead of repeating the patterns in check constraints.
 *   - prompt_modules.slug, prompt_lessons.slug, prompts.slug: public.slug;
 *   - course_cohort_members.email: its check calls private.is_valid_email(), the function the
 *     domain public.email_address and the sync use. (The column keeps type citext: email_key is
 *     generated from it, and PostgreSQL cannot change the type of a column a generated column
 *     reads without dropping email_key, its index and the read policy on it.)
 * Existing values already satisfy the same rules, so nothing is rewritten; the domains raise the
 * same SQLSTATE (23514) as the checks they replace.
 */

alter table public.prompt_modules drop constraint prompt_modules_slug_check;
alter table public.prompt_modules alter column slug type public.slug;

alter table public.prompt_lessons drop constraint prompt_lessons_slug_check;
alter table public.prompt_lessons alter column slug type public.slug;

alter table public.prompts drop constraint prompts_slug_check;
alter table public.prompts alter column slug type public.slug;

alter table public.course_cohort_members drop constraint course_cohort_members_email_check;
alter table public.course_cohort_members add constraint course_cohort_members_email_check
    check (private.is_valid_email(email::text));
