"""DRG cost screen (DRG病种成本大屏): each DRG group's cases, weight, charge, payment, cost and
margin; the consumption indices; a quadrant of weight against margin per case; the loss-making
groups with the departments that carry them; and one group's cost structure against its
payment. On a wall it cycles through the top loss-makers by itself; at a desk a click on a
point or a row picks the group, and the table sorts and exports.
"""
from __future__ import annotations

from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update

from components.format import format_indicator, format_money, format_points
from components.i18n import t
from components.ranktable import Column, next_sort, pager, rank_table, sort_frame
from components.wall import (
    GOOD,
    INK,
    LOSS,
    MUTED,
    campus_color,
    change_badge,
    empty_figure,
    export_buttons,
    graph,
    next_url,
    panel,
    scale_of,
    style,
    wall_frame,
)
from data_layer.queries.drg import COST_PARTS, drg_cost_structure, drg_departments, drg_groups
from data_layer.queries.kpis import compare
from data_layer.queries.structure import departments
from data_layer.registry import INDICATORS
from shell.access import secured
from shell.inputs import Code

from ._common import cached_answer, current_lang, send_table, warehouse
from ._kit import safe, safe_figure
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

ROLES = ("leader",)
dash.register_page(__name__, path="/wall/drg", name="DRG cost screen", order=2, allowed_roles=ROLES,
                   nav_label={"zh": "DRG病种成本", "en": "DRG costs"}, inputs={"drg-group.data": Code})

HEADLINE = ("grouped_rate", "cmi", "time_index", "cost_index", "drg_margin", "drg_margin_per_case")
TOP = 8  # loss-makers a wall cycles through
CYCLE_SECONDS = 10
PAGE_SECONDS = 15  # a wall turns the loss-makers' table page by page
PART_COLORS = {"personnel": "#56B4E9", "drug": "#E69F00", "material": "#CC79A7", "equipment": "#009E73",
               "overhead": "#9AA5B1"}
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
              export_buttons("drg", lang) if not wq.kiosk else None,
              html.Div(id="drg-table", className="table-box"),
              html.Div([html.Span(t("table.money_note", lang)), *pager("drg", PAGE_SECONDS, on_wall)],
                       className="tile-note table-foot"),
              extra="area-table"),
        panel(t("drg.detail", lang), html.Div(id="drg-detail-title", className="detail-title"),
              html.Div([graph("drg-structure"), html.Div(id="drg-depts", className="dept-list")], className="detail-pair"),
              extra="area-detail"),
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


WALL_COLUMNS = ("drg_code", "name", "cases", "weight", "drg_margin_per_case", "drg_margin")


def _columns(lang: str, on_wall: bool = False) -> list[Column]:
    """The table's columns: every figure at a desk; on a wall the code, name, cases, weight and margins."""
    cols = [Column("drg_code", t("drg.col.code", lang), "text", "4.2em"),
            Column("name", t("drg.col.name", lang), "text", "minmax(8em, 3fr)"),
            Column("cases", t("drg.cases", lang), "int", "minmax(3.2em, .8fr)"),
            Column("weight", t("drg.weight", lang), "num2", "minmax(3em, .7fr)"),
            Column("charge_per_discharge", t("drg.charge", lang), "money", "minmax(4em, 1fr)"),
            Column("payment_per_case", t("drg.payment", lang), "money", "minmax(4em, 1fr)"),
            Column("cost_per_case", t("drg.cost", lang), "money", "minmax(4em, 1fr)"),
            Column("drg_margin_per_case", t("drg.margin_case", lang), "money", "minmax(4em, 1fr)", loss=True),
            Column("drg_margin", t("drg.margin_total", lang), "money", "minmax(4.5em, 1fr)", loss=True),
            Column("time_index", t("drg.time_index", lang), "num2", "minmax(3.5em, .8fr)"),
            Column("cost_index", t("drg.cost_index", lang), "num2", "minmax(3.5em, .8fr)")]
    return [c for c in cols if c.id in WALL_COLUMNS] if on_wall else cols


