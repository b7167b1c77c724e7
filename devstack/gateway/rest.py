"""``/rest/v1/<table>``: reads and writes in PostgREST's statement shapes.

Every statement is ``WITH pgrst_source AS (<read or mutation>) SELECT total, page_total, body,
response.headers, response.status FROM (SELECT ... FROM pgrst_source) _postgrest_t``, so the
JSON comes from PostgreSQL's own ``json_agg`` and RLS, grants and triggers apply exactly as under
PostgREST.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import psycopg

from devstack.gateway import sqlbuild as sb
from devstack.gateway.catalog import Catalog, Snapshot, Table
from devstack.gateway.db import Database
from devstack.gateway.errors import ApiError, invalid_body, unsupported
from devstack.gateway.grammar import Preferences, parse_prefer, parse_range_header
from devstack.gateway.request import ApiRequest, ApiResponse, MediaType, negotiate

SCHEMA = "public"


@dataclass
class Context:
    """What every handler needs: the database, the schema cache and the row cap."""

    db: Database
    catalog: Catalog
    max_rows: int | None


# -- shared helpers --------------------------------------------------------------------------------
def find_table(ctx: Context, name: str) -> tuple[Snapshot, Table]:
    """The table from the schema cache (reloaded once on a miss), or PGRST205."""
    snap = ctx.catalog.snapshot
    table = snap.tables.get(name)
    if table is None:
        ctx.catalog.reload(seen_generation=None)
        snap = ctx.catalog.snapshot
        table = snap.tables.get(name)
    if table is None:
        close = difflib.get_close_matches(name, list(snap.tables), n=1, cutoff=0.75)
        raise ApiError(404, "PGRST205", f"Could not find the table '{SCHEMA}.{name}' in the schema cache",
                       hint=f"Perhaps you meant the table '{SCHEMA}.{close[0]}'" if close else None)
    return snap, table


def check_columns(ctx: Context, table: Table, names: list[str]) -> Table:
    """Reload once when a named column is unknown (the table may have changed)."""
    if all(n in table.columns for n in names):
        return table
    ctx.catalog.reload()
    fresh = ctx.catalog.snapshot.tables.get(table.name, table)
    return fresh


def effective_range(req: ApiRequest, spec: sb.ReadSpec, max_rows: int | None) -> tuple[int | None, int]:
    """(limit, offset) from limit/offset, the Range header (GET only) and max_rows."""
    offset = spec.offset
    limit = spec.limit
    if req.method in ("GET", "HEAD"):
        header = parse_range_header(req.header("range"))
        if header is not None:
            lower, upper = header
            h_limit = None if upper is None else upper - lower + 1
            offset = offset + lower if spec.offset else lower
            if h_limit is not None:
                limit = h_limit if limit is None else min(limit, h_limit)
    if max_rows is not None:
        limit = max_rows if limit is None else min(limit, max_rows)
    return limit, offset


def content_range(offset: int, page_total: int, total: int | None) -> str:
    """PostgREST's ``Content-Range`` for a read: ``0-9/123``, ``*/0``, ``0-9/*``."""
    total_text = "*" if total is None else str(total)
    if page_total > 0 and total != 0:
        return f"{offset}-{offset + page_total - 1}/{total_text}"
    return f"*/{total_text}"


def read_status(offset: int, page_total: int, total: int | None) -> int:
    """200, 206 (a partial page of a counted result) or 416 (offset past the end)."""
    if total is None:
        return 200
    if offset > total:
        return 416
    if page_total < total:
        return 206
    return 200


def apply_gucs(status: int, headers: list[tuple[str, str]], guc_headers: str | None,
               guc_status: str | None) -> tuple[int, list[tuple[str, str]]]:
    """``response.status`` and ``response.headers`` set by the SQL override PostgREST's own."""
    if guc_status is not None:
        try:
            status = int(guc_status)
            if not 100 <= status <= 999:
                raise ValueError
        except ValueError:
            raise ApiError(500, "PGRST112", "response.status guc must be a valid status code") from None
    if guc_headers is not None:
        try:
            items = json.loads(guc_headers)
            extra = []
            for obj in items:
                if not isinstance(obj, dict) or len(obj) != 1:
                    raise ValueError
                (k, v), = obj.items()
                if not isinstance(v, str):
                    raise ValueError
                extra.append((str(k), v))
        except (ValueError, TypeError):
            raise ApiError(500, "PGRST111", "response.headers guc must be a JSON array composed of "
                                            "objects with a single key and a string value") from None
        names = {k.lower() for k, _ in extra}
        headers = extra + [(k, v) for k, v in headers if k.lower() not in names]
    return status, headers


