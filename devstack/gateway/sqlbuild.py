"""SQL fragments built from the parsed grammar, in the shapes PostgREST's query builder uses.

Rules: every identifier is looked up in the catalog (`Relation.columns`) before it is quoted;
every value from the request is a bound parameter (``$n``, sent as type ``unknown`` so PostgreSQL
types it from the column, as PostgREST's ``unknownLiteral`` does). Only three things are written
into SQL text: quoted identifiers found in the catalog, casts matching ``[A-Za-z0-9_]+``, and
column-default expressions read from the catalog itself (``Prefer: missing=default``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from devstack.gateway.errors import ApiError, unsupported
from devstack.gateway.grammar import (
    ALL_OPERATORS,
    FTS_OPERATORS,
    IS_VALUES,
    QUANT_OPERATORS,
    RESERVED_PARAMS,
    SIMPLE_OPERATORS,
    Field,
    Filter,
    Logic,
    OrderTerm,
    SelectItem,
    parse_columns,
    parse_filter_key,
    parse_logic,
    parse_nonneg_int,
    parse_operation,
    parse_order,
    parse_select,
)
from devstack.gateway.request import MediaType

_INT_KEY = re.compile(r"^-?[0-9]+$")


def ident(name: str) -> str:
    """A quoted identifier (NUL-truncated as PostgREST does)."""
    name = name.split("\x00", 1)[0]
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal, for names that come from the catalog itself."""
    return "'" + text.replace("'", "''") + "'"


class Params:
    """The bound parameters of one statement."""

    def __init__(self) -> None:
        self.values: list[object] = []

    def add(self, value: object) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


@dataclass(frozen=True)
class Relation:
    """What identifiers are checked against: a table, or the ``pgrst_source`` CTE."""

    qualifier: str  # SQL, e.g. "public"."prompts"
    label: str  # for messages, e.g. prompts
    columns: frozenset[str]


def column_error(label: str, column: str) -> ApiError:
    """PostgreSQL's 42703 (what PostgREST forwards for an unknown column in a read)."""
    return ApiError(400, "42703", f"column {label}.{column} does not exist")


@dataclass
class ReadSpec:
    """The read part of a request: select, filters, order, range; plus columns/on_conflict."""

    select: list[SelectItem] = field(default_factory=lambda: [SelectItem(None)])
    select_given: bool = False
    conditions: list[Filter | Logic] = field(default_factory=list)
    order: list[OrderTerm] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0
    columns: list[str] | None = None
    on_conflict: list[str] | None = None


def parse_query(query: list[tuple[str, str]], *, rpc_args: bool = False) -> tuple[ReadSpec, list[tuple[str, str]]]:
    """Split the query string into a ReadSpec and (for GET /rpc) the function arguments.

    For RPC reads, a parameter whose value does not start with a known operator is an argument,
    as in PostgREST.
    """
    spec = ReadSpec()
    args: list[tuple[str, str]] = []
    for key, value in query:
        if key == "select":
            spec.select = parse_select(value)
            spec.select_given = True
        elif key == "order":
            spec.order = parse_order(value)
        elif key == "limit":
            spec.limit = parse_nonneg_int("limit", value)
        elif key == "offset":
            spec.offset = parse_nonneg_int("offset", value)
        elif key == "columns":
            spec.columns = parse_columns(value)
        elif key == "on_conflict":
            spec.on_conflict = parse_columns(value)
        elif key in ("or", "and", "not.or", "not.and"):
            spec.conditions.append(parse_logic(key, value))
        elif key.endswith((".or", ".and", ".order", ".limit", ".offset", ".select")) and key not in RESERVED_PARAMS:
            raise unsupported(f"Parameters on embedded resources ('{key}')")
        elif rpc_args and not _looks_like_filter(value):
            args.append((key, value))
        else:
            spec.conditions.append(parse_operation(parse_filter_key(key), value))
    return spec, args


def _looks_like_filter(value: str) -> bool:
    rest = value[4:] if value.startswith("not.") else value
    op = rest.partition(".")[0].split("(", 1)[0]
    return "." in rest and op in ALL_OPERATORS


# -- fragments ------------------------------------------------------------------------------------
def field_sql(rel: Relation, fld: Field, params: Params) -> str:
    """``"t"."col"->$1->>$2``, after checking the column."""
    if fld.name not in rel.columns:
        raise column_error(rel.label, fld.name)
    sql = f"{rel.qualifier}.{ident(fld.name)}"
    for arrow, key in fld.path:
        if _INT_KEY.match(key):
            sql += f"{arrow}{params.add(key)}::int"
        else:
            sql += f"{arrow}{params.add(key)}"
    return sql