def _groups(period: Any, campus: Any, division: Any) -> tuple[pd.DataFrame, Any, Any, Any]:
    scope, per, filters = resolve(period, campus, division)
    return drg_groups(warehouse(), scope, per, filters), scope, per, filters


@callback(Output("drg-kpis", "children"), Output("drg-quadrant", "figure"), Output("drg-table", "children"),
          Output("drg-tops", "data"), Output("drg-group", "data", allow_duplicate=True),
          Input("wall-tick", "data"), *FILTERS, Input("drg-sort", "data"), State("drg-wall", "data"),
          State("drg-group", "data"), prevent_initial_call="initial_duplicate")
@secured(roles=ROLES)
@cached_answer(key_args=lambda tick, *rest: (scale_of(tick), rest))
def refresh(tick: Any, period: Any, campus: Any, division: Any, sort: Any, on_wall: Any, current: Any) -> tuple:
    lang = current_lang()
    scale = scale_of(tick)
    groups, scope, per, filters = _groups(period, campus, division)
    kpis = safe(lambda: _kpis(scope, per, filters, groups, lang), lang, "drg kpis")
    wall = bool(on_wall)
    if groups.empty:
        note = t("drg.none", lang)
        return kpis, empty_figure(note, scale), html.Div(note, className="wall-note"), [], None
    quadrant = safe_figure(lambda: _quadrant(groups, lang, scale), lang, "quadrant", scale)
    table = groups.assign(name=groups["name_zh" if lang == "zh" else "name_en"])
    losers = table[table["drg_margin"] < 0]
    tops = list(losers["drg_code"].head(TOP))
    group = current if current in set(groups["drg_code"]) else (tops[0] if tops else groups["drg_code"].iloc[0])
    columns = _columns(lang, wall)
    # a wall pages through every loss-maker, the largest loss first; a desk lists every group, sortable
    shown = losers if wall else sort_frame(table, sort, [c.id for c in columns])
    if wall and losers.empty:  # a good period (or a month one day old): say so, not "no rows"
        grid = html.Div(t("drg.no_losers", lang), className="wall-note")
    else:
        grid = rank_table("drg", columns, shown, "drg_code", lang, wall=wall, sort=sort, selected=group)
    return kpis, quadrant, grid, tops, (no_update if group == current else group)


@callback(Output("drg-sort", "data"), Input({"type": "drg-sort", "index": ALL}, "n_clicks"), State("drg-sort", "data"),
          prevent_initial_call=True)
@secured(roles=ROLES)
def resort(clicks: Any, current: Any) -> Any:
    """A click on a header sorts by that column; a second click turns the order round."""
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):
        return no_update
    return next_sort(ctx.triggered_id["index"], current, _columns("en")) or no_update


clientside_callback(dash.ClientsideFunction("wall", "select"), Output("drg-selected", "data"),
                    Input("drg-group", "data"), Input("drg-table", "children"), prevent_initial_call=True)
clientside_callback(dash.ClientsideFunction("wall", "page"), Output("drg-page", "children"),
                    Input("drg-page-tick", "n_intervals"), Input("drg-table", "children"),
                    State("drg-page-fmt", "data"), prevent_initial_call=True)


def _kpis(scope, per, filters, groups: pd.DataFrame, lang: str) -> list[Any]:
    frame = compare(warehouse(), scope, HEADLINE, per, filters=filters).set_index("indicator")
    tiles = []
    for code in HEADLINE:
        ind = INDICATORS[code]
        if code not in frame.index:
            continue
        row = frame.loc[code]
        if row["yoy"] != row["yoy"]:
            change, text = None, t("home.no_yoy", lang)
        elif ind.unit == "ratio":
            change, text = row["yoy_diff"], format_points(row["yoy_diff"], lang)
        else:
            change, text = row["yoy"], f"{row['yoy']:+.1%}"
        tiles.append(html.Div([html.Div(ind.name(lang), className="tile-label"),
                               html.Div(format_indicator(row["value"], ind.unit, lang, wall_money=True), className="tile-value"),
                               change_badge(change, ind, t("wall.yoy_short", lang) + " " + text, row["value"])],
                              className="tile"))
    losers = groups[groups["drg_margin"] < 0]
    tiles.append(html.Div([html.Div(t("drg.loss_groups", lang), className="tile-label"),
                           html.Div(f"{len(losers)} / {len(groups)}", className="tile-value loss"),
                           html.Span(t("drg.loss_total", lang,
                                       amount=format_money(losers["drg_margin"].sum(), lang, unit=True)),
                                     className="chg chg-bad")], className="tile"))
    period_note = html.Div(t("drg.period", lang, start=per.start, end=per.end), className="tile-note")
    return [*tiles, period_note]


