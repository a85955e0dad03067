"""DRG cost screen (DRG病种成本大屏): each DRG group's cases, weight, charge, payment, cost and
margin; the consumption indices; a quadrant of weight against margin per case; the loss-making
groups with the departments that carry them; and one group's cost structure against its
payment. On a wall it cycles through the top loss-makers by itself; at a desk a click on a
point or a row picks the group, and the table sorts and exports. The figures and tables are
drawn by components/wall_drg.py.
"""
from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import ALL, Input, Output, State, clientside_callback, ctx, dcc, html, no_update

from components.dip import band_tiles, wall_trend, worst_table
from components.i18n import t
from components.ranktable import next_sort, pager, rank_table, sort_frame
from components.wall import campus_color, empty_figure, graph, next_url, panel, scale_of, wall_frame
from components.wall_drg import (
    carriers_table,
    detail_title,
    drg_columns,
    export_frame,
    kpi_tiles,
    quadrant_figure,
    structure_figure,
)
from data_layer.queries.dip import has_dip, latest_point_values, packet_table, point_values, sensitivity
from data_layer.queries.drg import COST_PARTS, drg_cost_structure, drg_departments, drg_groups, drg_only
from data_layer.queries.kpis import compare
from data_layer.queries.structure import departments
from shell.inputs import Code
from shell.warmup import target, wall_ticks

from ._common import current_lang, warehouse
from ._kit import EXPORT_FORMATS, LEADERS, Ask, Export, export_callback, page_callback, safe, safe_figure
from ._wall import (
    all_campuses,
    department_address,
    desk_filters,
    notes_follow_the_filters,
    open_screen,
    resolve,
    settings,
    subtitle,
)

ROLES = LEADERS
dash.register_page(__name__, cache_layout=True, path="/wall/drg", name="DRG cost screen", order=2, allowed_roles=ROLES,
                   nav_label={"zh": "DRG病种成本", "en": "DRG costs"}, inputs={"drg-group.data": Code})

HEADLINE = ("grouped_rate", "cmi", "time_index", "cost_index", "drg_margin", "drg_margin_per_case")
TOP = 8  # loss-makers a wall cycles through
CYCLE_SECONDS = 10
PAGE_SECONDS = 15  # a wall turns the loss-makers' table page by page
FILTERS = [Input("drg-period", "value"), Input("drg-campus", "value"), Input("drg-division", "value")]
notes_follow_the_filters("drg")


def layout(**query: str) -> Any:
    lang = current_lang()
    opened = open_screen(__name__, "/wall/drg", query, lang, desk=True)
    if not isinstance(opened, tuple):
        return opened
    wq, campuses, (period, division) = opened
    on_wall = wq.kiosk or wq.rotate is not None
    body = [
        html.Div(id="drg-kpis", className="kpi-strip area-kpis"),
        panel(t("drg.quadrant", lang), graph("drg-quadrant"), extra="area-quadrant"),
        panel(t("drg.table_wall" if on_wall else "drg.table", lang),
              export_buttons(lang) if not wq.kiosk else None,
              html.Div(id="drg-table", className="table-box"),
              html.Div([html.Span(t("table.money_note", lang)), *pager("drg", PAGE_SECONDS, on_wall)],
                       className="tile-note table-foot"),
              extra="area-table"),
        panel(t("drg.detail", lang), html.Div(id="drg-detail-title", className="detail-title"),
              html.Div([graph("drg-structure"), html.Div(id="drg-depts", className="dept-list")], className="detail-pair"),
              extra="area-detail"),
        *dip_band(lang),
        dcc.Store(id="drg-tops"), dcc.Store(id="drg-group"), dcc.Store(id="drg-wall", data=on_wall),
        dcc.Store(id="drg-sort"), dcc.Store(id="drg-page-fmt", data=t("table.page", lang)), dcc.Store(id="drg-selected"),
        dcc.Interval(id="drg-cycle", interval=CYCLE_SECONDS * 1000, disabled=not on_wall),
        dcc.Download(id="drg-download"),
    ]
    filters = desk_filters("drg", campuses, lang, period, wq.campus, division)
    if wq.kiosk:  # the filters are hidden on a wall, but their values still drive the callbacks
        body.append(html.Div(filters, hidden=True))
        filters = None
    return wall_frame("drg", t("wall.drg_title", lang), subtitle(None, campuses, lang), body, wq, lang,
                      settings().wall_refresh_seconds, next_url("/wall/drg", wq, campuses), {}, filters)


def dip_band(lang: str) -> list[Any]:
    """The DIP band under the DRG panels, when the warehouse holds DIP cases (none on a version 1 warehouse)."""
    if not has_dip(warehouse()):
        return []
    return [panel(t("drg.dip.band", lang),
                  html.Div([html.Div(id="drg-dip-tiles", className="dip-band-tiles"), graph("drg-dip-trend"),
                            html.Div(id="drg-dip-worst", className="dip-band-worst")], className="dip-band"),
                  extra="area-dip")]


