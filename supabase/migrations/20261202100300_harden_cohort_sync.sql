/**
 * Cohort sync hardening (issue 17):
 *   - item 17: run statuses are the schema proposal's `success`, `partial`, `failed`, defined once
 *     as the enum public.cohort_sync_status (the generated Python types, the function's model and
 *     the OpenAPI enum derive from it; a test compares them). Stored `succeeded` rows become
 *     `success`.
 *   - items 9, 10: e-mails are normalised by private.normalize_email() (all surrounding whitespace,
 *     lower case) and compared with the stored members' email_key, so a stored
 *     `Mixed.Case@Example.test` is the member a snapshot lists (no false deactivation, no false
 *     mass-deactivation 409), and a tab/CR/LF no longer makes a revocation an "invalid email"
 *     row; validity is private.is_valid_email().
 *   - item 3: at most 100,000 members per delivery, enforced here (22023); the function's own
 *     check stays as the early 4xx.
 *   - item 6: a failed run records why (`failure_reason`: timeout, connection_lost, bad_input,
 *     server_error); record_failed_cohort_sync() takes it as a fifth argument.
 */

create type public.cohort_sync_status as enum ('success', 'partial', 'failed');
comment on type public.cohort_sync_status is
    'Outcome of a cohort-sync delivery: success, partial (some rows invalid), failed (not applied).';

drop index public.course_cohort_sync_runs_delivery_id_key;
alter table public.course_cohort_sync_runs drop constraint course_cohort_sync_runs_status_check;
alter table public.course_cohort_sync_runs
    alter column status type public.cohort_sync_status
    using (case status when 'succeeded' then 'success' else status end)::public.cohort_sync_status;
create unique index course_cohort_sync_runs_delivery_id_key
    on public.course_cohort_sync_runs (delivery_id)
    where status <> 'failed';

alter table public.course_cohort_sync_runs
    add column failure_reason text
        check (failure_reason in ('timeout', 'connection_lost', 'bad_input', 'server_error')),
    add constraint course_cohort_sync_runs_failed_has_reason_check
        check ((status = 'failed') = (failure_reason is not null)) not valid;
comment on column public.course_cohort_sync_runs.failure_reason is
    'Why a failed run failed: timeout, connection_lost, bad_input or server_error. NULL unless failed.';
-- Failed runs recorded before this migration did not say why.
update public.course_cohort_sync_runs set failure_reason = 'server_error' where status = 'failed';
alter table public.course_cohort_sync_runs validate constraint course_cohort_sync_runs_failed_has_reason_check;

create or replace function public.sync_cohort_members(delivery_id text, payload jsonb)
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_started timestamptz := pg_catalog.clock_timestamp();
    v_cohort text;
    v_mode text;
    v_allow boolean;
    v_members jsonb;
    v_run public.course_cohort_sync_runs;
    v_total integer;
    v_valid integer;
    v_inserted integer := 0;
    v_updated integer := 0;
    v_deactivated integer := 0;
    v_active_before integer;
    v_would_deactivate integer;
    v_errors jsonb;
