-- RLS matrix (contract §3) for the per-user tables: prompt_favorites (own rows, on prompts the user
-- can see) and prompt_user_preferences (own row). Nobody reads or writes another user's rows.
begin;
\ir _helpers.psql
select plan(85);

-- Besides the seed's favorites (learner: 01, 05; admin: 12), the outsider and the revoked learner
-- kept one on 01 from before: it is theirs, but they cannot see the prompt, so not the row either.
insert into public.prompt_favorites (user_id, prompt_id) values
    ('00000000-0000-4000-a000-000000000003', '30000000-0000-4000-a000-000000000001'),
    ('00000000-0000-4000-a000-000000000004', '30000000-0000-4000-a000-000000000001');
-- Besides the seed's preference row (optout), the learner has one (opted in).
insert into public.prompt_user_preferences (user_id, telemetry_opt_out) values
    ('00000000-0000-4000-a000-000000000002', false);

-- prompt_favorites ----------------------------------------------------------------------------------
select pg_temp.matrix('prompt_favorites', array[
    --                       anon   outsider usermeta revoked learner admin  jwtadmin service_role
    ['select',              'denied 0        0        0       2       1      0        5',
     $$select * from public.prompt_favorites$$],
    ['insert own',          'denied rls      rls      rls     1       1      1        null-user_id',
     $$insert into public.prompt_favorites (prompt_id) values ('30000000-0000-4000-a000-000000000002')$$],
    ['insert as learner',   'denied rls      rls      rls     1       rls    rls      1',
     $$insert into public.prompt_favorites (user_id, prompt_id)
       values ('00000000-0000-4000-a000-000000000002', '30000000-0000-4000-a000-000000000003')$$],
    ['update',              'denied denied   denied   denied  denied  denied denied   5',
     $$update public.prompt_favorites set created_at = now()$$],
    ['delete those on 01',  'denied 0        0        0       1       0      0        3',
     $$delete from public.prompt_favorites where prompt_id = '30000000-0000-4000-a000-000000000001'$$]]);

-- Only on prompts the user can see: not a draft, not a deleted prompt (admins see drafts).
select pg_temp.check('prompt_favorites', t.actor, 'insert own on prompt ' || t.prompt,
    format($$insert into public.prompt_favorites (prompt_id) values ('30000000-0000-4000-a000-0000000000%s')$$, t.prompt),
    t.code)
  from (values ('learner', '12', 'rls'), ('learner', '14', 'rls'), ('admin', '13', '1')) as t (actor, prompt, code);

select pg_temp.untouched_by('public.prompt_favorites', array['outsider', 'usermeta', 'revoked'],
    array[$$delete from public.prompt_favorites$$]);
select pg_temp.untouched_by('public.prompt_favorites', array['learner', 'admin', 'jwtadmin'],
    array[$$delete from public.prompt_favorites where user_id <> (select auth.uid())$$]);

-- prompt_user_preferences -----------------------------------------------------------------------------
select pg_temp.matrix('prompt_user_preferences', array[
    --                          anon   outsider usermeta revoked learner optout admin jwtadmin service_role
    ['select',                 'denied 0        0        0       1       1      0     0        2',
     $$select * from public.prompt_user_preferences$$],
    ['insert as outsider',     'denied 1        rls      rls     rls     rls    rls   rls      1',
     $$insert into public.prompt_user_preferences (user_id, telemetry_opt_out)
       values ('00000000-0000-4000-a000-000000000003', true)$$],
    ['update learner''s row',  'denied 0        0        0       1       0      0     0        1',
     $$update public.prompt_user_preferences set telemetry_opt_out = true
        where user_id = '00000000-0000-4000-a000-000000000002'$$],
    ['delete learner''s row',  'denied 0        0        0       1       0      0     0        1',
     $$delete from public.prompt_user_preferences where user_id = '00000000-0000-4000-a000-000000000002'$$]],
    'anon outsider usermeta revoked learner optout admin jwtadmin service_role');

select pg_temp.check('prompt_user_preferences', 'outsider', 'insert own (user_id defaults to the caller)',
    $$insert into public.prompt_user_preferences (telemetry_opt_out) values (false)$$, '1');
select pg_temp.check('prompt_user_preferences', 'learner', 'update ' || c,
    format($$update public.prompt_user_preferences set %I = %s where user_id = (select auth.uid())$$, c, v), 'denied')
  from (values ('user_id', $$'00000000-0000-4000-a000-000000000003'$$), ('created_at', 'now()')) as t (c, v);

select pg_temp.untouched_by('public.prompt_user_preferences',
    array['outsider', 'usermeta', 'revoked', 'learner', 'optout', 'admin', 'jwtadmin'],
    array[$$update public.prompt_user_preferences set telemetry_opt_out = not telemetry_opt_out
             where user_id <> (select auth.uid())$$,
          $$delete from public.prompt_user_preferences where user_id <> (select auth.uid())$$]);

select * from finish();
rollback;
