-- Identity helpers (issue 17, items 1, 10, 19): private.normalize_email(), private.is_valid_email(),
-- the domains public.email_address and public.slug, and private.caller_confirmed_email().
begin;
\ir _helpers.psql
select plan(26);

insert into auth.users (id, email, email_confirmed_at, deleted_at) values
    ('00000000-0000-4000-c000-000000000001', 'Unconfirmed@Example.com', null, null),
    ('00000000-0000-4000-c000-000000000002', 'gone@example.com', now(), now());

-- normalize_email: every surrounding whitespace character, then lower case; inner text untouched.
select is(private.normalize_email(E' \t\r\nMixed.Case@Example.TEST \r\n\t'), 'mixed.case@example.test',
          'normalize_email trims space, tab, CR, LF and lower-cases');
select is(private.normalize_email(E'\u00A0a@b.co\u3000\uFEFF'), 'a@b.co', 'normalize_email trims Unicode spaces and BOM');
select is(private.normalize_email(E'\u000Ba@b.co\f'), 'a@b.co', 'normalize_email trims VT and FF');
select is(private.normalize_email('a b@c.de'), 'a b@c.de', 'normalize_email keeps inner whitespace (the pattern refuses it)');
select is(private.normalize_email(null), null, 'normalize_email(null) is null');
select is((select p.provolatile from pg_proc p where p.oid = 'private.normalize_email(text)'::regprocedure), 'i',
          'normalize_email is immutable (usable in indexes and generated columns)');

-- is_valid_email and the e-mail domain.
select ok(private.is_valid_email('a.b+c@example.co.uk'), 'a plain address is valid');
select ok(not private.is_valid_email('no-at-sign.example.com'), 'no @ is invalid');
select ok(not private.is_valid_email(E'a@b.co\n'), 'a trailing LF is invalid (normalise first)');
select ok(not private.is_valid_email('a@nodot'), 'a domain without a dot is invalid');
select ok(not private.is_valid_email(repeat('a', 310) || '@example.com'), 'more than 320 characters is invalid');
select lives_ok($$ select 'A@Example.com'::public.email_address $$, 'email_address accepts an address');
select throws_ok($$ select 'not an address'::public.email_address $$, '23514', null,
                 'email_address refuses a malformed address');
select ok('A@Example.com'::public.email_address = 'a@example.COM'::public.email_address,
          'email_address compares case-insensitively');

-- slug domain.
select lives_ok($$ select 'good-slug-2'::public.slug $$, 'slug accepts dash-separated lower-case groups');
select throws_ok($$ select 'Bad_Slug'::public.slug $$, '23514', null, 'slug refuses upper case and underscores');
select throws_ok($$ select '-lead'::public.slug $$, '23514', null, 'slug refuses a leading dash');
select throws_ok($$ select repeat('a', 101)::public.slug $$, '23514', null, 'slug refuses more than 100 characters');

-- caller_confirmed_email: confirmed users only, read from auth.users (not from the JWT claim).
select is(pg_temp.call_as('learner', 'select to_jsonb(private.caller_confirmed_email())'), '"learner@example.com"',
          'a confirmed user gets their e-mail');
select is(pg_temp.call_as('learner', 'select to_jsonb(private.caller_confirmed_email())', '{"email": "admin@example.com"}'),
          '"learner@example.com"', 'the JWT email claim does not change the answer');
select throws_ok($$ select pg_temp.act_as('anon'); select private.caller_confirmed_email() $$, '42501', null,
                 'anon may not execute caller_confirmed_email');
select pg_temp.act_as(null);
select is(pg_temp.call_as('service_role', 'select to_jsonb(private.caller_confirmed_email())'), null,
          'the service role (no sub) gets NULL');

select set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-c000-000000000001", "role": "authenticated", "email": "Unconfirmed@Example.com"}', true);
select set_config('role', 'authenticated', true);
select is(private.caller_confirmed_email(), null, 'an unconfirmed user gets NULL');
select set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-c000-000000000002", "role": "authenticated", "email": "gone@example.com"}', true);
select is(private.caller_confirmed_email(), null, 'a deleted user gets NULL');
select set_config('request.jwt.claims', '{"sub": "not-a-uuid", "role": "authenticated"}', true);
select is(private.caller_confirmed_email(), null, 'a sub that is not a uuid gets NULL, not an error');
select pg_temp.act_as(null);

select is((select count(*)::integer from pg_proc p
            where p.oid = 'private.caller_confirmed_email()'::regprocedure
              and p.prosecdef and p.proconfig = array['search_path=""']), 1,
          'caller_confirmed_email is security definer with an empty search_path');

select * from finish();
rollback;
