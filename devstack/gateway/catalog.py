"""The stand-in's schema cache: tables, columns, foreign-key relationships, functions and API-role
settings of the exposed schema, read from pg_catalog as PostgREST's schema cache is.

Relationships follow PostgREST 12's ``SchemaCache.hs``: every foreign key between two tables of the
exposed schema is a many-to-one (or one-to-one when its columns are exactly a primary key or unique
constraint of the referencing table) plus its inverse (one-to-many / one-to-one); a table whose
primary key contains the columns of two of its foreign keys is a junction and adds a many-to-many
between the two tables it points at. Relationships through views are not detected (PostgREST
follows view column dependencies; the stand-in answers PGRST200 for an embed through a view).

A `Snapshot` is immutable; `Catalog` swaps in a new one on ``NOTIFY pgrst, 'reload schema'``
(see `server.py`) or when a request names a table, column or function the snapshot does not know
(one reload, then the 404/400). Every identifier that reaches SQL has been found here first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import difflib

import psycopg

from devstack.gateway.errors import ApiError

log = logging.getLogger("devstack.gateway.catalog")

EXPOSED_SCHEMA = "public"
SCALAR_TYPTYPES = frozenset({"b", "d", "e", "r", "m"})


@dataclass(frozen=True)
class Column:
    """One column of a table or view."""

    name: str
    type: str
    default: str | None
    generated: bool


@dataclass(frozen=True)
class Table:
    """A table, view, materialized view or foreign table in the exposed schema."""

    name: str
    kind: str
    columns: dict[str, Column]
    pk: tuple[str, ...]


@dataclass(frozen=True)
class Param:
    """One input parameter of a function."""

    name: str
    type: str
    has_default: bool
    variadic: bool


@dataclass(frozen=True)
class Routine:
    """A function callable as ``/rpc/<name>``."""

    name: str
    params: tuple[Param, ...]
    returns_set: bool
    kind: str  # "void" | "scalar" | "composite"
    columns: dict[str, str] | None  # output columns of a composite result, when known
    volatility: str  # "v" | "s" | "i"

    @property
    def required(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params if not p.has_default)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params)


@dataclass(frozen=True)
class Junction:
    """The junction table of a many-to-many relationship (PostgREST's ``Junction``).

    ``source_columns``: (origin column, junction column) pairs of ``constraint1``;
    ``target_columns``: (target column, junction column) pairs of ``constraint2``.
    """

    table: str
    constraint1: str
    constraint2: str
    source_columns: tuple[tuple[str, str], ...]
    target_columns: tuple[tuple[str, str], ...]


#: PostgREST's constructor order of ``Cardinality`` (it sorts relationships by it).
CARDINALITY_ORDER = {"o2m": 0, "m2o": 1, "o2o": 2, "m2m": 3}
CARDINALITY_NAMES = {"o2m": "one-to-many", "m2o": "many-to-one", "o2o": "one-to-one",
                     "m2m": "many-to-many"}


@dataclass(frozen=True)
class Relationship:
    """A relationship from ``table`` to ``foreign_table`` (PostgREST's ``Relationship``).

    ``columns``: (column of ``table``, column of ``foreign_table``) pairs of the foreign key
    (empty for many-to-many, which joins through ``junction``).
    """

    table: str
    foreign_table: str
    cardinality: str  # "m2o" | "o2m" | "o2o" | "m2m"
    constraint: str | None
    columns: tuple[tuple[str, str], ...] = ()
    junction: Junction | None = None

    @property
    def is_self(self) -> bool:
        return self.table == self.foreign_table

    @property
    def to_one(self) -> bool:
        """Embedded as an object (or null), not an array."""
        return self.cardinality in ("m2o", "o2o")

    def sort_key(self) -> tuple:
        return (self.table, self.foreign_table, self.is_self, CARDINALITY_ORDER[self.cardinality],
                self.constraint or "", self.columns,
                (self.junction.table, self.junction.constraint1, self.junction.constraint2)
                if self.junction else ())

    def describe(self) -> dict[str, str]:
        """One candidate of a PGRST201 error's ``details`` (PostgREST's ``compressedRel``)."""
        def cols(names) -> str:
            return "(" + ", ".join(names) + ")"
        if self.junction is not None:
            j = self.junction
            how = (f"{j.table} using {j.constraint1}{cols(c for _, c in j.source_columns)} and "
                   f"{j.constraint2}{cols(c for _, c in j.target_columns)}")
        else:
            how = (f"{self.constraint} using {self.table}{cols(c for c, _ in self.columns)} and "
                   f"{self.foreign_table}{cols(f for _, f in self.columns)}")
        return {"cardinality": CARDINALITY_NAMES[self.cardinality],
                "embedding": f"{self.table} with {self.foreign_table}", "relationship": how}

    def hint_name(self) -> str:
        """What PGRST201's hint proposes after ``!``: the constraint, or the junction table."""
        return self.junction.table if self.junction is not None else str(self.constraint)


@dataclass(frozen=True)
class Snapshot:
    """Everything the stand-in knows about the database at one moment."""

    tables: dict[str, Table] = field(default_factory=dict)
    routines: dict[str, tuple[Routine, ...]] = field(default_factory=dict)
    role_settings: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    loaded_at: float = 0.0
    #: Relationships by origin table, sorted as PostgREST sorts them.
    relationships: dict[str, tuple[Relationship, ...]] = field(default_factory=dict)


_TABLES_SQL = """
select c.relname, c.relkind,
       coalesce((select array_agg(a.attname::text order by array_position(i.indkey::int2[], a.attnum))
                   from pg_catalog.pg_index i
                   join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                  where i.indrelid = c.oid and i.indisprimary), '{}') as pk,
       coalesce((select array_agg(array[a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod),
                                        pg_catalog.pg_get_expr(d.adbin, d.adrelid),
                                        (a.attgenerated <> '')::text] order by a.attnum)
                   from pg_catalog.pg_attribute a
                   left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '{}') as cols
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where n.nspname = $1 and c.relkind in ('r', 'v', 'm', 'f', 'p')
"""

# Foreign keys between two tables of the schema (not partitions' inherited copies), with their
# column pairs in key order and whether the referencing columns are exactly a primary key or unique
# constraint of their table (PostgREST's ``allM2OandO2ORels``).
_FOREIGN_KEYS_SQL = """
select c.conname::text, t.relname::text, f.relname::text,
       array(select array[a.attname::text, r.attname::text]
               from unnest(c.conkey, c.confkey) with ordinality as u(col, ref, ord)
               join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = u.col
               join pg_catalog.pg_attribute r on r.attrelid = c.confrelid and r.attnum = u.ref
              order by u.ord) as cols,
       exists(select 1 from pg_catalog.pg_constraint k
               where k.conrelid = c.conrelid and k.contype in ('p', 'u')
                 and (select array_agg(x order by x) from unnest(k.conkey) x)
                   = (select array_agg(x order by x) from unnest(c.conkey) x)) as one_to_one
  from pg_catalog.pg_constraint c
  join pg_catalog.pg_class t on t.oid = c.conrelid
  join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace
  join pg_catalog.pg_class f on f.oid = c.confrelid
  join pg_catalog.pg_namespace fn on fn.oid = f.relnamespace
 where c.contype = 'f' and c.conparentid = 0 and tn.nspname = $1 and fn.nspname = $1
 order by c.conrelid, c.conname
"""

_ROUTINES_SQL = """
select p.proname, p.provolatile, p.proretset, t.typtype, p.prorettype = 'pg_catalog.void'::regtype,
       p.prorettype = 'pg_catalog.record'::regtype, p.pronargdefaults,
       coalesce(p.proargnames, '{}')::text[],
       coalesce(p.proargmodes::text[], array_fill('i'::text, array[p.pronargs::int])),
       array(select pg_catalog.format_type(x, null)
               from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality u(x, i)
              order by i),
       coalesce((select array_agg(array[a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod)]
                                  order by a.attnum)
                   from pg_catalog.pg_attribute a
                  where a.attrelid = t.typrelid and t.typrelid <> 0 and a.attnum > 0 and not a.attisdropped),
                '{}') as rel_cols
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  join pg_catalog.pg_type t on t.oid = p.prorettype
 where n.nspname = $1 and p.prokind = 'f'
"""

_ROLE_SETTINGS_SQL = """
select r.rolname::text, kv[1], kv[2]
  from pg_catalog.pg_db_role_setting s
  join pg_catalog.pg_roles r on r.oid = s.setrole
  cross join lateral unnest(s.setconfig) as cfg
  cross join lateral (select pg_catalog.regexp_split_to_array(cfg, '=') as kv0) x
  cross join lateral (select array[kv0[1], array_to_string(kv0[2:], '=')] as kv) y
 where s.setdatabase in (0, (select oid from pg_catalog.pg_database where datname = current_database()))
   and kv[1] in (select name from pg_catalog.pg_settings where context = 'user')
 order by s.setdatabase
"""


def load_snapshot(conn: psycopg.Connection, schema: str = EXPOSED_SCHEMA) -> Snapshot:
    """Read the exposed schema's tables, functions and the API roles' settings."""
    tables: dict[str, Table] = {}
    for relname, relkind, pk, cols in conn.execute(_TABLES_SQL, (schema,)).fetchall():
        columns = {c[0]: Column(c[0], c[1], c[2], c[3] == "true") for c in cols}
        tables[relname] = Table(relname, relkind, columns, tuple(pk))
    routines: dict[str, list[Routine]] = {}
    for row in conn.execute(_ROUTINES_SQL, (schema,)).fetchall():
        routine = _routine(*row)
        routines.setdefault(routine.name, []).append(routine)
    role_settings: dict[str, dict[str, str]] = {}
    for role, key, value in conn.execute(_ROLE_SETTINGS_SQL).fetchall():
        role_settings.setdefault(role, {})[key] = value
    foreign_keys = [(name, table, ftable, tuple((c[0], c[1]) for c in cols), one_to_one)
                    for name, table, ftable, cols, one_to_one in conn.execute(_FOREIGN_KEYS_SQL, (schema,))]
    return Snapshot(tables, {k: tuple(v) for k, v in routines.items()},
                    {k: tuple(v.items()) for k, v in role_settings.items()}, time.monotonic(),
                    relationships_from(foreign_keys, tables))


def relationships_from(foreign_keys: list[tuple[str, str, str, tuple[tuple[str, str], ...], bool]],
                       tables: dict[str, Table]) -> dict[str, tuple[Relationship, ...]]:
    """PostgREST's relationships from foreign keys ``(name, table, foreign table, column pairs,
    one_to_one)``: M2O/O2O, their inverses, and M2M through junction tables.
    """
    rels: list[Relationship] = []
    for name, table, ftable, cols, one_to_one in foreign_keys:
        rels.append(Relationship(table, ftable, "o2o" if one_to_one else "m2o", name, cols))
    # addM2MRels: two foreign keys of one table whose columns are all in its primary key.
    many_to_one = [r for r in rels if r.cardinality == "m2o"]
    for r1 in many_to_one:
        for r2 in many_to_one:
            if r1.table != r2.table or r1.constraint == r2.constraint:
                continue
            junction_cols = {c for c, _ in r1.columns} | {c for c, _ in r2.columns}
            pk = tables.get(r1.table)
            if pk is None or not junction_cols <= set(pk.pk):
                continue
            junction = Junction(r1.table, str(r1.constraint), str(r2.constraint),
                                tuple((t, j) for j, t in r1.columns), tuple((t, j) for j, t in r2.columns))
            rels.append(Relationship(r1.foreign_table, r2.foreign_table, "m2m", None, (), junction))
    # addInverseRels
    inverses = [Relationship(r.foreign_table, r.table, "o2m" if r.cardinality == "m2o" else "o2o",
                             r.constraint, tuple((f, c) for c, f in r.columns))
                for r in rels if r.cardinality in ("m2o", "o2o")]
    by_origin: dict[str, list[Relationship]] = {}
    for rel in rels + inverses:
        by_origin.setdefault(rel.table, []).append(rel)
    return {k: tuple(sorted(v, key=Relationship.sort_key)) for k, v in by_origin.items()}


def _routine(name: str, volatility: str, returns_set: bool, typtype: str, is_void: bool,
             is_record: bool, n_defaults: int, arg_names: list[str], arg_modes: list[str],
             arg_types: list[str], rel_cols: list[list[str]]) -> Routine:
    """One pg_proc row as a Routine."""
    inputs: list[tuple[str, str, bool]] = []
    outputs: dict[str, str] = {}
    for i, mode in enumerate(arg_modes):
        arg_name = arg_names[i] if i < len(arg_names) else ""
        arg_type = arg_types[i] if i < len(arg_types) else "unknown"
        if mode in ("i", "b", "v"):
            inputs.append((arg_name, arg_type, mode == "v"))
        if mode in ("o", "b", "t"):
            outputs[arg_name] = arg_type
    first_default = len(inputs) - (n_defaults or 0)
    params = tuple(Param(n, t, i >= first_default, v) for i, (n, t, v) in enumerate(inputs))
    if is_void:
        kind, columns = "void", None
    elif typtype == "c":
        kind, columns = "composite", {c[0]: c[1] for c in rel_cols}
    elif is_record:
        kind, columns = "composite", (outputs or None)
    elif typtype in SCALAR_TYPTYPES or typtype == "p":
        kind, columns = "scalar", None
    else:
        kind, columns = "scalar", None
    return Routine(name, params, returns_set, kind, columns, volatility)


def find_relationship(snap: Snapshot, origin: str, target: str, hint: str | None,
                      schema: str = EXPOSED_SCHEMA) -> Relationship:
    """PostgREST 12's ``findRel``: the one relationship ``origin?select=target!hint(...)`` means.

    ``target`` is a table, or (without a hint) a foreign key's name or single column; ``hint`` a
    foreign key's name, one of its single columns (either side) or a junction table. None found:
    400 PGRST200; several: 300 PGRST201 listing them.
    """
    candidates = [r for r in snap.relationships.get(origin, ()) if _matches(r, target, hint)]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise ApiError(300, "PGRST201",
                       f"Could not embed because more than one relationship was found for '{origin}' and "
                       f"'{target}'",
                       details=[r.describe() for r in candidates],
                       hint=f"Try changing '{target}' to one of the following: "
                            + ", ".join(f"'{r.foreign_table}!{r.hint_name()}'" for r in candidates)
                            + ". Find the desired relationship in the 'details' key.")
    using = f"' using the hint '{hint}" if hint is not None else ""
    raise ApiError(400, "PGRST200",
                   f"Could not find a relationship between '{origin}' and '{target}' in the schema cache",
                   details=f"Searched for a foreign key relationship between '{origin}' and '{target}"
                           f"{using}' in the schema '{schema}', but no matches were found.",
                   hint=_no_relationship_hint(snap, origin, target))


def _single_column(rel: Relationship, side: int) -> str | None:
    if rel.junction is None and len(rel.columns) == 1:
        return rel.columns[0][side]
    return None


def _matches(rel: Relationship, target: str, hint: str | None) -> bool:
    if rel.is_self:
        # A self-relationship: the table name selects the one-to-many, the FK column the many-to-one.
        if hint is None:
            return ((target == rel.foreign_table and rel.cardinality == "o2m")
                    or (target == _single_column(rel, 0) and rel.cardinality == "m2o"))
        return (target == rel.foreign_table and rel.cardinality == "o2m"
                and hint == _single_column(rel, 1))
    if hint is None:
        return (target == rel.foreign_table
                or (rel.junction is None and target == rel.constraint)
                or target == _single_column(rel, 0))
    return target == rel.foreign_table and (
        (rel.junction is None and hint == rel.constraint)
        or hint == _single_column(rel, 0) or hint == _single_column(rel, 1)
        or (rel.junction is not None and hint == rel.junction.table))


def _no_relationship_hint(snap: Snapshot, origin: str, target: str) -> str | None:
    """PostgREST's fuzzy "Perhaps you meant ..." (difflib here, not its fuzzy set)."""
    if origin in snap.relationships:
        children = sorted({r.foreign_table for r in snap.relationships[origin]})
        if target in children:
            return None
        close = difflib.get_close_matches(target, children, n=1, cutoff=0.6)
        return f"Perhaps you meant '{close[0]}' instead of '{target}'." if close else None
    close = difflib.get_close_matches(origin, sorted(snap.relationships), n=1, cutoff=0.6)
    return f"Perhaps you meant '{close[0]}' instead of '{origin}'." if close else None


class Catalog:
    """The current Snapshot plus reloading; thread-safe."""

    def __init__(self, connect: Callable[[], psycopg.Connection], schema: str = EXPOSED_SCHEMA) -> None:
        self._connect = connect
        self._schema = schema
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._generation = 0

    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot, loading it on first use."""
        snap = self._snapshot
        if snap is None:
            self.reload()
            snap = self._snapshot
        assert snap is not None
        return snap

    def invalidate(self) -> None:
        """Drop the snapshot; the next request loads a fresh one."""
        self._snapshot = None

    def reload(self, seen_generation: int | None = None) -> None:
        """Load a new snapshot, unless another thread did since ``seen_generation``."""
        with self._lock:
            if seen_generation is not None and seen_generation != self._generation and self._snapshot:
                return
            with self._connect() as conn:
                snap = load_snapshot(conn, self._schema)
            self._snapshot = snap
            self._generation += 1
            log.debug("schema cache loaded: %d tables, %d functions", len(snap.tables), len(snap.routines))

    @property
    def generation(self) -> int:
        return self._generation
