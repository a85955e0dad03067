"""A hospital's own tables (tests/foreign_source.py) mapped onto the contract by docs/mapping-example.yaml:
`map apply` on all four backends, the validator passes, and the app's indicators equal a pandas
computation from the source's own rows. Then bad mappings: each names the line of the problem, and
apply creates nothing."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text

from data_layer.cli import main
from data_layer.engine import make_engine
from data_layer.mapping import (
    MappingFileError,
    MappingRefused,
    apply_mapping,
    check_mapping,
    contract_url,
    drop_mapping,
    format_check,
    load_mapping,
    parse_mapping,
)
from data_layer.mapping.expr import ExprError, parse
from data_layer.periods import Period
from data_layer.queries.kpis import indicator_values
from data_layer.scope import Scope
from data_layer.validate import validate
from data_layer.warehouse import Warehouse

from .conftest import MARIA_ADMIN, PG_ADMIN, server_database
from .foreign_source import write_foreign_source

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "mapping-example.yaml"
CORE = ("discharges", "charge_per_discharge", "alos", "drug_share", "material_share", "bed_occupancy",
        "outpatient_visits", "emergency_visits", "mortality")
PERIODS = [Period(date(2026, 9, 1), date(2026, 9, 30), "month"), Period(date(2026, 8, 1), date(2026, 10, 31))]


@pytest.fixture(scope="module", params=["duckdb", "sqlite", "postgresql", "mariadb"])
def mapped(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """(source URL, schema, contract URL, source rows) of the example source mapped by the example mapping."""
    backend = request.param
    if backend in ("duckdb", "sqlite"):
        url = f"{backend}:///{tmp_path_factory.mktemp('foreign') / ('source.' + backend)}"
        yield from _mapped(url, "main")
        return
    admin, what = (PG_ADMIN, "PostgreSQL at 127.0.0.1:5432") if backend == "postgresql" else (
        MARIA_ADMIN, "MariaDB at 127.0.0.1:3306")
    with server_database(admin, what) as url:
        schema = f"hospdash_c_{uuid.uuid4().hex[:8]}"
        try:
            yield from _mapped(url, schema)
        finally:
            if backend == "mariadb":  # a database of its own beside the source's
                eng = create_engine(admin, isolation_level="AUTOCOMMIT")
                with eng.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {schema}"))  # generated above, never input
                eng.dispose()


def _mapped(url: str, schema: str) -> Iterator[tuple]:
    engine = make_engine(url)
    rows = write_foreign_source(engine)
    applied = apply_mapping(load_mapping(EXAMPLE), engine, schema)
    assert len(applied.created) == 19
    engine.dispose()
    yield url, schema, contract_url(url, schema).render_as_string(hide_password=False), rows


def test_the_mapped_source_passes_the_validator(mapped: tuple) -> None:
    _, _, curl, _ = mapped
    engine = make_engine(curl, read_only=True)
    report = validate(engine)
    engine.dispose()
    assert report.ok, [(v.table, v.column, v.message, v.examples) for v in report.errors]
    assert report.rows["fact_inpatient_case"] == 300
    assert report.version == 1  # version 2 tables not mapped: their figures are "not available"


def _expected(rows: dict[str, pd.DataFrame], period: Period) -> dict[str, float]:
    """The indicators from the source's own rows, by the national definitions, without the mapping."""
    fs = rows["basy"].copy()
    fs["out"] = pd.to_datetime(fs["CYSJ"]).dt.normalize()
    fs["in"] = pd.to_datetime(fs["RYSJ"]).dt.normalize()
    lo, hi = pd.Timestamp(period.start), pd.Timestamp(period.end)
    fs = fs[(fs["out"] >= lo) & (fs["out"] <= hi)]
    op = rows["mz_jzjl"]
    op = op[(pd.to_datetime(op["JZSJ"]).dt.normalize() >= lo) & (pd.to_datetime(op["JZSJ"]).dt.normalize() <= hi)]
    ward = rows["bq_rb"]
    ward = ward[(pd.to_datetime(ward["RQ"]) >= lo) & (pd.to_datetime(ward["RQ"]) <= hi)]
    n = len(fs)
    revenue = fs["ZFY"].astype(float).sum() + op["ZJE"].astype(float).sum()
    return {
        "discharges": n,
        "charge_per_discharge": fs["ZFY"].astype(float).sum() / n,
        "alos": (fs["out"] - fs["in"]).dt.days.sum() / n,
        "drug_share": (fs["YPF"].astype(float).sum() + op["YPF"].astype(float).sum()) / revenue,
        "material_share": (fs["HCF"].astype(float).sum() + op["CLF"].astype(float).sum()) / revenue,
        "bed_occupancy": ward["ZYRS"].sum() / ward["SYCW"].sum(),
        "outpatient_visits": len(op),
        "emergency_visits": int((op["JZLX"] == "2").sum()),
        "mortality": int((fs["LYFS"] == "5").sum()) / n,
    }


