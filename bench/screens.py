"""Screenshots of running pages, as a user sees them, for reviews and the docs.

    python -m bench.screens --base http://127.0.0.1:8050 --user leader --password '…' \\
        --out docs/screenshots/i15 --size 1920x1080 --lang zh,en /workspace/costs?dept=D001 /wall/campus

Signs in through the form (headless Chromium, a fresh profile), switches the language with the
page's own button, opens each address, waits for Dash to finish its callbacks and for the
figures to draw, and saves `<name>-<width>x<height>-<lang>.png` (the name from the address);
`--scroll '#ws-sec-dip'` scrolls that element to the top of the screen first (a section lower on a page).
Needs Debian's chromium and chromium-driver (as the browser tests do).
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars")


def driver(width: int, height: int):  # noqa: ANN201 - selenium's type
    from selenium import webdriver

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='shots-')}")
    opts.add_argument(f"--window-size={width},{height}")
    drv = webdriver.Chrome(options=opts)
    viewport(drv, width, height)
    return drv


def viewport(drv, width: int, height: int) -> None:  # noqa: ANN001
    """The page's viewport exactly `width` x `height` CSS pixels (the window's frame not counted)."""
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def settle(drv, timeout: float = 60.0) -> None:  # noqa: ANN001
    """Wait until Dash has no callback in flight and the page has stopped changing for a moment."""
    end, last, still = time.time() + timeout, None, 0
    while time.time() < end:
        busy = drv.execute_script(
            "return !!document.querySelector('[data-dash-is-loading=\"true\"]') || "
            "document.title.startsWith('Updating')")
        size = drv.execute_script("return document.body ? document.body.innerHTML.length : 0")
        still = still + 1 if (not busy and size == last) else 0
        if still >= 4:
            return
        last = size
        time.sleep(0.5)


def sign_in(drv, base: str, user: str, password: str) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    drv.get(f"{base}/login")
    drv.find_element(By.NAME, "username").send_keys(user)
    drv.find_element(By.NAME, "password").send_keys(password)
    drv.find_element(By.CSS_SELECTOR, "form button[type=submit], form input[type=submit]").click()
    time.sleep(1.5)
    if "/login" in drv.current_url:
        raise SystemExit(f"could not sign in as {user} at {base}")


def page_lang(drv) -> str:  # noqa: ANN001
    """The language the shell drew the page in (its root element carries it)."""
    got = drv.execute_script("var r = document.querySelector('.app-root'); return r ? r.lang : ''") or ""
    return "zh" if got.startswith("zh") else "en"


def switch_to(drv, lang: str) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    settle(drv)
    if page_lang(drv) != lang:
        drv.find_element(By.ID, "lang-switch").click()
        time.sleep(1.5)
        settle(drv)


def name_of(address: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", address.strip("/")).strip("-") or "home"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="http://127.0.0.1:8050")
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--out", default="shots")
    ap.add_argument("--size", default="1920x1080", help="WIDTHxHEIGHT; several separated by commas")
    ap.add_argument("--lang", default="zh,en")
    ap.add_argument("--full", action="store_true", help="the whole page's height, not only the first screen")
    ap.add_argument("--prefix", default="")
    ap.add_argument("--scroll", default="", help="a CSS selector scrolled to the top of the screen before the shot")
    ap.add_argument("addresses", nargs="+")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for size in args.size.split(","):
        width, height = (int(v) for v in size.lower().split("x"))
        drv = driver(width, height)
        try:
            sign_in(drv, args.base.rstrip("/"), args.user, args.password)
            for lang in args.lang.split(","):
                drv.get(args.base.rstrip("/") + "/")  # switched on the home page: a kiosk screen has no switch
                switch_to(drv, lang)
                for address in args.addresses:
                    drv.get(args.base.rstrip("/") + address)
                    settle(drv)
                    if page_lang(drv) != lang:
                        print(f"warning: {address} was drawn in {page_lang(drv)}, not {lang}", file=sys.stderr)
                    time.sleep(1.0)  # figures finish their transitions
                    if args.scroll:
                        drv.execute_script("var e = document.querySelector(arguments[0]);"
                                           "if (e) { e.scrollIntoView({block: 'start'}); }", args.scroll)
                        time.sleep(0.8)
                    if args.full:
                        full = drv.execute_script("return document.documentElement.scrollHeight")
                        viewport(drv, width, max(height, min(int(full) + 40, 12000)))
                        time.sleep(0.8)
                    path = out / f"{args.prefix}{name_of(address)}-{width}x{height}-{lang}.png"
                    drv.save_screenshot(str(path))
                    if args.full:
                        viewport(drv, width, height)
                    print(path)
        finally:
            drv.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
