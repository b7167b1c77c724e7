-- Local development data (run after the migrations by `supabase db reset` / `make dev`).
-- Demo users (sign in locally with `make token EMAIL=...`):
--   admin@example.com     prompt admin (prompt_admins row)
--   learner@example.com   active member of cohort "cohort-2026-spring"
--   optout@example.com    active member who opted out of telemetry
--   outsider@example.com  signed in, no cohort membership
--   revoked@example.com   membership revoked
-- Fixed ids so tests and docs can refer to them. Runs twice without error: every insert skips
-- rows that are already there (issue 17 item 7).

insert into auth.users (id, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data) values
    ('00000000-0000-4000-a000-000000000001', 'admin@example.com', now(),
     '{"provider": "email", "providers": ["email"]}', '{"full_name": "Ada Admin"}'),
    ('00000000-0000-4000-a000-000000000002', 'learner@example.com', now(),
     '{"provider": "email", "providers": ["email"]}', '{"full_name": "Lena Learner"}'),
    ('00000000-0000-4000-a000-000000000003', 'outsider@example.com', now(),
     '{"provider": "email", "providers": ["email"]}', '{"full_name": "Otto Outsider"}'),
    ('00000000-0000-4000-a000-000000000004', 'revoked@example.com', now(),
     '{"provider": "email", "providers": ["email"]}', '{"full_name": "Rita Revoked"}'),
    ('00000000-0000-4000-a000-000000000005', 'optout@example.com', now(),
     '{"provider": "email", "providers": ["email"]}', '{"full_name": "Oli Optout"}')
on conflict (id) do nothing;

insert into public.prompt_admins (user_id, note) values
    ('00000000-0000-4000-a000-000000000001', 'Course author')
on conflict (user_id) do nothing;

update public.prompt_feature_flags set enabled = true
 where key in ('PROMPT_MANAGER_ENABLED', 'PROMPT_USAGE_LOGGING_ENABLED');

insert into public.course_cohort_members
    (cohort_id, email, first_name, last_name, circle_member_id, status, revoked_at, source_hash) values
    ('cohort-2026-spring', 'learner@example.com', 'Lena', 'Learner', 'circle-1002', 'active', null,
     md5(jsonb_build_array('learner@example.com', 'Lena', 'Learner', 'circle-1002', 'active')::text)),
    ('cohort-2026-spring', 'optout@example.com', 'Oli', 'Optout', 'circle-1005', 'active', null,
     md5(jsonb_build_array('optout@example.com', 'Oli', 'Optout', 'circle-1005', 'active')::text)),
    ('cohort-2026-spring', 'revoked@example.com', 'Rita', 'Revoked', 'circle-1004', 'revoked', now() - interval '3 days',
     md5(jsonb_build_array('revoked@example.com', 'Rita', 'Revoked', 'circle-1004', 'revoked')::text)),
    ('cohort-2025-autumn', 'learner@example.com', 'Lena', 'Learner', 'circle-1002', 'inactive', now() - interval '60 days',
     md5(jsonb_build_array('learner@example.com', 'Lena', 'Learner', 'circle-1002', 'inactive')::text)),
    ('cohort-2026-spring', 'mara.jones@example.org', 'Mara', 'Jones', 'circle-2001', 'active', null,
     md5(jsonb_build_array('mara.jones@example.org', 'Mara', 'Jones', 'circle-2001', 'active')::text)),
    ('cohort-2026-spring', 'sam.okafor@example.org', 'Sam', 'Okafor', 'circle-2002', 'active', null,
     md5(jsonb_build_array('sam.okafor@example.org', 'Sam', 'Okafor', 'circle-2002', 'active')::text))
on conflict (cohort_id, email) do nothing;

insert into public.prompt_user_preferences (user_id, telemetry_opt_out) values
    ('00000000-0000-4000-a000-000000000005', true)
on conflict (user_id) do nothing;

insert into public.prompt_modules (id, slug, title, description, position) values
    ('10000000-0000-4000-a000-000000000001', 'foundations', 'Prompting foundations',
     'Roles, context and constraints: the building blocks of a reliable prompt.', 1),
    ('10000000-0000-4000-a000-000000000002', 'research-and-writing', 'Research and writing',
     'Summarise sources, draft, edit and critique with an assistant.', 2),
    ('10000000-0000-4000-a000-000000000003', 'data-and-code', 'Data and code',
     'Explain code, write tests, clean and analyse data.', 3)
on conflict (id) do nothing;