@pytest.mark.parametrize("period", PERIODS, ids=["month", "three-months"])
def test_indicators_equal_pandas_on_the_source_rows(mapped: tuple, period: Period) -> None:
    _, _, curl, rows = mapped
    wh = Warehouse(curl)
    try:
        df = indicator_values(wh, Scope.hospital(), CORE, period)
    finally:
        wh.engine.dispose()
    got = dict(zip(df["indicator"], df["value"].astype(float), strict=True))
    want = _expected(rows, period)
    assert set(got) == set(CORE)
    for code in CORE:
        assert got[code] == pytest.approx(want[code], rel=1e-9, abs=1e-9), code


def _objects(url: str, schema: str | None) -> set[str]:
    engine = make_engine(url)
    insp = inspect(engine)
    names = set(insp.get_table_names(schema=schema)) | set(insp.get_view_names(schema=schema))
    engine.dispose()
    return names


def test_apply_is_idempotent_and_drop_removes_exactly_what_it_made(mapped: tuple) -> None:
    url, schema, curl, _ = mapped
    local = url.startswith(("duckdb", "sqlite"))
    target = None if local else schema
    engine = make_engine(url)
    try:
        first = _objects(url, target)
        applied = apply_mapping(load_mapping(EXAMPLE), engine, schema)
        assert applied.replaced == 19
        assert _objects(url, target) == first
        dropped = drop_mapping(engine, schema)
        left = _objects(url, target) if local or schema in inspect(engine).get_schema_names() else set()
        assert {n for k, n in dropped if k != "schema"} | {"meta_mapping"} == first - left
        if local:  # the source tables stay
            assert "basy" in left and "fact_inpatient_case" not in left
        else:  # the schema apply made is gone
            assert schema not in inspect(engine).get_schema_names()
        assert drop_mapping(engine, schema) == []
        apply_mapping(load_mapping(EXAMPLE), engine, schema)  # back, for the other tests of the module
        assert _objects(url, target) == first
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------- bad mappings
@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"duckdb:///{tmp_path_factory.mktemp('bad') / 'source.duckdb'}"
    engine = make_engine(url)
    write_foreign_source(engine)
    engine.dispose()
    return url


