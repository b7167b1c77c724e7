"""PostgREST's query-string grammar (the part the stand-in implements), parsed into plain data.

Covered: ``select`` (columns, ``*``, ``alias:col``, ``col::cast``, JSON paths ``a->b->>c``, resource
embedding ``alias:rel!hint!inner(...)`` nested to any depth, the legacy ``rel(count)``), filters
(``eq neq gt gte lt lte like ilike is in cs cd ov``, ``not.``), on the top level or an
embedded resource (``rel.col=eq.x``), logic trees (``or=(...)``, ``and=(...)``, ``not.or``, nested,
``rel.or=...``), ``order``, ``limit``/``offset`` (also ``rel.order``/``rel.limit``/``rel.offset``),
``columns``, ``on_conflict`` and the ``Prefer`` header. Anything else raises `errors.unsupported`
(spreads, aggregate functions, ordering by an embedded resource, the operators in
`DROPPED_OPERATORS`, ``(any)``/``(all)``, ``Prefer: count=planned|estimated``) or PostgREST's
PGRST100 parse error.

Nothing here touches SQL: identifiers are checked against the catalog and quoted in `sqlbuild`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from devstack.gateway.errors import ApiError, parse_error, unsupported

SIMPLE_OPERATORS = {"neq": "<>", "cs": "@>", "cd": "<@", "ov": "&&"}
QUANT_OPERATORS = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "like": "like",
                   "ilike": "ilike"}
ALL_OPERATORS = set(SIMPLE_OPERATORS) | set(QUANT_OPERATORS) | {"is", "in"}
#: PostgREST operators the stand-in dropped because no client of this project uses them (range
#: operators: no range column; full-text search: no tsvector column; regex and IS DISTINCT FROM:
#: unused). They answer 400 PGRSTX01 naming the operator, never a wrong result.
DROPPED_OPERATORS = frozenset({"sl", "sr", "nxr", "nxl", "adj", "match", "imatch", "isdistinct",
                               "fts", "plfts", "phfts", "wfts"})
#: What makes a GET /rpc parameter a filter rather than an argument.
KNOWN_OPERATORS = frozenset(ALL_OPERATORS | DROPPED_OPERATORS)
IS_VALUES = {"null": "NULL", "not_null": "NOT NULL", "true": "TRUE", "false": "FALSE",
             "unknown": "UNKNOWN"}
LOGIC_KEYS = frozenset({"or", "and", "not.or", "not.and"})
_CAST_RE = re.compile(r"^[A-Za-z0-9_]+$")
_INT_RE = re.compile(r"^-?[0-9]+$")


@dataclass(frozen=True)
class Field:
    """A column, optionally followed by a JSON path: ``data->a->>b``."""

    name: str
    path: tuple[tuple[str, str], ...] = ()  # (arrow, key)

    @property
    def default_alias(self) -> str:
        """The output key PostgREST gives the field: the last JSON key, else the column."""
        return self.path[-1][1] if self.path else self.name


@dataclass(frozen=True)
class SelectItem:
    """One entry of ``select=``; ``field`` is None for ``*``."""

    field: Field | None
    alias: str | None = None
    cast: str | None = None


@dataclass(frozen=True)
class Embed:
    """``alias:rel!hint!inner(select...)``: an embedded resource of ``select=``."""

    name: str
    alias: str | None
    hint: str | None
    join: str | None  # "inner" | "left" | None (left)
    select: tuple["SelectItem | Embed", ...]

    @property
    def key(self) -> str:
        """The output key (and what ``key.col=...`` parameters name)."""
        return self.alias or self.name


@dataclass(frozen=True)
class Filter:
    """``field=[not.]op.value``."""

    field: Field
    negated: bool
    op: str
    value: str | list[str]


@dataclass(frozen=True)
class Logic:
    """An ``and``/``or`` node of a logic tree."""

    op: str  # "and" | "or"
    negated: bool
    children: tuple["Logic | Filter", ...]


@dataclass(frozen=True)
class OrderTerm:
    """One ``order=`` term."""

    field: Field
    direction: str | None  # "asc" | "desc"
    nulls: str | None  # "nullsfirst" | "nullslast"


@dataclass
class Preferences:
    """The ``Prefer`` header, as PostgREST reads it."""

    representation: str | None = None  # representation | minimal | headers-only
    count: str | None = None  # exact (planned/estimated: refused, nothing here uses them)
    resolution: str | None = None  # merge-duplicates | ignore-duplicates
    missing: str | None = None  # default | null
    handling: str = "lenient"
    tx: str | None = None
    params: str | None = None
    applied: list[str] = field(default_factory=list)


# -- low-level scanning --------------------------------------------------------------------------
def split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside double quotes, parentheses and braces."""
    parts: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    current: list[str] = []
    for ch in text:
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted and ch in "({":
            depth += 1
        elif not quoted and ch in ")}":
            depth -= 1
        elif not quoted and depth == 0 and ch == sep:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    if quoted or depth != 0:
        raise parse_error(f'"failed to parse {text}"', "unbalanced quotes or parentheses")
    parts.append("".join(current))
    return parts


