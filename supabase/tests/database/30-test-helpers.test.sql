-- The shared test helpers can fail: pg_temp.untouched_by passes only when every outcome is
-- "ok, 0 rows" or an expected refusal and the table is unchanged. Each case runs the helper and
-- checks its verdict with pgTAP's check_test (which does not count the inner failure).
begin;
\ir _helpers.psql
select plan(15);

-- Passes: RLS turns the learner's update into a no-op, and anon is refused with 42501.
select check_test(
    pg_temp.untouched_by('public.prompt_feature_flags', array['learner', 'anon'],
                         array[$$update public.prompt_feature_flags set enabled = false$$]),
    true, 'untouched_by: a no-op and a permission refusal pass',
    'prompt_feature_flags unchanged after learner, anon tried: update public.prompt_feature_flags set enabled = false',
    '');

-- Fails: the statement is broken (unknown column), so it never tested the policy.
select check_test(
    pg_temp.untouched_by('public.prompt_feature_flags', array['learner'],
                         array[$$update public.prompt_feature_flags set enabeld = false$$]),
    false, 'untouched_by: a broken statement fails',
    'prompt_feature_flags unchanged after learner tried: update public.prompt_feature_flags set enabeld = false',
    '42703: column "enabeld" of relation "prompt_feature_flags" does not exist', true);

-- Fails: a refusal with a SQLSTATE that was not declared as expected.
select check_test(
    pg_temp.untouched_by('public.prompts', array['learner'],
                         array[$$select public.archive_prompt('30000000-0000-4000-a000-000000000001')$$]),
    false, 'untouched_by: an undeclared refusal fails',
    $$prompts unchanged after learner tried: select public.archive_prompt('30000000-0000-4000-a000-000000000001')$$,
    'PT403: only prompt admins can do this', true);

-- Passes once that refusal is declared.
select check_test(
    pg_temp.untouched_by('public.prompts', array['learner'],
                         array[$$select public.archive_prompt('30000000-0000-4000-a000-000000000001')$$],
                         refusals => array['PT403']),
    true, 'untouched_by: a declared refusal passes',
    $$prompts unchanged after learner tried: select public.archive_prompt('30000000-0000-4000-a000-000000000001')$$,
    '');

-- Fails: a statement that succeeds on other rows (a select returning rows) is not "0 rows",
-- even though the table is unchanged.
select check_test(
    pg_temp.untouched_by('public.prompt_feature_flags', array['learner'],
                         array[$$select * from public.prompt_feature_flags$$]),
    false, 'untouched_by: a statement that affects rows fails',
    'prompt_feature_flags unchanged after learner tried: select * from public.prompt_feature_flags',
    '-> ok, 2 rows', true);

select * from finish();
rollback;