begin
    if sync_cohort_members.delivery_id is null
       or char_length(btrim(sync_cohort_members.delivery_id)) = 0
       or char_length(sync_cohort_members.delivery_id) > 200 then
        raise exception 'delivery_id must be 1 to 200 characters' using errcode = '22023';
    end if;
    if jsonb_typeof(payload) is distinct from 'object' then
        raise exception 'payload must be a JSON object' using errcode = '22023';
    end if;
    v_cohort := nullif(btrim(payload ->> 'cohort_id'), '');
    if v_cohort is null or char_length(v_cohort) > 200 then
        raise exception 'cohort_id must be 1 to 200 characters' using errcode = '22023';
    end if;
    v_mode := payload ->> 'mode';
    if v_mode is null or v_mode not in ('snapshot', 'delta') then
        raise exception 'mode must be "snapshot" or "delta"' using errcode = '22023';
    end if;
    v_members := payload -> 'members';
    if jsonb_typeof(v_members) is distinct from 'array' then
        raise exception 'members must be a JSON array' using errcode = '22023';
    end if;
    if jsonb_typeof(payload -> 'allow_mass_deactivation') not in ('boolean', 'null') then
        raise exception 'allow_mass_deactivation must be a boolean' using errcode = '22023';
    end if;
    v_allow := coalesce((payload ->> 'allow_mass_deactivation')::boolean, false);
    v_total := jsonb_array_length(v_members);
    if v_total > 100000 then
        raise exception 'a delivery holds at most 100000 members, got %', v_total using errcode = '22023';
    end if;

    -- One delivery at a time per delivery id: a concurrent duplicate waits here, then replays.
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('cohort-sync:delivery:' || sync_cohort_members.delivery_id, 0));
    select * into v_run
      from public.course_cohort_sync_runs r
     where r.delivery_id = sync_cohort_members.delivery_id and r.status <> 'failed';
    if found then
        return private.sync_run_summary(v_run, true);
    end if;
    -- One sync at a time per cohort, so snapshots never interleave.
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('cohort-sync:cohort:' || v_cohort, 0));

    -- Tells plpgsql_check the shape of the temporary table (a no-op at run time).
    perform 'PRAGMA:TABLE: cohort_sync_rows (ord integer, m jsonb, email text, first_name text, last_name text, circle_member_id text, status text, error text, source_hash text)';
    create temporary table cohort_sync_rows on commit drop as
    with raw as (
        select t.ord::integer as ord,
               t.m,
               case when jsonb_typeof(t.m) = 'object' then private.normalize_email(t.m ->> 'email') collate "C" end as email,
               case when jsonb_typeof(t.m) = 'object' then nullif(btrim(t.m ->> 'first_name'), '') end as first_name,
               case when jsonb_typeof(t.m) = 'object' then nullif(btrim(t.m ->> 'last_name'), '') end as last_name,
               case when jsonb_typeof(t.m) = 'object' then nullif(btrim(t.m ->> 'circle_member_id'), '') end as circle_member_id,
               case when jsonb_typeof(t.m) = 'object' then coalesce(lower(btrim(t.m ->> 'status')), 'active') end as status
          from jsonb_array_elements(v_members) with ordinality as t(m, ord)
    ),
    checked as (
        select r.*,
               case
                   when jsonb_typeof(r.m) <> 'object' then 'member must be an object'
                   when r.email is null or r.email = '' then 'email is required'
                   when not private.is_valid_email(r.email) then 'invalid email'
                   when r.status not in ('active', 'inactive', 'revoked') then 'unknown status'
                   when char_length(r.first_name) > 200 or char_length(r.last_name) > 200
                        or char_length(r.circle_member_id) > 200 then 'field longer than 200 characters'
                   when pg_catalog.row_number() over (partition by r.email order by r.ord) > 1
                       then 'duplicate email in this delivery'
               end as error
          from raw r
    )
    select c.ord, c.m, c.email, c.first_name, c.last_name, c.circle_member_id, c.status, c.error,
           pg_catalog.md5(jsonb_build_array(c.email, c.first_name, c.last_name, c.circle_member_id, c.status)::text)
               as source_hash
      from checked c;
    -- The anti-joins below look rows up by e-mail. Without an index and statistics the planner
    -- takes the freshly written cohort for one row and picks a nested loop: quadratic, 18 s for
    -- a 20k-member snapshot, past the API's statement timeout. With them it is ~1 s.
    create index on pg_temp.cohort_sync_rows (email);
    analyze pg_temp.cohort_sync_rows;

    select count(*) filter (where r.error is null),
           coalesce(jsonb_agg(jsonb_build_object('index', r.ord - 1, 'email', r.m -> 'email', 'error', r.error)
                              order by r.ord) filter (where r.error is not null), '[]'::jsonb)
      into v_valid, v_errors
      from pg_temp.cohort_sync_rows r;

    if v_mode = 'snapshot' then
        -- Active members this snapshot would end: missing from it, or listed as inactive/revoked.
        -- An e-mail that appears only in an invalid row is left alone.
        select count(*),
               count(*) filter (
                   where not exists (
                       select 1 from pg_temp.cohort_sync_rows r
                        where r.email = m.email_key and (r.error is not null or r.status = 'active')
                   )
               )
          into v_active_before, v_would_deactivate
          from public.course_cohort_members m
         where m.cohort_id = v_cohort and m.status = 'active';
        if v_would_deactivate * 2 > v_active_before and not v_allow then
            raise exception 'snapshot would deactivate % of % active members of cohort %',
                    v_would_deactivate, v_active_before, v_cohort
                using errcode = 'PT409',
                      hint = 'Send "allow_mass_deactivation": true if this is intended.';
        end if;
    end if;

    -- Rows whose stored hash already matches are left out of the upsert altogether: its
    -- `where source_hash is distinct from` still locks, i.e. writes, every conflicting row (a
    -- repeated 50k snapshot wrote 2.7 MB of WAL and took 0.9 s of its 1.7 s in that statement).
    -- Found from the cohort's rows, probing the temp table's e-mail index by the canonical e-mail.
    with unchanged as (
        select r.ord
          from public.course_cohort_members m
          join pg_temp.cohort_sync_rows r on r.email = m.email_key and r.source_hash = m.source_hash
         where m.cohort_id = v_cohort
    ),
    upserted as (
        insert into public.course_cohort_members as m
               (cohort_id, email, first_name, last_name, circle_member_id, status, revoked_at,
                source_hash, last_synced_at)
        select v_cohort, r.email::extensions.citext, r.first_name, r.last_name, r.circle_member_id, r.status,
               case when r.status = 'active' then null else pg_catalog.now() end,
               r.source_hash, pg_catalog.now()
          from pg_temp.cohort_sync_rows r
         where r.error is null
           and r.ord not in (select u.ord from unchanged u)
        on conflict (cohort_id, email) do update
           set first_name = excluded.first_name,
               last_name = excluded.last_name,
               circle_member_id = excluded.circle_member_id,
               status = excluded.status,
               revoked_at = case when excluded.status = 'active' then null
                                 else coalesce(m.revoked_at, pg_catalog.now()) end,
               source_hash = excluded.source_hash,
               last_synced_at = excluded.last_synced_at
         where m.source_hash is distinct from excluded.source_hash
        returning (m.xmax = 0) as inserted
    )
    select count(*) filter (where u.inserted), count(*) filter (where not u.inserted)
      into v_inserted, v_updated
      from upserted u;

    if v_mode = 'snapshot' then
        update public.course_cohort_members m
           set status = 'inactive',
               revoked_at = pg_catalog.now(),
               source_hash = pg_catalog.md5(jsonb_build_array(m.email_key, m.first_name, m.last_name,
                                                              m.circle_member_id, 'inactive')::text),
               last_synced_at = pg_catalog.now()
         where m.cohort_id = v_cohort
           and m.status = 'active'
           and not exists (select 1 from pg_temp.cohort_sync_rows r where r.email = m.email_key);
        get diagnostics v_deactivated = row_count;
    end if;

    insert into public.course_cohort_sync_runs
           (delivery_id, cohort_id, mode, status, total_rows, inserted_count, updated_count,
            unchanged_count, deactivated_count, error_rows, started_at, finished_at)
    values (sync_cohort_members.delivery_id, v_cohort, v_mode,
            (case when jsonb_array_length(v_errors) > 0 then 'partial' else 'success' end)::public.cohort_sync_status,
            v_total, v_inserted, v_updated, v_valid - v_inserted - v_updated, v_deactivated, v_errors,
            v_started, pg_catalog.clock_timestamp())
    returning * into v_run;

    drop table pg_temp.cohort_sync_rows;
    return private.sync_run_summary(v_run, false);
