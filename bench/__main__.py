"""The benchmark suite (`make bench`): every page's callbacks on warehouses at scale 1, 5 and 10
(5 years each; scale 10 on PostgreSQL only, `--server-only-scales`) on DuckDB and PostgreSQL,
cold and warm, against the callback's own SQL re-run concurrently and the same aggregate as one
raw SQL query; how each callback grows with the data against its SQL; the app's warm-up after a
load; and the wall screens' drawing time in headless Chromium. Writes docs/performance.md.

    python -m bench [--scales 1,5,10] [--backends duckdb,postgresql] [--runs 5] [--no-browser] [--out FILE]
                    [--json-out FILE] [--before FILE ...] [--warmup-scales 1,5]
    make bench BENCH_ARGS="--before data/bench/before.json"
    python -m bench --quick --out /tmp/perf.md     # a tiny warehouse, one run: checks that it all works

`--json-out` writes this run's figures per warehouse; `--before` (repeatable) reads such a file,
or an older docs/performance.md, from a run at an older commit, and the report then shows each
warehouse's callbacks before and after side by side.

Warehouses are built once and kept: DuckDB files in data/bench/, PostgreSQL databases
hospdash_bench_s1_5y, hospdash_bench_s5_5y (and hospdash_bench_s10_5y) on BENCH_POSTGRES_URL's
server (default the local one); `--rebuild` builds them again. The load test (bench/load.py), the ClickHouse comparison
(bench/clickhouse_cluster.py) and the fuzz run (`python -m bench.fuzz_callbacks`) run on their
own: docs/deployment.md, docs/clickhouse.md and docs/access.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from . import callbacks, wall_draw

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
THROUGH = date(2026, 11, 21)
HISTORY = "<!-- history: kept by `python -m bench` -->"
NOW = datetime(2026, 11, 22, 10, 30)
NAN = float("nan")
TARGET_P95 = {1.0: 250.0, 5.0: 400.0}  # issue 19: every callback's cold p95 at scale 1 and 5 on PostgreSQL
TARGET_OWN_RATIO = 3.0  # issue 19: cold at most 3× the callback's own SQL run concurrently
GROWTH_SLACK, GROWTH_FLOOR = 1.25, 1.5  # cold growth within 1.25× of its SQL's growth, or at most 1.5× at all


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


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _label_scale(label: str) -> tuple[float, str]:
    """("scale 5 · postgresql") -> (5.0, "postgresql")."""
    scale, _, backend = label.removeprefix("scale ").partition(" · ")
    return float(scale.replace("_", ".")), backend


def _ok(v: Any) -> bool:
    return isinstance(v, (int, float)) and v == v and v > 0


def growth(results: list[tuple]) -> list[str]:
    """Per backend, each callback's cold p50 and own SQL at every larger scale ÷ at the smallest."""
    by_backend: dict[str, dict[float, dict[str, dict]]] = {}
    for label, rows in results:
        scale, backend = _label_scale(label)
        by_backend.setdefault(backend, {})[scale] = {r["name"]: r for r in rows}
    out: list[str] = []
    for backend, scales in by_backend.items():
        if len(scales) < 2:
            continue
        base = 1.0 if 1.0 in scales else min(scales)
        others = sorted(x for x in scales if x != base)
        if not out:
            out += ["## Growth with the data", "",
                    f"Cold p50 at each scale ÷ cold p50 at scale {base:g}, beside the same ratio of the callback's own "
                    "SQL run concurrently (own SQL ∥). The target: a callback grows no faster than its raw SQL. "
                    f"**Rule for ✓**: at every scale, cold growth ≤ {GROWTH_SLACK:g} × the SQL's growth, or cold "
                    f"growth ≤ {GROWTH_FLOOR:g}× at all (a callback that barely grows passes even when its SQL grows "
                    "less, since both are then within the noise).", ""]
        head = ("| callback | " + " | ".join(f"cold {x:g}÷{base:g} | own SQL {x:g}÷{base:g}" for x in others)
                + " | cold growth ≤ SQL growth |")
        out += [f"### {backend}: scale {', '.join(f'{x:g}' for x in others)} against scale {base:g}", "", head,
                "|---|" + "---:|---:|" * len(others) + ":---:|"]
        for name, b in scales[base].items():
            cells, verdicts = [], []
            for x in others:
                r = scales[x].get(name)
                cold = r["cold_p50"] / b["cold_p50"] if r and _ok(r["cold_p50"]) and _ok(b["cold_p50"]) else NAN
                own = (r["own_sql_p50"] / b["own_sql_p50"]
                       if r and _ok(r.get("own_sql_p50")) and _ok(b.get("own_sql_p50")) else NAN)
                cells += [callbacks.times(cold), callbacks.times(own)]
                if cold == cold:
                    verdicts.append(cold <= GROWTH_FLOOR or (own == own and cold <= GROWTH_SLACK * own))
            mark = "—" if not verdicts else ("✓" if all(verdicts) else "✗")
            out.append(f"| {name} | " + " | ".join(cells) + f" | {mark} |")
        out.append("")
    return out