def _unquote(text: str) -> str:
    """``"a\\"b"`` → ``a"b``; unquoted text is returned as is."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _read_name(text: str, pos: int, stops: str) -> tuple[str, int]:
    """A quoted or bare name starting at ``pos``; bare names end at ``stops``, ``->`` or ``::``."""
    if pos < len(text) and text[pos] == '"':
        end = pos + 1
        out: list[str] = []
        while end < len(text) and text[end] != '"':
            if text[end] == "\\" and end + 1 < len(text):
                end += 1
            out.append(text[end])
            end += 1
        if end >= len(text):
            raise parse_error(f'"failed to parse {text}"', "unterminated quoted name")
        return "".join(out), end + 1
    end = pos
    while end < len(text):
        ch = text[end]
        if ch in stops or text.startswith("->", end) or text.startswith("::", end):
            break
        end += 1
    return text[pos:end], end


def parse_field(text: str, pos: int = 0, stops: str = ",:()") -> tuple[Field, int]:
    """A column name and its JSON path, from ``pos``; returns the position after it."""
    name, pos = _read_name(text, pos, stops + ".")
    if name == "":
        raise parse_error(f'"failed to parse {text}"', "expected a column name")
    path: list[tuple[str, str]] = []
    while text.startswith("->", pos):
        arrow = "->>" if text.startswith("->>", pos) else "->"
        key, pos = _read_name(text, pos + len(arrow), stops + ".")
        if key == "":
            raise parse_error(f'"failed to parse {text}"', "expected a JSON key after the arrow")
        path.append((arrow, key))
    return Field(name, tuple(path)), pos


# -- select ---------------------------------------------------------------------------------------
def parse_select(text: str, *, nested: bool = False) -> list[SelectItem | Embed]:
    """``select=`` → items: columns and embedded resources. Spreads and aggregates are unsupported."""
    items: list[SelectItem | Embed] = []
    for raw in split_top_level(text):
        item = raw.strip()
        if item == "":
            continue
        if item == "*":
            items.append(SelectItem(None))
            continue
        if item.startswith("..."):
            raise unsupported(f"Spread embedding ('{item}')")
        if _has_unquoted(item, "("):
            items.append(_parse_embed(item, text))
            continue
        if _has_unquoted(item, "!"):
            raise parse_error(f'"failed to parse select parameter ({text})"',
                              f"an embed hint needs a parenthesised select list: '{item}'")
        alias = None
        pos = 0
        first, after = _read_name(item, 0, ",:().")
        if item.startswith(":", after) and not item.startswith("::", after):
            alias, pos = first, after + 1
        fld, pos = parse_field(item, pos)
        cast = None
        if item.startswith("::", pos):
            cast = item[pos + 2:]
            if not _CAST_RE.match(cast):
                raise parse_error(f'"failed to parse select parameter ({text})"', f"invalid cast '{cast}'")
            pos = len(item)
        if pos != len(item):
            rest = item[pos:]
            if rest.startswith("."):
                raise unsupported(f"Aggregate functions in select ('{item}')")
            raise parse_error(f'"failed to parse select parameter ({text})"', f"unexpected '{rest}'")
        items.append(SelectItem(fld, alias, cast))
    if nested:
        return items
    return items or [SelectItem(None)]


def _parse_embed(item: str, whole: str) -> Embed:
    """``alias:rel!hint!inner(inner select)``; ``count()`` and ``col.agg()`` are aggregates."""
    if re.match(r"^(\w+:)?count\(\)", item) or re.search(r"\.\w+\(\)", item):
        raise unsupported(f"Aggregate functions in select ('{item}')")
    quoted = False
    open_at = -1
    for i, ch in enumerate(item):
        if ch == '"':
            quoted = not quoted
        elif ch == "(" and not quoted:
            open_at = i
            break
    if not item.endswith(")"):
        raise parse_error(f'"failed to parse select parameter ({whole})"', f"unexpected text after ')' in '{item}'")
    head, inner = item[:open_at], item[open_at + 1:-1]
    alias = None
    first, pos = _read_name(head, 0, ":!")
    if head.startswith(":", pos) and not head.startswith("::", pos):
        alias = first
        first, pos = _read_name(head, pos + 1, ":!")
    name = first
    hint = join = None
    rest = head[pos:]
    if rest and not rest.startswith("!"):
        raise parse_error(f'"failed to parse select parameter ({whole})"', f"unexpected '{rest}'")
    embed_params = rest.split("!")[1:] if rest else []
    if len(embed_params) > 2 or "" in embed_params:
        raise parse_error(f'"failed to parse select parameter ({whole})"', f"unexpected '{rest}'")
    for param in embed_params:
        if param in ("inner", "left") and join is None:
            join = param
        elif param not in ("inner", "left") and hint is None:
            hint = _unquote(param)
        else:
            raise parse_error(f'"failed to parse select parameter ({whole})"', f"unexpected '!{param}'")
    if name == "" or name == "count":
        raise parse_error(f'"failed to parse select parameter ({whole})"', f"expected a relation name in '{item}'")
    return Embed(name, alias, hint, join, tuple(parse_select(inner, nested=True)))


def _has_unquoted(text: str, ch: str) -> bool:
    quoted = False
    for c in text:
        if c == '"':
            quoted = not quoted
        elif c == ch and not quoted:
            return True
    return False


# -- filters --------------------------------------------------------------------------------------
def split_path(key: str) -> list[str]:
    """``rel.nested.col`` → ``["rel", "nested", "col"]`` (dots inside quotes do not split)."""
    return [part for part in split_top_level(key, ".")]


def parse_filter_key(key: str) -> tuple[tuple[str, ...], Field]:
    """The embed path and the column (with JSON path) a filter's query-string key names."""
    parts = split_path(key)
    path = tuple(_unquote(p) for p in parts[:-1])
    last = parts[-1]
    if any(p == "" for p in path) or last == "":
        raise parse_error(f'"failed to parse tree path ({key})"')
    fld, pos = parse_field(last, 0, ",:()")
    if pos != len(last):
        raise parse_error(f'"failed to parse filter ({key})"', f"unexpected '{last[pos:]}'")
    return path, fld