insert into public.prompt_lessons (id, module_id, slug, title, position) values
    ('20000000-0000-4000-a000-000000000001', '10000000-0000-4000-a000-000000000001', 'roles-and-context', 'Roles and context', 1),
    ('20000000-0000-4000-a000-000000000002', '10000000-0000-4000-a000-000000000001', 'output-formats', 'Asking for the right format', 2),
    ('20000000-0000-4000-a000-000000000003', '10000000-0000-4000-a000-000000000002', 'summarising', 'Summarising sources', 1),
    ('20000000-0000-4000-a000-000000000004', '10000000-0000-4000-a000-000000000002', 'editing', 'Editing and critique', 2),
    ('20000000-0000-4000-a000-000000000005', '10000000-0000-4000-a000-000000000003', 'code-review', 'Code review and tests', 1),
    ('20000000-0000-4000-a000-000000000006', '10000000-0000-4000-a000-000000000003', 'data-cleaning', 'Cleaning data', 2)
on conflict (id) do nothing;

insert into public.prompts (id, module_id, lesson_id, slug, title, description, tags, position) values
    ('30000000-0000-4000-a000-000000000001', '10000000-0000-4000-a000-000000000001', '20000000-0000-4000-a000-000000000001',
     'expert-persona', 'Give the assistant an expert persona', 'Set a role and an audience before the task.', '{persona,basics}', 1),
    ('30000000-0000-4000-a000-000000000002', '10000000-0000-4000-a000-000000000001', '20000000-0000-4000-a000-000000000001',
     'context-first', 'Context before the question', 'Paste the background, then ask.', '{context,basics}', 2),
    ('30000000-0000-4000-a000-000000000003', '10000000-0000-4000-a000-000000000001', '20000000-0000-4000-a000-000000000002',
     'json-output', 'Ask for JSON that parses', 'A schema and an example make structured output reliable.', '{format,json}', 3),
    ('30000000-0000-4000-a000-000000000004', '10000000-0000-4000-a000-000000000001', '20000000-0000-4000-a000-000000000002',
     'table-output', 'Compare options in a table', 'Columns you name, rows the model fills.', '{format}', 4),
    ('30000000-0000-4000-a000-000000000005', '10000000-0000-4000-a000-000000000002', '20000000-0000-4000-a000-000000000003',
     'tldr-summary', 'Three-line summary', 'Summarise a long text for a busy reader.', '{summary}', 1),
    ('30000000-0000-4000-a000-000000000006', '10000000-0000-4000-a000-000000000002', '20000000-0000-4000-a000-000000000003',
     'source-grounded', 'Answer only from the sources', 'Quote the passage each claim comes from.', '{summary,citations}', 2),
    ('30000000-0000-4000-a000-000000000007', '10000000-0000-4000-a000-000000000002', '20000000-0000-4000-a000-000000000004',
     'harsh-editor', 'A harsh but fair editor', 'Line edits with reasons.', '{editing}', 3),
    ('30000000-0000-4000-a000-000000000008', '10000000-0000-4000-a000-000000000002', '20000000-0000-4000-a000-000000000004',
     'counterarguments', 'Steelman the other side', 'Find the strongest objections to a draft.', '{editing,critique}', 4),
    ('30000000-0000-4000-a000-000000000009', '10000000-0000-4000-a000-000000000003', '20000000-0000-4000-a000-000000000005',
     'explain-this-code', 'Explain this code', 'Walk through unfamiliar code line by line.', '{code}', 1),
    ('30000000-0000-4000-a000-000000000010', '10000000-0000-4000-a000-000000000003', '20000000-0000-4000-a000-000000000005',
     'write-unit-tests', 'Write the unit tests first', 'Edge cases before implementation.', '{code,testing}', 2),
    ('30000000-0000-4000-a000-000000000011', '10000000-0000-4000-a000-000000000003', '20000000-0000-4000-a000-000000000006',
     'clean-csv', 'Clean a messy CSV', 'Normalise dates, names and units.', '{data}', 3),
    ('30000000-0000-4000-a000-000000000012', '10000000-0000-4000-a000-000000000003', '20000000-0000-4000-a000-000000000006',
     'sql-from-question', 'Turn a question into SQL', 'Give the schema, get a query and its explanation.', '{data,sql}', 4),
    ('30000000-0000-4000-a000-000000000013', '10000000-0000-4000-a000-000000000003', '20000000-0000-4000-a000-000000000006',
     'regex-helper', 'Build a regular expression', 'Examples in, pattern and tests out.', '{code}', 5),
    ('30000000-0000-4000-a000-000000000014', '10000000-0000-4000-a000-000000000001', '20000000-0000-4000-a000-000000000001',
     'old-chain-of-thought', 'Think step by step (retired)', 'Superseded by newer guidance.', '{basics}', 9)
