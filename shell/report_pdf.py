"""The monthly report as a PDF made on the server: the printed page, printed by headless Chromium.

The report's document is built by the same function the page shows (components/reports.document),
written out as static HTML (components/static_html: the grids as tables of the text their cells
show, the trend figure drawn by plotly.js), styled by the app's own stylesheets (Bootstrap and
every file in assets/, whose print rules lay the report on A4), and printed to PDF by
`chromium --headless --print-to-pdf` from a file in a fresh temporary folder. No web server, no
request and no signed-in user are needed: a job calls `render_report_pdf` with the application
database, the warehouse (for the department's name) and a scope.

Chromium writes CJK characters that share a glyph with a radical as the radical (月 as ⽉); the
PDF's text maps are rewritten so the text copies, searches and extracts as written
(shell/cjk_radicals.py), and so are the Latin ligatures (ﬁ as fi).

Needs Debian's `chromium` (and `fonts-noto-cjk` for the Chinese); the environment variable
CHROMIUM may name another binary. Without it the app runs and the PDF is refused with a message.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

from appdb.reports import FIELDS, MAX_TEXT, get_report
from appdb.store import AppDB
from components.i18n import t
from components.reports import document, month_label
from components.static_html import FIGURE_CLASS, to_html
from data_layer.errors import UserError
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse

from .cjk_radicals import RADICAL_IDEOGRAPH

log = logging.getLogger("hospdash")

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 60.0  # seconds one PDF may take before Chromium is stopped
RENDER_BUDGET_MS = 5000  # Chromium's virtual time for the page's scripts (plotly.js) before it prints
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
         "--disable-dev-shm-usage", "--run-all-compositor-stages-before-draw", "--no-pdf-header-footer")


class ReportPdf(NamedTuple):
    """A rendered report: the PDF's bytes and the file name to send it under."""

    data: bytes
    filename: str


class ChromiumMissing(UserError):
    """No Chromium on this server: the PDF cannot be made (the message says what to install)."""


class PdfFailed(UserError):
    """Chromium ran but made no PDF, or took too long (the details are in the server's log)."""


class ReportUnavailable(UserError):
    """No such report in the scope, or a draft (only a published report is sent as a PDF)."""


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium binary: `explicit`, else $CHROMIUM, else the first of CANDIDATES on the PATH."""
    for name in (explicit, os.environ.get("CHROMIUM"), *CANDIDATES):
        if name and (found := shutil.which(name)):
            return found
    return None


def render_report_pdf(report_id: int, lang: str, *, appdb: AppDB, scope: Scope, warehouse: Warehouse | None = None,
                      chromium: str | None = None, timeout: float = TIMEOUT) -> ReportPdf:
    """The PDF of published report `report_id` in `lang` ("zh" or "en"), with exactly the content
    of the printed report page, and its file name (月报_<department>_<YYYY-MM>.pdf, or
    report_<department>_<YYYY-MM>.pdf in English).

    `appdb`: the application database holding the report; `scope`: whose reports may be read (a
    job sending to a department's subscribers passes Scope.hospital() or the subscriber's scope);
    `warehouse`: names the department in `lang` (without it, or while it is away, the department's
    code stands in); `chromium`: the browser binary (default: $CHROMIUM, then `chromium` on the
    PATH); `timeout`: seconds before Chromium is stopped. Works outside a request (a job, the
    command line). Raises ReportUnavailable (no such report in the scope, or a draft),
    ChromiumMissing or PdfFailed, all UserErrors whose message, in `lang`, is for a person.

        from appdb.store import AppDB
        from data_layer.scope import Scope
        from data_layer.warehouse import Warehouse
        from shell.report_pdf import render_report_pdf

        pdf = render_report_pdf(12, "zh", appdb=AppDB(app_db_url), scope=Scope.hospital(),
                                warehouse=Warehouse(warehouse_url))
        attach(pdf.filename, pdf.data)     # 月报_关节外科_2026-11.pdf, b"%PDF-1.4 ..."
    """
    lang = "zh" if lang == "zh" else "en"
    report = get_report(appdb, scope, int(report_id))
    if report is None:
        raise ReportUnavailable(t("ws.rp.missing", lang))
    if report["status"] != "published":
        raise ReportUnavailable(t("ws.rp.pdf_draft", lang))
    name = department_name(report["dept_id"], lang, scope, warehouse)
    page = report_html(report, lang, name)
    return ReportPdf(print_pdf(page, lang, chromium=chromium, timeout=timeout), pdf_filename(report, name, lang))


def department_name(dept: str, lang: str, scope: Scope, warehouse: Warehouse | None) -> str:
    """The department's name in `lang`, or its code when the warehouse is not at hand."""
    if warehouse is None:
        return dept
    from data_layer.queries.structure import departments

    try:
        d = departments(warehouse, scope)
    except UserError:
        log.warning("report PDF: the warehouse is away; the department's code stands for its name")
        return dept
    hit = d[d["dept_id"] == dept]
    return str(hit.iloc[0]["name_zh" if lang == "zh" else "name_en"]) if not hit.empty else dept