def select_sql(rel: Relation, items: list[SelectItem], params: Params) -> str:
    """The select list of a read."""
    parts = []
    for item in items:
        if item.field is None:
            parts.append(f"{rel.qualifier}.*")
            continue
        sql = field_sql(rel, item.field, params)
        if item.cast:
            sql = f"CAST({sql} AS {item.cast})"
        alias = item.alias or item.field.default_alias
        parts.append(f"{sql} AS {ident(alias)}")
    return ", ".join(parts)


def returned_columns(rel_columns: list[str], items: list[SelectItem]) -> list[str] | None:
    """The table columns a mutation must RETURN for ``select`` (None means all)."""
    names: list[str] = []
    for item in items:
        if item.field is None:
            return None
        if item.field.name not in rel_columns:
            continue  # reported by select_sql against pgrst_source
        if item.field.name not in names:
            names.append(item.field.name)
    return names


def condition_sql(rel: Relation, cond: Filter | Logic, params: Params) -> str:
    """One filter or logic tree as a boolean SQL expression."""
    if isinstance(cond, Logic):
        joiner = " AND " if cond.op == "and" else " OR "
        inner = joiner.join(condition_sql(rel, child, params) for child in cond.children)
        return f"{'NOT ' if cond.negated else ''}({inner})"
    target = field_sql(rel, cond.field, params)
    op, value, mod = cond.op, cond.value, cond.modifier
    if op == "is":
        sql = f"{target} IS {IS_VALUES[str(value)]}"
    elif op == "isdistinct":
        sql = f"{target} IS DISTINCT FROM {params.add(value)}"
    elif op == "in":
        assert isinstance(value, list)
        sql = (f"{target} = ANY('{{}}')" if not value
               else f"{target} = ANY({params.add(array_literal(value))})")
    elif op in FTS_OPERATORS:
        lang = f"{params.add(mod)}, " if mod else ""
        sql = f"{target} @@ {FTS_OPERATORS[op]}({lang}{params.add(value)})"
    elif op in SIMPLE_OPERATORS:
        sql = f"{target} {SIMPLE_OPERATORS[op]} {params.add(value)}"
    else:
        text = str(value)
        if op in ("like", "ilike"):
            text = text.replace("*", "%")
        placeholder = params.add(text)
        if mod == "any":
            placeholder = f"ANY({placeholder})"
        elif mod == "all":
            placeholder = f"ALL({placeholder})"
        sql = f"{target} {QUANT_OPERATORS[op]} {placeholder}"
    return f"NOT {sql}" if cond.negated else sql


def where_sql(rel: Relation, conditions: list[Filter | Logic], params: Params) -> str:
    """`` WHERE a AND b`` or an empty string."""
    if not conditions:
        return ""
    return " WHERE " + " AND ".join(condition_sql(rel, c, params) for c in conditions)


def order_sql(rel: Relation, terms: list[OrderTerm], params: Params) -> str:
    """`` ORDER BY ...`` or an empty string."""
    if not terms:
        return ""
    parts = []
    for term in terms:
        sql = field_sql(rel, term.field, params)
        if term.direction:
            sql += " " + term.direction.upper()
        if term.nulls:
            sql += " NULLS FIRST" if term.nulls == "nullsfirst" else " NULLS LAST"
        parts.append(sql)
    return " ORDER BY " + ", ".join(parts)


def range_sql(limit: int | None, offset: int, params: Params) -> str:
    """`` LIMIT $n OFFSET $m`` or an empty string."""
    if limit is None and offset == 0:
        return ""
    lim = "ALL" if limit is None else params.add(limit)
    return f" LIMIT {lim} OFFSET {params.add(offset)}"


def array_literal(values: list[str]) -> str:
    """A PostgreSQL array literal with every element quoted (typed by the column via ``unknown``)."""
    quoted = ['"' + v.split("\x00", 1)[0].replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values]
    return "{" + ",".join(quoted) + "}"


def body_sql(media: MediaType, kind: str = "rows", returns_set: bool = True) -> str:
    """The JSON aggregate of ``_postgrest_t`` for the response body, as text.

    kind: "rows" (tables, composite results) or "scalar" (functions returning a scalar).
    """
    target = "_postgrest_t.pgrst_scalar" if kind == "scalar" else "_postgrest_t"
    agg = f"json_agg({target})"
    if media.strip_nulls:
        agg = f"json_strip_nulls({agg})"
    if media.singular or not returns_set:
        return f"coalesce(({agg})->0, 'null')::text"
    return f"coalesce({agg}, '[]')::text"


RESPONSE_GUCS_SQL = ("nullif(current_setting('response.headers', true), '') AS response_headers, "
                     "nullif(current_setting('response.status', true), '') AS response_status")
