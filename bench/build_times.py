"""How long the demo warehouse takes to build, and how big it is, per backend.

    python -m bench.build_times [--scale 1] [--years 5] [--backends duckdb,postgresql,mariadb,sqlite]

Server backends use a scratch database on this machine (created and dropped). Results go
to docs/build-times.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from data_layer.demo import generate, write_warehouse
from data_layer.engine import make_engine

PG = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIA = os.environ.get("BENCH_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
OUT = Path(__file__).resolve().parents[1] / "docs" / "build-times.md"


def _size(backend: str, url: str, engine) -> float:
    """Database size in MiB."""
    if backend in ("duckdb", "sqlite"):
        path = Path(url.split("///", 1)[1])
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20
    with engine.connect() as conn:
        if backend == "postgresql":
            return conn.execute(text("SELECT pg_database_size(current_database())")).scalar() / 2**20
        return float(conn.execute(text(
            "SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema = DATABASE()"
        )).scalar()) / 2**20


def run(scale: float, years: int, backends: list[str]) -> list[dict]:
    through = date(2026, 11, 21)
    t0 = time.perf_counter()
    data = generate(scale=scale, years=years, seed=42, through=through, now=datetime(2026, 11, 22, 10, 30))
    gen = time.perf_counter() - t0
    rows = sum(len(df) for df in data.tables.values())
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            name = f"hospdash_bench_{uuid.uuid4().hex[:8]}"
            admin = None
            if backend == "duckdb":
                url = f"duckdb:///{tmp}/bench.duckdb"
            elif backend == "sqlite":
                url = f"sqlite:///{tmp}/bench.sqlite"
            else:
                admin = create_engine(PG if backend == "postgresql" else MARIA, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text("CREATE DATABASE " + admin.dialect.identifier_preparer.quote(name)))
                url = admin.url.set(database=name).render_as_string(hide_password=False)
            engine = make_engine(url)
            try:
                t1 = time.perf_counter()
                write_warehouse(engine, data.tables, progress=False)
                load = time.perf_counter() - t1
                results.append({"backend": backend, "generate_s": gen, "load_s": load, "rows": rows,
                                "size_mib": _size(backend, url, engine)})
                print(results[-1], flush=True)
            finally:
                engine.dispose()
                if admin is not None:
                    with admin.connect() as conn:
                        conn.execute(text("DROP DATABASE IF EXISTS " + admin.dialect.identifier_preparer.quote(name)))
                    admin.dispose()
    return results


def write(results: list[dict], scale: float, years: int) -> None:
    lines = [
        "# Demo warehouse build times\n",
        f"Measured by `python -m bench.build_times --scale {scale:g} --years {years}` on {date.today()}, "
        f"on this project's standard machine (2 cores, 24 GiB; {platform.python_implementation()} "
        f"{platform.python_version()}). Generating the hospital in memory is the same for every backend; "
        "loading is each backend's bulk path (DuckDB: insert from a registered DataFrame; PostgreSQL: COPY; "
        "SQLite and MariaDB: batched multi-row INSERT), followed by the indexes.\n",
        "| backend | rows | generate (s) | load (s) | total (s) | size (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r['backend']} | {r['rows']:,} | {r['generate_s']:.1f} | {r['load_s']:.1f} | "
                     f"{r['generate_s'] + r['load_s']:.1f} | {r['size_mib']:.0f} |")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--backends", default="duckdb,postgresql,mariadb,sqlite")
    a = p.parse_args()
    results = run(a.scale, a.years, a.backends.split(","))
    write(results, a.scale, a.years)


if __name__ == "__main__":
    main()