def _variant(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """The example mapping with one text replaced; the line it is on."""
    doc = EXAMPLE.read_text(encoding="utf-8")
    assert doc.count(old) == 1, old
    line = doc[:doc.index(old)].count("\n") + 1
    path = tmp_path / "mapping.yaml"
    path.write_text(doc.replace(old, new), encoding="utf-8")
    return path, line


def _check(source: str, path: Path):  # noqa: ANN202
    engine = make_engine(source)  # (one DuckDB file takes one configuration per process: not read-only here)
    try:
        return check_mapping(load_mapping(path), engine)
    finally:
        engine.dispose()


BAD = {  # case -> (old text, new text, words the message must hold)
    "missing source table": ("    from: bq_rb\n", "    from: bq_rbb\n", "source table 'bq_rbb' does not exist"),
    "missing source column": ("      occupied_beds: ZYRS ", "      occupied_beds: ZYRSS ", "unknown column 'ZYRSS'"),
    "wrong type": ("      admit_date: date(RYSJ) ", "      admit_date: RYSJ ", "'RYSJ' is a timestamp, but "
                   "fact_inpatient_case.admit_date holds a date (a timestamp: write date(X) for its day)"),
    "text for a number": ("      amount: JE\n", "      amount: CBXM\n", "cast(X, numeric)"),
    "unknown function": ("      surgery_level: coalesce(SSJB, 0)", "      surgery_level: ifnull(SSJB, 0)",
                         "unknown function ifnull()"),
    "not a contract column": ("      source: RWMC\n", "      source: RWMC\n      sauce: RWMC\n",
                              "'sauce' is not a column of meta_load"),
    "a code of another type": ("      dept_id: map(KSDM, dept_his)\n      name_zh: BQMC",
                               "      dept_id: map(CWS, dept_his)\n      name_zh: BQMC",
                               "code table 'dept_his' has text codes (YSDM), the code given is a whole number"),
    "a calendar too short": ("calendar: {start: 2026-01-01, end: 2026-12-31", "calendar: {start: 2026-09-01, end: 2026-12-31",
                             "does not cover fact_inpatient_case.admit_date (2026-07-"),
    "two departments, one code (inline)": ('values: {"1": medical, "2": surgical}',
                                           'values: {"1": medical, "2": medical}\n    one_to_one: true',
                                           "'1' and '2' both map to 'medical'"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_mapping_names_its_line(source: str, tmp_path: Path, case: str) -> None:
    old, new, words = BAD[case]
    path, line = _variant(tmp_path, old, new)
    report = _check(source, path)
    assert not report.ok
    hits = [p for p in report.errors if words in p.message]
    assert hits, format_check(report)
    expected_line = line + (1 if case == "not a contract column" else 0)
    assert hits[0].line == expected_line, format_check(report)
    assert f"line {expected_line}: " in format_check(report)


def test_two_source_departments_mapped_to_one_code_are_refused(source: str, tmp_path: Path) -> None:
    engine = make_engine(source)
    with engine.begin() as conn:  # the code table maps a second HIS department onto K0101
        conn.execute(text("INSERT INTO dm_ksdz VALUES ('HIS', '0199', 'K0101')"))
    try:
        path, _ = _variant(tmp_path, "hospital: ", "hospital: ")
        report = _check(source, path)
        doc = EXAMPLE.read_text(encoding="utf-8").splitlines()
        hits = [p for p in report.errors if "two of your codes map to one contract code" in p.message]
        assert hits and "dept_his" in hits[0].message
        assert "0101, 0199 -> K0101" in hits[0].examples
        assert "dept_his:" in doc[hits[0].line - 1]
        before = _objects(source, None)
        with pytest.raises(MappingRefused):
            apply_mapping(load_mapping(path), engine, "main")
        assert _objects(source, None) == before  # nothing created
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM dm_ksdz WHERE YSDM = '0199'"))
        engine.dispose()


def test_rows_that_break_a_contract_rule_are_counted_with_examples(source: str, tmp_path: Path) -> None:
    path, line = _variant(tmp_path, '"9": other}', '"8": other}')  # YBLX 9 is no longer mapped ...
    path.write_text(path.read_text(encoding="utf-8").replace("    default: other\n  disposition", "  disposition"),
                    encoding="utf-8")  # ... and has no default: NULL in a required column
    report = _check(source, path)
    hits = [p for p in report.errors if p.column == "insurance_type"]
    assert hits and hits[0].count == 11 and hits[0].examples == ["'9' (11 rows)"]
    assert "codes not in code table 'insurance'" in hits[0].message
    doc = path.read_text(encoding="utf-8")
    assert hits[0].line == doc[:doc.index("      insurance_type:")].count("\n") + 1


def test_a_file_that_does_not_parse_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\ntables:\n  dim_ward:\n    from: bq_dm\n   columns: [\n", encoding="utf-8")
    with pytest.raises(MappingFileError) as err:
        load_mapping(path)
    assert err.value.problems[0][0] == 5
    with pytest.raises(MappingFileError) as err:
        parse_mapping("version: 1\ntables:\n  dim_ward:\n    from: bq_dm\n    rows: []\n")
    assert err.value.problems[0][0] == 3 and "exactly one of" in err.value.problems[0][1]
    with pytest.raises(MappingFileError) as err:
        parse_mapping("tables:\n  dim_ward: {empty: true}\n  dim_ward: {empty: true}\n")
    assert err.value.problems[0] == (3, "'dim_ward' is given twice (the first on line 2)")
    with pytest.raises(MappingFileError) as err:  # an alias becomes an SQL name: letters, digits and _ only
        parse_mapping("tables:\n  dim_ward:\n    from: bq_dm\n    joins:\n      - table: ks_dm\n"
                      "        as: k; DROP TABLE x\n        on: k.KSDM = bq_dm.KSDM\n    columns: {ward_id: BQDM}\n")
    assert err.value.problems[0][0] == 6 and "tables.dim_ward.joins.0.as" in err.value.problems[0][1]


def test_toml_is_accepted(source: str, tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('version = 1\n[tables.dim_campus]\nrows = [{campus_id = "C1", name_zh = "本院", '
                    'name_en = "Main", opened_on = 1958-10-01}]\n[tables.dim_ward]\nfrom = "bq_dmm"\n'
                    'columns = {ward_id = "BQDM"}\n', encoding="utf-8")
    report = _check(source, path)
    hit = next(p for p in report.errors if "bq_dmm" in p.message)
    assert hit.line == 5


@pytest.mark.parametrize("expr", ["1; DROP TABLE basy", "BAH -- x", "exec('x')", "BAH'", "a.b.c", "select(1)"])
def test_expressions_outside_the_grammar_are_refused(expr: str) -> None:
    with pytest.raises(ExprError):
        from data_layer.mapping.expr import Resolver, compile_expr

        class _R(Resolver):
            def column(self, alias, name):  # noqa: ANN001, ANN202
                raise ExprError(f"unknown column {name!r}")

        compile_expr(parse(expr), _R())


def test_string_literals_are_rendered_by_the_dialect_not_pasted(source: str, tmp_path: Path) -> None:
    path, _ = _variant(tmp_path, "      name_zh: BQMC\n", "      name_zh: \"concat(BQMC, 'x'' OR 1=1 --')\"\n")
    engine = make_engine(source)
    try:
        apply_mapping(load_mapping(path), engine, "main")
        with engine.connect() as conn:
            names = [r[0] for r in conn.execute(text("SELECT name_zh FROM dim_ward"))]
        assert names and all(n.endswith("x' OR 1=1 --") for n in names)
        drop_mapping(engine, "main")
    finally:
        engine.dispose()


def test_the_command_line(source: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["map", "check", "--mapping", str(EXAMPLE), "--url", source]) == 0
    out = capsys.readouterr().out
    assert "fact_inpatient_case      ok     from basy; 300 rows; as a view" in out
    assert "OK: 19 of 22 contract tables mapped, 0 error(s)" in out
    bad, line = _variant(tmp_path, "    from: bq_rb\n", "    from: bq_rbb\n")
    assert main(["map", "check", "--mapping", str(bad), "--url", source]) == 1
    assert f"line {line}: source table 'bq_rbb' does not exist" in capsys.readouterr().out
    assert main(["map", "apply", "--mapping", str(bad), "--url", source, "--schema", "main"]) == 1
    assert "nothing was created" in capsys.readouterr().err
    assert main(["map", "apply", "--mapping", str(EXAMPLE), "--url", source, "--schema", "elsewhere"]) == 2
    assert "--schema main" in capsys.readouterr().err
    assert main(["map", "apply", "--mapping", str(EXAMPLE), "--url", source, "--schema", "main",
                 "--materialize", "fact_inpatient_case"]) == 0
    out = capsys.readouterr().out
    assert "created 16 view(s) and 3 table(s) in main" in out and "OK (contract version 1)" in out
    assert main(["map", "drop", "--url", source, "--schema", "main"]) == 0
    assert "dropped 19 object(s)" in capsys.readouterr().out
    bad_yaml = tmp_path / "broken.yaml"
    bad_yaml.write_text("tables: {dim_ward: [\n", encoding="utf-8")
    assert main(["map", "check", "--mapping", str(bad_yaml), "--url", source]) == 1
    assert "line 2: not valid YAML" in capsys.readouterr().err


def test_every_function_means_the_same_on_each_backend(mapped: tuple) -> None:
    """The grammar's functions compiled for each backend give the values Python gives for one stay."""
    from data_layer.mapping.build import Builder, _Scope
    from data_layer.mapping.expr import compile_expr

    url, _, _, rows = mapped
    fs = rows["basy"]
    r = fs[fs["ZYH"] == "ZY00007"].iloc[0]
    admit, out = pd.Timestamp(r["RYSJ"]), pd.Timestamp(r["CYSJ"])
    zfy = float(r["ZFY"])
    expected = {
        "year(CYSJ)": out.year, "month(RYSJ)": admit.month, "day(CYSJ)": out.day,
        "month_start(CYSJ)": out.date().replace(day=1).isoformat(), "date(CYSJ)": out.date().isoformat(),
        "days_between(RYSJ, CYSJ)": (out.normalize() - admit.normalize()).days,
        "lower(ZYH)": "zy00007", "upper(lower(ZYH))": "ZY00007", "trim(concat('  ', ZYH, ' '))": "ZY00007",
        "nullif(ZYH, 'ZY00007')": None, "coalesce(SSJCZBM, 'none')": r["SSJCZBM"] if isinstance(r["SSJCZBM"], str) else "none",
        "round(ZFY / 4, 2)": round(zfy / 4, 2), "abs(0 - ZFY)": zfy, "substring(ZYZD, 1, 3)": r["ZYZD"][:3],
        "if(ZFY > 1000, 'high', 'low')": "high" if zfy > 1000 else "low",
        "concat(BAH, '-', cast(ZYCS, string))": f"{r['BAH']}-{r['ZYCS']}", "cast('12.5', numeric) * 2": 25.0,
        "ZYCS in (1, 2) and not (ZYH is null)": True, "ZYCS not in (1, 2) or ZYH = 'x'": False,
        "map(YBLX, insurance)": {"1": "employee", "2": "resident"}.get(r["YBLX"], "other"),
        "date '2026-10-01' <= date(CYSJ)": out.date() >= date(2026, 10, 1),
    }
    located = parse_mapping('codes:\n  insurance: {values: {"1": employee, "2": resident}, default: other}\n'
                            "tables:\n  dim_campus: {empty: true}\n")
    engine = make_engine(url)
    try:
        b = Builder(located, engine)
        scope = _Scope(b)
        rel = b._aliased(b.source("basy", (), None), "basy")
        scope.add("basy", rel)
        cols = [compile_expr(parse(e), scope).sql.label(f"c{i}") for i, e in enumerate(expected)]
        from sqlalchemy import select

        with engine.connect() as conn:
            got = conn.execute(select(*cols).select_from(rel.clause).where(rel.cols["zyh"][0] == "ZY00007")).one()
    finally:
        engine.dispose()
    for (expr, want), value in zip(expected.items(), got, strict=True):
        if isinstance(want, bool):
            value = bool(value)
        elif isinstance(want, float):
            value = float(value)
        elif isinstance(want, str) and value is not None and not isinstance(value, str):
            value = str(value)[:10]
        assert value == want, expr


def test_yaml_yes_no_on_off_stay_names() -> None:
    """YAML 1.1 reads NO, yes, on, off as booleans; in a mapping they are column names and keys."""
    located = parse_mapping("tables:\n  meta_load:\n    from: etl\n    joins: [{table: x, on: x.ID = etl.ID}]\n"
                            "    columns: {loaded_at: NO, data_through: true, source: 'on'}\n")
    tm = located.mapping.tables["meta_load"]
    assert tm.columns == {"loaded_at": "NO", "data_through": True, "source": "on"}
    assert tm.joins[0].on == "x.ID = etl.ID"
