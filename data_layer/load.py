"""Bulk loading of contract tables into any supported database: create the tables, copy frames in by
the fastest path each backend offers, index, analyze, and build the summary tables."""
from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import Engine, MetaData, Table, column, insert, select
from sqlalchemy import table as light_table
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable
from tqdm import tqdm

from .engine import analyze
from .schema import CONTRACT_VERSION, TABLE_ORDER, V2_TABLES, complete, metadata, version1_columns
from .summaries import build_summaries

CHUNK = 50_000


def contract_tables(version: int = CONTRACT_VERSION) -> dict[str, Table]:
    """The contract's tables in load order as of `version`: version 1 leaves out the tables and
    columns that version 2 added (a warehouse built that way is what a version 1 hospital has)."""
    if version >= CONTRACT_VERSION:
        return {name: metadata.tables[name] for name in TABLE_ORDER}
    old = MetaData()
    return {name: Table(name, old, *[c._copy() for c in version1_columns(metadata.tables[name])])
            for name in TABLE_ORDER if name not in V2_TABLES}


def drop_tables(engine: Engine, names: Iterable[str] = TABLE_ORDER) -> None:
    with engine.begin() as conn:
        for name in reversed(list(names)):
            conn.execute(DropTable(metadata.tables[name], if_exists=True))


def create_tables(engine: Engine, names: Iterable[str] = TABLE_ORDER, version: int = CONTRACT_VERSION) -> None:
    """Drop and create the named contract tables (as of `version`), without foreign-key constraints."""
    names = list(names)
    drop_tables(engine, names)
    tables = contract_tables(version)
    with engine.begin() as conn:
        for name in names:
            if name in tables:
                conn.execute(CreateTable(tables[name], include_foreign_key_constraints=[]))


def create_indexes(engine: Engine, names: Iterable[str] = TABLE_ORDER, version: int = CONTRACT_VERSION) -> None:
    tables = contract_tables(version)
    with engine.begin() as conn:
        for name in (n for n in names if n in tables):
            for idx in metadata.tables[name].indexes:
                conn.execute(CreateIndex(idx))


def _frame_for(table: Table, df: pd.DataFrame) -> pd.DataFrame:
    """Columns in contract order, with date columns as datetime64 and NaN as None-friendly."""
    out = df[[c.name for c in table.columns]].copy()
    for c in table.columns:
        kind = c.type.__class__.__name__
        if kind in ("Date", "DateTime"):
            out[c.name] = pd.to_datetime(out[c.name])
    return out


def _rows(df: pd.DataFrame, table: Table) -> list[dict]:
    """Plain Python rows for executemany drivers."""
    cols = {}
    for c in table.columns:
        s = df[c.name]
        kind = c.type.__class__.__name__
        if kind == "Date":
            vals = [None if pd.isna(v) else v.date() for v in s]
        elif kind == "DateTime":
            vals = [None if pd.isna(v) else v.to_pydatetime() for v in s]
        elif kind == "Boolean":
            vals = [None if v is None or (isinstance(v, float) and np.isnan(v)) else bool(v) for v in s]
        elif kind == "Integer":
            vals = [None if v is None or (isinstance(v, float) and np.isnan(v)) else int(v) for v in s]
        elif kind == "Numeric":
            vals = [None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v) for v in s]
        else:
            vals = [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in s]
        cols[c.name] = vals
    names = list(cols)
    return [dict(zip(names, row, strict=True)) for row in zip(*cols.values(), strict=True)]


def load_frame(engine: Engine, table: Table, df: pd.DataFrame, bar: tqdm | None = None) -> None:
    """Append `df` to `table` by the fastest path the backend offers."""
    df = _frame_for(table, df)
    backend = engine.dialect.name
    with engine.begin() as conn:
        for start in range(0, len(df), CHUNK):
            chunk = df.iloc[start:start + CHUNK]
            if backend == "duckdb":
                raw = conn.connection.dbapi_connection
                raw.register("_load_chunk", chunk)
                cols = [c.name for c in table.columns]
                conn.execute(insert(table).from_select(cols, select(*[column(c) for c in cols]).select_from(
                    light_table("_load_chunk"))))
                raw.unregister("_load_chunk")
            elif backend == "postgresql":
                _copy_postgres(conn, table, chunk)
            else:
                conn.execute(insert(table), _rows(chunk, table))
            if bar is not None:
                bar.update(len(chunk))


def _copy_postgres(conn, table: Table, chunk: pd.DataFrame) -> None:
    from psycopg import sql

    buf = io.StringIO()
    out = chunk.copy()
    for c in table.columns:
        if c.type.__class__.__name__ == "Date":
            out[c.name] = out[c.name].dt.strftime("%Y-%m-%d")
    out.to_csv(buf, index=False, header=False, na_rep="")
    stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns))
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur, cur.copy(stmt) as copy:
        copy.write(buf.getvalue())


def write_warehouse(engine: Engine, tables: dict[str, pd.DataFrame], progress: bool = True,
                    version: int = CONTRACT_VERSION) -> dict[str, int]:
    """Replace the contract tables in `engine` with `tables` (as of contract `version`: 1 leaves
    out what version 2 added); returns rows per table."""
    create_tables(engine, version=version)
    shapes, tables = contract_tables(version), complete(tables)
    total = sum(len(tables[n]) for n in shapes)
    counts = {}
    with tqdm(total=total, desc="loading warehouse", unit=" rows", disable=not progress, unit_scale=True,
              dynamic_ncols=True) as bar:
        for name, table in shapes.items():
            bar.set_postfix_str(name)
            load_frame(engine, table, tables[name], bar)
            counts[name] = len(tables[name])
    create_indexes(engine, version=version)
    analyze(engine, list(shapes))
    build_summaries(engine)  # as a hospital's loading job runs `python -m data_layer summarize`
    return counts