def pdf_filename(report: dict, dept_name: str, lang: str) -> str:
    """月报_<department>_<YYYY-MM>.pdf: the name without characters a file name may not hold."""
    clean = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "", dept_name).strip().replace(" ", "_") or report["dept_id"]
    return t("ws.rp.pdf_file", lang, dept=clean[:60], month=str(report["month"])[:7])


def _stylesheets() -> list[Path]:
    """The stylesheets the app's pages load, in Dash's order: Bootstrap, then assets/ by name."""
    bootstrap = Path(str(files("flask_bootstrap"))) / "static" / "bootstrap5" / "css" / "bootstrap.min.css"
    return [bootstrap, *sorted(ASSETS.glob("*.css"))]


def report_html(report: dict, lang: str, dept_name: str) -> str:
    """The report page as one static HTML document, as the browser prints it."""
    article = document(report, lang, dept_name, FIELDS, lambda: [], MAX_TEXT)
    title = t("ws.rp.title", lang, dept=dept_name, month=month_label(report["content"]["month"], lang))
    links = "".join(f'<link rel="stylesheet" href="{p.as_uri()}">' for p in _stylesheets() if p.exists())
    plotly_js = (Path(str(files("plotly"))) / "package_data" / "plotly.min.js").as_uri()
    draw = ("document.querySelectorAll('." + FIGURE_CLASS + "').forEach(function (el) {"
            " var spec = JSON.parse(el.getAttribute('data-figure'));"
            " Plotly.newPlot(el, spec.figure.data, spec.figure.layout, spec.config); });")
    return (f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title>{links}</head>"
            f'<body class="report-print"><main class="page">{to_html(article)}</main>'
            f'<script src="{plotly_js}"></script><script>{draw}</script></body></html>')


def print_pdf(page: str, lang: str = "en", *, chromium: str | None = None, timeout: float = TIMEOUT) -> bytes:
    """`page` (an HTML document) printed to PDF by headless Chromium in a fresh temporary folder,
    removed afterwards; Chromium's whole process group is stopped after `timeout` seconds."""
    binary = find_chromium(chromium)
    if binary is None:
        raise ChromiumMissing(t("ws.rp.pdf_no_chromium", lang))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hospdash-pdf-", ignore_cleanup_errors=True) as tmp:
        folder = Path(tmp)
        source, out = folder / "report.html", folder / "report.pdf"
        source.write_text(page, encoding="utf-8")
        env = {**os.environ, "HOME": tmp, "XDG_CONFIG_HOME": tmp, "XDG_CACHE_HOME": tmp}
        command = [binary, *FLAGS, f"--user-data-dir={folder / 'profile'}", f"--virtual-time-budget={RENDER_BUDGET_MS}",
                   f"--print-to-pdf={out}", source.as_uri()]
        try:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    env=env, cwd=tmp, start_new_session=True)
        except OSError as exc:
            log.error("report PDF: cannot start %s: %s", binary, exc)
            raise ChromiumMissing(t("ws.rp.pdf_no_chromium", lang)) from exc
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _stop(proc)
            log.error("report PDF: %s took longer than %.0f s and was stopped", binary, timeout)
            raise PdfFailed(t("ws.rp.pdf_slow", lang, seconds=f"{timeout:.0f}")) from exc
        finally:
            _stop(proc)  # the renderer and GPU processes Chromium may leave behind in its group
        data = out.read_bytes() if out.exists() else b""
        if proc.returncode != 0 or not data.startswith(b"%PDF"):
            tail = output.decode("utf-8", "replace")[-2000:] if output else ""
            log.error("report PDF: %s exited %s without a PDF: %s", binary, proc.returncode, tail)
            raise PdfFailed(t("ws.rp.pdf_failed", lang))
    log.info("report PDF: %d bytes in %.1f s", len(data), time.monotonic() - started)
    return readable_cjk(data)


