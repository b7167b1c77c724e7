"""The stand-in's schema cache: tables, columns, functions and API-role settings of the exposed
schema, read from pg_catalog as PostgREST's schema cache is.

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

import psycopg

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
class Snapshot:
    """Everything the stand-in knows about the database at one moment."""

    tables: dict[str, Table] = field(default_factory=dict)
    routines: dict[str, tuple[Routine, ...]] = field(default_factory=dict)
    role_settings: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    loaded_at: float = 0.0


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
    return Snapshot(tables, {k: tuple(v) for k, v in routines.items()},
                    {k: tuple(v.items()) for k, v in role_settings.items()}, time.monotonic())


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