on conflict (id) do nothing;

-- Three versions per prompt (numbered by the database), each with its own text.
insert into public.prompt_versions (prompt_id, markdown_body, changelog)
select p.id,
       format(E'# %s\n\n%s\n\n_Revision %s._\n\n```\nYou are an expert assistant. %s\n\nInput:\n{{input}}\n```',
              p.title, p.description, n, p.description),
       case n when 1 then 'First draft' when 2 then 'Tighter wording' else 'Added an example' end
  from public.prompts p
 cross join generate_series(1, 3) as n
 where p.id::text like '30000000-0000-4000-a000-%'
   and not exists (select 1 from public.prompt_versions v where v.prompt_id = p.id)
 order by p.id, n;

-- Publish: most prompts at v2 (v3 is a draft); some at v3; 0004 rolled back from v3 to v2.
update public.prompt_versions v set published = true
 where v.version_number <= 2
    or (v.version_number = 3 and v.prompt_id in ('30000000-0000-4000-a000-000000000001',
                                                 '30000000-0000-4000-a000-000000000004',
                                                 '30000000-0000-4000-a000-000000000009'));

update public.prompts p
   set current_version_id = v.id, status = 'published', published_at = now() - interval '7 days'
  from public.prompt_versions v
 where v.prompt_id = p.id
   and v.version_number = case when p.id in ('30000000-0000-4000-a000-000000000001',
                                             '30000000-0000-4000-a000-000000000009') then 3 else 2 end
   and p.id not in ('30000000-0000-4000-a000-000000000012');  -- 0012 stays a draft

-- 0013 archived, 0014 soft-deleted.
update public.prompts set status = 'archived', archived_at = now() - interval '2 days'
 where id = '30000000-0000-4000-a000-000000000013';
update public.prompts set is_deleted = true, deleted_at = now() - interval '1 day'
 where id = '30000000-0000-4000-a000-000000000014';

insert into public.prompt_favorites (user_id, prompt_id) values
    ('00000000-0000-4000-a000-000000000002', '30000000-0000-4000-a000-000000000001'),
    ('00000000-0000-4000-a000-000000000002', '30000000-0000-4000-a000-000000000005'),
    ('00000000-0000-4000-a000-000000000001', '30000000-0000-4000-a000-000000000012')
on conflict (user_id, prompt_id) do nothing;

insert into public.prompt_usage_logs (user_id, prompt_id, action, occurred_at, metadata)
select e.user_id::uuid, e.prompt_id::uuid, e.action, e.occurred_at, e.metadata::jsonb
  from (values
    ('00000000-0000-4000-a000-000000000002', '30000000-0000-4000-a000-000000000001', 'view', now() - interval '2 hours', '{"client": "web"}'),
    ('00000000-0000-4000-a000-000000000002', '30000000-0000-4000-a000-000000000001', 'copy', now() - interval '2 hours', '{"client": "web"}'),
    ('00000000-0000-4000-a000-000000000002', '30000000-0000-4000-a000-000000000001', 'favorite', now() - interval '2 hours', null),
    (null, '30000000-0000-4000-a000-000000000005', 'view', now() - interval '1 hour', null)) as e (user_id, prompt_id, action, occurred_at, metadata)
 where not exists (select 1 from public.prompt_usage_logs l where l.prompt_id in ('30000000-0000-4000-a000-000000000001',
                                                                               '30000000-0000-4000-a000-000000000005'));

insert into public.prompt_access_audit (user_id, email, decision, reason, cohort_ids)
select a.user_id::uuid, a.email, a.decision, a.reason, a.cohort_ids::text[]
  from (values
    ('00000000-0000-4000-a000-000000000002', 'learner@example.com', 'granted', 'active_cohort_member', '{cohort-2026-spring}'),
    ('00000000-0000-4000-a000-000000000003', 'outsider@example.com', 'denied', 'not_a_member', '{}')) as a (user_id, email, decision, reason, cohort_ids)
 where not exists (select 1 from public.prompt_access_audit x where x.user_id in ('00000000-0000-4000-a000-000000000002',
                                                                               '00000000-0000-4000-a000-000000000003'));