# ------------------------------------------------------------------ before and after
_MD_COLUMNS = {"cold p50": "cold_p50", "cold p95": "cold_p95", "cold max": "cold_max", "warm p50": "warm_p50",
               "warm p95": "warm_p95", "raw sql p50": "raw_p50", "one aggregate p50": "raw_p50",
               "own sql ∥ p50": "own_sql_p50", "statements": "statements", "role": "user", "first run": "first_ms"}


def _number(cell: str) -> float:
    cell = cell.strip().rstrip("×").replace(",", "")
    try:
        return float(cell)
    except ValueError:
        return NAN


def read_markdown(text: str) -> dict[str, list[dict]]:
    """The callback tables of a docs/performance.md written by this benchmark (any version), per
    warehouse label; only the part above the history marker."""
    text = text.split(HISTORY, 1)[0]
    out: dict[str, list[dict]] = {}
    label, header = None, None
    for line in text.splitlines():
        m = re.match(r"^## (scale [\d._]+ · \w+)\s*$", line)
        if m:
            label, header = m.group(1), None
            continue
        if line.startswith("## "):
            label, header = None, None
            continue
        if label is None or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            if cells and cells[0] == "callback":
                header = [c.lower() for c in cells]
            continue
        if set(line) <= set("|-: "):
            continue
        row: dict[str, Any] = {"name": cells[0], "error": ""}
        for h, c in zip(header[1:], cells[1:], strict=False):
            key = _MD_COLUMNS.get(h)
            if key:
                row[key] = c if key == "user" else _number(c)
        out.setdefault(label, []).append(row)
    return out


def read_before(paths: list[str]) -> dict[str, dict[str, dict]]:
    """{warehouse label: {callback: figures}} from --json-out files or older performance.md files."""
    merged: dict[str, dict[str, dict]] = {}
    for path in paths:
        text = Path(path).read_text(encoding="utf-8")
        if path.endswith(".md"):
            found = read_markdown(text)
        else:
            data = json.loads(text)
            found = data.get("warehouses", data) if isinstance(data, dict) else {}
        if not found:
            raise SystemExit(f"--before {path}: no warehouse figures in it")
        for label, rows in found.items():
            merged.setdefault(label, {}).update({r["name"]: r for r in rows})
    return merged


def target_p95(scale: float) -> float:
    return TARGET_P95.get(scale, NAN)


