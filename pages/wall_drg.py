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
from dash import Input, Output, State, callback, ctx, dash_table, dcc, html, no_update

from components.format import format_indicator, format_points
from components.i18n import t
from components.wall import (
    GOOD,
    LOSS,
    MUTED,
    campus_color,
    change_badge,
    dark_table,
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

from ._common import cached_answer, current_lang, send_table, warehouse
from ._wall import (
    all_campuses,
    desk_filters,
    notes_follow_the_filters,
    open_screen,
    resolve,
    safe,
    safe_figure,
    settings,
    subtitle,
)

ROLES = ("leader",)
dash.register_page(__name__, path="/wall/drg", name="DRG cost screen", order=2, allowed_roles=ROLES,
                   nav_label={"zh": "DRG病种成本", "en": "DRG costs"})

HEADLINE = ("grouped_rate", "cmi", "time_index", "cost_index", "drg_margin", "drg_margin_per_case")
TOP = 8  # loss-makers a wall cycles through
CYCLE_SECONDS = 10
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
              html.Div(_table(lang), className="table-box"), extra="area-table"),
        panel(t("drg.detail", lang), html.Div(id="drg-detail-title", className="detail-title"),
              html.Div([graph("drg-structure"), html.Div(id="drg-depts", className="dept-list")], className="detail-pair"),
              extra="area-detail"),
        dcc.Store(id="drg-tops"), dcc.Store(id="drg-group"), dcc.Store(id="drg-wall", data=on_wall),
        dcc.Interval(id="drg-cycle", interval=CYCLE_SECONDS * 1000, disabled=not on_wall),
        dcc.Download(id="drg-download"),
    ]
    filters = desk_filters("drg", campuses, lang, period, wq.campus, division)
    if wq.kiosk:  # the filters are hidden on a wall, but their values still drive the callbacks
        body.append(html.Div(filters, hidden=True))
        filters = None
    return wall_frame("drg", t("wall.drg_title", lang), subtitle(None, campuses, lang), body, wq, lang,
                      settings().wall_refresh_seconds, next_url("/wall/drg", wq, campuses), {}, filters)


def _columns(lang: str) -> list[dict]:
    money = {"type": "numeric", "format": dash_table.FormatTemplate.money(0).symbol("")}
    cols = [("drg_code", t("drg.code", lang), {}), ("name", t("drg.name", lang), {}),
            ("cases", t("drg.cases", lang), {"type": "numeric"}),
            ("weight", t("drg.weight", lang), {"type": "numeric", "format": {"specifier": ".2f"}}),
            ("charge_per_discharge", t("drg.charge", lang), money), ("payment_per_case", t("drg.payment", lang), money),
            ("cost_per_case", t("drg.cost", lang), money), ("drg_margin_per_case", t("drg.margin_case", lang), money),
            ("drg_margin", t("drg.margin_total", lang), money),
            ("time_index", t("drg.time_index", lang), {"type": "numeric", "format": {"specifier": ".2f"}}),
            ("cost_index", t("drg.cost_index", lang), {"type": "numeric", "format": {"specifier": ".2f"}})]
    return [{"id": c, "name": n, **extra} for c, n, extra in cols]


def _table(lang: str) -> Any:
    return dark_table("drg-table", _columns(lang), left=("drg_code", "name"), loss_when="{drg_margin} < 0",
                      loss_columns=["drg_margin", "drg_margin_per_case"],
                      cell={"maxWidth": "11rem", "overflow": "hidden", "textOverflow": "ellipsis"})


def _groups(period: Any, campus: Any, division: Any) -> tuple[pd.DataFrame, Any, Any, Any]:
    scope, per, filters = resolve(period, campus, division)
    return drg_groups(warehouse(), scope, per, filters), scope, per, filters


@callback(Output("drg-kpis", "children"), Output("drg-quadrant", "figure"), Output("drg-table", "data"),
          Output("drg-table", "hidden_columns"), Output("drg-tops", "data"),
          Output("drg-group", "data", allow_duplicate=True),
          Input("wall-tick", "data"), *FILTERS, State("drg-wall", "data"), State("drg-group", "data"),
          prevent_initial_call="initial_duplicate")
