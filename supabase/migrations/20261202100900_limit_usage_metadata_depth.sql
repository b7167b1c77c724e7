/**
 * Usage metadata nests at most 32 levels, in the database (issue 17, item 3). The table's check
 * covered type and size only; the depth limit lived in the function's model, so REST inserts and
 * RPC calls that bypass the function could store deeper documents. The function keeps its own
 * check as the early 422; this is the rule.
 *   - private.jsonb_depth(doc): container levels (a scalar 0, {} or [] 1, {"a": []} 2); the same
 *     count as functions/models.py MAX_JSON_DEPTH (containers at depth 0..31).
 *   - check prompt_usage_logs_metadata_depth_check: jsonb_depth(metadata) <= 32, after a cheap
 *     bound: a document with at most 32 '{' and '[' characters in its text cannot nest deeper
 *     (brackets inside strings only make the bound pessimistic), so the exact count (~20 us)
 *     runs only for documents with more brackets.
 */

/** How many container levels `doc` nests (0 for a scalar or NULL). */
create function private.jsonb_depth(doc jsonb)
    returns integer
    language plpgsql
    immutable
    parallel safe
    security invoker
    set search_path = ''
as $$
begin
    if doc is null or pg_catalog.jsonb_typeof(doc) not in ('object', 'array') then
        return 0;
    end if;
    return (
        with recursive level (v, d) as (
            select doc, 1
            union all
            select c.v, l.d + 1
              from level l
             cross join lateral (
                 select e.value from pg_catalog.jsonb_each(case when pg_catalog.jsonb_typeof(l.v) = 'object'
                                                                 then l.v else '{}'::jsonb end) e
                 union all
                 select a.value from pg_catalog.jsonb_array_elements(case when pg_catalog.jsonb_typeof(l.v) = 'array'
                                                                          then l.v else '[]'::jsonb end) a
             ) as c (v)
             where pg_catalog.jsonb_typeof(c.v) in ('object', 'array')
        )
        select max(level.d) from level
    );
end;
$$;
comment on function private.jsonb_depth(jsonb) is 'Container nesting levels of a JSON document (0 for a scalar).';
-- A check constraint runs with the privileges of whoever writes the row.
revoke execute on function private.jsonb_depth(jsonb) from public, anon;
grant execute on function private.jsonb_depth(jsonb) to authenticated, service_role;

alter table public.prompt_usage_logs
    add constraint prompt_usage_logs_metadata_depth_check check (
        metadata is null
        or char_length(metadata::text) - char_length(translate(metadata::text, '{[', '')) <= 32
        or private.jsonb_depth(metadata) <= 32
    ) not valid;
alter table public.prompt_usage_logs validate constraint prompt_usage_logs_metadata_depth_check;
