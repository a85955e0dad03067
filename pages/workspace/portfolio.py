"""Portfolio (所辖科室): the assistant's departments side by side on the key indicators, with
the change on last year and on the previous period, each cell coloured by how far it is from
the department's target (year to date) or its own history, and the open alerts per department.
Assistants land here; the tab bar leads to the other workspace sections."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import pandas as pd
from dash import ALL, Input, Output, State, callback, dcc, html, no_update
from flask import current_app

from appdb.alerts import open_counts_by_department
from components.exports import BY_ROW, unit_kind
from components.format import format_change, format_indicator, format_points
from components.i18n import t
from components.palette import STATUS_VERDICT, WARN_ICON, out_of_range_mark, out_of_range_note, score_verdict
from data_layer.alerts.detect import LEVELS
from data_layer.periods import Period
from data_layer.queries.portfolio import PORTFOLIO, portfolio
from data_layer.registry import INDICATORS, UNITS
from shell.access import secured

from .._common import current_lang, current_scope, send_table, warehouse
from .._kit import safe
from ._frame import ROLES, Start, begin, export_request, frame, resolve_period, section, section_page

dash.register_page(__name__, **section_page("portfolio"))

TABLES = ("portfolio",)
SCORE_ICON = {2: "▲▲", 1: "▲", 0: "", -1: "▼", -2: "▼▼"}


def layout(dept: str | None = None, period: str | None = None, **_query: str) -> Any:
    start = begin(__name__, dept, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    legend = html.Div([html.Span(t("ws.pf.legend", lang), className="me-2")] + [
        html.Span(f"{SCORE_ICON[s]} {t(f'ws.pf.score.{s}', lang)}".strip(), className=f"pf-cell pf-s{s} pf-key")
        for s in (2, 1, 0, -1, -2)] + [
        html.Span(f"{WARN_ICON} {t('ws.pf.out_of_range', lang)}", className="pf-cell pf-s0 pf-key pf-warn")],
        className="pf-legend")
    n = len(start.mine)
    subtitle = t("ws.pf.subtitle_one", lang) if n == 1 else t("ws.pf.subtitle", lang, n=n)
    return frame("portfolio", start, [
        section("portfolio", start.lang, html.Div(id="po-table"), legend,
                html.P(t("ws.pf.rules", lang), className="note"), exports=(("portfolio", "portfolio"),)),
    ], dept_picker=False, subtitle=subtitle)


@callback(Output("po-table", "children"), Input("ws-period", "value"), State("ws-dept", "value"))
@secured(roles=ROLES)
def table(period: Any, _dept: Any) -> Any:
    lang = current_lang()
    per = resolve_period(period)
    return safe(lambda: _table(per, lang), lang, "portfolio")


def _open_alerts(dept_ids: list[str]) -> dict[str, dict[str, int]]:
    return open_counts_by_department(current_app.extensions["hospdash"].appdb, current_scope(), dept_ids)


def _change(value: float, diff: float, unit: str, lang: str) -> str:
    if value != value and diff != diff:
        return "—"
    return format_points(diff, lang) if unit == "ratio" else format_change(value)


def _table(per: Period, lang: str) -> Any:
    df = portfolio(warehouse(), current_scope(), per)
    if df.empty:
        return html.P(t("home.no_data", lang), className="note")
    name = "name_zh" if lang == "zh" else "name_en"
    depts = list(dict.fromkeys(df["dept_id"]))
    alerts = _open_alerts(depts)
    codes = [c for c in PORTFOLIO if c in set(df["indicator"])]
    head = html.Thead(html.Tr([html.Th(t("ws.pf.department", lang), className="pf-sticky")] +
                              [html.Th(INDICATORS[c].name(lang)) for c in codes] + [html.Th(t("ws.pf.alerts", lang))]))
    by = df.set_index(["dept_id", "indicator"])
    body = []
    for d in depts:
        first = by.loc[d].iloc[0]
        q = urlencode({"dept": d})
        cells: list[Any] = [html.Th([html.Div(first[name], className="pf-name"),
                                     html.Div([dcc.Link(t("ws.pf.open_department", lang), href=f"/department?{q}"), " · ",
                                               dcc.Link(t("ws.tab.revenue", lang), href=f"/workspace/revenue?{q}")],
                                              className="pf-links")], className="pf-sticky", scope="row")]
        for c in codes:
            if (d, c) not in by.index:
                cells.append(html.Td("—", className="pf-cell pf-s0"))
                continue
            r, ind = by.loc[(d, c)], INDICATORS[c]
            basis = t(f"dw.status.{r['status']}", lang) if r["basis"] == "target" else ""
            score = int(r["score"])
            warn = out_of_range_note(ind, r["value"], lang)
            cells.append(html.Td([
                html.Div([format_indicator(r["value"], ind.unit, lang),
                          html.Span(SCORE_ICON[score], className="pf-icon")], className="pf-value"),
                html.Div(f"{t('home.yoy', lang)} {_change(r['yoy'], r['yoy_diff'], ind.unit, lang)}", className="pf-change"),
                html.Div(f"{t('dw.mom', lang)} {_change(r['mom'], r['mom_diff'], ind.unit, lang)}", className="pf-change"),
                html.Div(f"{t('ws.pf.target', lang)} {basis}", className="pf-basis") if basis else None,
                html.Div(out_of_range_mark(ind, r["value"], lang), className="pf-range") if warn else None,
            ], className=f"pf-cell pf-s{score}" + (" pf-warn" if warn else ""),
                title=" · ".join(x for x in (t(f"ws.pf.score.{score}", lang), warn) if x)))
        counts = alerts[d]
        badges = [html.Span(f"{t(f'level.{lv}', lang)} {int(counts[lv])}", className=f"badge lvl-badge lvl-{lv} me-1")
                  for lv in reversed(LEVELS) if counts[lv]]
        cells.append(html.Td(badges or html.Span(t("ws.pf.no_alerts", lang), className="text-muted"),
                             className="pf-alerts"))
        body.append(html.Tr(cells, id={"type": "po-row", "index": d}))
    return [html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table pf-table", id="po-grid"),
                     className="table-scroll"),
            html.P(t("dw.period", lang, start=per.start, end=per.end), className="note")]


def portfolio_frame(per: Period, lang: str) -> pd.DataFrame:
    """The portfolio as one row per department and indicator, in the reader's language."""
    df = portfolio(warehouse(), current_scope(), per)
    name = "name_zh" if lang == "zh" else "name_en"
    out = pd.DataFrame({
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
    return out


@callback(Output("ws-download", "data", allow_duplicate=True),
          Input({"type": "ws-export", "page": "portfolio", "table": ALL, "fmt": ALL}, "n_clicks"),
          State("ws-period", "value"), prevent_initial_call=True)
@secured(roles=ROLES)
def export(clicks: list, period: Any) -> Any:
    req = export_request(clicks, TABLES)
    if req is None:
        return no_update
    _table_name, fmt = req
    lang = current_lang()
    per = resolve_period(period)
    df = portfolio_frame(per, lang)
    kinds = {t(f"ws.pf.col.{c}", lang): BY_ROW for c in ("value", "previous", "year_ago")}
    pf = portfolio(warehouse(), current_scope(), per)
    rows = [unit_kind(INDICATORS[c].unit) for c in pf["indicator"]]
    return send_table(df, f"portfolio-{per.start}-{per.end}", fmt, "workspace portfolio", title=t("ws.tab.portfolio", lang),
                      kinds=kinds | {t("ws.pf.col.score", lang): "integer"}, period=per, row_kinds=rows,
                      verdicts=portfolio_verdicts(pf, lang))


def portfolio_verdicts(pf: pd.DataFrame, lang: str) -> dict[str, list[str]]:
    """The export's judged columns, as the page colours them: the score, the target status and
    the healthy range (components/palette.py)."""
    return {t("ws.pf.col.score", lang): [score_verdict(s) for s in pf["score"]],
            t("ws.pf.col.status", lang): [STATUS_VERDICT.get(s or "", "neutral") for s in pf["status"]],
            t("ws.pf.col.range", lang): list(pf["range"])}
