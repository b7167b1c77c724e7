/**
 * Rollback of 20261202100100_add_cohort_member_email_key.sql.
 *   - restores the members read policy on the JWT e-mail (`email = auth.email() OR admin`);
 *   - drops private.cohort_member_read_bounds(), the email_key index and column (derived data:
 *     nothing is lost) and recreates the hash index on email.
 * Run after every later migration is rolled back (`python -m devstack.rollback` does); the history
 * row is deleted so `supabase migration up` applies the migration again.
 */

begin;

drop policy "course_cohort_members: learners read their own rows, admins read all" on public.course_cohort_members;
create policy "course_cohort_members: learners read their own rows, admins read all"
    on public.course_cohort_members for select to authenticated
    using (
        email = ((select auth.email()))::extensions.citext
        or (select public.fn_is_prompt_admin())
    );
drop function if exists private.cohort_member_read_bounds();

create index course_cohort_members_email_idx
    on public.course_cohort_members using hash (email);
drop index if exists public.course_cohort_members_email_key_idx;
alter table public.course_cohort_members drop column email_key;

delete from supabase_migrations.schema_migrations where version = '20261202100100';

commit;