def _quadrant(groups: pd.DataFrame, lang: str, scale: float) -> go.Figure:
    """Weight against margin per case, bubbles sized by cases; loss-makers as vermillion crosses."""
    name = "name_zh" if lang == "zh" else "name_en"
    fig = go.Figure()
    biggest = max(float(groups["cases"].max()), 1.0)
    for loss, color, symbol, label in ((False, GOOD, "circle", t("drg.earning", lang)),
                                       (True, LOSS, "x", t("drg.losing", lang))):
        part = groups[(groups["drg_margin"] < 0) == loss]
        if part.empty:
            continue
        fig.add_scatter(
            x=part["weight"], y=part["drg_margin_per_case"], mode="markers", name=label,
            customdata=part[["drg_code"]].to_numpy(), text=part[name],
            marker={"size": part["cases"], "sizemode": "area", "sizeref": 2.0 * biggest / (46 * scale) ** 2,
                    "sizemin": round(4 * scale), "color": color, "symbol": symbol, "opacity": 0.8,
                    "line": {"width": 1, "color": "#0b1118"}},
            hovertemplate="%{customdata[0]} %{text}<br>" + t("drg.weight", lang) + " %{x:.2f}<br>"
                          + t("drg.margin_case", lang) + " %{y:,.0f}<extra></extra>")
    fig.add_hline(y=0, line={"color": "rgba(255,255,255,.45)", "width": 1})
    fig.add_vline(x=1.0, line={"color": "rgba(255,255,255,.25)", "width": 1, "dash": "dot"})
    # the four corners say what each quadrant means
    for x, y, key in ((0.01, 0.99, "drg.q_light_earn"), (0.99, 0.99, "drg.q_heavy_earn"),
                      (0.01, 0.01, "drg.q_light_lose"), (0.99, 0.01, "drg.q_heavy_lose")):
        fig.add_annotation(text=t(key, lang), x=x, y=y, xref="paper", yref="paper", showarrow=False,
                           xanchor="left" if x < 0.5 else "right", yanchor="top" if y > 0.5 else "bottom",
                           font={"size": round(13 * scale), "color": MUTED})
    fig.add_scatter(x=[], y=[], mode="markers", name="", showlegend=False, hoverinfo="skip",
                    marker={"size": round(40 * scale), "symbol": "circle-open", "color": "#F0E442",
                            "line": {"width": round(3 * scale)}})
    fig.update_xaxes(title={"text": t("drg.weight_log", lang), "font": {"size": round(14 * scale)}}, type="log",
                     tickvals=[0.2, 0.3, 0.5, 1, 2, 3, 5, 10, 20], ticktext=["0.2", "0.3", "0.5", "1", "2", "3", "5", "10", "20"])
    fig.update_yaxes(title={"text": t("drg.margin_case_yuan", lang), "font": {"size": round(14 * scale)}},
                     tickformat=",.0f")
    return style(fig, scale, margin=(8, 8, 8, 8))


@callback(Output("drg-group", "data", allow_duplicate=True), Input("drg-cycle", "n_intervals"),
          State("drg-tops", "data"), State("drg-group", "data"), prevent_initial_call=True)
@secured(roles=ROLES)
def cycle(_n: Any, tops: Any, current: Any) -> Any:
    """On a wall: the next of the top loss-making groups."""
    if not isinstance(tops, list) or not tops:
        return no_update
    i = tops.index(current) if current in tops else -1
    return tops[(i + 1) % len(tops)]


@callback(Output("drg-group", "data", allow_duplicate=True), Input("drg-quadrant", "clickData"),
          Input({"type": "drg-row", "index": ALL}, "n_clicks"), prevent_initial_call=True)