def before_after(results: list[tuple], before: dict[str, dict[str, dict]]) -> list[str]:
    out = ["## Before and after", "",
           "Per warehouse, the figures of the same benchmark at an older commit (before) beside this run's (after), "
           "milliseconds. **Target met**: cold p95 ≤ "
           + " / ".join(f"{v:g} ms at scale {k:g}" for k, v in TARGET_P95.items())
           + f", and cold ≤ {TARGET_OWN_RATIO:g} × the callback's own SQL run concurrently; "
           "— where the scale has no target.", ""]
    for label, rows in results:
        old = before.get(label)
        if old is None:
            continue
        scale, _backend = _label_scale(label)
        limit = target_p95(scale)
        ms, times = callbacks.ms, callbacks.times
        out += [f"### {label}", "",
                "| callback | cold p50 before | after | cold p95 before | after | warm p50 after | own SQL ∥ | "
                "cold ÷ own SQL | target met |", "|---|---:|---:|---:|---:|---:|---:|---:|:---:|"]
        for r in rows:
            b = old.get(r["name"], {})
            if r["error"]:
                out.append(f"| {r['name']} | {ms(b.get('cold_p50', NAN))} | {r['error']} |" + "  |" * 6)
                continue
            ratio = r.get("own_ratio", NAN)
            if limit != limit:
                met = "—"
            else:
                checks = [("p95", r["cold_p95"] <= limit)]
                if ratio == ratio:
                    checks.append((f"≤{TARGET_OWN_RATIO:g}×", ratio <= TARGET_OWN_RATIO))
                met = "✓" if all(ok for _, ok in checks) else "✗ " + ", ".join(n for n, ok in checks if not ok)
            out.append(f"| {r['name']} | {ms(b.get('cold_p50', NAN))} | {ms(r['cold_p50'])} | "
                       f"{ms(b.get('cold_p95', NAN))} | {ms(r['cold_p95'])} | {ms(r['warm_p50'])} | "
                       f"{ms(r.get('own_sql_p50', NAN))} | {times(ratio)} | {met} |")
        out.append("")
    return out


# ------------------------------------------------------------------ warm-up
def measure_warmup(whs: list[tuple], months: bool = True) -> list[dict] | str:
    """shell.warmup.run(server) timed once per warehouse on a fresh app (empty cache); a note
    instead when the app has no warm-up. `months=False`: without its last pass (WARMUP_MONTHS)."""
    try:
        from shell import warmup
    except ImportError:
        return "the app has no warm-up (shell.warmup) at this commit: not measured"
    if not hasattr(warmup, "run"):
        return "shell.warmup has no run(server): not measured"
    out = []
    for label, _scale, _backend, url in whs:
        print(f"warm-up on {label} …", flush=True)
        server = callbacks.make_server(url, months=months)
        state = server.extensions["hospdash"]
        wh = state.warehouse
        row: dict[str, Any] = {"label": label, "seconds": NAN, "entries": None, "statements": None, "wall": NAN,
                               "error": "", "users": 0, "passes": [], "written": None, "full": False}
        try:
            from appdb.demo_users import ensure_demo_users
            from data_layer.queries.structure import departments
            from data_layer.scope import Scope

            # the demo hospital's accounts: its leaders, a director per department, its assistants
            row["users"] = len(ensure_demo_users(state.appdb, departments(wh, Scope.hospital()), state.settings.data_dir))
            wh.cache.clear()
            t0 = time.perf_counter()
            got = warmup.run(server)
            row["wall"] = time.perf_counter() - t0
            row.update(seconds=getattr(got, "seconds", NAN), entries=getattr(got, "entries", None),
                       statements=getattr(got, "statements", None), passes=getattr(got, "passes", []),
                       written=getattr(got, "written", None), full=getattr(got, "full", False))
        except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
            row["error"] = f"{type(exc).__name__}: {exc}"[:200]
        finally:
            wh.engine.dispose()
        out.append(row)
    return out


