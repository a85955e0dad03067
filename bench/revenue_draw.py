"""How long the revenue drill-down's heaviest page takes to draw in headless Chromium: from opening
the address of the largest doctor (the most discharges this year) to the page drawn and
interactive — the case rows on screen, every figure drawn and the browser's main thread free
again — cold (the first visit after the app starts) and warm (again), at 1920×1080.

    python -m bench.revenue_draw --url duckdb:///data/warehouse.duckdb [--runs 3]

It serves the app itself (waitress, in this process) with a throwaway assistant account whose
scope is the doctor's department.
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

from bench.wall_draw import _browser, serve, sign_in

PASSWORD = "Revenue-passw0rd-2026"
SIZE = (1920, 1080)
# the case rows: grid rows (virtualised), or the rows of the hand-built table of earlier releases
ROWS = ("return document.querySelectorAll('.wsr-cases-grid .ag-row, #wsr-cases-table tbody tr').length")
FIGURES = ("return Array.from(document.querySelectorAll('.js-plotly-plot'))"
           ".filter(p => p.data && p.data.length && p.querySelector('.main-svg')).length")
DOM_ROWS = "return document.querySelectorAll('.wsr-cases-grid .ag-row, #wsr-cases-table tbody tr').length"
TRACES = ("return Array.from(document.querySelectorAll('.js-plotly-plot'))"
          ".reduce((n, p) => n + ((p.data || []).length), 0)")
LONGEST = ("const done = arguments[arguments.length - 1]; let max = 0;"
           "const obs = new PerformanceObserver(l => l.getEntries().forEach(e => { max = Math.max(max, e.duration); }));"
           "obs.observe({type: 'longtask', buffered: true}); setTimeout(() => { obs.disconnect(); done(max / 1000); }, 100);")
LEVEL = "return document.querySelectorAll('.wsr-level-grid-table .ag-row, #wsr-level-table tbody tr').length"
IDLE = "const done = arguments[arguments.length - 1]; setTimeout(() => requestAnimationFrame(() => done(1)), 0);"


def _draw(driver, url: str, timeout: float, ready: str = ROWS) -> tuple[float, float]:
    """Seconds from opening `url` to its rows (`ready`) and the structure figure drawn, and a task
    run on the main thread after them (so a page still busy drawing is not counted as ready); and
    the longest task that blocked the main thread meanwhile, in seconds."""
    t0 = time.perf_counter()
    driver.get(url)
    while time.perf_counter() - t0 < timeout:
        if driver.execute_script(ready) and driver.execute_script(FIGURES) >= 1:
            driver.execute_async_script(IDLE)
            return time.perf_counter() - t0, float(driver.execute_async_script(LONGEST) or 0)
        time.sleep(0.02)
    raise RuntimeError(f"{url}: not drawn within {timeout} s")


def measure(url: str, runs: int = 3, timeout: float = 900) -> tuple[dict, list[tuple]]:
    """The page measured ({dept, group, doctor, cases, dom_rows, traces}) and per run (run, first visit s,
    again s, longest main-thread task s, the department's page s as the baseline of the machine)."""

    from data_layer.periods import Period
    from data_layer.queries.revenue import busiest_doctors
    from data_layer.scope import Scope

    rows, info = [], {}
    for run in range(runs):
        srv, server, base = serve(url)
        wh = srv.extensions["hospdash"].warehouse
        through = wh.freshness().data_through or date.today()
        top = busiest_doctors(wh, Scope.hospital(), Period(through.replace(month=1, day=1), through)).iloc[0]
        info = {"dept": top["dept_id"], "group": top["group_id"], "doctor": top["doctor_id"], "cases": int(top["cases"])}
        srv.extensions["hospdash"].appdb.create_user("bench", "bench", PASSWORD, "assistant", "departments",
                                                     (info["dept"],))
        driver = _browser()
        driver.set_script_timeout(timeout)
        driver.set_page_load_timeout(timeout)
        try:
            sign_in(driver, base, "bench", PASSWORD)
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": SIZE[0], "height": SIZE[1], "deviceScaleFactor": 1, "mobile": False})
            page = (f"{base}/workspace/revenue?period=ytd&stream=all&dept={info['dept']}&by=group"
                    f"&group={info['group']}&doctor={info['doctor']}")
            first, _ = _draw(driver, page, timeout)
            second, longest = _draw(driver, page, timeout)
            info["dom_rows"] = driver.execute_script(DOM_ROWS)
            info["traces"] = driver.execute_script(TRACES)
            dept_page = f"{base}/workspace/revenue?period=ytd&stream=all&dept={info['dept']}&by=group"
            _draw(driver, dept_page, timeout, LEVEL)
            baseline, _ = _draw(driver, dept_page, timeout, LEVEL)
            rows.append((run, first, second, longest, baseline))
        finally:
            driver.quit()
            server.close()
            wh.engine.dispose()
    import gc

    gc.collect()  # let DuckDB's objects go before the interpreter shuts down
    return info, rows


def table(info: dict, rows: list[tuple]) -> str:
    """Medians over the runs, with what the page held and the department's page (no case list) as the
    baseline of the machine at that moment."""
    def med(i: int) -> str:
        return f"{statistics.median(r[i] for r in rows):.2f}"
    return "\n".join([
        "| page | cases | case rows in the DOM | traces | first visit (median s) | again (median s) | "
        "longest main-thread task (s) | department page, again (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| largest doctor ({info['doctor']}), year to date, 1920×1080 | {info['cases']:,} | {info['dom_rows']} | "
        f"{info['traces']} | {med(1)} | {med(2)} | {med(3)} | {med(4)} |"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.revenue_draw", description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="warehouse URL")
    p.add_argument("--runs", type=int, default=3, help="cold and warm visits")
    args = p.parse_args(argv)
    info, rows = measure(args.url, args.runs)
    print(f"warehouse {args.url}, {args.runs} runs; seconds from opening the largest doctor's address to the page "
          "drawn and interactive\n")
    print(table(info, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
