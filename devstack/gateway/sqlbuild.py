"""SQL fragments built from the parsed grammar, in the shapes PostgREST's query builder uses.

Rules: every identifier is looked up in the catalog (`Relation.columns`) before it is quoted;
every value from the request is a bound parameter (``$n``, sent as type ``unknown`` so PostgreSQL
types it from the column, as PostgREST's ``unknownLiteral`` does). Only three things are written
into SQL text: quoted identifiers found in the catalog, casts matching ``[A-Za-z0-9_]+``, and
column-default expressions read from the catalog itself (``Prefer: missing=default``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from devstack.gateway.catalog import EXPOSED_SCHEMA, Relationship, Snapshot, Table, find_relationship
from devstack.gateway.errors import ApiError, unsupported
from devstack.gateway.grammar import (
    IS_VALUES,
    KNOWN_OPERATORS,
    LOGIC_KEYS,
    QUANT_OPERATORS,
    SIMPLE_OPERATORS,
    Embed,
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
    split_path,
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
class EmbedParams:
    """Filters, logic trees, order and range of one embedded resource (``rel.col=...``)."""

    conditions: list[Filter | Logic] = field(default_factory=list)
    order: list[OrderTerm] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0


@dataclass
class ReadSpec:
    """The read part of a request: select, filters, order, range; plus columns/on_conflict.

    ``embedded`` holds the parameters of embedded resources by their path of output keys
    (alias, else relation name), e.g. ``("prompt_versions",)``.
    """

    select: list[SelectItem | Embed] = field(default_factory=lambda: [SelectItem(None)])
    select_given: bool = False
    conditions: list[Filter | Logic] = field(default_factory=list)
    order: list[OrderTerm] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0
    columns: list[str] | None = None
    on_conflict: list[str] | None = None
    embedded: dict[tuple[str, ...], EmbedParams] = field(default_factory=dict)

    @property
    def has_embeds(self) -> bool:
        return any(isinstance(i, Embed) for i in self.select)


#: Parameter names that, after ``rel.``, address an embedded resource instead of a column.
EMBEDDABLE_PARAMS = ("order", "limit", "offset", "or", "and")


def parse_query(query: list[tuple[str, str]], *, rpc_args: bool = False) -> tuple[ReadSpec, list[tuple[str, str]]]:
    """Split the query string into a ReadSpec and (for GET /rpc) the function arguments.

    For RPC reads, a parameter whose value does not start with a known operator is an argument,
    as in PostgREST.
    """
    spec = ReadSpec()
    args: list[tuple[str, str]] = []
    embedded: list[tuple[tuple[str, ...], str, str, str]] = []  # resolved once select is known
    for key, value in query:
        if key == "select":
            spec.select = parse_select(value)
            spec.select_given = True
        elif key == "columns":
            spec.columns = parse_columns(value)
        elif key == "on_conflict":
            spec.on_conflict = parse_columns(value)
        elif key in ("order", "limit", "offset") or key in LOGIC_KEYS:
            _apply_param(spec, key, key, value)
        elif "." in key and split_path(key)[-1] in EMBEDDABLE_PARAMS:
            parts = split_path(key)
            path, last = tuple(parts[:-1]), parts[-1]
            if last in ("or", "and") and path and path[-1] == "not":
                path, last = path[:-1], f"not.{last}"
            embedded.append((path, last, key, value))
        elif rpc_args and not _looks_like_filter(value):
            args.append((key, value))
        elif parse_filter_key(key)[0]:  # rel.col=op.value
            embedded.append((parse_filter_key(key)[0], "filter", key, value))
        else:  # col=op.value
            _apply_param(spec, "filter", key, value)
    for path, what, key, value in embedded:
        target = spec.embedded.setdefault(_embed_path(spec.select, path), EmbedParams())
        _apply_param(target, what, key, value)
    return spec, args


def _apply_param(target: ReadSpec | EmbedParams, what: str, key: str, value: str) -> None:
    """One order/limit/offset/filter/logic parameter, on the top level or an embedded resource."""
    if what == "order":
        target.order = parse_order(value)
    elif what in ("limit", "offset"):
        setattr(target, what, parse_nonneg_int(what, value))
    elif what == "filter":
        target.conditions.append(parse_operation(parse_filter_key(key)[1], value))
    else:
        target.conditions.append(parse_logic(what, value))


def _embed_path(select: list[SelectItem | Embed] | tuple, path: tuple[str, ...]) -> tuple[str, ...]:
    """The path of output keys for ``path`` (each element a relation name or alias), or PGRST108."""
    keys: list[str] = []
    items = select
    for element in path:
        found = next((i for i in items if isinstance(i, Embed) and element in (i.name, i.alias)), None)
        if found is None:
            raise ApiError(400, "PGRST108", f"'{element}' is not an embedded resource in this request",
                           hint=f"Verify that '{element}' is included in the 'select' query parameter.")
        keys.append(found.key)
        items = found.select
    return tuple(keys)


def _looks_like_filter(value: str) -> bool:
    rest = value[4:] if value.startswith("not.") else value
    op = rest.partition(".")[0].split("(", 1)[0]
    return "." in rest and op in KNOWN_OPERATORS


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


def select_sql(rel: Relation, items: list[SelectItem] | list[SelectItem | Embed], params: Params) -> str:
    """The select list of a read (columns only: embeds are built by `read_sql`)."""
    parts = []
    for item in items:
        if isinstance(item, Embed):
            raise unsupported(f"Resource embedding on writes and RPC results ('{item.key}')")
        if item.field is None:
            parts.append(f"{rel.qualifier}.*")
            continue
        if (item.field.name == "count" and not item.field.path and item.cast is None
                and "count" not in rel.columns):
            # PostgREST's legacy ``select=count`` / ``rel(count)``: PostgreSQL reads ``t.count``
            # as ``count(t)``, an aggregate over the rows (also under db-aggregates-enabled=false).
            parts.append(f"pg_catalog.count(*) AS {ident(item.alias or 'count')}")
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


#: Turns ``rel=is.null`` / ``rel=not.is.null`` on an embedded resource into SQL (or None).
EmbedTest = Callable[[Filter], "str | None"]


def condition_sql(rel: Relation, cond: Filter | Logic, params: Params, embed_test: EmbedTest | None = None) -> str:
    """One filter or logic tree as a boolean SQL expression."""
    if isinstance(cond, Logic):
        joiner = " AND " if cond.op == "and" else " OR "
        inner = joiner.join(condition_sql(rel, child, params, embed_test) for child in cond.children)
        return f"{'NOT ' if cond.negated else ''}({inner})"
    if embed_test is not None:
        tested = embed_test(cond)
        if tested is not None:
            return tested
    target = field_sql(rel, cond.field, params)
    op, value = cond.op, cond.value
    if op == "is":
        sql = f"{target} IS {IS_VALUES[str(value)]}"
    elif op == "in":
        assert isinstance(value, list)
        sql = (f"{target} = ANY('{{}}')" if not value
               else f"{target} = ANY({params.add(array_literal(value))})")
    elif op in SIMPLE_OPERATORS:
        sql = f"{target} {SIMPLE_OPERATORS[op]} {params.add(value)}"
    else:
        text = str(value)
        if op in ("like", "ilike"):
            text = text.replace("*", "%")
        sql = f"{target} {QUANT_OPERATORS[op]} {params.add(text)}"
    return f"NOT {sql}" if cond.negated else sql


def where_sql(rel: Relation, conditions: list[Filter | Logic], params: Params) -> str:
    """`` WHERE a AND b`` or an empty string."""
    if not conditions:
        return ""
    return " WHERE " + " AND ".join(condition_sql(rel, c, params) for c in conditions)


# -- reads with embedded resources ------------------------------------------------------------------
@dataclass
class ReadNode:
    """One level of a read: the root table or an embedded resource (PostgREST's ``ReadPlan``)."""

    table: Table
    rel: Relation  # columns are checked against it; qualifier is the FROM alias
    from_sql: str
    join_conditions: list[str]
    items: list[SelectItem]
    params: EmbedParams
    children: list["ReadNode"] = field(default_factory=list)
    embed: Embed | None = None
    relationship: Relationship | None = None
    agg_alias: str = ""

    @property
    def inner(self) -> bool:
        return self.embed is not None and self.embed.join == "inner"

    @property
    def outputs(self) -> bool:
        """False for ``rel()`` / ``rel!inner()`` (used to filter only): PostgREST omits the key."""
        return bool(self.items) or any(c.outputs for c in self.children)


def plan_read(snap: Snapshot, table: Table, spec: ReadSpec, limit: int | None, offset: int,
              max_rows: int | None, schema: str = EXPOSED_SCHEMA) -> ReadNode:
    """The tree of a read: relationships resolved (PGRST200/201), parameters attached per level.

    ``max_rows`` caps every level, as PostgREST's ``db-max-rows`` does.
    """
    qualifier = f"{ident(schema)}.{ident(table.name)}"
    root = ReadNode(table, Relation(qualifier, table.name, frozenset(table.columns)), qualifier, [],
                    [i for i in spec.select if isinstance(i, SelectItem)],
                    EmbedParams(spec.conditions, spec.order, limit, offset))
    counter = iter(range(1, 1 << 30))
    _plan_children(snap, root, [i for i in spec.select if isinstance(i, Embed)], (), spec, max_rows,
                   schema, counter)
    return root


def _plan_children(snap: Snapshot, parent: ReadNode, embeds: list[Embed], path: tuple[str, ...],
                   spec: ReadSpec, max_rows: int | None, schema: str, counter) -> None:
    for embed in embeds:
        rel = find_relationship(snap, parent.table.name, embed.name, embed.hint, schema)
        target = snap.tables[rel.foreign_table]
        n = next(counter)
        alias = ident(f"{target.name}_{n}")
        from_sql = f"{ident(schema)}.{ident(target.name)} AS {alias}"
        parent_q = parent.rel.qualifier
        if rel.junction is not None:
            j = rel.junction
            j_alias = ident(f"{j.table}_{n}")
            from_sql += f", {ident(schema)}.{ident(j.table)} AS {j_alias}"
            conditions = ([f"{alias}.{ident(t)} = {j_alias}.{ident(c)}" for t, c in j.target_columns]
                          + [f"{j_alias}.{ident(c)} = {parent_q}.{ident(t)}" for t, c in j.source_columns])
        else:
            conditions = [f"{alias}.{ident(f)} = {parent_q}.{ident(c)}" for c, f in rel.columns]
        key_path = path + (embed.key,)
        given = spec.embedded.get(key_path, EmbedParams())
        limit = given.limit
        if max_rows is not None:
            limit = max_rows if limit is None else min(limit, max_rows)
        items = [i for i in embed.select if isinstance(i, SelectItem)]
        node = ReadNode(target, Relation(alias, target.name, frozenset(target.columns)), from_sql,
                        conditions, items, EmbedParams(given.conditions, given.order, limit, given.offset),
                        embed=embed, relationship=rel, agg_alias=f"{parent.table.name}_{embed.key}_{n}")
        parent.children.append(node)
        _plan_children(snap, node, [i for i in embed.select if isinstance(i, Embed)], key_path, spec,
                       max_rows, schema, counter)


def _embed_test(node: ReadNode, count: bool, params: Params) -> EmbedTest:
    """``rel=is.null`` / ``rel=not.is.null`` where ``rel`` is an embedded resource of ``node``."""
    def test(cond: Filter) -> str | None:
        if cond.op != "is" or cond.value != "null" or cond.field.path:
            return None
        child = next((c for c in node.children if cond.field.name in (c.embed.name, c.embed.alias)), None)
        if child is None:
            return None
        if count:
            return f"{'' if cond.negated else 'NOT '}EXISTS ({count_sql(child, params)})"
        agg = ident(child.agg_alias)
        value = agg if child.relationship.to_one else f"{agg}.{agg}"
        return f"{value} IS {'' if cond.negated else 'NOT '}DISTINCT FROM NULL"
    return test


def read_sql(node: ReadNode, params: Params) -> str:
    """PostgREST's ``readPlanToQuery``: each embed a LATERAL subquery (json_agg for arrays,
    row_to_json for objects) correlated to its parent, run under the caller's role and RLS.
    """
    parts = [select_sql(node.rel, node.items, params)] if node.items else []
    joins = []
    for child in node.children:
        agg = ident(child.agg_alias)
        sub = read_sql(child, params)
        join = "INNER" if child.inner else "LEFT"
        if child.relationship.to_one:
            joins.append(f" {join} JOIN LATERAL ({sub}) AS {agg} ON TRUE")
            if child.outputs:
                parts.append(f"row_to_json({agg}.*)::jsonb AS {ident(child.embed.key)}")
        else:
            on = f"{agg}.{agg} IS NOT NULL" if child.inner else "TRUE"
            joins.append(f" {join} JOIN LATERAL (SELECT json_agg({agg})::jsonb AS {agg} FROM ({sub}) AS {agg}) "
                         f"AS {agg} ON {on}")
            if child.outputs:
                parts.append(f"COALESCE({agg}.{agg}, '[]') AS {ident(child.embed.key)}")
    if not node.items and not node.children:
        parts = [f"{node.rel.qualifier}.*"]
    test = _embed_test(node, False, params)
    conditions = node.join_conditions + [condition_sql(node.rel, c, params, test) for c in node.params.conditions]
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    return (f"SELECT {', '.join(parts)} FROM {node.from_sql}{''.join(joins)}{where}"
            f"{order_sql(node.rel, node.params.order, params)}"
            f"{range_sql(node.params.limit, node.params.offset, params)}")


def count_sql(node: ReadNode, params: Params) -> str:
    """PostgREST's ``readPlanToCountQuery``: the rows of ``node`` (no range), with ``EXISTS`` for
    every ``!inner`` embed and for ``rel=[not.]is.null`` filters.
    """
    test = _embed_test(node, True, params)
    conditions = node.join_conditions + [condition_sql(node.rel, c, params, test) for c in node.params.conditions]
    conditions += [f"EXISTS ({count_sql(c, params)})" for c in node.children if c.inner]
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    return f"SELECT 1 FROM {node.from_sql}{where}"


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