def singular_error(rows: int) -> ApiError:
    """406 PGRST116 when ``Accept: application/vnd.pgrst.object+json`` does not get one row."""
    return ApiError(406, "PGRST116", "Cannot coerce the result to a single JSON object",
                    details=f"The result contains {rows} rows")


def preference_applied(prefs: Preferences, *, mutation: str | None) -> list[tuple[str, str]]:
    """The ``Preference-Applied`` header PostgREST sends."""
    applied = []
    if mutation == "insert" and prefs.resolution:
        applied.append(f"resolution={prefs.resolution}")
    if mutation and prefs.representation:
        applied.append(f"return={prefs.representation}")
    if prefs.count:
        applied.append(f"count={prefs.count}")
    if mutation in ("insert", "update") and prefs.missing:
        applied.append(f"missing={prefs.missing}")
    if prefs.handling == "strict":
        applied.append("handling=strict")
    return [("Preference-Applied", ", ".join(applied))] if applied else []


def check_profile(req: ApiRequest) -> None:
    """``Accept-Profile``/``Content-Profile``: only ``public`` is served here."""
    name = "accept-profile" if req.method in ("GET", "HEAD") else "content-profile"
    schema = req.header(name)
    if schema is None or schema == SCHEMA:
        return
    if schema == "graphql_public":
        raise unsupported("The graphql_public schema")
    raise ApiError(406, "PGRST106", f"Invalid schema: {schema}",
                   hint="Only the following schemas are exposed: public, graphql_public")


def run_main(conn: psycopg.Connection, sql: str, params: sb.Params) -> tuple[Any, ...]:
    """Execute the main statement; it always returns exactly one row."""
    row = conn.execute(sql, params.values).fetchone()
    assert row is not None
    return row


# -- reads -----------------------------------------------------------------------------------------
def handle_read(ctx: Context, req: ApiRequest, name: str) -> ApiResponse:
    """GET/HEAD on a table or view."""
    check_profile(req)
    media = negotiate(req.header("accept"))
    prefs = parse_prefer(_prefer_values(req))
    spec, _ = sb.parse_query(req.query)
    snap, table = find_table(ctx, name)
    table = check_columns(ctx, table, _named_columns(spec))
    limit, offset = effective_range(req, spec, ctx.max_rows)
    exact = prefs.count == "exact"
    try:
        params, source, count_query = _read_statements(
            snap, table, spec, limit, offset, ctx.max_rows, exact)
    except ApiError as err:
        if not spec.has_embeds or err.code not in ("PGRST200", "42703"):
            raise
        # An embedded table, column or foreign key may be new: reload the schema cache once.
        ctx.catalog.reload()
        snap = ctx.catalog.snapshot
        table = snap.tables.get(table.name, table)
        params, source, count_query = _read_statements(
            snap, table, spec, limit, offset, ctx.max_rows, exact)
    headers_only = req.method == "HEAD"
    body = "''" if headers_only else sb.body_sql(media)
    count_cte = f", pgrst_source_count AS ({count_query})" if exact else ""
    total_expr = "(SELECT pg_catalog.count(*) FROM pgrst_source_count)" if exact else "null::bigint"
    sql = (f"WITH pgrst_source AS ({source}){count_cte} "
           f"SELECT {total_expr} AS total, pg_catalog.count(_postgrest_t) AS page_total, {body} AS body, "
           f"{sb.RESPONSE_GUCS_SQL} FROM (SELECT * FROM pgrst_source) _postgrest_t")

    with ctx.db.transaction(req, read_only=True, role_settings=snap.role_settings.get(req.role, ())) as conn:
        total, page_total, body_text, guc_headers, guc_status = run_main(conn, sql, params)
        if media.singular and page_total != 1:
            raise singular_error(page_total)

    status = read_status(offset, page_total, total)
    if status == 416:
        raise ApiError(416, "PGRST103", "Requested range not satisfiable",
                       details=f"An offset of {offset} was requested, but there are only {total} rows.")
    # URL-encoded: a header holds Latin-1 only and no CR/LF, a filter value may hold anything.
    qs = urlencode(req.query, safe=",.()*:!'\"")
    headers = [("Content-Range", content_range(offset, page_total, total)),
               ("Content-Location", f"/{table.name}" + (f"?{qs}" if qs else "")),
               ("Content-Type", media.content_type)]
    headers += preference_applied(prefs, mutation=None)
    status, headers = apply_gucs(status, headers, guc_headers, guc_status)
    return ApiResponse(status, headers, b"" if headers_only else body_text.encode())