def warmup_section(warm: list[dict] | str) -> list[str]:
    out = ["## Warm-up after a load", ""]
    if isinstance(warm, str):
        return out + [warm[0].upper() + warm[1:] + ".", ""]
    out += ["`shell.warmup.run(server)` once per warehouse on a freshly started app (an empty in-process cache of "
            "the default size, `CACHE_MB`), for the demo hospital's accounts (every leader, a director per "
            "department, every assistant): when each of its passes ended (the landing pages; the other periods of "
            "those pages and every workspace section shared by department in every named period; the same in each "
            "month the period picker offers), with the answers it had put in the cache by then, and in all the "
            "SQL statements run, the megabytes written to the cache, and whether it stopped at its share of the "
            "cache (`FILL_LIMIT`, 60% of `CACHE_MB`: then the pass it stopped in shows when and after how many "
            "answers).", "",
            "| warehouse | accounts | landing pages s | answers | + other periods s | answers | + months s | answers "
            "| statements | MB written | stopped at the cache's limit |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for w in warm:
        if w["error"]:
            out.append(f"| {w['label']} | {w['error']} |" + "  |" * 9)
            continue
        passes = [f"{secs:.0f} | {answers:,}" for answers, _bytes, secs in w.get("passes", [])]
        if len(passes) < 3 and w.get("full") and w["entries"] is not None:  # the pass it stopped in, where it stopped
            passes.append(f"{w['seconds']:.0f} (stopped) | {w['entries']:,}")
        passes += ["— | —"] * (3 - len(passes))
        written = w.get("written")
        out.append(f"| {w['label']} | {w.get('users', '—')} | {' | '.join(passes)} | "
                   f"{'—' if w['statements'] is None else format(w['statements'], ',')} | "
                   f"{'—' if written is None else f'{written / 2**20:.0f}'} | {'yes' if w.get('full') else 'no'} |")
    return out + [""]


def report(results: list[tuple], walls: list | None, args: argparse.Namespace, seconds: float,
           before: dict[str, dict[str, dict]] | None = None, warm: list[dict] | str | None = None) -> str:
    lines = [
        "# Performance",
        "",
        f"Measured by `python -m bench` at commit {_commit()} on {date.today()}, on this project's standard machine "
        f"({os.cpu_count()} cores; {platform.python_implementation()} {platform.python_version()}), "
        f"in {seconds / 60:.0f} minutes. Warehouses: the demo hospital, {args.years} years of data through {THROUGH}.",
        "",
        "Each callback is posted through the real Flask app and the data layer, signed in as a user of the page's "
        "role (a hospital leader; the director of the first clinical department; an assistant over the first "
        "three), with the inputs the page sends for the year to date. **Cold**: the result cache emptied before "
        f"the request ({args.runs} runs); **warm**: the same request again (3 after each cold one). Milliseconds. "
        "**Statements**: the SQL statements the first cold run sent to the warehouse (from whichever thread). "
        f"**Own SQL ∥**: those statements re-run as raw driver calls all at once, a connection each, at most "
        f"{callbacks.OWN_SQL_WORKERS} together (median of {callbacks.OWN_SQL_RUNS}, after one untimed run): what "
        "the database alone needs for this answer when nothing waits for anything; **cold ÷ own SQL** is the price "
        "of everything else (Python, figures, statements run one after another). **One aggregate**: the "
        "callback's main aggregate written by hand as one raw SQL query (the column the older tables called "
        "raw SQL). **Bytes**: the size of the callback's answer.",
        "",
        "Each warehouse is set up as [deployment](deployment.md) asks of a production one: analyzed and "
        "summarized after its load (`python -m data_layer summarize`), and on PostgreSQL with "
        f"`random_page_cost = {PG_RANDOM_PAGE_COST}` (SSD storage). Without the summary tables, or with the stock "
        "`random_page_cost = 4`, see the history below the tables.",
        "",
    ]
    for label, rows in results:
        lines += [f"## {label}", "", callbacks.table(rows), ""]
    lines += growth(results)
    if before:
        lines += before_after(results, before)
    if warm is not None:
        lines += warmup_section(warm)
    if walls is not None:
        lines += ["## Wall screens in headless Chromium", "",
                  f"Seconds from opening the address (`?kiosk=1`) to every figure drawn, scale 1 on DuckDB, "
                  f"{args.wall_runs} runs (median). The first size visited after the app starts is the cold one.", "",
                  wall_draw.table(walls), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--scales", default="1,5,10", help="data scales, e.g. 1,5,10 (10: about 6 M discharges)")
    p.add_argument("--server-only-scales", default="10",
                   help="scales measured on the server backends only (a DuckDB file of that size adds little)")
    p.add_argument("--warmup-scales", default="1,5", help="scales at which the warm-up is timed")
    p.add_argument("--backends", default="duckdb,postgresql")
    p.add_argument("--years", type=int, default=5)
    p.add_argument("--runs", type=int, default=5, help="cold runs per callback")
    p.add_argument("--wall-runs", type=int, default=3)
    p.add_argument("--no-browser", action="store_true", help="skip the wall screens in Chromium")
    p.add_argument("--rebuild", action="store_true", help="build the warehouses again")
    p.add_argument("--quick", action="store_true", help="a tiny DuckDB warehouse, one run, its warm-up (no months), no browser")
    p.add_argument("--no-warmup", action="store_true", help="skip timing the app's warm-up (shell.warmup)")
    p.add_argument("--json-out", help="write this run's figures per warehouse as JSON (for a later --before)")
    p.add_argument("--before", action="append", default=[],
                   help="figures of a run at an older commit: a --json-out file or that run's performance.md "
                        "(repeatable); shown before/after per warehouse")
    p.add_argument("--out", default=str(ROOT / "docs" / "performance.md"))
    args = p.parse_args(argv)
    before = read_before(args.before) if args.before else None
    folder = ROOT / "data" / "bench"
    if args.quick:
        args.scales, args.backends, args.years, args.runs, args.no_browser = "0.05", "duckdb", 1, 1, True
        args.warmup_scales = args.scales
        folder = Path(tempfile.mkdtemp(prefix="bench-quick-"))
    t0 = time.perf_counter()
    server_only = {float(s) for s in args.server_only_scales.split(",") if s}
    whs = []
    for scale in (float(s) for s in args.scales.split(",")):
        backends = [b for b in args.backends.split(",") if not (b == "duckdb" and scale in server_only)]
        whs += warehouses([scale], backends, args.years, args.rebuild, folder) if backends else []
    results = []
    for label, _scale, _backend, url in whs:
        print(f"callbacks on {label} …", flush=True)
        rows = callbacks.run(url, args.runs)
        print(callbacks.table(rows), flush=True)
        results.append((label, rows))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"commit": _commit(), "date": str(date.today()), "runs": args.runs,
                                                   "warehouses": dict(results)}, indent=1, default=str),
                                       encoding="utf-8")
        print(f"wrote {args.json_out}", flush=True)
    warm_scales = {float(s) for s in args.warmup_scales.split(",") if s}
    warm = None if args.no_warmup else measure_warmup([w for w in whs if w[1] in warm_scales], months=not args.quick)
    if isinstance(warm, str):
        print(f"warm-up: {warm}", flush=True)
    walls = None
    if not args.no_browser:
        first = next((u for label, s, b, u in whs if b == "duckdb" and s == 1), whs[0][3])
        print("wall screens in Chromium …", flush=True)
        walls = wall_draw.measure(first, args.wall_runs)
    out = Path(args.out)
    kept = ""
    if out.exists() and HISTORY in out.read_text(encoding="utf-8"):  # hand-kept records below the marker stay
        kept = out.read_text(encoding="utf-8").split(HISTORY, 1)[1]
    text = report(results, walls, args, time.perf_counter() - t0, before, warm)
    out.write_text(text + "\n" + HISTORY + kept, encoding="utf-8")
    print(f"wrote {args.out}")
    return 1 if any(r["error"] for _, rows in results for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
