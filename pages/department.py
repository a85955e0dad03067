"""One department at a glance: its year-to-date headline figures against last year and its
revenue, cost by allocation tier and balance. Opened from the department profit view (and
from any page that names a department); the director workspace grows from here."""
from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html
from flask import current_app
from flask_login import current_user

from components.format import format_indicator
from components.i18n import t
from components.overview import HEADLINE, freshness_line, headline_order, kpi_cards, year_to_date
from data_layer.errors import WarehouseError
from data_layer.queries.kpis import compare
from data_layer.queries.profit import CODES, department_profit
from data_layer.queries.structure import departments
from data_layer.registry import INDICATORS, Level
from data_layer.sources import Filters
from shell.access import audit, page_denied

from ._common import current_lang, current_scope, forbidden_panel, unexpected_error_panel, warehouse, warehouse_error_panel

ROLES = ("leader", "director", "assistant")
dash.register_page(__name__, path="/department", name="Department", order=20, allowed_roles=ROLES, nav=False)


def layout(dept: str | None = None, **_query: str) -> html.Main:
    lang = current_lang()
    if page_denied(__name__):
        return forbidden_panel(lang)
    scope = current_scope()
    if not isinstance(dept, str) or not dept:
        return html.Main(html.Div(t("dept.missing", lang), className="alert alert-warning"), className="container page")
    if not scope.allows_department(dept, current_app.extensions["hospdash"].campus_of(dept)):
        audit("forbidden_department", "/department", f"dept={dept[:64]}")
        return forbidden_panel(lang)
    try:
        wh = warehouse()
        info = departments(wh, scope)
        row = info[info["dept_id"] == dept]
        if row.empty:
            return html.Main(html.Div(t("dept.unknown", lang, dept=dept[:64]), className="alert alert-warning"),
                             className="container page")
        r = row.iloc[0]
        fresh = wh.freshness()
        name = r["name_zh"] if lang == "zh" else r["name_en"]
        campus = r["campus_zh"] if lang == "zh" else r["campus_en"]
        back = dcc.Link(t("dept.back", lang), href="/profit") if current_user.role == "leader" else None
        body: list[Any] = [html.Header([html.H1(name), html.P(campus, className="lead"), back], className="page-header"),
                           freshness_line(fresh, lang)]
        if fresh.data_through is not None:
            ytd = year_to_date(fresh.data_through)
            rows = compare(wh, scope, HEADLINE, ytd, Level.department, Filters(department=(dept,)))
            body.append(kpi_cards(headline_order(rows), ytd, lang) if not rows.empty
                        else html.P(t("home.no_data", lang), className="note"))
            body.append(_profit(dept, ytd, lang))
    except WarehouseError as exc:
        body = [warehouse_error_panel(str(exc), lang)]
    except Exception as exc:  # never a traceback on screen
        body = [unexpected_error_panel(exc, lang)]
    return html.Main(body, className="container-fluid page", id="department-page")


def _profit(dept: str, ytd, lang: str) -> html.Section:
    df = department_profit(warehouse(), current_scope(), ytd, Filters(department=(dept,)))
    if df.empty:
        return html.Section(html.P(t("profit.none", lang, start=ytd.start, end=ytd.end), className="note"))
    r = df.iloc[0]
    start, end = df.attrs.get("window", (ytd.start, ytd.end))
    cells = [html.Tr([html.Th(t(f"profit.col.{c}", lang)),
                      html.Td(format_indicator(r[c], INDICATORS[c].unit, lang), className="text-end")]) for c in CODES]
    return html.Section([html.H2(t("dept.profit", lang, start=start, end=end)),
                         html.Table(html.Tbody(cells), className="table table-sm dept-profit", id="dept-profit")])