@secured(roles=ROLES)
def pick(click: Any, _rows: Any) -> Any:
    """At a desk: the group of a clicked point or table row (the detail checks it is in scope)."""
    try:
        if ctx.triggered_id == "drg-quadrant":
            return str(click["points"][0]["customdata"][0])
        if isinstance(ctx.triggered_id, dict) and ctx.triggered[0]["value"]:
            return str(ctx.triggered_id["index"])
    except (TypeError, KeyError, IndexError):
        pass
    return no_update


@callback(Output("drg-detail-title", "children"), Output("drg-structure", "figure"), Output("drg-depts", "children"),
          Output("drg-quadrant", "figure", allow_duplicate=True),
          Input("drg-group", "data"), *FILTERS, State("wall-tick", "data"), prevent_initial_call=True)
@secured(roles=ROLES)
def detail(code: Any, period: Any, campus: Any, division: Any, tick: Any) -> tuple:
    """One group: its cost per case by component against its payment, and who carries it."""
    lang = current_lang()
    scale = scale_of(tick)
    if not isinstance(code, str) or not code:
        return t("drg.none", lang), empty_figure("", scale), None, no_update
    groups, scope, per, filters = _groups(period, campus, division)
    match = groups[groups["drg_code"] == code]
    if match.empty:  # a code from elsewhere (or forged): nothing to show in this scope
        return t("drg.no_group", lang, code=code[:20]), empty_figure("", scale), None, no_update
    g = match.iloc[0]
    name = g["name_zh" if lang == "zh" else "name_en"]
    title = [html.Span(f"{code} {name}", className="detail-name"),
             html.Span(t("drg.detail_line", lang, cases=f"{g['cases']:,.0f}", weight=f"{g['weight']:.2f}",
                         margin=format_money(g["drg_margin_per_case"], lang, unit=True)), className="detail-facts")]
    fig = safe_figure(lambda: _structure(scope, per, filters, code, lang, scale), lang, "structure", scale)
    depts = safe(lambda: _carriers(scope, per, filters, code, lang), lang, "carriers")
    ring = dash.Patch()
    ring["data"][-1]["x"] = [float(g["weight"])]
    ring["data"][-1]["y"] = [float(g["drg_margin_per_case"])]
    return title, fig, depts, ring


def _structure(scope, per, filters, code: str, lang: str, scale: float) -> go.Figure:
    parts = drg_cost_structure(warehouse(), scope, per, code, filters).set_index("component")["per_case"]
    fig = go.Figure()
    cost_label, pay_label = t("drg.cost_bar", lang), t("drg.payment_bar", lang)
    dark = "#0b1118"
    cost = 0.0
    for part in (c.removeprefix("cost_") for c in COST_PARTS):
        v = float(parts.get(part, 0.0))
        cost += v
        # dark type on these light fills; a label too small for its segment is left to the hover
        fig.add_bar(y=[cost_label], x=[v], orientation="h", name=t(f"drg.part.{part}", lang),
                    marker_color=PART_COLORS[part], text=[format_money(v, lang)], textposition="inside",
                    insidetextanchor="middle", textangle=0, textfont={"size": round(14 * scale), "color": dark},
                    hovertemplate=f"{t(f'drg.part.{part}', lang)} {format_money(v, lang, unit=True)}<extra></extra>")
    pay = float(parts.get("payment", 0.0))
    # the payment's hatching lies over a solid fill (not in place of it), so its figure reads in dark type
    fig.add_bar(y=[pay_label], x=[pay], orientation="h", name=pay_label, marker_color="#F0E442",
                marker_pattern={"shape": "/", "fillmode": "overlay", "fgcolor": dark, "fgopacity": 0.18,
                                "size": round(10 * scale)},
                text=[format_money(pay, lang)], textposition="inside", insidetextanchor="middle", textangle=0,
                textfont={"size": round(15 * scale), "color": dark},
                hovertemplate=f"{pay_label} {format_money(pay, lang, unit=True)}<extra></extra>")
    # each bar's total at its end, in light type on the dark panel
    for label, total in ((cost_label, cost), (pay_label, pay)):
        fig.add_annotation(x=total, y=label, text=f"<b>{format_money(total, lang)}</b>", showarrow=False,
                           xanchor="left", xshift=round(4 * scale), font={"size": round(14 * scale), "color": INK})
    fig.update_layout(barmode="stack", bargap=0.35,
                      uniformtext={"minsize": round(12 * scale), "mode": "hide"})
    fig.update_xaxes(tickformat=",.0f", nticks=5, range=[0, max(cost, pay, 1.0) * 1.22],
                     title={"text": t("drg.per_case_yuan", lang), "font": {"size": round(13 * scale)}})
    fig.update_yaxes(categoryorder="array", categoryarray=[pay_label, cost_label])
    return style(fig, scale, margin=(8, 8, 6, 6))