@page_callback(Output("drg-dip-tiles", "children"), Output("drg-dip-trend", "figure"),
               Output("drg-dip-worst", "children"), Input("wall-tick", "data"), *FILTERS, roles=ROLES, cached=True,
               key_args=lambda tick, *rest: (scale_of(tick), rest))
def dip_figures(ask: Ask, tick: Any, period: Any, campus: Any, division: Any) -> tuple:
    """The DIP packets of the scope and filters: cases, estimated payment, margin, loss-making
    packets, the point-value sensitivity, the largest losses and the point-value trend."""
    lang, scale, wh = ask.lang, scale_of(tick), warehouse()
    scope, per, filters = resolve(period, campus, division)
    packets = packet_table(wh, scope, per, filters)
    tiles = safe(lambda: band_tiles(packets, sensitivity(wh, scope, per, filters=filters),
                                    latest_point_values(wh, scope, per.end), lang), lang, "dip tiles")
    trend = safe_figure(lambda: wall_trend(point_values(wh, scope), lang, scale), lang, "dip trend", scale)
    return tiles, trend, safe(lambda: worst_table(packets, lang), lang, "dip losses")


def export_buttons(lang: str) -> html.Div:
    """The desk's Excel and CSV buttons, answered by the kit's export callback below."""
    return html.Div([html.Button(t(f"export.{fmt}", lang), id={"type": "drg-export", "table": "groups", "fmt": fmt},
                                 className="btn btn-sm btn-outline-light") for fmt in EXPORT_FORMATS],
                    className="export-buttons")


def _groups(period: Any, campus: Any, division: Any) -> tuple[pd.DataFrame, Any, Any, Any]:
    scope, per, filters = resolve(period, campus, division)
    filters = drg_only(warehouse(), filters)  # beside DIP: the DRG-paid cases only
    return drg_groups(warehouse(), scope, per, filters), scope, per, filters


@page_callback(Output("drg-kpis", "children"), Output("drg-quadrant", "figure"), Output("drg-table", "children"),
               Output("drg-tops", "data"), Output("drg-group", "data", allow_duplicate=True),
               Input("wall-tick", "data"), *FILTERS, Input("drg-sort", "data"), State("drg-wall", "data"),
               State("drg-group", "data"), roles=ROLES, cached=True, key_args=lambda tick, *rest: (scale_of(tick), rest),
               prevent_initial_call="initial_duplicate")
def refresh(ask: Ask, tick: Any, period: Any, campus: Any, division: Any, sort: Any, on_wall: Any, current: Any) -> tuple:
    lang = ask.lang
    scale = scale_of(tick)
    groups, scope, per, filters = _groups(period, campus, division)
    kpis = safe(lambda: kpi_tiles(compare(warehouse(), scope, HEADLINE, per, filters=filters,
                                              with_previous=False).set_index("indicator"),
                                  HEADLINE, groups, per, lang), lang, "drg kpis")
    wall = bool(on_wall)
    if groups.empty:
        note = t("drg.none", lang)
        return kpis, empty_figure(note, scale), html.Div(note, className="wall-note"), [], None
    quadrant = safe_figure(lambda: quadrant_figure(groups, lang, scale), lang, "quadrant", scale)
    table = groups.assign(name=groups["name_zh" if lang == "zh" else "name_en"])
    losers = table[table["drg_margin"] < 0]
    tops = list(losers["drg_code"].head(TOP))
    group = current if current in set(groups["drg_code"]) else (tops[0] if tops else groups["drg_code"].iloc[0])
    columns = drg_columns(lang, wall)
    # a wall pages through every loss-maker, the largest loss first; a desk lists every group, sortable
    shown = losers if wall else sort_frame(table, sort, [c.id for c in columns])
    if wall and losers.empty:  # a good period (or a month one day old): say so, not "no rows"
        grid = html.Div(t("drg.no_losers", lang), className="wall-note")
    else:
        grid = rank_table("drg", columns, shown, "drg_code", lang, wall=wall, sort=sort, selected=group)
    return kpis, quadrant, grid, tops, (no_update if group == current else group)


# what a DRG screen asks for when it opens (the year to date, the whole scope), on a wall and at a desk
target("wall/drg", refresh, ROLES,
       lambda c: [(tick, "ytd", None, None, None, on_wall, None) for tick in wall_ticks() for on_wall in (True, False)])
target("wall/drg dip", dip_figures, ROLES, lambda c: [(tick, "ytd", None, None) for tick in wall_ticks()])


@page_callback(Output("drg-sort", "data"), Input({"type": "drg-sort", "index": ALL}, "n_clicks"),
               State("drg-sort", "data"), roles=ROLES, prevent_initial_call=True)
def resort(_ask: Ask, clicks: Any, current: Any) -> Any:
    """A click on a header sorts by that column; a second click turns the order round."""
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):
        return no_update
    return next_sort(ctx.triggered_id["index"], current, drg_columns("en")) or no_update


