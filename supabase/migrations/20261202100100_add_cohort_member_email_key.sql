/**
 * `course_cohort_members.email_key`: the member's e-mail in canonical form
 * (private.normalize_email(), "C" collation), maintained by the database, and the one column every
 * lookup by e-mail uses: the access helpers, the access check, the sync's comparisons and the
 * learner read policy (issue 17, items 9, 10, 20).
 *
 * The read policy was `email = auth.email() OR admin`. An OR whose second arm is a per-statement
 * constant cannot be an index condition, and citext's `=` is not leakproof, so a learner's read
 * relying on RLS scanned every membership (bench/). The policy is now one range on the B-tree
 * index of email_key: [own e-mail, own e-mail] for a learner, the whole range for an admin, an
 * empty one for anyone else. Its bounds come from private.cohort_member_read_bounds(), evaluated
 * once per statement; a learner's e-mail is their CONFIRMED one (private.caller_confirmed_email()).
 * The hash index on citext e-mail is replaced by the B-tree on email_key (same probe cost, and it
 * serves ranges).
 */

alter table public.course_cohort_members
    add column email_key text collate "C" not null
        generated always as (private.normalize_email(email::text)) stored;
comment on column public.course_cohort_members.email_key is
    'The e-mail in canonical form (private.normalize_email), maintained by the database; lookups use it.';

create index course_cohort_members_email_key_idx on public.course_cohort_members (email_key);
drop index public.course_cohort_members_email_idx;

/**
 * The bounds of the e-mail range the caller may read in course_cohort_members: {email, email} for a
 * signed-in user with a confirmed e-mail, {'', U+10FFFF x 321} (above every e-mail of at most 320
 * characters in "C" order) for a prompt admin, NULL (no row) for everyone else. Element 1 is
 * the lower bound, element 2 the upper.
 * Security invoker: both helpers it calls carry their own definer rights.
 */
create function private.cohort_member_read_bounds()
    returns text[]
    language plpgsql
    stable
    security invoker
    set search_path = ''
as $$
declare
    v_email text;
begin
    if private.is_prompt_admin() then
        return array['', pg_catalog.repeat(pg_catalog.chr(1114111), 321)];
    end if;
    v_email := private.caller_confirmed_email();
    return case when v_email is not null then array[v_email, v_email] end;
end;
$$;
comment on function private.cohort_member_read_bounds() is
    'The email_key range the caller may read in course_cohort_members: own confirmed e-mail, all (admin) or none.';
revoke execute on function private.cohort_member_read_bounds() from public, anon;
grant execute on function private.cohort_member_read_bounds() to authenticated, service_role;

drop policy "course_cohort_members: learners read their own rows, admins read all" on public.course_cohort_members;
create policy "course_cohort_members: learners read their own rows, admins read all"
    on public.course_cohort_members for select to authenticated
    using (
        email_key >= (select (private.cohort_member_read_bounds())[1])
        and email_key <= (select (private.cohort_member_read_bounds())[2])
    );