insert into public.course_cohort_sync_runs
    (delivery_id, cohort_id, mode, status, total_rows, inserted_count, updated_count, unchanged_count,
     deactivated_count, started_at, finished_at) values
    ('msg_seed_initial_import', 'cohort-2026-spring', 'snapshot', 'success', 5, 5, 0, 0, 0,
     now() - interval '7 days', now() - interval '7 days')
on conflict (delivery_id) where status <> 'failed' do nothing;

-- A demo team workspace with one user per role (contract §8). Sign in with `make token EMAIL=...`:
--   owner@example.com  owner       wsadmin@example.com      admin        approver@example.com  approver
--   contributor@example.com  contributor      viewer@example.com  viewer
-- Every user also has a personal workspace (created by the database with the user).
insert into auth.users (id, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data) values
    ('00000000-0000-4000-a000-0000000000a1', 'owner@example.com', now(),
     '{"provider": "email", "providers": ["email"]}', '{"full_name": "Olga Owner"}'),
    ('00000000-0000-4000-a000-0000000000a2', 'wsadmin@example.com', now(),
     '{"provider": "email", "providers": ["email"]}', '{"full_name": "Arno Admin"}'),
    ('00000000-0000-4000-a000-0000000000a3', 'approver@example.com', now(),
     '{"provider": "email", "providers": ["email"]}', '{"full_name": "Pia Approver"}'),
    ('00000000-0000-4000-a000-0000000000a4', 'contributor@example.com', now(),
     '{"provider": "email", "providers": ["email"]}', '{"full_name": "Carl Contributor"}'),
    ('00000000-0000-4000-a000-0000000000a5', 'viewer@example.com', now(),
     '{"provider": "email", "providers": ["email"]}', '{"full_name": "Vera Viewer"}')
on conflict (id) do nothing;

-- The creator (created_by) becomes the owner.
insert into public.workspaces (id, slug, name, description, kind, created_by) values
    ('40000000-0000-4000-a000-000000000001', 'acme-team', 'Acme prompt team',
     'A team library: contributors draft, admins publish.', 'team', '00000000-0000-4000-a000-0000000000a1')
on conflict (id) do nothing;

insert into public.workspace_members (workspace_id, user_id, role) values
    ('40000000-0000-4000-a000-000000000001', '00000000-0000-4000-a000-0000000000a2', 'admin'),
    ('40000000-0000-4000-a000-000000000001', '00000000-0000-4000-a000-0000000000a3', 'approver'),
    ('40000000-0000-4000-a000-000000000001', '00000000-0000-4000-a000-0000000000a4', 'contributor'),
    ('40000000-0000-4000-a000-000000000001', '00000000-0000-4000-a000-0000000000a5', 'viewer')
on conflict (workspace_id, user_id) do nothing;

-- Team prompts (no module: modules are a course's outline): two published, one draft.
insert into public.prompts (id, workspace_id, slug, title, description, tags, position, created_by) values
    ('50000000-0000-4000-a000-000000000001', '40000000-0000-4000-a000-000000000001', 'release-notes',
     'Write release notes', 'Turn merged pull requests into user-facing notes.', '{writing}', 1,
     '00000000-0000-4000-a000-0000000000a4'),
    ('50000000-0000-4000-a000-000000000002', '40000000-0000-4000-a000-000000000001', 'incident-summary',
     'Summarise an incident', 'Timeline, impact, cause and follow-ups from a chat log.', '{ops}', 2,
     '00000000-0000-4000-a000-0000000000a4'),
    ('50000000-0000-4000-a000-000000000003', '40000000-0000-4000-a000-000000000001', 'customer-reply',
     'Reply to a customer', 'A friendly, precise answer to a support ticket (draft).', '{support}', 3,
     '00000000-0000-4000-a000-0000000000a4')
on conflict (id) do nothing;

insert into public.prompt_versions (prompt_id, markdown_body, changelog, created_by)
select p.id, format(E'# %s\n\n%s', p.title, p.description), 'First draft', '00000000-0000-4000-a000-0000000000a4'
  from public.prompts p
 where p.workspace_id = '40000000-0000-4000-a000-000000000001'
   and not exists (select 1 from public.prompt_versions v where v.prompt_id = p.id);

select public.publish_prompt_version(p.id, v.id)
  from public.prompts p
  join public.prompt_versions v on v.prompt_id = p.id and v.version_number = 1
 where p.id in ('50000000-0000-4000-a000-000000000001', '50000000-0000-4000-a000-000000000002')
   and p.current_version_id is null;