def _read_statements(snap: Snapshot, table: Table, spec: sb.ReadSpec, limit: int | None, offset: int,
                     max_rows: int | None, exact: bool) -> tuple[sb.Params, str, str]:
    """(params, source, exact count query) of a read.

    The exact count query shares the main statement's parameters (it is a CTE of it), so it is
    only built when asked for: an unreferenced parameter would have no type.
    """
    params = sb.Params()
    root = sb.plan_read(snap, table, spec, limit, offset, max_rows, SCHEMA)
    source = sb.read_sql(root, params)
    count_query = sb.count_sql(root, params) if exact else ""
    return params, source, count_query


def _named_columns(spec: sb.ReadSpec) -> list[str]:
    names = [i.field.name for i in spec.select if isinstance(i, sb.SelectItem) and i.field is not None]
    names += [t.field.name for t in spec.order]
    stack: list[Any] = list(spec.conditions)
    while stack:
        cond = stack.pop()
        if hasattr(cond, "children"):
            stack.extend(cond.children)
        else:
            names.append(cond.field.name)
    names += spec.columns or []
    names += spec.on_conflict or []
    return names


def _prefer_values(req: ApiRequest) -> list[str]:
    value = req.header("prefer")
    return [value] if value else []


# -- writes ----------------------------------------------------------------------------------------
def handle_write(ctx: Context, req: ApiRequest, name: str) -> ApiResponse:
    """POST (insert/upsert), PATCH (update) and DELETE on a table or view."""
    check_profile(req)
    media = negotiate(req.header("accept"))
    prefs = parse_prefer(_prefer_values(req))
    spec, _ = sb.parse_query(req.query)
    if spec.has_embeds or spec.embedded:
        raise unsupported(f"Resource embedding on {req.method}")
    if req.method in ("PATCH", "DELETE") and (spec.limit is not None or spec.offset or spec.order):
        raise unsupported(f"limit/offset/order on {req.method}")
    snap, table = find_table(ctx, name)
    table = check_columns(ctx, table, _named_columns(spec))

    payload: Any = None
    body_keys: list[str] = []
    if req.method in ("POST", "PATCH"):
        payload = req.json_body()
        body_keys = _payload_keys(req.method, payload, spec.columns)
        table = check_columns(ctx, table, body_keys)
        for key in body_keys:
            if key not in table.columns:
                raise ApiError(400, "PGRST204",
                               f"Could not find the '{key}' column of '{table.name}' in the schema cache")

    qual = f"{sb.ident(SCHEMA)}.{sb.ident(table.name)}"
    target = sb.Relation(qual, table.name, frozenset(table.columns))
    source = sb.Relation('"pgrst_source"', table.name, frozenset(table.columns))
    params = sb.Params()
    representation = prefs.representation == "representation"
    # return=headers-only on an insert: a Location header naming the row by its primary key.
    headers_only = prefs.representation == "headers-only" and req.method == "POST" and bool(table.pk)
    merge = req.method == "POST" and prefs.resolution == "merge-duplicates"
    track_inserted = merge and representation and table.kind in ("r", "p")

    if representation:
        cols = sb.returned_columns(list(table.columns), spec.select)
        returning = (f"{qual}.*" if cols is None
                     else ", ".join(f"{qual}.{sb.ident(c)}" for c in cols) or "1")
        if track_inserted:
            # xmax = 0 on a freshly inserted row; an upsert that only updated answers 200.
            returning += f", ({qual}.xmax = 0) AS pgrst_inserted"
    elif headers_only:
        returning = ", ".join(f"{qual}.{sb.ident(c)}" for c in table.pk)
    else:
        returning = "1"

    mutation: str | None
    if req.method == "POST":
        mutation = _insert_sql(table, qual, payload, req.body_text, body_keys, spec, prefs, params)
    elif req.method == "PATCH":
        mutation = _update_sql(table, qual, target, payload, req.body_text, body_keys, spec, params)
    else:
        mutation = f"DELETE FROM {qual}{sb.where_sql(target, spec.conditions, params)}"
    if mutation is None:
        # A PATCH body naming no column: PostgREST answers without touching the table.
        mutation = f"SELECT {returning} FROM {qual} WHERE false"
    else:
        mutation += f" RETURNING {returning}"

    if representation:
        if track_inserted and any(i.field is None for i in spec.select):
            select = ", ".join(f'"pgrst_source".{sb.ident(c)}' for c in table.columns)
        else:
            select = sb.select_sql(source, spec.select, params)
        body = sb.body_sql(media)
    elif headers_only:
        select = ", ".join(f'"pgrst_source".{sb.ident(c)}' for c in table.pk)
        body = sb.body_sql(MediaType())
    else:
        select, body = "*", "''"
    inserted = ("(SELECT pg_catalog.count(*) FROM pgrst_source WHERE pgrst_inserted)"
                if track_inserted else "null::bigint")
    sql = (f"WITH pgrst_source AS ({mutation}) "
           f"SELECT {inserted} AS inserted, pg_catalog.count(_postgrest_t) AS page_total, {body} AS body, "
           f"{sb.RESPONSE_GUCS_SQL} FROM (SELECT {select} FROM pgrst_source) _postgrest_t")

    with ctx.db.transaction(req, read_only=False, role_settings=snap.role_settings.get(req.role, ())) as conn:
        inserted_count, page_total, body_text, guc_headers, guc_status = run_main(conn, sql, params)
        if media.singular and representation and page_total != 1:
            raise singular_error(page_total)

    count = page_total if prefs.count else None
    headers: list[tuple[str, str]] = []
    if req.method == "POST":
        status = 200 if (track_inserted and inserted_count == 0 and page_total > 0) else 201
        headers.append(("Content-Range", f"*/{'*' if count is None else count}"))
        mutation_kind = "insert"
        if headers_only and page_total == 1:
            headers.append(("Location", _location(table.name, json.loads(body_text)[0])))
    elif req.method == "PATCH":
        status = 200 if representation else 204
        headers.append(("Content-Range", content_range(0, page_total, count) if page_total
                        else f"*/{'*' if count is None else count}"))
        mutation_kind = "update"
    else:
        status = 200 if representation else 204
        headers.append(("Content-Range", f"*/{'*' if count is None else count}"))
        mutation_kind = "delete"
    if representation:
        headers.append(("Content-Type", media.content_type))
    headers += preference_applied(prefs, mutation=mutation_kind)
    status, headers = apply_gucs(status, headers, guc_headers, guc_status)
    return ApiResponse(status, headers, body_text.encode() if representation else b"")


