"""A mapping file: read (YAML, or TOML), kept with the line of every key, and checked by pydantic.

The file's structure (docs/onboarding.md, docs/mapping-example.yaml):

    version: 1
    codes:                     # code tables: their codes -> the contract's
      <name>:
        values: {their code: contract value, ...}     # inline, or
        table: <source table>  key: <column>  value: <column>  where: <expression>
        default: <contract value for a code not listed>   (optional)
        one_to_one: true       # two of their codes may not give one contract code
    sources:                   # derived sources (a grouped query) that tables may join
      <name>: {from: <table>, joins: [...], where: <expr>, group_by: [<expr>, ...], columns: {name: <expr>}}
    tables:
      <contract table>:
        from: <source table or derived source>
        joins: [{table: <t>, as: <alias>, on: <expr>, kind: left|inner}]
        where: <expression>
        group_by: [<expression>, ...]
        columns: {<contract column>: <expression> | <number> | {const: <value>}}
        materialize: true      # a table instead of a view
      <contract table>: {rows: [{column: value, ...}, ...]}         # constant rows
      <contract table>: {empty: true}                              # the contract allows it empty
      dim_date: {calendar: {start: YYYY-MM-DD, end: YYYY-MM-DD, holidays: <source table>, ...}}
"""
from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class MappingFileError(ValueError):
    """A mapping file that cannot be read; `problems` holds (line, message) pairs."""

    def __init__(self, problems: list[tuple[int | None, str]]):
        self.problems = problems
        super().__init__("; ".join(f"line {ln}: {m}" if ln else m for ln, m in problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CodeTable(_Strict):
    values: dict[str, str] | None = None
    table: str | None = None
    key: str | None = None
    value: str | None = None
    where: str | None = None
    default: str | None = None
    one_to_one: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> CodeTable:
        if (self.values is None) == (self.table is None):
            raise ValueError("a code table has either `values` (inline) or `table`, `key` and `value` (a source table)")
        if self.table is not None and not (self.key and self.value):
            raise ValueError("a code table from a source table needs `key` (their code) and `value` (the contract's)")
        return self


NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"  # an alias, a derived source or a column it makes


class Join(_Strict):
    table: str
    as_: str | None = Field(None, alias="as", pattern=NAME)
    on: str
    kind: Literal["left", "inner"] = "left"


Scalar = str | int | float | bool | date | None


class Query(_Strict):
    from_: str = Field(alias="from")
    as_: str | None = Field(None, alias="as", pattern=NAME)
    joins: list[Join] = []
    where: str | None = None
    group_by: list[str] = []
    columns: dict[str, Scalar | dict[str, Scalar]] = {}


class Calendar(_Strict):
    start: date
    end: date
    holidays: str | None = None  # a source table of days off and adjusted working days
    holiday_date: str = "date"
    holiday_name: str | None = None
    holiday_workday: str | None = None  # a column that is true on an adjusted working day (调休上班)

    @model_validator(mode="after")
    def _order(self) -> Calendar:
        if self.end < self.start:
            raise ValueError("calendar end is before its start")
        if (self.end - self.start).days > 366 * 40:
            raise ValueError("a calendar of more than 40 years")
        return self


class TableMap(_Strict):
    from_: str | None = Field(None, alias="from")
    as_: str | None = Field(None, alias="as", pattern=NAME)
    joins: list[Join] = []
    where: str | None = None
    group_by: list[str] = []
    columns: dict[str, Scalar | dict[str, Scalar]] = {}
    rows: list[dict[str, Scalar]] | None = None
    empty: bool = False
    calendar: Calendar | None = None
    materialize: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> TableMap:
        kinds = [self.from_ is not None, self.rows is not None, self.empty, self.calendar is not None]
        if sum(kinds) != 1:
            raise ValueError("a table comes from exactly one of `from` (a source), `rows` (constants), "
                             "`empty: true` or `calendar` (dim_date only)")
        if self.from_ is not None and not self.columns:
            raise ValueError("a table `from` a source needs `columns`")
        return self


class Mapping(_Strict):
    version: Literal[1] = 1
    hospital: str | None = None
    codes: dict[str, CodeTable] = {}
    sources: dict[str, Query] = {}
    tables: dict[str, TableMap]

    @model_validator(mode="after")
    def _names(self) -> Mapping:
        import re

        for kind, names in (("code table", self.codes), ("source", self.sources)):
            for name in names:
                if not re.match(NAME, name):
                    raise ValueError(f"{kind} name {name!r}: letters, digits and _ only")
        for name, q in self.sources.items():
            for col in q.columns:
                if not re.match(NAME, col):
                    raise ValueError(f"source {name!r}: column name {col!r}: letters, digits and _ only")
        return self


class Located:
    """A loaded mapping and the line of each key path (("tables", "dim_ward", "columns", "ward_id"))."""

    def __init__(self, mapping: Mapping, lines: dict[tuple, int], path: str):
        self.mapping = mapping
        self.lines = lines
        self.path = path

    def line(self, *path: Any) -> int | None:
        """The line of the deepest known key on `path`."""
        for n in range(len(path), 0, -1):
            if (ln := self.lines.get(tuple(path[:n]))) is not None:
                return ln
        return None


def _walk(node: yaml.Node, path: tuple, lines: dict[tuple, int], problems: list, raw_keys: bool = False) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                problems.append((k.start_mark.line + 1, "a key must be a plain name"))
                continue
            key = k.value
            if key in out:
                problems.append((k.start_mark.line + 1, f"{key!r} is given twice (the first on line "
                                                         f"{lines.get(path + (key,))})"))
                continue
            lines[path + (key,)] = k.start_mark.line + 1
            # a code table's values keep their text: `01: employee` stays '01', never the number 1
            raw = path[-1:] == ("values",) and len(path) == 3 and path[0] == "codes"
            out[key] = _walk(v, path + (key,), lines, problems, raw)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(v, path + (i,), lines, problems) for i, v in enumerate(node.value)]
    if raw_keys:
        return node.value
    value = yaml.SafeLoader("").construct_object(node)  # type: ignore[arg-type]
    if isinstance(value, bool) and node.value.lower() not in ("true", "false"):
        return node.value  # YAML 1.1 reads yes/no/on/off as booleans: here they are names (a column NO)
    return value


def _toml_lines(text: str) -> dict[tuple, int]:
    """TOML keeps no positions: the line of each [table] header and `key =` under it, found by reading."""
    lines: dict[tuple, int] = {}
    section: tuple = ()
    for n, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if s.startswith("[") and not s.startswith("[["):
            section = tuple(p.strip().strip('"') for p in s.strip("[]").split("."))
            lines.setdefault(section, n)
        elif "=" in s and not s.startswith("#"):
            key = s.split("=", 1)[0].strip().strip('"')
            lines.setdefault(section + (key,), n)
    return lines


def load_mapping(path: str | Path) -> Located:
    """Read and check a mapping file's structure; MappingFileError names the line of each problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingFileError([(None, f"cannot read {p}: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise MappingFileError([(None, f"{p} is not UTF-8 text")]) from None
    return parse_mapping(text, str(p))


def parse_mapping(text: str, name: str = "<mapping>") -> Located:
    lines: dict[tuple, int] = {}
    problems: list[tuple[int | None, str]] = []
    if name.endswith(".toml"):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise MappingFileError([(getattr(exc, "lineno", None), f"not valid TOML: {exc}")]) from None
        lines = _toml_lines(text)
    else:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            what = getattr(exc, "problem", None) or str(exc)
            raise MappingFileError([(mark.line + 1 if mark else None, f"not valid YAML: {what}")]) from None
        if node is None:
            raise MappingFileError([(None, "the mapping file is empty")])
        data = _walk(node, (), lines, problems)
        if problems:
            raise MappingFileError(problems)
    if not isinstance(data, dict):
        raise MappingFileError([(1, "a mapping file is a set of keys (version, codes, sources, tables)")])
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x in (
                "str", "int", "float", "bool", "date", "dict[str,union[str,int,float,bool,date,none]]")))
            where = ".".join(map(str, loc))
            ln = None
            for n in range(len(loc), 0, -1):
                if (ln := lines.get(loc[:n])) is not None:
                    break
            msg = err["msg"].removeprefix("Value error, ")
            problems.append((ln, f"{where}: {msg}" if where else msg))
        raise MappingFileError(_dedupe(problems)) from None
    return Located(mapping, lines, name)


def _dedupe(problems: list[tuple[int | None, str]]) -> list[tuple[int | None, str]]:
    seen, out = set(), []
    for p in problems:
        key = (p[0], p[1].split(":")[0])
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
