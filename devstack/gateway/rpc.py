"""``/rest/v1/rpc/<fn>``: function calls typed through the function's signature, as PostgREST does.

POST: the JSON object's keys are the named arguments; they are read with
``json_to_record($1) AS _(arg type, ...)`` and passed as ``fn(arg := pgrst_body.arg)``, so the
values are always parameters and PostgreSQL types them from the signature. A function with a single
unnamed json/jsonb parameter receives the whole body. GET/HEAD: the query-string parameters that are
not filters are the arguments (all text, typed the same way); the transaction is read-only, so a
function that writes fails with 25006 → 405, exactly like PostgREST.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from devstack.gateway import sqlbuild as sb
from devstack.gateway.catalog import Routine
from devstack.gateway.errors import ApiError
from devstack.gateway.grammar import parse_prefer
from devstack.gateway.request import ApiRequest, ApiResponse, negotiate
from devstack.gateway.rest import (
    SCHEMA,
    Context,
    apply_gucs,
    check_profile,
    content_range,
    effective_range,
    preference_applied,
    read_status,
    run_main,
    singular_error,
)

JSON_TYPES = ("json", "jsonb")


def handle_rpc(ctx: Context, req: ApiRequest, name: str) -> ApiResponse:
    """Call ``public.<name>`` for GET, HEAD or POST."""
    if req.method not in ("GET", "HEAD", "POST"):
        raise ApiError(405, "PGRST101", f"Cannot use the {req.method} method on RPC")
    check_profile(req)
    media = negotiate(req.header("accept"))
    prefs = parse_prefer([req.header("prefer")] if req.header("prefer") else [])
    is_post = req.method == "POST"
    spec, arg_pairs = sb.parse_query(req.query, rpc_args=not is_post)
    payload: Any
    if is_post:
        payload = {} if req.body.strip() == b"" else req.json_body()
    else:
        payload = {}
        for key, value in arg_pairs:
            payload.setdefault(key, []).append(value)
    routine = _find_routine(ctx, name, payload, is_post)
    if not is_post:
        payload = {k: (v if _param(routine, k).variadic else v[-1]) for k, v in payload.items()}

    params = sb.Params()
    raw = req.body_text if is_post and req.body.strip() else json.dumps(payload, separators=(",", ":"))
    call = _call_sql(routine, payload, raw, params)
    scalar = routine.kind in ("scalar", "void")
    if scalar:
        columns = frozenset({"pgrst_scalar"})
    else:
        columns = frozenset(routine.columns or ())
    rel = sb.Relation('"pgrst_source"', name, columns)
    limit, offset = effective_range(req, spec, ctx.max_rows if routine.returns_set else None)
    if scalar:
        select = '"pgrst_source".pgrst_scalar'
    else:
        select = sb.select_sql(rel, spec.select, params)
    where = sb.where_sql(rel, spec.conditions, params)
    order = sb.order_sql(rel, spec.order, params)
    rng = sb.range_sql(limit, offset, params)
    exact = prefs.count in ("exact", "estimated", "planned")
    count_cte = f", pgrst_source_count AS (SELECT 1 FROM pgrst_source{where})" if exact else ""
    total = "(SELECT pg_catalog.count(*) FROM pgrst_source_count)" if exact else "null::bigint"
    headers_only = req.method == "HEAD" or routine.kind == "void"
    body = "''" if headers_only else sb.body_sql(media, "scalar" if scalar else "rows", routine.returns_set)
    sql = (f"WITH pgrst_source AS ({call}){count_cte} "
           f"SELECT {total} AS total, pg_catalog.count(_postgrest_t) AS page_total, {body} AS body, "
           f"{sb.RESPONSE_GUCS_SQL} "
           f"FROM (SELECT {select} FROM pgrst_source{where}{order}{rng}) _postgrest_t")

    read_only = not is_post or routine.volatility in ("s", "i")
    snap = ctx.catalog.snapshot
    with ctx.db.transaction(req, read_only=read_only, role_settings=snap.role_settings.get(req.role, ())) as conn:
        total_rows, page_total, body_text, guc_headers, guc_status = run_main(conn, sql, params)
        if media.singular and page_total != 1:
            raise singular_error(page_total)

    headers = [("Content-Range", content_range(offset, page_total, total_rows))]
    if routine.kind == "void":
        status = 204
    else:
        status = read_status(offset, page_total, total_rows)
        if status == 416:
            raise ApiError(416, "PGRST103", "Requested range not satisfiable",
                           details=f"An offset of {offset} was requested, but there are only {total_rows} rows.")
        headers.append(("Content-Type", media.content_type))
    headers += preference_applied(prefs, mutation=None)
    status, headers = apply_gucs(status, headers, guc_headers, guc_status)
    return ApiResponse(status, headers, b"" if headers_only else body_text.encode())


def _param(routine: Routine, name: str):
    return next(p for p in routine.params if p.name == name)


def _single_json_param(routine: Routine) -> bool:
    return len(routine.params) == 1 and routine.params[0].name == "" and routine.params[0].type in JSON_TYPES


def _matches(routine: Routine, payload: Any, is_post: bool) -> bool:
    if is_post and _single_json_param(routine):
        return True
    if not isinstance(payload, dict):
        return False
    if any(p.name == "" for p in routine.params):
        return False
    keys = set(payload)
    return keys <= routine.names and routine.required <= keys


def _find_routine(ctx: Context, name: str, payload: Any, is_post: bool) -> Routine:
    """The one overload of ``name`` the arguments select (schema cache reloaded once on a miss)."""
    for attempt in (0, 1):
        snap = ctx.catalog.snapshot
        candidates = [r for r in snap.routines.get(name, ()) if _matches(r, payload, is_post)]
        if len(candidates) > 1:
            exact = [r for r in candidates
                     if isinstance(payload, dict) and r.names == set(payload) and not _single_json_param(r)]
            candidates = exact if len(exact) == 1 else candidates
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            described = ", ".join(
                f"{SCHEMA}.{name}(" + ", ".join(f"{p.name} => {p.type}" for p in r.params) + ")"
                for r in candidates)
            raise ApiError(300, "PGRST203",
                           f"Could not choose the best candidate function between: {described}",
                           hint="Try renaming the parameters or the function itself in the database "
                                "so function overloading can be resolved")
        if attempt == 0:
            ctx.catalog.reload()
    keys = sorted(payload) if isinstance(payload, dict) else []
    func = f"{SCHEMA}.{name}"
    if keys:
        message = f"Could not find the function {func}({', '.join(keys)}) in the schema cache"
        searched = f" with parameter{'s' if len(keys) > 1 else ''} {', '.join(keys)}"
    else:
        message = f"Could not find the function {func} without parameters in the schema cache"
        searched = " without parameters"
    if is_post:
        searched += " or with a single unnamed json/jsonb parameter"
    close = difflib.get_close_matches(name, list(ctx.catalog.snapshot.routines), n=1, cutoff=0.75)
    hint = f"Perhaps you meant to call the function {SCHEMA}.{close[0]}" if close and close[0] != name else None
    raise ApiError(404, "PGRST202", message,
                   details=f"Searched for the function {func}{searched}, but no matches were found "
                           "in the schema cache.",
                   hint=hint)


def _call_sql(routine: Routine, payload: Any, raw: str, params: sb.Params) -> str:
    """``SELECT ... FROM <typed arguments>, LATERAL public.fn(arg := pgrst_body.arg) pgrst_call``."""
    fn = f"{sb.ident(SCHEMA)}.{sb.ident(routine.name)}"
    scalar = routine.kind in ("scalar", "void")
    if _single_json_param(routine):
        args = f"{params.add(raw)}::{routine.params[0].type}"
        source = ""
    elif payload:
        keys = [p for p in routine.params if p.name in payload]
        placeholder = params.add(raw)
        typed = ", ".join(f"{sb.ident(p.name)} {p.type}" for p in keys)
        cols = ", ".join(sb.ident(p.name) for p in keys)
        source = (f"FROM (SELECT {placeholder}::json AS json_data) pgrst_payload, "
                  f"LATERAL (SELECT {cols} FROM json_to_record(pgrst_payload.json_data) AS _({typed}) LIMIT 1) "
                  f"pgrst_body, ")
        args = ", ".join(f"{'VARIADIC ' if p.variadic else ''}{sb.ident(p.name)} := pgrst_body.{sb.ident(p.name)}"
                         for p in keys)
    else:
        args, source = "", ""
    if scalar:
        call = f"(SELECT {fn}({args}) pgrst_scalar) pgrst_call"
        select = "pgrst_call.pgrst_scalar"
    else:
        call = f"{fn}({args}) pgrst_call"
        select = "pgrst_call.*"
    if source:
        return f"SELECT {select} {source}LATERAL {call}"
    return f"SELECT {select} FROM {call}"