def parse_operation(fld: Field, expr: str) -> Filter:
    """``[not.]op[(modifier)].value`` for ``fld``."""
    negated = False
    rest = expr
    if rest.startswith("not."):
        negated, rest = True, rest[4:]
    op, dot, value = rest.partition(".")
    modifier = None
    m = re.match(r"^([a-z]+)\(([^)]*)\)$", op)
    if m:
        op, modifier = m.group(1), m.group(2)
    if dot and op in DROPPED_OPERATORS:
        raise unsupported(f"The '{op}' filter operator")
    if not dot or op not in ALL_OPERATORS:
        raise parse_error(f'"failed to parse filter ({expr})"', f"unknown operator in '{expr}'")
    if modifier is not None:
        if op in QUANT_OPERATORS and modifier in ("any", "all"):
            raise unsupported(f"The ({modifier}) quantifier on filters")
        raise parse_error(f'"failed to parse filter ({expr})"', f"invalid modifier '({modifier})'")
    if op == "is":
        if value.lower() not in IS_VALUES:
            raise parse_error(f'"failed to parse filter ({expr})"',
                              "is accepts null, not_null, true, false and unknown")
        return Filter(fld, negated, op, value.lower())
    if op == "in":
        return Filter(fld, negated, op, parse_list(value, expr))
    return Filter(fld, negated, op, value)


def parse_list(value: str, expr: str) -> list[str]:
    """``(a,"b,c",d)`` → ``["a", "b,c", "d"]``."""
    value = value.strip()
    if not (value.startswith("(") and value.endswith(")")):
        raise parse_error(f'"failed to parse filter ({expr})"', "in expects a list in parentheses")
    inner = value[1:-1]
    if inner == "":
        return []
    return [_unquote(v.strip()) for v in split_top_level(inner)]


def parse_logic(key: str, value: str) -> Logic:
    """``or=(a.eq.1,and(b.gt.2,c.is.null))`` → a Logic tree."""
    negated = key.startswith("not.")
    op = key.removeprefix("not.")
    return Logic(op, negated, _parse_logic_children(value, f"{key}={value}"))


