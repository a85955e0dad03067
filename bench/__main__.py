"""The benchmark suite (`make bench`): every page's callbacks on warehouses at scale 1 and 5
(5 years each) on DuckDB and PostgreSQL, cold and warm, against the same aggregate as one raw
SQL query; and the wall screens' drawing time in headless Chromium. Writes docs/performance.md.

    python -m bench [--scales 1,5] [--backends duckdb,postgresql] [--runs 5] [--no-browser] [--out FILE]
    python -m bench --quick --out /tmp/perf.md     # a tiny warehouse, one run: checks that it all works

Warehouses are built once and kept: DuckDB files in data/bench/, PostgreSQL databases
hospdash_bench_s1 and hospdash_bench_s5 on BENCH_POSTGRES_URL's server (default the local one);
`--rebuild` builds them again. The load test (bench/load.py), the ClickHouse comparison
(bench/clickhouse_cluster.py) and the fuzz run (`python -m bench.fuzz_callbacks`) run on their
own: docs/deployment.md, docs/clickhouse.md and docs/access.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from . import callbacks, wall_draw

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
THROUGH = date(2026, 11, 21)
HISTORY = "<!-- history: kept by `python -m bench` -->"
NOW = datetime(2026, 11, 22, 10, 30)


def _scale_name(scale: float) -> str:
    return f"s{scale:g}".replace(".", "_")


def _has_warehouse(url: str) -> bool:
    from data_layer.engine import make_engine

    try:
        engine = make_engine(url, read_only=True)
    except Exception:  # noqa: BLE001 - a missing file or database: build it
        return False
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("select count(*) from meta_load")).scalar())
    except Exception:  # noqa: BLE001
        return False
    finally:
        engine.dispose()


PG_RANDOM_PAGE_COST = 1.1  # PostgreSQL's default (4) assumes spinning disks


def _summarized(url: str) -> None:
    """Build the summary tables where they are missing or older than the load (as a loading job would)."""
    from data_layer.engine import make_engine
    from data_layer.summaries import summarize

    engine = make_engine(url)
    try:
        if summarize(engine, if_stale=True) is not None:
            print(f"built the summary tables of {url.rsplit('/', 1)[-1]}", flush=True)
    finally:
        engine.dispose()


def warehouses(scales: list[float], backends: list[str], years: int, rebuild: bool, folder: Path) -> list[tuple]:
    """(label, scale, backend, url) for each warehouse, built where missing."""
    from data_layer.demo import generate, write_warehouse
    from data_layer.engine import make_engine

    out = []
    for scale in scales:
        urls = {}
        for backend in backends:
            if backend == "duckdb":
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"{_scale_name(scale)}-{years}y.duckdb"
                if rebuild and path.exists():
                    path.unlink()
                urls[backend] = f"duckdb:///{path}"
            elif backend == "postgresql":
                name = f"hospdash_bench_{_scale_name(scale)}_{years}y"
                admin = create_engine(PG, isolation_level="AUTOCOMMIT")
                quoted = admin.dialect.identifier_preparer.quote(name)  # a name cannot be a bound parameter
                with admin.connect() as conn:
                    exists = conn.execute(text("select 1 from pg_database where datname = :n"), {"n": name}).first()
                    if exists and rebuild:
                        conn.execute(text("DROP DATABASE " + quoted + " WITH (FORCE)"))
                        exists = None
                    if not exists:
                        conn.execute(text("CREATE DATABASE " + quoted))
                    # the planner setting docs/deployment.md asks for where the warehouse is on SSDs
                    # (a utility statement takes no bound parameters: a quoted name and a float constant)
                    conn.execute(text("ALTER DATABASE " + quoted + " SET random_page_cost = "
                                      + repr(float(PG_RANDOM_PAGE_COST))))
                urls[backend] = admin.url.set(database=name).render_as_string(hide_password=False)
                admin.dispose()
            else:
                raise SystemExit(f"unknown backend {backend!r}: duckdb or postgresql")
        missing = {b: u for b, u in urls.items() if not _has_warehouse(u)}
        if missing:
            print(f"building the scale-{scale:g} warehouse for {', '.join(missing)} …", flush=True)
            data = generate(scale=scale, years=years, seed=42, through=THROUGH, now=NOW)
            for url in missing.values():
                engine = make_engine(url)
                try:
                    write_warehouse(engine, data.tables, progress=False)
                finally:
                    engine.dispose()
        for backend, url in urls.items():
            _summarized(url)
            out.append((f"scale {scale:g} · {backend}", scale, backend, url))
    return out


def report(results: list[tuple], walls: list | None, args: argparse.Namespace, seconds: float) -> str:
    lines = [
        "# Performance",
        "",
        f"Measured by `python -m bench` on {date.today()}, on this project's standard machine "
        f"({os.cpu_count()} cores; {platform.python_implementation()} {platform.python_version()}), "
        f"in {seconds / 60:.0f} minutes. Warehouses: the demo hospital, {args.years} years of data through {THROUGH}.",
        "",
        "Each callback is posted through the real Flask app and the data layer, signed in as a user of the page's "
        "role (a hospital leader; the director of the first clinical department; an assistant over the first "
        "three), with the inputs the page sends for the year to date. **Cold**: the result cache emptied before "
        f"the request ({args.runs} runs); **warm**: the same request again (3 after each cold one). Milliseconds. "
        "**Raw SQL**: the callback's main aggregate written as one hand-written SQL query on the same engine "
        "(what the database alone needs); **cold ÷ raw** is the price of everything else (several periods and "
        "comparisons, names, targets, figures). **Bytes**: the size of the callback's answer.",
        "",
        "Each warehouse is set up as [deployment](deployment.md) asks of a production one: analyzed and "
        "summarized after its load (`python -m data_layer summarize`), and on PostgreSQL with "
        f"`random_page_cost = {PG_RANDOM_PAGE_COST}` (SSD storage). Without the summary tables, or with the stock "
        "`random_page_cost = 4`, see the history below the tables.",
        "",
    ]
    for label, rows in results:
        lines += [f"## {label}", "", callbacks.table(rows), ""]
    by = {label: {r["name"]: r for r in rows} for label, rows in results}
    pairs = [(a, b) for a in by for b in by if a.startswith("scale 5") and b == a.replace("scale 5", "scale 1")]
    if pairs:
        lines += ["## Scale 5 against scale 1", "", "Cold p50 at scale 5 ÷ cold p50 at scale 1 (the target is at most 2).",
                  "", "| callback | " + " | ".join(a.split(" · ")[1] for a, _ in pairs) + " |",
                  "|---|" + "---:|" * len(pairs)]
        for name in by[pairs[0][1]]:
            cells = []
            for a, b in pairs:
                x, y = by[a].get(name), by[b].get(name)
                ok = x and y and x["cold_p50"] == x["cold_p50"] and y["cold_p50"]
                cells.append(f"{x['cold_p50'] / y['cold_p50']:.1f}×" if ok else "—")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    if walls is not None:
        lines += ["## Wall screens in headless Chromium", "",
                  f"Seconds from opening the address (`?kiosk=1`) to every figure drawn, scale 1 on DuckDB, "
                  f"{args.wall_runs} runs (median). The first size visited after the app starts is the cold one.", "",
                  wall_draw.table(walls), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--scales", default="1,5")
    p.add_argument("--backends", default="duckdb,postgresql")
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--runs", type=int, default=5, help="cold runs per callback")
    p.add_argument("--wall-runs", type=int, default=3)
    p.add_argument("--no-browser", action="store_true", help="skip the wall screens in Chromium")
    p.add_argument("--rebuild", action="store_true", help="build the warehouses again")
    p.add_argument("--quick", action="store_true", help="a tiny DuckDB warehouse, one run, no browser")
    p.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    args = p.parse_args(argv)
    folder = ROOT / "data" / "bench"
    if args.quick:
        args.scales, args.backends, args.years, args.runs, args.no_browser = "0.05", "duckdb", 1, 1, True
        folder = Path(tempfile.mkdtemp(prefix="bench-quick-"))
    t0 = time.perf_counter()
    whs = warehouses([float(s) for s in args.scales.split(",")], args.backends.split(","), args.years, args.rebuild,
                     folder)
    results = []
    for label, _scale, _backend, url in whs:
        print(f"callbacks on {label} …", flush=True)
        rows = callbacks.run(url, args.runs)
        print(callbacks.table(rows), flush=True)
        results.append((label, rows))
    walls = None
    if not args.no_browser:
        first = next((u for label, s, b, u in whs if b == "duckdb" and s == 1), whs[0][3])
        print("wall screens in Chromium …", flush=True)
        walls = wall_draw.measure(first, args.wall_runs)
    out = Path(args.out)
    kept = ""
    if out.exists() and HISTORY in out.read_text(encoding="utf-8"):  # hand-kept records below the marker stay
        kept = out.read_text(encoding="utf-8").split(HISTORY, 1)[1]
    out.write_text(report(results, walls, args, time.perf_counter() - t0) + "\n" + HISTORY + kept, encoding="utf-8")
    print(f"wrote {args.out}")
    return 1 if any(r["error"] for _, rows in results for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
