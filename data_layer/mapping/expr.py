"""The small expression language of a mapping file: parsed, checked and compiled to SQLAlchemy.

An expression is never pasted into SQL. It is tokenized and parsed into a tree of a few node kinds
(a source column, a literal, an operator, a whitelisted function); every identifier must name a
column of the source, every function must be on the list below, and the tree is compiled into
SQLAlchemy expressions, whose literals the dialect renders or binds.

Grammar (lowest precedence first):
    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | cmp
    cmp     := add (("=" | "!=" | "<>" | "<" | "<=" | ">" | ">=") add | "is" ["not"] "null"
               | ["not"] "in" "(" literal ("," literal)* ")")?
    add     := mul (("+" | "-") mul)*
    mul     := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := number | 'string' | date 'YYYY-MM-DD' | true | false | null
               | name ["." name] | name "(" [expr ("," expr)*] ")" | "(" expr ")"
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    extract,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement
from sqlalchemy.types import TypeEngine


class ExprError(ValueError):
    """An expression that cannot be read or does not fit: the message names what and where in it."""


# ---------------------------------------------------------------------------------------- tokens
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<str>'(?:[^']|'')*')
  | (?P<name>[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*)
  | (?P<op><=|>=|!=|<>|[-+*/=<>(),.])
""", re.VERBOSE)
KEYWORDS = {"and", "or", "not", "is", "null", "true", "false", "in", "date"}


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Tok]:
    out: list[Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ExprError(f"cannot read {text[pos:pos + 10]!r} at character {pos + 1}")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(Tok(kind, m.group(), pos))
        pos = m.end()
    return out


# ------------------------------------------------------------------------------------------ tree
@dataclass(frozen=True)
class Node:
    kind: str  # col, lit, op, not, isnull, in, call, neg
    value: Any = None  # column (alias, name) / literal value / operator / function name
    args: tuple[Node, ...] = ()


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    def peek(self, offset: int = 0) -> Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def at(self, *texts: str) -> bool:
        t = self.peek()
        return t is not None and t.text.lower() in texts and t.kind in ("op", "name")

    def take(self, *texts: str) -> Tok:
        t = self.peek()
        if t is None or (texts and t.text.lower() not in texts):
            want = " or ".join(repr(x) for x in texts) or "more"
            got = f"{t.text!r} at character {t.pos + 1}" if t else "the end"
            raise ExprError(f"expected {want}, found {got}")
        self.i += 1
        return t

    def parse(self) -> Node:
        if not self.toks:
            raise ExprError("empty expression")
        node = self.or_()
        if self.peek() is not None:
            t = self.peek()
            raise ExprError(f"unexpected {t.text!r} at character {t.pos + 1}")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.at("or"):
            self.take()
            node = Node("op", "or", (node, self.and_()))
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.at("and"):
            self.take()
            node = Node("op", "and", (node, self.not_()))
        return node

    def not_(self) -> Node:
        if self.at("not"):
            self.take()
            return Node("not", None, (self.not_(),))
        return self.cmp()

    def cmp(self) -> Node:
        node = self.add()
        if self.at("=", "!=", "<>", "<", "<=", ">", ">="):
            op = self.take().text
            return Node("op", "!=" if op == "<>" else op, (node, self.add()))
        if self.at("is"):
            self.take()
            negate = bool(self.at("not") and self.take())
            self.take("null")
            return Node("isnull", negate, (node,))
        if self.at("not") and (self.peek(1) is not None and self.peek(1).text.lower() == "in"):
            self.take()
            return Node("not", None, (self._in(node),))
        if self.at("in"):
            return self._in(node)
        return node

    def _in(self, node: Node) -> Node:
        self.take("in")
        self.take("(")
        items = [self.atom()]
        while self.at(","):
            self.take()
            items.append(self.atom())
        self.take(")")
        if any(n.kind != "lit" for n in items):
            raise ExprError("`in ( … )` takes literal values only")
        return Node("in", None, (node, *items))

    def add(self) -> Node:
        node = self.mul()
        while self.at("+", "-"):
            op = self.take().text
            node = Node("op", op, (node, self.mul()))
        return node

    def mul(self) -> Node:
        node = self.unary()
        while self.at("*", "/"):
            op = self.take().text
            node = Node("op", op, (node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.at("-"):
            self.take()
            inner = self.unary()
            if inner.kind == "lit" and isinstance(inner.value, (int, Decimal)):
                return Node("lit", -inner.value)
            return Node("neg", None, (inner,))
        return self.atom()

    def atom(self) -> Node:
        t = self.take()
        if t.kind == "num":
            return Node("lit", Decimal(t.text) if "." in t.text else int(t.text))
        if t.kind == "str":
            value = t.text[1:-1].replace("''", "'")
            if any(ord(ch) < 32 for ch in value):
                raise ExprError("a string literal may not hold control characters")
            return Node("lit", value)
        if t.text == "(":
            node = self.or_()
            self.take(")")
            return node
        if t.kind != "name":
            raise ExprError(f"unexpected {t.text!r} at character {t.pos + 1}")
        low = t.text.lower()
        if low == "null":
            return Node("lit", None)
        if low in ("true", "false"):
            return Node("lit", low == "true")
        if low == "date" and self.peek() is not None and self.peek().kind == "str":
            raw = self.take().text[1:-1]
            try:
                return Node("lit", date.fromisoformat(raw))
            except ValueError:
                raise ExprError(f"not a date (YYYY-MM-DD): {raw!r}") from None
        if self.at("("):
            self.take()
            args: list[Node] = []
            if not self.at(")"):
                args.append(self._arg(low))
                while self.at(","):
                    self.take()
                    args.append(self._arg(low))
            self.take(")")
            return Node("call", low, tuple(args))
        if low in KEYWORDS:
            raise ExprError(f"unexpected keyword {t.text!r} at character {t.pos + 1}")
        if self.at("."):
            self.take()
            col = self.take()
            if col.kind != "name":
                raise ExprError(f"expected a column name after {t.text}.")
            return Node("col", (t.text, col.text))
        return Node("col", (None, t.text))

    def _arg(self, fn: str) -> Node:
        """An argument; cast's second and map's second are bare names (a type, a code table)."""
        t, nxt = self.peek(), self.peek(1)
        if fn in ("cast", "map") and self.i > 0 and self.toks[self.i - 1].text == "," and t is not None \
                and t.kind == "name" and (nxt is None or nxt.text == ")"):
            self.take()
            return Node("name", t.text)
        return self.or_()


def parse(text: str) -> Node:
    return _Parser(str(text)).parse()


# ------------------------------------------------------------------------------------- functions
# family: "string", "integer", "numeric", "date", "datetime", "boolean" or "any" (unknown)
CAST_TYPES: dict[str, tuple[str, TypeEngine]] = {
    "string": ("string", String(255)), "text": ("string", String(255)),
    "integer": ("integer", Integer()), "int": ("integer", Integer()),
    "numeric": ("numeric", Numeric(14, 4)), "decimal": ("numeric", Numeric(14, 4)), "money": ("numeric", Numeric(14, 2)),
    "date": ("date", Date()), "timestamp": ("datetime", DateTime()), "datetime": ("datetime", DateTime()),
    "boolean": ("boolean", Boolean()), "bool": ("boolean", Boolean()),
}
AGGREGATES = {"sum", "count", "min", "max", "avg"}
FUNCTIONS = {  # name -> (min args, max args, what it does)
    "coalesce": (1, 9, "the first argument that is not NULL"),
    "nullif": (2, 2, "NULL when both arguments are equal, else the first"),
    "cast": (2, 2, "cast(x, string|integer|numeric|money|date|timestamp|boolean)"),
    "substring": (2, 3, "substring(x, start[, length]), start counts from 1"),
    "lower": (1, 1, "lower case"), "upper": (1, 1, "upper case"), "trim": (1, 1, "without spaces at either end"),
    "concat": (2, 9, "the strings one after another"),
    "year": (1, 1, "calendar year of a date"), "month": (1, 1, "month 1-12 of a date"),
    "day": (1, 1, "day of the month of a date"),
    "date": (1, 1, "the date of a timestamp (or of a YYYY-MM-DD string)"),
    "month_start": (1, 1, "the first day of the date's month"),
    "days_between": (2, 2, "days_between(start, end): whole days from start to end"),
    "if": (3, 3, "if(condition, then, else)"),
    "map": (2, 2, "map(code, code_table): the contract value of a code, through a code table of the mapping"),
    "abs": (1, 1, "absolute value"), "round": (1, 2, "round(x[, digits])"),
    "sum": (1, 1, "sum over the group (grouped sources only)"),
    "count": (0, 1, "rows (or non-NULL values) in the group (grouped sources only)"),
    "min": (1, 1, "least value in the group"), "max": (1, 1, "greatest value in the group"),
    "avg": (1, 1, "average over the group"),
}


class to_date(FunctionElement):  # noqa: N801 - SQL function style
    """The date of a timestamp or ISO string: CAST(x AS DATE), date(x) on SQLite (which has no DATE type)."""
    type = Date()
    inherit_cache = True
    name = "to_date"


@compiles(to_date)
def _to_date(element, compiler, **kw):  # noqa: ANN001, ANN202
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


@compiles(to_date, "sqlite")
def _to_date_sqlite(element, compiler, **kw):  # noqa: ANN001, ANN202
    return f"date({compiler.process(element.clauses, **kw)})"


class to_datetime(FunctionElement):  # noqa: N801
    """A timestamp: CAST(x AS TIMESTAMP), datetime(x) on SQLite; DATETIME on MariaDB and MySQL."""
    type = DateTime()
    inherit_cache = True
    name = "to_datetime"


@compiles(to_datetime)
def _to_datetime(element, compiler, **kw):  # noqa: ANN001, ANN202
    return f"CAST({compiler.process(element.clauses, **kw)} AS TIMESTAMP)"


@compiles(to_datetime, "mysql")
@compiles(to_datetime, "mariadb")
def _to_datetime_mysql(element, compiler, **kw):  # noqa: ANN001, ANN202
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATETIME)"


@compiles(to_datetime, "sqlite")
def _to_datetime_sqlite(element, compiler, **kw):  # noqa: ANN001, ANN202
    return f"datetime({compiler.process(element.clauses, **kw)})"


class to_bool(FunctionElement):  # noqa: N801
    """A boolean: CAST(x AS BOOLEAN); as is on MariaDB and MySQL (whose BOOL is a TINYINT: no CAST)."""
    type = Boolean()
    inherit_cache = True
    name = "to_bool"


@compiles(to_bool)
def _to_bool(element, compiler, **kw):  # noqa: ANN001, ANN202
    return f"CAST({compiler.process(element.clauses, **kw)} AS BOOLEAN)"


@compiles(to_bool, "mysql")
@compiles(to_bool, "mariadb")
def _to_bool_mysql(element, compiler, **kw):  # noqa: ANN001, ANN202
    return f"({compiler.process(element.clauses, **kw)})"


class month_start(FunctionElement):  # noqa: N801
    type = Date()
    inherit_cache = True
    name = "month_start"


@compiles(month_start)
def _ms(element, compiler, **kw):  # noqa: ANN001, ANN202
    return f"CAST(date_trunc('month', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(month_start, "sqlite")
def _ms_sqlite(element, compiler, **kw):  # noqa: ANN001, ANN202
    return f"date({compiler.process(element.clauses, **kw)}, 'start of month')"


@compiles(month_start, "mysql")
@compiles(month_start, "mariadb")
def _ms_mysql(element, compiler, **kw):  # noqa: ANN001, ANN202
    arg = compiler.process(element.clauses, **kw)
    return f"DATE_SUB(CAST({arg} AS DATE), INTERVAL DAYOFMONTH({arg}) - 1 DAY)"


class days_between(FunctionElement):  # noqa: N801
    type = Integer()
    inherit_cache = True
    name = "days_between"


def _two(element, compiler, **kw):  # noqa: ANN001, ANN202
    a, b = list(element.clauses)
    return compiler.process(a, **kw), compiler.process(b, **kw)


@compiles(days_between)
def _db(element, compiler, **kw):  # noqa: ANN001, ANN202
    a, b = _two(element, compiler, **kw)
    return f"(CAST({b} AS DATE) - CAST({a} AS DATE))"


@compiles(days_between, "duckdb")
def _db_duck(element, compiler, **kw):  # noqa: ANN001, ANN202
    a, b = _two(element, compiler, **kw)
    return f"date_diff('day', CAST({a} AS DATE), CAST({b} AS DATE))"


@compiles(days_between, "sqlite")
def _db_sqlite(element, compiler, **kw):  # noqa: ANN001, ANN202
    a, b = _two(element, compiler, **kw)
    return f"CAST(julianday(date({b})) - julianday(date({a})) AS INTEGER)"


@compiles(days_between, "mysql")
@compiles(days_between, "mariadb")
def _db_mysql(element, compiler, **kw):  # noqa: ANN001, ANN202
    a, b = _two(element, compiler, **kw)
    return f"DATEDIFF({b}, {a})"


def cast_to(expr: ColumnElement, family: str, type_: TypeEngine) -> ColumnElement:
    """`expr` as the contract's type, portably (a date on SQLite stays an ISO string)."""
    if family == "date":
        return to_date(expr)
    if family == "datetime":
        return to_datetime(expr)
    if family == "boolean":
        return to_bool(expr)
    return cast(expr, type_)


# ------------------------------------------------------------------------------------- compiling
@dataclass
class Typed:
    sql: ColumnElement
    family: str  # string, integer, numeric, date, datetime, boolean, null, any
    aggregate: bool = False


class Resolver:
    """What a compile may refer to: columns by (alias, name), and the mapping's code tables."""

    def column(self, alias: str | None, name: str) -> Typed:  # pragma: no cover - interface
        raise NotImplementedError

    def code_map(self, name: str, key: Typed) -> Typed:  # pragma: no cover - interface
        raise NotImplementedError


_NUMBERS = {"integer", "numeric"}


def _lit(value: Any) -> Typed:
    if value is None:
        return Typed(null(), "null")
    if isinstance(value, bool):
        return Typed(true() if value else false(), "boolean")
    if isinstance(value, int):
        return Typed(literal(value, Integer()), "integer")
    if isinstance(value, Decimal):
        return Typed(literal(value, Numeric(20, 6)), "numeric")
    if isinstance(value, date):
        return Typed(to_date(literal(value.isoformat(), String(10))), "date")
    return Typed(literal(str(value), String(255)), "string")


def compile_expr(node: Node, r: Resolver, *, allow_aggregates: bool = False) -> Typed:
    """The SQLAlchemy expression of `node`, with its type family; ExprError when it does not fit."""
    k = node.kind
    if k == "lit":
        return _lit(node.value)
    if k == "col":
        return r.column(*node.value)
    if k == "name":
        raise ExprError(f"{node.value!r} is not a value here")
    if k == "neg":
        a = compile_expr(node.args[0], r, allow_aggregates=allow_aggregates)
        _need(a, _NUMBERS, "-")
        return Typed(-a.sql, a.family, a.aggregate)
    if k == "not":
        a = compile_expr(node.args[0], r, allow_aggregates=allow_aggregates)
        return Typed(not_(a.sql), "boolean", a.aggregate)
    if k == "isnull":
        a = compile_expr(node.args[0], r, allow_aggregates=allow_aggregates)
        return Typed(a.sql.is_not(None) if node.value else a.sql.is_(None), "boolean", a.aggregate)
    if k == "in":
        a = compile_expr(node.args[0], r, allow_aggregates=allow_aggregates)
        return Typed(a.sql.in_([n.value for n in node.args[1:]]), "boolean", a.aggregate)
    if k == "op":
        a, b = (compile_expr(n, r, allow_aggregates=allow_aggregates) for n in node.args)
        agg = a.aggregate or b.aggregate
        op = node.value
        if op in ("and", "or"):
            return Typed((and_ if op == "and" else or_)(a.sql, b.sql), "boolean", agg)
        if op in ("+", "-", "*", "/"):
            _need(a, _NUMBERS | {"date"} if op in "+-" else _NUMBERS, op)
            _need(b, _NUMBERS, op)
            if op == "/":
                fam = "numeric"
                return Typed(cast(a.sql, Numeric(20, 6)) / b.sql, fam, agg)
            fam = a.family if a.family == "date" else ("integer" if a.family == b.family == "integer" else "numeric")
            sql = {"+": a.sql + b.sql, "-": a.sql - b.sql, "*": a.sql * b.sql}[op]
            return Typed(sql, fam, agg)
        _comparable(a, b, op)
        sql = {"=": a.sql == b.sql, "!=": a.sql != b.sql, "<": a.sql < b.sql, "<=": a.sql <= b.sql,
               ">": a.sql > b.sql, ">=": a.sql >= b.sql}[op]
        return Typed(sql, "boolean", agg)
    if k == "call":
        return _call(node, r, allow_aggregates)
    raise ExprError(f"cannot compile {k}")  # pragma: no cover


def _need(a: Typed, families: set[str], op: str) -> None:
    if a.family not in families | {"any", "null"}:
        raise ExprError(f"{op!r} needs a number, not a {a.family}: cast it first (cast(x, numeric))")


def _comparable(a: Typed, b: Typed, op: str) -> None:
    fams = {a.family, b.family} - {"any", "null"}
    if len(fams) > 1 and not fams <= _NUMBERS and not fams <= {"date", "datetime"}:
        raise ExprError(f"cannot compare a {a.family} with a {b.family} ({op}): cast one of them")


def _call(node: Node, r: Resolver, allow_aggregates: bool) -> Typed:
    fn = node.value
    if fn not in FUNCTIONS:
        import difflib

        close = difflib.get_close_matches(fn, list(FUNCTIONS), n=2, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise ExprError(f"unknown function {fn}() ({hint}the functions are listed in docs/onboarding.md#expressions)")
    lo, hi, _ = FUNCTIONS[fn]
    if not lo <= len(node.args) <= hi:
        raise ExprError(f"{fn}() takes {lo if lo == hi else f'{lo} to {hi}'} argument(s), not {len(node.args)}")
    if fn in AGGREGATES and not allow_aggregates:
        raise ExprError(f"{fn}() sums over a group: only a table or source with group_by may use it")
    if fn == "cast":
        target = node.args[1]
        if target.kind != "name" or target.value.lower() not in CAST_TYPES:
            raise ExprError(f"cast(x, type): the type is one of {', '.join(CAST_TYPES)}")
        a = compile_expr(node.args[0], r, allow_aggregates=allow_aggregates)
        fam, type_ = CAST_TYPES[target.value.lower()]
        return Typed(cast_to(a.sql, fam, type_), fam, a.aggregate)
    if fn == "map":
        table = node.args[1]
        if table.kind not in ("name", "col") or (table.kind == "col" and table.value[0] is not None):
            raise ExprError("map(code, code_table): the second argument names a code table of the mapping")
        a = compile_expr(node.args[0], r, allow_aggregates=allow_aggregates)
        name = table.value if table.kind == "name" else table.value[1]
        out = r.code_map(name, a)
        return Typed(out.sql, out.family, a.aggregate)
    if fn in AGGREGATES:
        if fn == "count" and not node.args:
            return Typed(func.count(), "integer", True)
        a = compile_expr(node.args[0], r, allow_aggregates=False)
        if fn in ("sum", "avg"):
            _need(a, _NUMBERS | {"boolean"}, fn)
            arg = case((a.sql, 1), else_=0) if a.family == "boolean" else a.sql
            fam = "numeric" if fn == "avg" or a.family == "numeric" else "integer"
            return Typed(getattr(func, fn)(arg), fam, True)
        if fn == "count":
            return Typed(func.count(a.sql), "integer", True)
        return Typed(getattr(func, fn)(a.sql), a.family, True)
    args = [compile_expr(n, r, allow_aggregates=allow_aggregates) for n in node.args]
    agg = any(a.aggregate for a in args)
    if fn == "if":
        cond, then, other = args
        fams = {then.family, other.family} - {"null", "any"}
        fam = "numeric" if fams and fams <= _NUMBERS and len(fams) > 1 else (next(iter(fams)) if fams else "any")
        if len(fams) > 1 and fam != "numeric":
            raise ExprError(f"if(): both branches must have one type, not {then.family} and {other.family}")
        return Typed(case((cond.sql, then.sql), else_=other.sql), fam, agg)
    if fn in ("coalesce", "nullif"):
        fams = {a.family for a in args} - {"null", "any"}
        fam = "numeric" if fams and fams <= _NUMBERS and len(fams) > 1 else (next(iter(fams)) if fams else "any")
        if len(fams) > 1 and fam != "numeric" and fams != {"date", "datetime"}:
            raise ExprError(f"{fn}(): the arguments must have one type, not {' and '.join(sorted(fams))}")
        return Typed(getattr(func, fn)(*[a.sql for a in args]), fam, agg)
    if fn in ("lower", "upper", "trim"):
        _need_string(args[0], fn)
        return Typed(getattr(func, fn)(args[0].sql), "string", agg)
    if fn == "concat":
        for a in args:
            _need_string(a, fn)
        sql = args[0].sql
        for a in args[1:]:
            sql = sql.concat(a.sql)
        return Typed(sql, "string", agg)
    if fn == "substring":
        _need_string(args[0], fn)
        for a in args[1:]:
            _need(a, {"integer"}, "substring")
        return Typed(func.substr(*[a.sql for a in args]), "string", agg)
    if fn in ("year", "month", "day"):
        _need_date(args[0], fn)
        return Typed(cast(extract(fn, args[0].sql), Integer()), "integer", agg)
    if fn == "date":
        if args[0].family not in ("date", "datetime", "string", "any"):
            raise ExprError(f"date() takes a timestamp or a YYYY-MM-DD string, not a {args[0].family}")
        return Typed(to_date(args[0].sql), "date", agg)
    if fn == "month_start":
        _need_date(args[0], fn)
        return Typed(month_start(args[0].sql), "date", agg)
    if fn == "days_between":
        for a in args:
            _need_date(a, fn)
        return Typed(days_between(args[0].sql, args[1].sql), "integer", agg)
    if fn == "abs":
        _need(args[0], _NUMBERS, fn)
        return Typed(func.abs(args[0].sql), args[0].family, agg)
    if fn == "round":
        _need(args[0], _NUMBERS, fn)
        return Typed(func.round(*[a.sql for a in args]), "numeric", agg)
    raise ExprError(f"unknown function {fn}()")  # pragma: no cover


def _need_string(a: Typed, fn: str) -> None:
    if a.family not in ("string", "any", "null"):
        raise ExprError(f"{fn}() takes text, not a {a.family}: cast it first (cast(x, string))")


def _need_date(a: Typed, fn: str) -> None:
    if a.family not in ("date", "datetime", "any", "null"):
        raise ExprError(f"{fn}() takes a date or timestamp, not a {a.family}")
