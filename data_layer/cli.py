"""Command line: build the demo warehouse, validate a warehouse, print indicators."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from .errors import UserError

log = logging.getLogger("data_layer")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a timestamp (YYYY-MM-DDTHH:MM): {text!r}") from None


def _bounded(what: str, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not 0 < v <= high:
            raise argparse.ArgumentTypeError(f"{what} must be greater than 0 and at most {high:g}")
        return v

    return parse


_positive = _bounded("scale", 50)


def _years(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= v <= 15:
        raise argparse.ArgumentTypeError("years must be between 1 and 15")
    return v


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(2, f"error: {message} (see `python -m data_layer {self.prog.split()[-1]} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m data_layer", description="Hospital operations dashboard: data tools.")
    p.add_argument("--debug", action="store_true", help="show tracebacks for unexpected errors")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    d = sub.add_parser("demo", help="build the demo hospital warehouse, or run its live feed")
    d.add_argument("action", nargs="?", choices=["build", "live", "restate"], default="build",
                   help="build (default): the warehouse; live: append intraday snapshots every few seconds; "
                        "restate: change the closed month a --defects build prepared (after a first quality run)")
    d.add_argument("--scale", type=_positive, default=1.0, help="1 = a 3,000-bed hospital group (fractions allowed)")
    d.add_argument("--years", type=_years, default=5, help="years of history (default 5)")
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--out", "--url", dest="out", help="warehouse URL (default: the configured WAREHOUSE_URL)")
    d.add_argument("--through", type=_date, help="last day with data (default: yesterday)")
    d.add_argument("--now", type=_datetime, help="the moment of the live snapshot (default: now)")
    d.add_argument("--truth", help="ground-truth file of injected anomalies (default: beside the warehouse)")
    d.add_argument("--force", action="store_true", help="overwrite a warehouse that was not built by this generator")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.add_argument("--defects", action="store_true",
                   help="inject data defects for the data-quality checks (a late table, a short load, missing "
                        "doctors, unbalanced charges; a restated month with `demo restate`), recorded in the truth file")
    d.add_argument("--contract-version", type=int, choices=[1, 2], default=2,
                   help="2 (default): every table and column; 1: the warehouse of a version 1 hospital "
                        "(without what contract version 2 added)")
    d.add_argument("--interval", type=_bounded("interval", 3600), default=5.0, help="live: seconds between snapshots (default 5)")
    d.add_argument("--speed", type=_bounded("speed", 3600), default=1.0,
                   help="live: simulated seconds per real second (default 1; 60 runs a day in 24 minutes)")
    d.add_argument("--count", type=int, help="live: stop after this many snapshots (default: run until stopped)")

    v = sub.add_parser("validate", help="check a warehouse against the contract")
    v.add_argument("--url", help="warehouse URL (default: the configured WAREHOUSE_URL)")

    qu = sub.add_parser("quality", help="run the data-quality checks and print the findings (to record a run and "
                                         "raise its alerts: python -m appdb quality)")
    qu.add_argument("--url", help="warehouse URL (default: the configured WAREHOUSE_URL)")

    sm = sub.add_parser("summarize", help="build the summary tables from the newest load (run after each load)")
    sm.add_argument("--url", help="warehouse URL (default: SUMMARIZE_URL, else WAREHOUSE_URL); needs a writing account")
    sm.add_argument("--if-stale", action="store_true",
                    help="do nothing when the summary tables already match the newest load (for a timer)")

    k = sub.add_parser("kpis", help="print indicators: the same numbers the pages show")
    k.add_argument("--url", help="warehouse URL (default: the configured WAREHOUSE_URL)")
    k.add_argument("--indicator", "-i", required=True, help="indicator code(s), comma-separated")
    k.add_argument("--period", "-p", default="last-month", help="e.g. 2025, 2025-Q3, 2025-07, 2025-W14, ytd, mtd")
    k.add_argument("--level", "-l", default="hospital",
                   help="hospital, campus, division, department, ward, group, doctor or drg")
    k.add_argument("--ids", help="only these members of the level (comma-separated ids)")
    k.add_argument("--grain", choices=["day", "week", "month", "quarter", "year"], help="a series by this grain")
    k.add_argument("--compare", action="store_true", help="add month-on-month and year-on-year")
    k.add_argument("--scope", default="hospital",
                   help="whose view: hospital, campus:C1[,C2] or departments:D001[,D002]")
    k.add_argument("--format", choices=["table", "csv"], default="table")
    k.add_argument("--lang", choices=["en", "zh"], default="en")

    al = sub.add_parser("alerts", help="anomaly detection: measure the detector (the nightly scan: python -m appdb alerts scan)")
    alsub = al.add_subparsers(dest="alerts_command", required=True, parser_class=_Parser)
    sc = alsub.add_parser("scan", help="moved: `python -m appdb alerts scan` stores the alerts")
    for option in ("--url", "--app-db", "--through", "--scope"):  # the old options, to answer with where it went
        sc.add_argument(option, help=argparse.SUPPRESS)
    ev = alsub.add_parser("evaluate", help="build demo warehouses and measure the detector against their truth")
    ev.add_argument("--tuning", type=_seeds, default="1-8", metavar="SEEDS",
                    help="seeds the parameters were tuned on (reported apart), e.g. 1-4 or 1,2")
    ev.add_argument("--reporting", type=_seeds, default="11-18", metavar="SEEDS",
                    help="seeds never looked at while tuning: the figures to quote")
    ev.add_argument("--clean", type=_seeds, default="31,32", metavar="SEEDS",
                    help="seeds built without any anomaly (every alert on them is false)")
    ev.add_argument("--placement", choices=["random", "fixed"], default="random",
                    help="random: each anomaly's department, month and size drawn by the seed; fixed: the demo's")
    ev.add_argument("--keep", help="keep the warehouses and their truth files in this folder")
    ev.add_argument("--scale", type=_positive, default=0.3)
    ev.add_argument("--years", type=_years, default=3)
    ev.add_argument("--out", help="write the table into this markdown file between its evaluation markers")

    mp = sub.add_parser("map", help="map a hospital's own tables onto the contract (docs/onboarding.md)")
    mpsub = mp.add_subparsers(dest="map_command", required=True, parser_class=_Parser)
    for action, text in (("check", "report what the mapping gives, table by table and column by column"),
                         ("apply", "create the contract tables as views (or tables) in a schema"),
                         ("drop", "remove exactly what `map apply` created in the schema")):
        a = mpsub.add_parser(action, help=text)
        if action != "drop":
            a.add_argument("--mapping", required=True, help="the mapping file (YAML or TOML; docs/mapping-example.yaml)")
        a.add_argument("--url", required=True, help="the source database URL: the loading side's account, "
                                                   "never the app's reading account")
        if action != "check":
            a.add_argument("--schema", required=True,
                           help="where the contract goes: a schema (PostgreSQL), a database (MariaDB/MySQL), "
                                "main (DuckDB, SQLite: the source file itself)")
        if action == "apply":
            a.add_argument("--materialize", default="", metavar="TABLES",
                           help="contract tables to create as tables instead of views (comma-separated)")
        if action == "check":
            a.add_argument("--examples", type=int, default=3, help="example rows per finding (default 3)")
            a.add_argument("--brief", action="store_true", help="list only the columns with a finding")

    i = sub.add_parser("indicators", help="list the indicator registry")
    i.add_argument("--format", choices=["table", "markdown"], default="table")

    s = sub.add_parser("docs", help="regenerate docs/indicators.md and docs/data-dictionary.md from the code")
    s.add_argument("--out", default="docs", help="docs folder")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.debug else logging.WARNING, format="%(message)s")
    try:
        return _COMMANDS[args.command](args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # no traceback for users unless they ask
        if args.debug:
            raise
        print(f"unexpected error: {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 3


def _url(arg: str | None) -> str:
    if arg:
        return arg
    from .config import load_warehouse_settings

    return load_warehouse_settings().warehouse_url


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo.build import build_demo

    url = _url(args.out)
    if args.action == "live":
        from .demo.live import run_live

        written = run_live(url, interval=args.interval, speed=args.speed, count=args.count, start=args.now,
                           say=(lambda _m: None) if args.quiet else print)
        print(f"live feed stopped: {written:,} rows written")
        return 0
    if args.action == "restate":
        from .demo.build import default_truth_path
        from .demo.defects import restate
        from .engine import make_engine

        engine = make_engine(url)
        try:
            done = restate(engine, Path(args.truth) if args.truth else default_truth_path(url))
        finally:
            engine.dispose()
        print(f"restated {done['month']} of {done['table']} for {done['restated_dept']}: {done['rows']} rows × {done['factor']}")
        return 0
    t0 = time.perf_counter()
    result = build_demo(url, scale=args.scale, years=args.years, seed=args.seed, through=args.through,
                        now=args.now, truth=Path(args.truth) if args.truth else None, force=args.force,
                        progress=not args.quiet, contract_version=args.contract_version, defects=args.defects)
    rows = sum(result.counts.values())
    print(f"built {result.display_url}: {rows:,} rows in {time.perf_counter() - t0:.1f} s "
          f"(generate {result.generate_seconds:.1f} s, load {result.load_seconds:.1f} s); "
          f"{len(result.anomalies)} injected anomalies"
          + (f" and {len(result.defects)} data defects" if result.defects else "")
          + f" recorded in {result.truth_path}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    return _validate_and_print(_url(args.url))


def _validate_and_print(url: str) -> int:
    """Validate the warehouse at `url` through a read-only engine, print the report; 0 when it passes."""
    from .engine import make_engine
    from .validate import format_report, validate

    engine = make_engine(url, read_only=True)
    try:
        report = validate(engine)
    finally:
        engine.dispose()
    print(format_report(report))
    return 0 if report.ok else 1


def cmd_quality(args: argparse.Namespace) -> int:
    # Recording a run (its findings, fingerprints and alerts) is the application database's: that
    # command lives with its command line, `python -m appdb quality`; this one only reports.
    from .engine import make_engine
    from .quality import format_result, run_quality

    engine = make_engine(_url(args.url), read_only=True)
    try:
        result = run_quality(engine)
    finally:
        engine.dispose()
    print(format_result(result))
    print("not recorded: `python -m appdb quality --warehouse URL` records the run, compares it with the last "
          "one (restatements) and raises its alerts")
    return 1 if any(f.level in ("red", "orange") for f in result.findings) else 0


def cmd_summarize(args: argparse.Namespace) -> int:
    import time

    from .engine import make_engine, translate_errors
    from .summaries import summarize

    url = _url(args.url or os.environ.get("SUMMARIZE_URL"))
    engine = make_engine(url, read_only=False)
    started = time.perf_counter()
    try:
        with translate_errors(url):
            counts = summarize(engine, if_stale=args.if_stale)
    finally:
        engine.dispose()
    if counts is None:
        print("summary tables are current: nothing to do")
        return 0
    rows = ", ".join(f"{name} {n:,}" for name, n in counts.items())
    print(f"summary tables built in {time.perf_counter() - started:.1f} s: {rows}")
    return 0


def parse_scope(text: str):
    from .scope import Scope

    kind, _, ids = (text or "hospital").partition(":")
    items = [x.strip() for x in ids.split(",") if x.strip()]
    if kind == "hospital" and not items:
        return Scope.hospital()
    if kind in ("campus", "departments") and items:
        return Scope(kind, frozenset(items))
    raise UserError(f"cannot read scope {text!r}: use hospital, campus:C1[,C2] or departments:D001[,D002]")


def cmd_kpis(args: argparse.Namespace) -> int:
    import pandas as pd

    from .formatting import format_change, format_plain
    from .periods import parse_period
    from .queries.kpis import compare, indicator_values, unavailable
    from .registry import Level, parse_indicators
    from .sources import Filters
    from .warehouse import Warehouse

    inds = parse_indicators(args.indicator)
    level = Level.parse(args.level)
    scope = parse_scope(args.scope)
    wh = Warehouse(_url(args.url))
    fresh = wh.freshness()
    period = parse_period(args.period, fresh.data_through)
    ids = tuple(x.strip() for x in (args.ids or "").split(",") if x.strip())
    if ids and level == Level.hospital:
        raise UserError("--ids needs a level other than hospital")
    filters = Filters(**{level.value: ids}) if ids else Filters()
    codes = tuple(i.code for i in inds)
    lacking = unavailable(wh, codes)
    if lacking:
        print(f"not available in this warehouse: {', '.join(lacking)} (they need contract version 2 columns or "
              f"tables it does not hold: `python -m data_layer validate` lists them)", file=sys.stderr)
        codes = tuple(c for c in codes if c not in lacking)
        if not codes:
            return 0
    if args.compare:
        if args.grain:
            raise UserError("--compare and --grain cannot be combined")
        df = compare(wh, scope, codes, period, level, filters)
    else:
        df = indicator_values(wh, scope, codes, period, level, filters, args.grain)
    if df.empty:
        if all(i.monthly for i in inds) and fresh.months_closed_through is not None:
            raise UserError(f"{', '.join(codes)} count whole closed months only, and {period.label} holds none "
                            f"(months are closed through {fresh.months_closed_through}): choose a month, quarter or year")
        print(f"no data for {period.label} at level {level.value} in this scope", file=sys.stderr)
        return 0
    units = {i.code: i.unit for i in inds}
    name_col = "name_zh" if args.lang == "zh" else "name_en"
    out = pd.DataFrame({"indicator": df["indicator"], "key": df["key"], "name": df[name_col]})
    if "period_start" in df.columns:
        out["period_start"] = df["period_start"].astype(str)
    if args.format == "csv":
        out["value"] = df["value"]
        if args.compare:
            for c in ("previous", "year_ago", "mom", "yoy"):
                out[c] = df[c]
        out.to_csv(sys.stdout, index=False)
        return 0
    out["value"] = [format_plain(v, units[c]) for v, c in zip(df["value"], df["indicator"], strict=True)]
    if args.compare:
        out["previous"] = [format_plain(v, units[c]) for v, c in zip(df["previous"], df["indicator"], strict=True)]
        out["year_ago"] = [format_plain(v, units[c]) for v, c in zip(df["year_ago"], df["indicator"], strict=True)]
        out["MoM"] = [format_change(v) for v in df["mom"]]
        out["YoY"] = [format_change(v) for v in df["yoy"]]
    windows = df.dropna(subset=["window_start"])
    print(f"# period {period.label} ({period.start} .. {min(period.end, fresh.data_through or period.end)}), "
          f"level {level.value}, data through {fresh.data_through}")
    monthly = windows[windows["window_end"].astype(str) != str(min(period.end, fresh.data_through or period.end))]
    if not monthly.empty:
        w = monthly.iloc[0]
        print(f"# monthly indicators cover whole months {w['window_start']} .. {w['window_end']}")
    print(out.to_string(index=False))
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    if args.alerts_command == "scan":
        return _alerts_scan(args)
    return _alerts_evaluate(args)


def _alerts_scan(args: argparse.Namespace) -> int:
    # The scan stores its alerts in the application database, which the data layer does not know:
    # the command lives with the application database's command line.
    raise UserError("the alert scan moved: run `python -m appdb alerts scan` (the same options; "
                    "--url is now --warehouse)")


def _alerts_evaluate(args: argparse.Namespace) -> int:
    import tempfile

    from .alerts.evaluate import evaluate, summary, table
    from .demo.build import build_demo

    splits: dict[str, list[dict]] = {"tuning": [], "reporting": [], "clean": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for split in splits:
            for seed in getattr(args, split):
                path = folder / f"{split}-{seed}.duckdb"
                build_demo(f"duckdb:///{path}", scale=args.scale, years=args.years, seed=seed,
                           through=date(2026, 11, 21), now=datetime(2026, 11, 22, 10, 30), progress=False,
                           anomalies=split != "clean", placement=args.placement, force=True)
                splits[split].append(evaluate(f"duckdb:///{path}", path.with_name(path.stem + ".anomalies.json")))
                print(f"  {split} seed {seed}: done", file=sys.stderr, flush=True)
    text = ("### Pooled over the seeds of each split\n\n" + summary(splits) + "\n\n### Seed by seed\n\n"
            + table([r for rs in splits.values() for r in rs]))
    text += (f"\n\nAnomalies placed {args.placement}ly; scale {args.scale:g}, {args.years} years, through "
             "2026-11-21; python -m data_layer alerts evaluate --tuning " + _seed_text(args.tuning) + " --reporting "
             + _seed_text(args.reporting) + " --clean " + _seed_text(args.clean) + f" --placement {args.placement}.")
    print(text)
    if args.out:
        out = Path(args.out)
        doc = out.read_text(encoding="utf-8")
        start, end = "<!-- evaluation:start -->", "<!-- evaluation:end -->"
        if start not in doc or end not in doc:
            raise UserError(f"{out} has no {start} … {end} markers to write between")
        head, rest = doc.split(start, 1)
        out.write_text(head + start + "\n" + text + "\n" + end + rest.split(end, 1)[1], encoding="utf-8")
        print(f"wrote {out}")
    return 0


def _seeds(text: str) -> list[int]:
    """'1-4,7' -> [1, 2, 3, 4, 7]; '' -> []."""
    out: list[int] = []
    try:
        for part in (p.strip() for p in text.split(",") if p.strip()):
            lo, _, hi = part.partition("-")
            out += list(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds are numbers and ranges such as 1-4,7, not {text!r}") from None
    return out


def _seed_text(seeds: list[int]) -> str:
    return ",".join(map(str, seeds)) or "''"


def cmd_map(args: argparse.Namespace) -> int:
    from .engine import make_engine, redact
    from .mapping import (
        MappingFileError,
        MappingRefused,
        apply_mapping,
        check_mapping,
        contract_url,
        drop_mapping,
        format_check,
        load_mapping,
    )

    if args.map_command != "drop":
        try:
            located = load_mapping(args.mapping)
        except MappingFileError as exc:
            print(f"Mapping {args.mapping}: cannot be read", file=sys.stderr)
            for line, message in exc.problems:
                print(f"  ERROR   {f'line {line}: ' if line else ''}{message}", file=sys.stderr)
            return 1
    engine = make_engine(args.url, read_only=args.map_command == "check")
    try:
        if args.map_command == "check":
            report = check_mapping(located, engine, examples=max(0, args.examples))
            print(format_check(report, brief=args.brief))
            return 0 if report.ok else 1
        if args.map_command == "drop":
            dropped = drop_mapping(engine, args.schema)
            if not dropped:
                print(f"nothing to drop: `map apply` recorded nothing in {args.schema}")
                return 0
            print(f"dropped {len(dropped)} object(s) from {args.schema}: "
                  + ", ".join(f"{name} ({kind})" for kind, name in dropped))
            return 0
        tables = frozenset(t.strip() for t in args.materialize.split(",") if t.strip())
        try:
            applied = apply_mapping(located, engine, args.schema, materialize=tables)
        except MappingRefused as exc:
            print(format_check(exc.report, brief=True))
            print(f"error: {exc}", file=sys.stderr)
            return 1
    finally:
        engine.dispose()
    views = sum(k == "view" for k, _ in applied.created)
    print(f"created {views} view(s) and {len(applied.created) - views} table(s) in {args.schema}"
          + (f" (replacing {applied.replaced} from the previous apply)" if applied.replaced else ""))
    url = contract_url(args.url, args.schema)
    print(f"point the app at: WAREHOUSE_URL={redact(url)} (with the app's read-only account)")
    return _validate_and_print(url)


def cmd_indicators(args: argparse.Namespace) -> int:
    from .docs import indicator_table_markdown
    from .registry import INDICATORS

    if args.format == "markdown":
        print(indicator_table_markdown())
        return 0
    for ind in INDICATORS.values():
        better = {True: "higher", False: "lower", None: "-"}[ind.higher_is_better]
        print(f"{ind.code:34} {ind.unit:12} {better:7} {ind.dimension:10} {ind.name_en} / {ind.name_zh}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from .docs import write_docs

    for path in write_docs(Path(args.out)):
        print(f"wrote {path}")
    return 0


_COMMANDS = {"demo": cmd_demo, "validate": cmd_validate, "kpis": cmd_kpis, "alerts": cmd_alerts,
             "indicators": cmd_indicators, "docs": cmd_docs, "summarize": cmd_summarize,
             "quality": cmd_quality, "map": cmd_map}
