"""Overview: the user's hospital, campus or departments at a glance, with data freshness,
and a quick view of one department. (Role workspaces replace it as landing pages as they
arrive: a page that names a role in `landing_for` becomes that role's landing page.)"""
from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, dcc, html

from components.i18n import t
from components.overview import HEADLINE, freshness_line, headline_order, kpi_cards, structure_cards, year_to_date
from data_layer.errors import WarehouseError
from data_layer.queries.kpis import compare
from data_layer.queries.structure import departments, summary
from data_layer.registry import Level
from data_layer.sources import Filters
from shell.access import page_denied

from ._common import (
    current_lang,
    current_scope,
    forbidden_panel,
    quality_red,
    unexpected_error_panel,
    warehouse,
    warehouse_error_panel,
)
from ._kit import READERS, Ask, page_callback

ROLES = READERS
dash.register_page(__name__, path="/", name="Overview", order=0, allowed_roles=ROLES, landing_for=(),
                   nav_label={"zh": "运营概览", "en": "Overview"})

DEPT_SELECT, DEPT_VIEW = "home-dept-select", "home-dept-view"


def layout(**_query: str) -> html.Main:
    lang = current_lang()
    if page_denied(__name__):
        return forbidden_panel(lang)
    scope = current_scope()
    header = html.Header([html.H1(t("app.title", lang)), html.P(t(f"app.subtitle.{scope.kind}", lang), className="lead")],
                         className="page-header")
    try:
        wh = warehouse()
        fresh = wh.freshness()
        body: list[Any] = [freshness_line(fresh, lang, quality_red("home")), structure_cards(summary(wh, scope), lang)]
        if fresh.data_through is not None:
            ytd = year_to_date(fresh.data_through)
            body.append(kpi_cards(headline_order(compare(wh, scope, HEADLINE, ytd, with_previous=False)), ytd, lang))
            deps = departments(wh, scope)
            clinical = deps[deps["kind"] == "clinical"]
            if len(clinical) > 1:  # one department: the overview above is that department
                name = "name_zh" if lang == "zh" else "name_en"
                body.append(html.Section([
                    html.H2(t("home.department", lang)),
                    dcc.Dropdown(id=DEPT_SELECT, options=[{"label": r[name], "value": r["dept_id"]}
                                                          for _, r in clinical.iterrows()],
                                 value=clinical["dept_id"].iloc[0], clearable=False, className="dept-select"),
                    html.Div(id=DEPT_VIEW),
                ]))
    except WarehouseError as exc:
        body = [warehouse_error_panel(str(exc), lang)]
    except Exception as exc:  # never a traceback on screen
        body = [unexpected_error_panel(exc, lang)]
    return html.Main([header, *body], className="container-fluid page")


@page_callback(Output(DEPT_VIEW, "children"), Input(DEPT_SELECT, "value"), roles=ROLES, dept=DEPT_SELECT)
def department_view(ask: Ask) -> Any:
    """Year-to-date headline figures of one department in the user's scope."""
    wh = warehouse()
    ytd = year_to_date(wh.freshness().data_through)
    rows = compare(wh, ask.scope, HEADLINE, ytd, Level.department, Filters(department=(ask.dept,)),
                   with_previous=False)
    if rows.empty:
        return html.P(t("home.no_data", ask.lang), className="note")
    return kpi_cards(headline_order(rows), ytd, ask.lang, heading=False)