@secured(roles=ROLES)
@cached_answer(key_args=lambda tick, *rest: (scale_of(tick), rest))
def refresh(tick: Any, period: Any, campus: Any, division: Any, on_wall: Any, current: Any) -> tuple:
    lang = current_lang()
    scale = scale_of(tick)
    groups, scope, per, filters = _groups(period, campus, division)
    kpis = safe(lambda: _kpis(scope, per, filters, groups, lang), lang, "drg kpis")
    if groups.empty:
        note = t("drg.none", lang)
        return kpis, empty_figure(note, scale), [], [], [], None
    quadrant = safe_figure(lambda: _quadrant(groups, lang, scale), lang, "quadrant", scale)
    name = "name_zh" if lang == "zh" else "name_en"
    table = groups.assign(name=groups[name])
    losers = table[table["drg_margin"] < 0]
    tops = list(losers["drg_code"].head(TOP))
    hidden: list[str] = []
    if on_wall:
        table = losers.head(TOP)
        hidden = ["drg_code", "charge_per_discharge", "payment_per_case", "cost_per_case", "time_index", "cost_index"]
    cols = [c["id"] for c in _columns(lang)]
    data = table[cols].round(4).to_dict("records")
    group = current if current in set(groups["drg_code"]) else (tops[0] if tops else groups["drg_code"].iloc[0])
    return kpis, quadrant, data, hidden, tops, (no_update if group == current else group)


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
                               html.Div(format_indicator(row["value"], ind.unit, lang), className="tile-value"),
                               change_badge(change, ind.higher_is_better, t("wall.yoy_short", lang) + " " + text)],
                              className="tile"))
    losers = groups[groups["drg_margin"] < 0]
    tiles.append(html.Div([html.Div(t("drg.loss_groups", lang), className="tile-label"),
                           html.Div(f"{len(losers)} / {len(groups)}", className="tile-value loss"),
                           html.Span(t("drg.loss_total", lang, amount=format_indicator(losers["drg_margin"].sum(),
                                                                                        "yuan", lang)),
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
          Input("drg-table", "active_cell"), State("drg-table", "derived_viewport_data"), prevent_initial_call=True)
@secured(roles=ROLES)
def pick(click: Any, cell: Any, rows: Any) -> Any:
    """At a desk: the group of a clicked point or table row."""
    try:
        if ctx.triggered_id == "drg-quadrant":
            return str(click["points"][0]["customdata"][0])
        return str(rows[cell["row"]]["drg_code"])
    except (TypeError, KeyError, IndexError):
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
                         margin=format_indicator(g["drg_margin_per_case"], "yuan", lang)), className="detail-facts")]
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
    for part in (c.removeprefix("cost_") for c in COST_PARTS):
        v = float(parts.get(part, 0.0))
        fig.add_bar(y=[cost_label], x=[v], orientation="h", name=t(f"drg.part.{part}", lang),
                    marker_color=PART_COLORS[part], text=[f"{v:,.0f}"], textposition="inside",
                    insidetextanchor="middle", textfont={"size": round(13 * scale)})
    pay = float(parts.get("payment", 0.0))
    fig.add_bar(y=[pay_label], x=[pay], orientation="h", name=pay_label, marker_color="#F0E442",
                marker_pattern_shape="/", text=[f"{pay:,.0f}"], textposition="inside", textfont={"size": round(13 * scale)})
    fig.update_layout(barmode="stack", bargap=0.35)
    fig.update_xaxes(tickformat=",.0f", nticks=5,
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
                             html.Td(format_indicator(r.drg_margin_per_case, "yuan", lang),
                                     className="num" + (" neg" if r.drg_margin_per_case < 0 else "")),
                             html.Td(format_indicator(r.drg_margin, "yuan", lang),
                                     className="num" + (" neg" if r.drg_margin < 0 else ""))]))
    head = html.Tr([html.Th(t("drg.department", lang)), html.Th(t("drg.cases", lang)),
                    html.Th(t("drg.margin_case", lang)), html.Th(t("drg.margin_total", lang))])
    return html.Table([html.Thead(head), html.Tbody(rows)], className="wall-table carriers")


@callback(Output("drg-download", "data"), Input("drg-export-xlsx", "n_clicks"), Input("drg-export-csv", "n_clicks"),
          *[State(i.component_id, i.component_property) for i in FILTERS], prevent_initial_call=True)
@secured(roles=ROLES)
def export(_x: Any, _c: Any, period: Any, campus: Any, division: Any) -> Any:
    """Every group in the user's scope and filters, with Chinese and English names."""
    lang = current_lang()
    groups, _scope, per, _f = _groups(period, campus, division)
    cols = {c["id"]: c["name"] for c in _columns(lang)}
    out = groups.assign(name=groups["name_zh" if lang == "zh" else "name_en"])[list(cols)].rename(columns=cols)
    fmt = "csv" if ctx.triggered_id == "drg-export-csv" else "xlsx"
    return send_table(out, f"drg-groups-{per.start}-{per.end}", fmt, f"drg groups {per.start}..{per.end}")
