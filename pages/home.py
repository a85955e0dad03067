"""Landing page: the hospital at a glance, with data freshness."""
from __future__ import annotations

import dash
from dash import html

from components.i18n import t
from components.overview import freshness_line, kpi_cards, structure_cards
from data_layer.errors import WarehouseError
from data_layer.periods import Period
from data_layer.queries.kpis import compare
from data_layer.queries.structure import summary
from data_layer.scope import Scope

from ._common import current_lang, unexpected_error_panel, warehouse, warehouse_error_panel

dash.register_page(__name__, path="/", name="Home", order=0)

HEADLINE = ("outpatient_visits", "discharges", "surgeries", "revenue_total", "alos", "bed_occupancy", "cmi",
            "drug_share", "material_share", "margin")


def layout(**_query: str) -> html.Div:
    lang = current_lang()
    header = html.Header([html.H1(t("app.title", lang)), html.P(t("app.subtitle", lang), className="lead")],
                         className="page-header")
    try:
        wh = warehouse()
        fresh = wh.freshness()
        scope = Scope.hospital()
        body = [freshness_line(fresh, lang), structure_cards(summary(wh, scope), lang)]
        if fresh.data_through is not None:
            ytd = Period(fresh.data_through.replace(month=1, day=1), fresh.data_through)
            rows = compare(wh, scope, HEADLINE, ytd)
            rows = rows.set_index("indicator").loc[[c for c in HEADLINE if c in set(rows["indicator"])]].reset_index()
            body.append(kpi_cards(rows, ytd, lang))
    except WarehouseError as exc:
        body = [warehouse_error_panel(str(exc), lang)]
    except Exception as exc:  # never a traceback on screen
        body = [unexpected_error_panel(exc, lang)]
    return html.Main([header, *body], className="container-fluid page")