end;
$$;
drop function public.record_failed_cohort_sync(text, text, text, text);
/**
 * Service role: record a delivery that failed (timeout, lost connection, input the database
 * refused, other server error) so operators see why. Does not block a retry of the same delivery
 * id. `reason` is one of timeout, connection_lost, bad_input, server_error.
 */
create function public.record_failed_cohort_sync(delivery_id text, cohort_id text, mode text, error text,
                                                 reason text default 'server_error')
    returns jsonb
    language plpgsql
    volatile
    security invoker
    set search_path = ''
as $$
declare
    v_id uuid;
begin
    if record_failed_cohort_sync.delivery_id is null or char_length(btrim(record_failed_cohort_sync.delivery_id)) = 0 then
        raise exception 'delivery_id is required' using errcode = '22023';
    end if;
    if record_failed_cohort_sync.reason is null
       or record_failed_cohort_sync.reason not in ('timeout', 'connection_lost', 'bad_input', 'server_error') then
        raise exception 'reason must be timeout, connection_lost, bad_input or server_error' using errcode = '22023';
    end if;
    insert into public.course_cohort_sync_runs
           (delivery_id, cohort_id, mode, status, failure_reason, error_message, finished_at)
    values (left(record_failed_cohort_sync.delivery_id, 200),
            left(record_failed_cohort_sync.cohort_id, 200),
            case when record_failed_cohort_sync.mode in ('snapshot', 'delta') then record_failed_cohort_sync.mode end,
            'failed',
            record_failed_cohort_sync.reason,
            left(record_failed_cohort_sync.error, 2000),
            pg_catalog.now())
    returning id into v_id;
    return jsonb_build_object('run_id', v_id, 'status', 'failed', 'failure_reason', record_failed_cohort_sync.reason);
end;
$$;
comment on function public.record_failed_cohort_sync(text, text, text, text, text) is
    'Service role: record a cohort-sync delivery that failed, and why (a retry may still apply it).';
revoke execute on function public.record_failed_cohort_sync(text, text, text, text, text) from public, anon, authenticated;
grant execute on function public.record_failed_cohort_sync(text, text, text, text, text) to service_role;