def _location(table: str, pk_values: dict[str, Any]) -> str:
    """``/table?id=eq.1`` for the inserted row (``is.null`` for a null key), URL-encoded."""
    query = urlencode([(k, "is.null" if v is None else f"eq.{v}") for k, v in pk_values.items()])
    return f"/{table}?{query}"


def _payload_keys(method: str, payload: Any, columns: list[str] | None) -> list[str]:
    """The columns a POST/PATCH body writes, checked as PostgREST checks them."""
    if isinstance(payload, dict):
        rows = [payload]
    elif isinstance(payload, list) and method == "POST":
        rows = payload
        if not all(isinstance(r, dict) for r in rows):
            raise invalid_body("All object keys must match")
    elif isinstance(payload, list):
        raise unsupported("PATCH with a JSON array body")
    else:
        raise invalid_body("Empty or invalid json")
    if columns is not None:
        return list(dict.fromkeys(columns))
    keys = list(rows[0].keys()) if rows else []
    key_set = set(keys)
    if any(set(r.keys()) != key_set for r in rows[1:]):
        raise invalid_body("All object keys must match")
    return keys


def _json_body_sql(table: Table, payload: Any, raw: str, keys: list[str], params: sb.Params,
                   defaults: bool, limit_one: bool) -> str:
    """``FROM (SELECT $1 AS json_data) pgrst_payload, LATERAL (...) pgrst_body`` (PostgREST's shape).

    ``raw`` is the request body as sent: PostgreSQL parses the numbers, not Python.
    """
    is_object = isinstance(payload, dict)
    placeholder = params.add(raw)
    json_type = "jsonb" if defaults else "json"
    sql = f"FROM (SELECT {placeholder}::{json_type} AS json_data) pgrst_payload, "
    body_ref = "pgrst_payload.json_data"
    if defaults:
        defs = [f"{sb.literal(k)}, {table.columns[k].default}" for k in keys
                if table.columns[k].default is not None and not table.columns[k].generated]
        build = f"jsonb_build_object({', '.join(defs)})"
        if is_object:
            sql += f"LATERAL (SELECT {build} || pgrst_payload.json_data AS val) pgrst_json_defs, "
        else:
            sql += (f"LATERAL (SELECT jsonb_agg({build} || elem) AS val "
                    f"FROM jsonb_array_elements(pgrst_payload.json_data) elem) pgrst_json_defs, ")
        body_ref = "pgrst_json_defs.val"
    prefix = "jsonb" if defaults else "json"
    if not keys:
        rows = "(values(1)) _" if is_object else f"{prefix}_array_elements({body_ref}) _"
        return sql + f"LATERAL (SELECT FROM {rows}) pgrst_body"
    typed = ", ".join(f"{sb.ident(k)} {table.columns[k].type}" for k in keys)
    fn = f"{prefix}_to_record" if is_object else f"{prefix}_to_recordset"
    cols = ", ".join(sb.ident(k) for k in keys)
    limit = " LIMIT 1" if limit_one else ""
    return sql + f"LATERAL (SELECT {cols} FROM {fn}({body_ref}) AS _({typed}){limit}) pgrst_body"


