"""The benchmark suite runs end to end on a tiny warehouse (no timings are asserted: speed is
measured by `make bench`, with the figures in docs/performance.md)."""
from __future__ import annotations

from pathlib import Path


def test_the_benchmark_runs_on_a_tiny_warehouse(tmp_path: Path) -> None:
    from bench.__main__ import main
    from bench.callbacks import SCENARIOS

    out = tmp_path / "performance.md"
    assert main(["--quick", "--out", str(out)]) == 0  # no callback failed
    text = out.read_text(encoding="utf-8")
    assert "## scale 0.05 · duckdb" in text
    for sc in SCENARIOS:
        assert f"| {sc.name} |" in text
    assert "HTTP" not in text and "Error" not in text