def _carriers(scope, per, filters, code: str, lang: str) -> Any:
    deps = drg_departments(warehouse(), scope, per, code, filters)
    if deps.empty:
        return html.Div(t("drg.no_carriers", lang), className="wall-note")
    info = departments(warehouse(), scope).set_index("dept_id")
    every = list(all_campuses())
    deps = deps.sort_values("cases", ascending=False, kind="stable").head(6)
    rows = []
    for r in deps.itertuples():
        campus = info["campus_id"].get(r.dept_id)
        dot = html.I(className="dot", style={"background": campus_color(campus, every)}) if campus else None
        rows.append(html.Tr([html.Td([dot, r.name_zh if lang == "zh" else r.name_en], className="row-label"),
                             html.Td(f"{r.cases:,.0f}", className="num"),
                             html.Td(format_money(r.drg_margin_per_case, lang, unit=True),
                                     className="num" + (" neg" if r.drg_margin_per_case < 0 else "")),
                             html.Td(format_money(r.drg_margin, lang, unit=True),
                                     className="num" + (" neg" if r.drg_margin < 0 else ""))],
                            id={"type": "drg-carrier", "index": r.dept_id}, n_clicks=0, title=t("drg.carriers_hint", lang)))
    head = html.Tr([html.Th(t("drg.department", lang)), html.Th(t("drg.cases", lang)),
                    html.Th(t("drg.margin_case", lang)), html.Th(t("drg.margin_total", lang))])
    return html.Table([html.Thead(head), html.Tbody(rows)], className="wall-table carriers")


@callback(Output("_pages_location", "href", allow_duplicate=True),
          Input({"type": "drg-carrier", "index": ALL}, "n_clicks"), prevent_initial_call=True)
@secured(roles=ROLES)
def open_carrier(_clicks: Any) -> Any:
    """At a desk: a click on a department carrying the group opens that department's page."""
    if not isinstance(ctx.triggered_id, dict) or not ctx.triggered[0]["value"]:
        return no_update
    return department_address(ctx.triggered_id["index"])


@callback(Output("drg-download", "data"), Input("drg-export-xlsx", "n_clicks"), Input("drg-export-csv", "n_clicks"),
          *[State(i.component_id, i.component_property) for i in FILTERS], prevent_initial_call=True)
@secured(roles=ROLES)
def export(_x: Any, _c: Any, period: Any, campus: Any, division: Any) -> Any:
    """Every group in the user's scope and filters, with Chinese and English names."""
    lang = current_lang()
    groups, _scope, per, _f = _groups(period, campus, division)
    cols = {c.id: c.label for c in _columns(lang)}
    out = groups.assign(name=groups["name_zh" if lang == "zh" else "name_en"])[list(cols)].rename(columns=cols)
    fmt = "csv" if ctx.triggered_id == "drg-export-csv" else "xlsx"
    kinds = {cols[c]: "money" for c in ("charge_per_discharge", "payment_per_case", "cost_per_case",
                                        "drg_margin_per_case", "drg_margin")}
    kinds |= {cols["cases"]: "integer", cols["weight"]: ("ratio", 2), cols["time_index"]: ("ratio", 2),
              cols["cost_index"]: ("ratio", 2)}
    return send_table(out, f"drg-groups-{per.start}-{per.end}", fmt, f"drg groups {per.start}..{per.end}",
                      title=t("wall.drg_title", lang), kinds=kinds, period=per)
