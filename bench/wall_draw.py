"""How long each leadership screen takes to draw in headless Chromium: from opening the address
to every figure drawn, cold (the first visit after the app starts, empty result cache) and warm
(a second visit), at 1920×1080 and 3840×2160.

    python -m bench.wall_draw --url duckdb:///data/warehouse.duckdb [--runs 3]

It serves the app itself (waitress, in this process) with a throwaway leader account.
"""
from __future__ import annotations

import argparse
import secrets
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

SCREENS = {"/wall/campus": 4, "/wall/drg": 2, "/profit": 2}
SIZES = ((1920, 1080), (3840, 2160))
PASSWORD = "Wall-passw0rd-2026"
DRAWN = ("return Array.from(document.querySelectorAll('.js-plotly-plot'))"
         ".filter(p => p.data && p.data.length && p.querySelector('.main-svg')).length")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={tempfile.mkdtemp()}"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def _draw(driver, url: str, figures: int, timeout: float = 60) -> float:
    t0 = time.perf_counter()
    driver.get(url)
    while time.perf_counter() - t0 < timeout:
        if driver.execute_script(DRAWN) >= figures:
            return time.perf_counter() - t0
        time.sleep(0.02)
    raise RuntimeError(f"{url}: figures not drawn within {timeout} s")


def serve(url: str):
    """The app over `url` with a fresh data folder, served by waitress in this process on a free
    port; returns (Flask app, waitress server, base address)."""
    from waitress.server import create_server

    from app import create_app

    data = Path(tempfile.mkdtemp())
    srv = create_app({"WAREHOUSE_URL": url, "SECRET_KEY": secrets.token_urlsafe(48), "DATA_DIR": str(data),
                      "APP_DB_URL": f"sqlite:///{data / 'app.sqlite'}"})
    port = _free_port()
    server = create_server(srv, host="127.0.0.1", port=port, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    return srv, server, f"http://127.0.0.1:{port}"


def sign_in(driver, base: str, username: str, password: str) -> None:
    driver.get(base + "/login")
    driver.find_element("id", "username").send_keys(username)
    driver.find_element("id", "password").send_keys(password)
    driver.find_element("id", "login-submit").click()
    time.sleep(1)


def measure(url: str, runs: int = 3) -> list[tuple[str, str, int, float, float]]:
    """(screen, size, run, first visit s, again s) for every screen, size and run."""
    rows = []
    for run in range(runs):
        srv, server, base = serve(url)
        srv.extensions["hospdash"].appdb.create_user("bench", "bench", PASSWORD, "leader", "hospital", ())
        driver = _browser()
        try:
            sign_in(driver, base, "bench", PASSWORD)
            for width, height in SIZES:
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                       {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
                for path, figures in SCREENS.items():
                    page = f"{base}{path}?kiosk=1"
                    first = _draw(driver, page, figures)
                    second = _draw(driver, page, figures)
                    rows.append((path, f"{width}×{height}", run, first, second))
        finally:
            driver.quit()
            server.close()
            srv.extensions["hospdash"].warehouse.engine.dispose()
    import gc

    gc.collect()  # let DuckDB's objects go before the interpreter shuts down
    return rows


def table(rows: list[tuple[str, str, int, float, float]]) -> str:
    """Medians per screen and size: the first size visited is the cold one; the 4K rows reuse the
    result cache the 1080p rows filled."""
    lines = ["| screen | size | first visit (median s) | again (median s) |", "|---|---|---:|---:|"]
    for path in SCREENS:
        for width, height in SIZES:
            size = f"{width}×{height}"
            mine = [r for r in rows if r[0] == path and r[1] == size]
            if mine:
                lines.append(f"| {path} | {size} | {statistics.median(r[3] for r in mine):.2f} | "
                             f"{statistics.median(r[4] for r in mine):.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.wall_draw", description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="warehouse URL")
    p.add_argument("--runs", type=int, default=3, help="cold and warm runs per screen and size")
    args = p.parse_args(argv)
    rows = measure(args.url, args.runs)
    print(f"warehouse {args.url}, {args.runs} runs; seconds from opening the address to every figure drawn\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
