"""Portfolio (所辖科室): the assistant's departments side by side on the key indicators, with
the change on last year and on the previous period, each cell coloured by how far it is from
the department's target (year to date) or its own history, and the open alerts per department.
A grid (components/portfolio.py): sortable, filterable, the department pinned; a click on a
department's row opens its page, a click in the revenue column its revenue drill-down.
Assistants land here; the tab bar leads to the other workspace sections."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import pandas as pd
from dash import Input, Output, State, html, no_update
from flask import current_app

from appdb.alerts import open_counts_by_department
from components.exports import BY_ROW, unit_kind
from components.i18n import t
from components.palette import STATUS_VERDICT, WARN_ICON, out_of_range_note, score_verdict
from components.portfolio import GRID_ID, REVENUE_COLUMN, legend, portfolio_grid
from data_layer.periods import PERIODS
from data_layer.queries.portfolio import PORTFOLIO, portfolio
from data_layer.registry import INDICATORS, UNITS
from shell.warmup import target

from .._common import warehouse
from .._kit import READERS, Ask, Export, export_callback, kept_answer, page_callback, safe
from ._frame import Start, begin, frame, offered_months, section, section_page

dash.register_page(__name__, **section_page("portfolio"))


def layout(dept: str | None = None, period: str | None = None, **_query: str) -> Any:
    start = begin(__name__, dept, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    n = len(start.mine)
    subtitle = t("ws.pf.subtitle_one", lang) if n == 1 else t("ws.pf.subtitle", lang, n=n)
    return frame("portfolio", start, [
        section("portfolio", start.lang, html.Div(id="po-table"), legend(lang),
                html.P(t("ws.pf.rules", lang), className="note"), exports=(("portfolio", "portfolio"),)),
    ], dept_picker=False, subtitle=subtitle)


@page_callback(Output("po-table", "children"), Input("ws-period", "value"), State("ws-dept", "value"),
               roles=READERS, period="ws-period")
def table(ask: Ask, _dept: Any) -> Any:
    return safe(lambda: _table(ask), ask.lang, "portfolio")


target("workspace/portfolio", table, ("assistant",), lambda c: [("ytd", None)],
       more=lambda c: [(p, None) for p in PERIODS if p != "ytd"], last=lambda c: [(m, None) for m in offered_months()])


def _table(ask: Ask) -> Any:
    """The grid is kept in the result cache like the other answers, keyed also by the open alerts it
    shows: they change without a load, so they are counted for every request (one small query) and
    a new or closed alert makes a new answer."""
    alerts = open_counts_by_department(current_app.extensions["hospdash"].appdb, ask.scope)
    shown = tuple(sorted((d, tuple(sorted(levels.items()))) for d, levels in alerts.items()))
    return kept_answer(ask, f"{__name__}.grid", (ask.period, shown), lambda: _grid(ask, alerts))


def _grid(ask: Ask, alerts: dict[str, dict[str, int]]) -> Any:
    df = portfolio(warehouse(), ask.scope, ask.period)
    if df.empty:
        return html.P(t("home.no_data", ask.lang), className="note")
    per = ask.period
    return [portfolio_grid(df, list(PORTFOLIO), alerts, ask.lang),
            html.P(t("ws.pf.click_hint", ask.lang), className="note"),
            html.P(t("dw.period", ask.lang, start=per.start, end=per.end), className="note")]


@page_callback(Output("_pages_location", "href", allow_duplicate=True), Input(GRID_ID, "cellClicked"),
               roles=READERS, prevent_initial_call=True)
def open_row(_ask: Ask, cell: Any) -> Any:
    """A click on a department's row opens its page (in the revenue column: its revenue drill-down);
    the page opened checks the department against the reader's scope."""
    dept = cell.get("rowId") if isinstance(cell, dict) else None
    if not isinstance(dept, str) or not 0 < len(dept) <= 64:
        return no_update
    q = urlencode({"dept": dept})
    return f"/workspace/revenue?{q}" if cell.get("colId") == REVENUE_COLUMN else f"/department?{q}"


def portfolio_frame(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The portfolio as one row per department and indicator, in the reader's language."""
    name = "name_zh" if lang == "zh" else "name_en"
    return pd.DataFrame({
        t("ws.pf.col.dept_id", lang): df["dept_id"],
        t("ws.pf.department", lang): df[name],
        t("dw.t.indicator", lang): df["indicator"].map(lambda c: INDICATORS[c].name(lang)),
        t("export.unit", lang): df["indicator"].map(lambda c: UNITS[INDICATORS[c].unit][0 if lang == "zh" else 1]),
        t("ws.pf.col.value", lang): df["value"],
        t("ws.pf.col.previous", lang): df["previous"],
        t("ws.pf.col.year_ago", lang): df["year_ago"],
        t("ws.pf.col.basis", lang): df["basis"].map(lambda b: t(f"ws.pf.basis.{b}", lang)),
        t("ws.pf.col.status", lang): [t(f"dw.status.{s}", lang) if s else "" for s in df["status"]],
        t("ws.pf.col.score", lang): df["score"],
        t("ws.pf.col.range", lang): [out_of_range_note(INDICATORS[c], v, lang).removeprefix(WARN_ICON).strip()
                                     for c, v in zip(df["indicator"], df["value"], strict=True)],
    })


def portfolio_verdicts(pf: pd.DataFrame, lang: str) -> dict[str, list[str]]:
    """The export's judged columns, as the page colours them: the score, the target status and
    the healthy range (components/palette.py)."""
    return {t("ws.pf.col.score", lang): [score_verdict(s) for s in pf["score"]],
            t("ws.pf.col.status", lang): [STATUS_VERDICT.get(s or "", "neutral") for s in pf["status"]],
            t("ws.pf.col.range", lang): list(pf["range"])}


def export_portfolio(ask: Ask) -> Export:
    """Every department and indicator of the reader's scope, one row each, coloured as the page."""
    lang, per = ask.lang, ask.period
    pf = portfolio(warehouse(), ask.scope, per)
    kinds = {t(f"ws.pf.col.{c}", lang): BY_ROW for c in ("value", "previous", "year_ago")}
    return Export(portfolio_frame(pf, lang), f"portfolio-{per.start}-{per.end}", "workspace portfolio",
                  title=t("ws.tab.portfolio", lang), kinds=kinds | {t("ws.pf.col.score", lang): "integer"},
                  row_kinds=[unit_kind(INDICATORS[c].unit) for c in pf["indicator"]],
                  verdicts=portfolio_verdicts(pf, lang))


export_callback("portfolio", {"portfolio": export_portfolio}, roles=READERS, dept=None, period="ws-period")
