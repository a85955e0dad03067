"""Department profit view (科室收益视图): clinical departments by revenue, full cost (direct
and each allocated tier), balance and margin, filtered by period, campus and division, as
ranked bars, a treemap (campus → division → department, coloured by margin) and a sortable,
exportable table. At a desk a click on a department opens its page.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, dash_table, dcc, html, no_update
from flask import current_app

from components.i18n import t
from components.wall import (
    campus_color,
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
from data_layer.queries.names import DIVISIONS
from data_layer.queries.profit import department_profit
from shell.access import PermissionDenied, secured

from ._common import cached_answer, current_lang, current_scope, send_table, warehouse
from ._wall import (
    all_campuses,
    desk_filters,
    notes_follow_the_filters,
    open_screen,
    resolve,
    safe_figure,
    settings,
    subtitle,
)

ROLES = ("leader",)
dash.register_page(__name__, path="/profit", name="Department profit", order=3, allowed_roles=ROLES,
                   nav_label={"zh": "科室收益", "en": "Department profit"})

FILTERS = [Input("pf-period", "value"), Input("pf-campus", "value"), Input("pf-division", "value")]
notes_follow_the_filters("pf")
BARS = 12  # the top and bottom departments in the ranked bars
COLUMNS = ("name", "campus", "division_name", "revenue_total", "direct_cost", "admin_allocated_cost",
           "support_allocated_cost", "medtech_allocated_cost", "full_cost", "balance", "margin")


def layout(**query: str) -> Any:
    lang = current_lang()
    opened = open_screen(__name__, "/profit", query, lang, desk=True)
    if not isinstance(opened, tuple):
        return opened
    wq, campuses, (period, division) = opened
    body = [
        panel(t("profit.bars", lang, n=BARS), graph("pf-bars"), extra="area-bars"),
        panel(t("profit.treemap", lang), graph("pf-treemap"), extra="area-treemap"),
        panel(t("profit.table", lang),
              export_buttons("pf", lang) if not wq.kiosk else None,
              html.Div(_table(lang, wq.kiosk), className="table-box"), html.Div(id="pf-window", className="tile-note"),
              extra="area-table"),
        dcc.Download(id="pf-download"),
    ]
    filters = desk_filters("pf", campuses, lang, period, wq.campus, division)
    if wq.kiosk:
        body.append(html.Div(filters, hidden=True))
        filters = None
    return wall_frame("profit", t("wall.profit_title", lang), subtitle(None, campuses, lang), body, wq, lang,
                      settings().wall_refresh_seconds, next_url("/profit", wq, campuses), {}, filters)


def _columns(lang: str) -> list[dict]:
    money = {"type": "numeric", "format": dash_table.FormatTemplate.money(0).symbol("")}
    cols = [{"id": "name", "name": t("drg.department", lang)}, {"id": "campus", "name": t("wall.campus", lang)},
            {"id": "division_name", "name": t("wall.division_filter", lang)}]
    cols += [{"id": c, "name": t(f"profit.col.{c}", lang), **money} for c in COLUMNS[3:-1]]
    cols.append({"id": "margin", "name": t("profit.col.margin", lang), "type": "numeric",
                 "format": dash_table.FormatTemplate.percentage(1)})
    return cols


def _table(lang: str, on_wall: bool) -> dash_table.DataTable:
    """Every column at a desk (it scrolls sideways); a wall leaves out the tiers and the division
    so that balance and margin stay in view."""
    hidden = ["division_name", "admin_allocated_cost", "support_allocated_cost", "medtech_allocated_cost"] if on_wall \
        else []
    return dark_table("pf-table", _columns(lang), left=("name", "campus", "division_name"), loss_when="{balance} < 0",
                      loss_columns=["balance", "margin"], hidden=hidden)


def _frame(period: Any, campus: Any, division: Any, lang: str) -> tuple[pd.DataFrame, Any]:
    scope, per, filters = resolve(period, campus, division)
    df = department_profit(warehouse(), scope, per, filters)
    zh = lang == "zh"
    df = df.assign(name=df["name_zh" if zh else "name_en"], campus=df["campus_zh" if zh else "campus_en"],
                   division_name=[DIVISIONS.get(d, (t("profit.other_division", "zh"), t("profit.other_division", "en")))
                                  [0 if zh else 1] for d in df["division"]])
    return df, per


@callback(Output("pf-bars", "figure"), Output("pf-treemap", "figure"), Output("pf-table", "data"),
          Output("pf-window", "children"), Input("wall-tick", "data"), *FILTERS)
@secured(roles=ROLES)
@cached_answer(key_args=lambda tick, *rest: (scale_of(tick), rest))
def refresh(tick: Any, period: Any, campus: Any, division: Any) -> tuple:
    lang = current_lang()
    scale = scale_of(tick)
    df, per = _frame(period, campus, division, lang)
    if df.empty:
        note = t("profit.none", lang, start=per.start, end=per.end)
        return empty_figure(note, scale), empty_figure(note, scale), [], note
    every = list(all_campuses())
    bars = safe_figure(lambda: _bars(df, every, lang, scale), lang, "profit bars", scale)
    tree = safe_figure(lambda: _treemap(df, lang, scale), lang, "treemap", scale)
    cols = [c["id"] for c in _columns(lang)]
    start, end = df.attrs.get("window", (per.start, per.end))
    return bars, tree, df[["dept_id", *cols]].round(4).to_dict("records"), t("profit.window", lang, start=start, end=end)


def _bars(df: pd.DataFrame, every: list[str], lang: str, scale: float) -> go.Figure:
    """The top and bottom departments by balance, in their campus colours; losses hatched."""
    ranked = df.sort_values("balance", ascending=False, kind="stable")
    shown = ranked if len(ranked) <= 2 * BARS else pd.concat([ranked.head(BARS), ranked.tail(BARS)])
    shown = shown.iloc[::-1]  # the largest at the top
    labels = [f"{n}·{c}" if len(every) > 1 else n for n, c in zip(shown["name"], shown["campus"], strict=True)]
    fig = go.Figure(go.Bar(
        y=labels, x=shown["balance"] / 10_000, orientation="h", customdata=shown[["dept_id"]].to_numpy(),
        marker={"color": [campus_color(c, every) for c in shown["campus_id"]],
                "pattern": {"shape": ["x" if b < 0 else "" for b in shown["balance"]], "fgcolor": "#0b1118",
                            "size": round(8 * scale)}},
        text=[f"{b / 10_000:+,.0f}" for b in shown["balance"]], textposition="outside", cliponaxis=False,
        textfont={"size": round(12 * scale)},
        hovertemplate="%{y}<br>" + t("profit.col.balance", lang) + " %{x:,.1f} " + t("unit.wan_yuan", lang)
                      + "<extra></extra>"))
    low, high = float(shown["balance"].min()) / 10_000, float(shown["balance"].max()) / 10_000
    span = max(high - min(low, 0), 1.0)
    fig.update_xaxes(title={"text": f"{t('profit.col.balance', lang)} ({t('unit.wan_yuan', lang)})",
                            "font": {"size": round(13 * scale)}}, tickformat=",.0f",
                     range=[min(low, 0) - 0.18 * span, max(high, 0) + 0.15 * span])
    fig.update_yaxes(tickfont={"size": round(12 * scale)}, automargin=True)
    return style(fig, scale, legend=False, margin=(8, 40, 4, 4))


def _treemap(df: pd.DataFrame, lang: str, scale: float) -> go.Figure:
    """Campus → division → department, sized by revenue, coloured by margin (orange loses, blue earns)."""
    ids, labels, parents, values, colors, custom = [], [], [], [], [], []  # one entry per tile
    for campus_id, cg in df.groupby("campus_id", sort=True):
        cid = f"c:{campus_id}"
        rev = cg["revenue_total"].sum()
        ids.append(cid), labels.append(cg["campus"].iloc[0]), parents.append(""), values.append(rev)
        colors.append(cg["balance"].sum() / rev if rev else 0.0), custom.append("")
        for div, dg in cg.groupby("division_name", sort=True):
            did = f"{cid}/{div}"
            drev = dg["revenue_total"].sum()
            ids.append(did), labels.append(div), parents.append(cid), values.append(drev)
            colors.append(dg["balance"].sum() / drev if drev else 0.0), custom.append("")
            for r in dg.itertuples():
                ids.append(f"{did}/{r.dept_id}"), labels.append(r.name), parents.append(did)
                values.append(r.revenue_total), colors.append(r.margin if r.margin == r.margin else 0.0)
                custom.append(r.dept_id)
    limit = max(0.05, float(pd.Series(colors).abs().quantile(0.9)))
    fig = go.Figure(go.Treemap(
        ids=ids, labels=labels, parents=parents, values=values, branchvalues="total", customdata=custom,
        text=[f"{c:.1%}" for c in colors],
        marker={"colors": colors, "colorscale": [[0, "#D55E00"], [0.5, "#3a4654"], [1, "#56B4E9"]],
                "cmin": -limit, "cmax": limit, "cmid": 0,
                "colorbar": {"title": {"text": t("profit.col.margin", lang)}, "tickformat": ".0%", "thickness": round(12 * scale),
                             "tickfont": {"size": round(12 * scale)}}},
        texttemplate="%{label}<br>%{text}", textfont={"size": round(13 * scale)},
        hovertemplate="%{label}<br>" + t("profit.col.revenue_total", lang) + " %{value:,.0f}<br>"
                      + t("profit.col.margin", lang) + " %{text}<extra></extra>", maxdepth=3))
    return style(fig, scale, legend=False, margin=(4, 4, 4, 4))


@callback(Output("_pages_location", "href", allow_duplicate=True), Input("pf-bars", "clickData"),
          Input("pf-treemap", "clickData"), Input("pf-table", "active_cell"), State("pf-table", "derived_viewport_data"),
          State("wall-params", "data"), prevent_initial_call=True)
@secured(roles=ROLES)
def open_department(bar: Any, tree: Any, cell: Any, rows: Any, _params: Any) -> Any:
    """A click on a department (bar, treemap tile or table row) opens its page."""
    try:
        if ctx.triggered_id == "pf-bars":
            dept = bar["points"][0]["customdata"][0]
        elif ctx.triggered_id == "pf-treemap":
            dept = tree["points"][0].get("customdata")
        else:
            dept = rows[cell["row"]]["dept_id"]
    except (TypeError, KeyError, IndexError):
        return no_update
    if not dept or not isinstance(dept, str):
        return no_update  # a campus or division tile: the treemap zooms instead
    scope = current_scope()
    campus = current_app.extensions["hospdash"].campus_of(dept)
    if not scope.allows_department(dept, campus):
        raise PermissionDenied(f"department {dept} is outside the user's scope")
    return f"/department?{urlencode({'dept': dept})}"


@callback(Output("pf-download", "data"), Input("pf-export-xlsx", "n_clicks"), Input("pf-export-csv", "n_clicks"),
          *[State(i.component_id, i.component_property) for i in FILTERS], prevent_initial_call=True)
@secured(roles=ROLES)
def export(_x: Any, _c: Any, period: Any, campus: Any, division: Any) -> Any:
    lang = current_lang()
    df, per = _frame(period, campus, division, lang)
    cols = {c["id"]: c["name"] for c in _columns(lang)}
    out = df[["dept_id", *cols]].rename(columns={"dept_id": "ID", **cols})
    fmt = "csv" if ctx.triggered_id == "pf-export-csv" else "xlsx"
    return send_table(out, f"department-profit-{per.start}-{per.end}", fmt, f"department profit {per.start}..{per.end}")
