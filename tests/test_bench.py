"""The benchmark suite runs end to end on a tiny warehouse (no timings are asserted: speed is
measured by `make bench`, with the figures in docs/performance.md)."""
from __future__ import annotations

from pathlib import Path


def test_the_benchmark_runs_on_a_tiny_warehouse(tmp_path: Path) -> None:
    from bench.__main__ import main, read_before
    from bench.callbacks import SCENARIOS

    out, figures = tmp_path / "performance.md", tmp_path / "figures.json"
    assert main(["--quick", "--out", str(out), "--json-out", str(figures)]) == 0  # no callback failed
    text = out.read_text(encoding="utf-8")
    assert "## scale 0.05 · duckdb" in text and "| statements | own SQL ∥ p50 | cold ÷ own SQL |" in text
    assert "| cold max | first run | warm p50 |" in text  # the process's first run, apart from the cold ones
    for sc in SCENARIOS:
        assert f"| {sc.name} |" in text
    assert "HTTP" not in text and "Error" not in text
    # the warm-up: its passes timed (the quick run leaves the months out), what it wrote, and that it
    # did not stop at the cache's limit
    warm = [line for line in text.splitlines() if line.startswith("| scale 0.05 · duckdb |")]
    assert len(warm) == 1 and warm[0].count("—") == 2 and warm[0].endswith("| no |"), warm
    # the figures read back, from the JSON and from the report itself, as a later run's --before reads them
    by_json, by_md = read_before([str(figures)]), read_before([str(out)])
    assert by_json.keys() == by_md.keys() == {"scale 0.05 · duckdb"}
    for name, row in by_json["scale 0.05 · duckdb"].items():
        md = by_md["scale 0.05 · duckdb"][name]
        assert md["statements"] == row["statements"] == len(row["sql"])
        assert abs(md["cold_p50"] - row["cold_p50"]) <= 0.5  # as printed: whole ms from 10 ms, else one decimal
        assert row["first_ms"] > 0 and row["first_ms"] not in row["cold_ms"]  # timed apart, not a cold run
        assert abs(md["first_ms"] - row["first_ms"]) <= 0.5
    assert by_json["scale 0.05 · duckdb"]["workspace · portfolio"]["statements"] > 0  # its SQL was captured


def test_growth_marks_a_callback_that_grows_faster_than_its_own_sql() -> None:
    from bench.__main__ import growth

    def rows(cold: float, own: float) -> list[dict]:
        return [{"name": "a", "cold_p50": cold, "own_sql_p50": own}]

    text = "\n".join(growth([("scale 1 · postgresql", rows(100, 50)), ("scale 5 · postgresql", rows(400, 150)),
                             ("scale 10 · postgresql", rows(700, 300))]))
    assert "| a | 4.0× | 3.0× | 7.0× | 6.0× | ✗ |" in text  # 4 > 1.25 × 3
    text = "\n".join(growth([("scale 1 · postgresql", rows(100, 50)), ("scale 5 · postgresql", rows(140, 55))]))
    assert "| a | 1.4× | 1.1× | ✓ |" in text  # at most 1.5× at all


def test_the_soak_verdict_tells_flattening_from_steady_growth() -> None:
    from bench.load import flattened

    rising = [(m, 200 + 2.0 * m) for m in range(60)]
    levelling = [(m, 200 + 30 * (1 - 0.9 ** m)) for m in range(60)]
    assert "still growing" in flattened(rising, "RSS")
    assert ": flattened" in flattened(levelling, "RSS")
    assert "too few" in flattened(rising[:3], "RSS")


def _leaves(node) -> list:
    """Every value inside a JSON-like body (dictionary keys' values, list items), and the body's ids."""
    if isinstance(node, dict):
        return [node] + [x for v in node.values() for x in _leaves(v)]
    if isinstance(node, list):
        return [node] + [x for v in node for x in _leaves(v)]
    return [node]


def test_the_fuzz_run_sends_every_kind_of_hostile_value_to_every_server_callback(server) -> None:
    """bench/fuzz_callbacks.py (run by hand, not in the suite) plans, for every server callback of the
    real app and every role, the control and every category of hostile value, and builds each
    request as the renderer's body with the hostile value in it. No server is started."""
    import json

    import dash

    from bench.fuzz_callbacks import CATEGORIES, CONTROL, HOSTILE, PAGES, ROLES, build_body, default_baseline, plan
    from bench.fuzz_callbacks import server_callbacks as on_server

    from .helpers import signed_in

    deps = signed_in(server, "admin1").get("/_dash-dependencies").get_json()
    specs = {d["output"]: d for d in on_server(deps)}
    python = {k for k, cb in server.extensions["dash"].callback_map.items() if "callback" in cb}
    assert python and python <= specs.keys()  # every Python callback is fuzzed (and Dash's page router)
    assert {p["path"] for p in dash.page_registry.values()} - {"/404"} <= set(PAGES)  # every page gives baselines

    cases = plan(deps, {}, 3000, seed=3)
    assert len(cases) >= 3000 and cases == plan(deps, {}, 3000, seed=3)  # deterministic for a seed
    seen: dict[tuple[str, str], set[str]] = {}
    for case in cases:
        seen.setdefault((case.role, case.output), set()).add(case.category)
    assert seen.keys() == {(r, o) for r in ROLES for o in specs}
    assert all(cats == {CONTROL, *CATEGORIES} for cats in seen.values())
    assert {c.where[0] for c in cases} >= {"control", "all", "value", "id"}  # pattern ids are fuzzed too

    for case in cases:
        spec = specs[case.output]
        body = build_body(spec, default_baseline(spec), case)
        assert body["output"] == case.output and len(body["inputs"]) == len(spec["inputs"])
        json.dumps(body)  # sendable as it is
        if case.hostile >= 0:
            value = HOSTILE[case.hostile][2]
            assert any(type(x) is type(value) and x == value for x in _leaves(body)), (case, body)