def _insert_sql(table: Table, qual: str, payload: Any, raw: str, keys: list[str], spec: sb.ReadSpec,
                prefs: Preferences, params: sb.Params) -> str:
    """``INSERT INTO t(cols) SELECT ... FROM <typed body> [ON CONFLICT ...]`` (PostgREST's shape)."""
    cols = ", ".join(sb.ident(k) for k in keys)
    named = ", ".join(f"pgrst_body.{sb.ident(k)}" for k in keys)
    body = _json_body_sql(table, payload, raw, keys, params, defaults=prefs.missing == "default",
                          limit_one=False)
    sql = f"INSERT INTO {qual}" + (f"({cols}) " if keys else " ") + f"SELECT {named} {body}"
    if spec.conditions:
        raise unsupported("Filters on POST")
    if prefs.resolution:
        conflict = spec.on_conflict if spec.on_conflict is not None else list(table.pk)
        for col in conflict:
            if col not in table.columns:
                raise sb.column_error(table.name, col)
        if conflict:
            target = ", ".join(sb.ident(c) for c in conflict)
            if prefs.resolution == "ignore-duplicates" or not keys:
                sql += f" ON CONFLICT({target}) DO NOTHING"
            else:
                sets = ", ".join(f"{sb.ident(k)} = EXCLUDED.{sb.ident(k)}" for k in keys)
                sql += f" ON CONFLICT({target}) DO UPDATE SET {sets}"
    return sql


def _update_sql(table: Table, qual: str, target: sb.Relation, payload: Any, raw: str, keys: list[str],
                spec: sb.ReadSpec, params: sb.Params) -> str | None:
    """``UPDATE ... SET col = pgrst_body.col FROM <typed body> WHERE ...``; None for an empty body."""
    if not keys:
        return None
    sets = ", ".join(f"{sb.ident(k)} = pgrst_body.{sb.ident(k)}" for k in keys)
    body = _json_body_sql(table, payload, raw, keys, params, defaults=False, limit_one=True)
    where = sb.where_sql(target, spec.conditions, params)
    return f"UPDATE {qual} SET {sets} {body}{where}"