def _stop(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Kill the process group `proc` leads (started in a session of its own), reap `proc`, and wait
    until every other process of the group has exited too: SIGKILL is delivered at once, but a
    renderer tearing down its memory lives on for a moment after its leader is reaped."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process that ignores SIGKILL
        log.error("report PDF: Chromium (pid %s) did not stop", proc.pid)
        return
    deadline = time.monotonic() + grace
    while _group_running(proc.pid):
        if time.monotonic() > deadline:  # pragma: no cover - a child stuck in the kernel
            log.error("report PDF: Chromium's processes (group %s) did not stop", proc.pid)
            return
        time.sleep(0.02)


def _group_running(pgid: int) -> bool:
    """Whether a process of group `pgid` is still running. The children Chromium leaves are
    re-parented to init; a zombie init has not yet reaped holds nothing, so it does not count."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # state, ppid, pgrp, ... after "(comm)"
        except (OSError, IndexError):
            continue  # the process ended while it was read
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


# ------------------------------------------------------------------------------------ text maps
_BFCHAR = re.compile(r"(\d+)\s+beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(r"(\d+)\s+beginbfrange(.*?)endbfrange", re.S)
_PAIR = re.compile(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_RANGE = re.compile(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


def _text(hexdigits: str) -> str:
    return bytes.fromhex(hexdigits).decode("utf-16-be", "replace")


def _hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


LIGATURES = {0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl"}
_REWRITTEN = {**{k: chr(v) for k, v in RADICAL_IDEOGRAPH.items()}, **LIGATURES}


def _readable(text: str) -> str:
    """The text with radicals as their ideographs and Latin ligatures (ﬁ) as their letters."""
    return "".join(_REWRITTEN.get(ord(c), c) for c in text)


def fix_cmap(cmap: str) -> str:
    """A ToUnicode CMap with every destination that is a radical replaced by its ideograph, and a
    Latin ligature by its letters (a range holding one is written out character by character);
    unchanged when it holds none."""
    chars = [(src, _text(dst)) for _n, block in _BFCHAR.findall(cmap) for src, dst in _PAIR.findall(block)]
    ranges = []
    for _n, block in _BFRANGE.findall(cmap):
        for lo, hi, dst in _RANGE.findall(block):
            first, width = _text(dst), len(lo)
            if len(first) == 1 and any(ord(first) + i in _REWRITTEN for i in range(int(hi, 16) - int(lo, 16) + 1)):
                chars += [(f"{code:0{width}X}", chr(ord(first) + code - int(lo, 16)))
                          for code in range(int(lo, 16), int(hi, 16) + 1)]
            else:
                ranges.append((lo, hi, dst))
    if not any(ord(c) in _REWRITTEN for _src, text in chars for c in text):
        return cmap
    body = []
    for i in range(0, len(chars), 100):  # at most 100 entries a block (PDF 1.7, 9.10.3)
        part = chars[i:i + 100]
        body.append(f"{len(part)} beginbfchar\n" + "".join(f"<{s}> <{_hex(_readable(x))}>\n" for s, x in part)
                    + "endbfchar\n")
    for i in range(0, len(ranges), 100):
        part = ranges[i:i + 100]
        body.append(f"{len(part)} beginbfrange\n" + "".join(f"<{lo}> <{hi}> <{d}>\n" for lo, hi, d in part)
                    + "endbfrange\n")
    start = min(m.start() for m in (*_BFCHAR.finditer(cmap), *_BFRANGE.finditer(cmap)))
    end = max(m.end() for m in (*_BFCHAR.finditer(cmap), *_BFRANGE.finditer(cmap)))
    return cmap[:start] + "".join(body) + cmap[end:]


def readable_cjk(pdf: bytes) -> bytes:
    """The PDF with its fonts' text maps naming ideographs, not the radicals that share their
    glyphs, and letters, not ligatures (fix_cmap)."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, IndirectObject

    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    seen: set[int] = set()
    changed = False

    def visit(resources: object) -> None:
        nonlocal changed
        res = resources.get_object() if isinstance(resources, IndirectObject) else resources
        if not isinstance(res, DictionaryObject):
            return
        for font in (res.get("/Font") or DictionaryObject()).get_object().values():
            ref = font.get_object().get("/ToUnicode")
            if ref is None or id(stream := ref.get_object()) in seen:
                continue
            seen.add(id(stream))
            old = stream.get_data().decode("latin-1")
            new = fix_cmap(old)
            if new != old:
                stream.set_data(new.encode("latin-1"))
                changed = True
        for xobject in (res.get("/XObject") or DictionaryObject()).get_object().values():
            form = xobject.get_object()
            if form.get("/Subtype") == "/Form" and id(form) not in seen:
                seen.add(id(form))
                visit(form.get("/Resources"))

    for page in writer.pages:
        visit(page.get("/Resources"))
    if not changed:
        return pdf
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """`python -m shell.report_pdf REPORT_ID [--lang zh|en] [--out FILE]`: one published report's
    PDF written to a file (default: its suggested name in the current folder; `--out FOLDER`: that name
    in the folder), as a job would make it (`python -m appdb notify report` runs it so)."""
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m shell.report_pdf", description="A published monthly report as a PDF.")
    p.add_argument("report_id", type=int)
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--out", type=Path, help="the PDF file to write, or a folder to write it in under its suggested "
                                            "name (default: the suggested name, here)")
    p.add_argument("--app-db", help="application database URL (default: the configured APP_DB_URL)")
    p.add_argument("--warehouse", help="warehouse URL, for the department's name (default: the configured WAREHOUSE_URL)")
    args = p.parse_args(argv)
    try:
        if args.app_db:
            db_url = args.app_db
        else:
            from appdb.config import configured_app_db_url

            db_url = configured_app_db_url()
        if args.warehouse:
            wh_url = args.warehouse
        else:
            from data_layer.config import load_warehouse_settings

            wh_url = load_warehouse_settings().warehouse_url
        db = AppDB(db_url)
        started = time.monotonic()
        pdf = render_report_pdf(args.report_id, args.lang, appdb=db, scope=Scope.hospital(), warehouse=Warehouse(wh_url))
        out = args.out / pdf.filename if args.out and args.out.is_dir() else args.out or Path(pdf.filename)
        out.write_bytes(pdf.data)
        db.audit("export", None, f"report {args.report_id}", f"pdf, {args.lang}, command line")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print(f"unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    print(f"{out}: {len(pdf.data):,} bytes in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
