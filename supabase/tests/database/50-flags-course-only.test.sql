-- Contract §16: v1's flags govern course workspaces only. With PROMPT_USAGE_LOGGING_ENABLED or
-- PROMPT_MANAGER_ENABLED off, a team workspace's viewer still logs usage (RPC and direct insert),
-- while course events are dropped or refused exactly as in v1.
begin;
\ir _helpers.psql
select plan(10);

select pg_temp.make_cast('flg');
insert into public.prompts (id, workspace_id, slug, title, created_by)
values ('50000000-0000-4000-f000-000000000001', pg_temp.wsid('flg'), 'team-prompt', 'Team prompt', pg_temp.uid('flg-owner'));
insert into public.prompt_versions (prompt_id, markdown_body) values ('50000000-0000-4000-f000-000000000001', 'Team body');
select public.publish_prompt_version('50000000-0000-4000-f000-000000000001',
    (select id from public.prompt_versions where prompt_id = '50000000-0000-4000-f000-000000000001'));

create function pg_temp.team_event() returns text language sql as
$$ select '[{"prompt_id": "50000000-0000-4000-f000-000000000001", "action": "view"}]' $$;
create function pg_temp.course_event() returns text language sql as
$$ select '[{"prompt_id": "30000000-0000-4000-a000-000000000001", "action": "view"}]' $$;

-- Both flags on: both kinds are stored.
select is(pg_temp.call_as('flg-viewer', format('select public.ingest_usage_events(%L)', pg_temp.team_event())) -> 'accepted',
          '1', 'flags on: a team viewer''s event is stored');

-- Usage logging off: course events dropped (v1), team events stored.
update public.prompt_feature_flags set enabled = false where key = 'PROMPT_USAGE_LOGGING_ENABLED';
select is(pg_temp.call_as('flg-viewer', format('select public.ingest_usage_events(%L)', pg_temp.team_event())),
          '{"accepted": 1, "dropped": 0, "anonymized": 0}', 'logging off: the team event is still stored');
select is(pg_temp.call_as('learner', format('select public.ingest_usage_events(%L)', pg_temp.course_event())),
          '{"accepted": 0, "dropped": 1, "anonymized": 0}', 'logging off: a course event is dropped, as in v1');
select pg_temp.expect('flg-viewer', 'direct insert of a team event while logging is off',
    $$insert into public.prompt_usage_logs (user_id, prompt_id, action) values (auth.uid(), '50000000-0000-4000-f000-000000000001', 'copy')$$,
    pg_temp.rows(1));
select pg_temp.expect('learner', 'direct insert of a course event while logging is off',
    $$insert into public.prompt_usage_logs (user_id, prompt_id, action) values (auth.uid(), '30000000-0000-4000-a000-000000000001', 'copy')$$,
    pg_temp.rls('prompt_usage_logs'));
update public.prompt_feature_flags set enabled = true where key = 'PROMPT_USAGE_LOGGING_ENABLED';

-- Prompt manager off: a course-only batch is PT503 (v1); a team batch is stored; course
-- viewers read nothing, team viewers still read their workspace.
update public.prompt_feature_flags set enabled = false where key = 'PROMPT_MANAGER_ENABLED';
select is(pg_temp.attempt('learner', format('select public.ingest_usage_events(%L)', pg_temp.course_event())),
          'PT503: the prompt manager is disabled', 'manager off: a course batch is refused as in v1');
select is(pg_temp.call_as('flg-viewer', format('select public.ingest_usage_events(%L)', pg_temp.team_event())) -> 'accepted',
          '1', 'manager off: a team viewer''s event is stored');
select is(pg_temp.call_as('flg-viewer', format('select public.ingest_usage_events(%L)',
              '[{"prompt_id": "50000000-0000-4000-f000-000000000001", "action": "view"},
                {"prompt_id": "30000000-0000-4000-a000-000000000001", "action": "view"}]')),
          '{"accepted": 1, "dropped": 1, "anonymized": 0}', 'manager off: in a mixed batch the course event is dropped');
select is(pg_temp.call_as('flg-viewer', $$select to_jsonb(count(*)) from public.prompts where id = '50000000-0000-4000-f000-000000000001'$$),
          '1', 'manager off: the team viewer still reads the team prompt');
select is(pg_temp.call_as('learner', 'select to_jsonb(count(*)) from public.prompts'),
          '0', 'manager off: the course learner reads nothing, as in v1');

select * from finish();
rollback;