clientside_callback(dash.ClientsideFunction("wall", "select"), Output("drg-selected", "data"),
                    Input("drg-group", "data"), Input("drg-table", "children"), prevent_initial_call=True)
clientside_callback(dash.ClientsideFunction("wall", "page"), Output("drg-page", "children"),
                    Input("drg-page-tick", "n_intervals"), Input("drg-table", "children"),
                    State("drg-page-fmt", "data"), prevent_initial_call=True)


@page_callback(Output("drg-group", "data", allow_duplicate=True), Input("drg-cycle", "n_intervals"),
               State("drg-tops", "data"), State("drg-group", "data"), roles=ROLES, prevent_initial_call=True)
def cycle(_ask: Ask, _n: Any, tops: Any, current: Any) -> Any:
    """On a wall: the next of the top loss-making groups."""
    if not isinstance(tops, list) or not tops:
        return no_update
    i = tops.index(current) if current in tops else -1
    return tops[(i + 1) % len(tops)]


@page_callback(Output("drg-group", "data", allow_duplicate=True), Input("drg-quadrant", "clickData"),
               Input({"type": "drg-row", "index": ALL}, "n_clicks"), roles=ROLES, prevent_initial_call=True)
def pick(_ask: Ask, click: Any, _rows: Any) -> Any:
    """At a desk: the group of a clicked point or table row (the detail checks it is in scope)."""
    try:
        if ctx.triggered_id == "drg-quadrant":
            return str(click["points"][0]["customdata"][0])
        if isinstance(ctx.triggered_id, dict) and ctx.triggered[0]["value"]:
            return str(ctx.triggered_id["index"])
    except (TypeError, KeyError, IndexError):
        pass
    return no_update


@page_callback(Output("drg-detail-title", "children"), Output("drg-structure", "figure"),
               Output("drg-depts", "children"), Output("drg-quadrant", "figure", allow_duplicate=True),
               Input("drg-group", "data"), *FILTERS, State("wall-tick", "data"), roles=ROLES, prevent_initial_call=True)
def detail(ask: Ask, code: Any, period: Any, campus: Any, division: Any, tick: Any) -> tuple:
    """One group: its cost per case by component against its payment, and who carries it."""
    lang = ask.lang
    scale = scale_of(tick)
    if not isinstance(code, str) or not code:
        return t("drg.none", lang), empty_figure("", scale), None, no_update
    groups, scope, per, filters = _groups(period, campus, division)
    match = groups[groups["drg_code"] == code]
    if match.empty:  # a code from elsewhere (or forged): nothing to show in this scope
        return t("drg.no_group", lang, code=code[:20]), empty_figure("", scale), None, no_update
    g = match.iloc[0]
    title = detail_title(code, g, lang)
    fig = safe_figure(lambda: _structure(scope, per, filters, code, lang, scale), lang, "structure", scale)
    depts = safe(lambda: _carriers(scope, per, filters, code, lang), lang, "carriers")
    ring = dash.Patch()
    ring["data"][-1]["x"] = [float(g["weight"])]
    ring["data"][-1]["y"] = [float(g["drg_margin_per_case"])]
    return title, fig, depts, ring


def _structure(scope, per, filters, code: str, lang: str, scale: float) -> Any:
    parts = drg_cost_structure(warehouse(), scope, per, code, filters).set_index("component")["per_case"]
    return structure_figure(parts, COST_PARTS, lang, scale)


def _carriers(scope, per, filters, code: str, lang: str) -> Any:
    deps = drg_departments(warehouse(), scope, per, code, filters)
    info = departments(warehouse(), scope).set_index("dept_id")["campus_id"]
    every = list(all_campuses())
    dots = {d: campus_color(info.get(d), every) for d in deps["dept_id"] if info.get(d)}
    return carriers_table(deps, dots, lang)


@page_callback(Output("_pages_location", "href", allow_duplicate=True),
               Input({"type": "drg-carrier", "index": ALL}, "n_clicks"), roles=ROLES, prevent_initial_call=True)
def open_carrier(_ask: Ask, _clicks: Any) -> Any:
    """At a desk: a click on a department carrying the group opens that department's page."""
    if not isinstance(ctx.triggered_id, dict) or not ctx.triggered[0]["value"]:
        return no_update
    return department_address(ctx.triggered_id["index"])


def _export(ask: Ask, period: Any, campus: Any, division: Any) -> Export:
    """Every group in the user's scope and filters."""
    groups, _scope, per, _f = _groups(period, campus, division)
    out, kinds = export_frame(groups, ask.lang)
    return Export(out, f"drg-groups-{per.start}-{per.end}", f"drg groups {per.start}..{per.end}",
                  title=t("wall.drg_title", ask.lang), kinds=kinds, period=per)


export_callback("drg", {"groups": _export}, *[State(i.component_id, i.component_property) for i in FILTERS],
                output=Output("drg-download", "data"), button_type="drg-export", roles=ROLES, dept=None, period=None)
