-- Item 6 of issue 17: the largest cohort-sync delivery fits its statement timeout with a margin.
-- Failed before 20261202100400: service_role had no statement_timeout of its own (it ran under
-- the authenticator's 8 s, which a 100k-member delivery can exceed).
begin;
select plan(2);

select is((select s.setting from pg_db_role_setting d
             cross join lateral unnest(d.setconfig) as c(cfg)
             cross join lateral (select split_part(c.cfg, '=', 2) as setting) s
            where d.setrole = 'service_role'::regrole and d.setdatabase = 0 and c.cfg like 'statement_timeout=%'),
          '60s', 'service_role has its own statement_timeout of 60 s');
-- Why not a function-level SET: the running statement's timer is not re-armed by it.
create function pg_temp.slow() returns integer language plpgsql set statement_timeout = '10s'
    as $$ begin perform pg_sleep(0.3); return 1; end $$;
create function pg_temp.outcome() returns text language plpgsql as $$
begin
    perform pg_temp.slow();
    return 'finished';
exception when query_canceled then
    return 'canceled';
end $$;
set local statement_timeout = '100ms';
select is(pg_temp.outcome(), 'canceled', 'a function''s own statement_timeout does not extend the statement that calls it');
reset statement_timeout;

select * from finish();
rollback;