def _parse_logic_children(value: str, whole: str) -> tuple[Logic | Filter, ...]:
    value = value.strip()
    if not (value.startswith("(") and value.endswith(")")):
        raise parse_error(f'"failed to parse logic tree ({whole})"', "expected a parenthesised list")
    children: list[Logic | Filter] = []
    for part in split_top_level(value[1:-1]):
        part = part.strip()
        m = re.match(r"^(not\.)?(and|or)(\(.*\))$", part, re.S)
        if m:
            children.append(Logic(m.group(2), bool(m.group(1)), _parse_logic_children(m.group(3), whole)))
            continue
        fld, pos = parse_field(part, 0, ",:().")
        if not part.startswith(".", pos):
            raise parse_error(f'"failed to parse logic tree ({whole})"', f"expected an operator in '{part}'")
        expr = part[pos + 1:]
        flt = parse_operation(fld, expr)
        if isinstance(flt.value, str):
            flt = Filter(flt.field, flt.negated, flt.op, _unquote(flt.value))
        children.append(flt)
    if not children:
        raise parse_error(f'"failed to parse logic tree ({whole})"', "empty logic tree")
    return tuple(children)


# -- order, ranges, columns -------------------------------------------------------------------------
def parse_order(text: str) -> list[OrderTerm]:
    """``order=a.desc.nullslast,b`` → terms."""
    terms: list[OrderTerm] = []
    for raw in split_top_level(text):
        raw = raw.strip()
        if _has_unquoted(raw, "("):
            raise unsupported(f"Ordering by embedded resources ('{raw}')")
        fld, pos = parse_field(raw, 0, ",:().")
        mods = [m for m in raw[pos:].split(".") if m] if pos < len(raw) else []
        if pos < len(raw) and not raw.startswith(".", pos):
            raise parse_error(f'"failed to parse order ({text})"', f"unexpected '{raw[pos:]}'")
        direction = nulls = None
        for mod in mods:
            if mod in ("asc", "desc") and direction is None and nulls is None:
                direction = mod
            elif mod in ("nullsfirst", "nullslast") and nulls is None:
                nulls = mod
            else:
                raise parse_error(f'"failed to parse order ({text})"', f"unexpected '{mod}'")
        terms.append(OrderTerm(fld, direction, nulls))
    return terms


def parse_nonneg_int(name: str, value: str) -> int:
    """``limit``/``offset`` values."""
    if not _INT_RE.match(value.strip()):
        raise parse_error(f'"failed to parse {name} parameter ({value})"')
    number = int(value)
    if number < 0:
        raise ApiError(416, "PGRST103", "Requested range not satisfiable",
                       details="Limit should be greater than or equal to zero.")
    return number


def parse_columns(text: str) -> list[str]:
    """``columns="a","b",c`` → names."""
    names = [_unquote(part.strip()) for part in split_top_level(text)]
    if any(n == "" for n in names):
        raise parse_error(f'"failed to parse columns parameter ({text})"')
    return names


def parse_range_header(value: str | None) -> tuple[int, int | None] | None:
    """``Range: 0-9`` (items) → (offset, last index or None)."""
    if not value:
        return None
    m = re.match(r"^\s*(?:items=)?(\d+)-(\d*)\s*$", value)
    if not m:
        return None
    lower = int(m.group(1))
    upper = int(m.group(2)) if m.group(2) else None
    if upper is not None and upper < lower:
        raise ApiError(416, "PGRST103", "Requested range not satisfiable",
                       details="The lower boundary must be lower than or equal to the upper boundary "
                               "in the Range header.")
    return lower, upper


def parse_prefer(values: list[str]) -> Preferences:
    """The Prefer header(s) as PostgREST reads them; unknown preferences are ignored unless strict."""
    prefs = Preferences()
    invalid: list[str] = []
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            key, _, val = item.partition("=")
            key, val = key.strip(), val.strip()
            if key == "return" and val in ("representation", "minimal", "headers-only"):
                prefs.representation = val
            elif key == "count" and val == "exact":
                prefs.count = val
            elif key == "count" and val in ("planned", "estimated"):
                raise unsupported(f"Prefer: count={val}")
            elif key == "resolution" and val in ("merge-duplicates", "ignore-duplicates"):
                prefs.resolution = val
            elif key == "missing" and val in ("default", "null"):
                prefs.missing = val
            elif key == "handling" and val in ("strict", "lenient"):
                prefs.handling = val
            elif key == "tx" and val in ("commit", "rollback"):
                prefs.tx = val
            elif key == "params" and val in ("single-object", "multiple-objects"):
                prefs.params = val
            elif key in ("timezone", "max-affected"):
                continue
            else:
                invalid.append(item)
    if invalid and prefs.handling == "strict":
        raise ApiError(400, "PGRST122", "Invalid preferences given with handling=strict",
                       details="Invalid preferences: " + ", ".join(invalid))
    return prefs
