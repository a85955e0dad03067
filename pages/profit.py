"""Department profit view (科室收益视图): clinical departments by revenue, full cost (direct
and each allocated tier), balance and margin, filtered by period, campus and division, as
ranked bars, a treemap (campus → division → department, coloured by margin) and a sortable,
exportable table. At a desk a click on a department opens its page.
"""
from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import ALL, Input, Output, State, clientside_callback, ctx, dcc, html, no_update

from components.charts import plain
from components.format import MINUS, format_money
from components.i18n import t
from components.profit import profit_grid
from components.ranktable import Column, pager, rank_table, sort_frame
from components.wall import (
    BAD,
    GOOD,
    campus_color,
    empty_figure,
    graph,
    next_url,
    panel,
    scale_of,
    style,
    wall_frame,
)
from data_layer.errors import UserError
from data_layer.queries.names import DIVISIONS
from data_layer.queries.profit import department_profit
from shell.warmup import target, wall_ticks

from ._common import current_lang, warehouse
from ._kit import LEADERS, Ask, Export, export_callback, page_callback, safe_figure
from ._kit import export_buttons as kit_buttons
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
dash.register_page(__name__, cache_layout=True, path="/profit", name="Department profit", order=3, allowed_roles=ROLES,
                   nav_label={"zh": "科室收益", "en": "Department profit"})

FILTERS = [Input("pf-period", "value"), Input("pf-campus", "value"), Input("pf-division", "value")]
notes_follow_the_filters("pf")
BARS = 12  # the top and bottom departments in the ranked bars
PAGE_SECONDS = 15  # a wall turns the table page by page
TREEMAP_MIN_FONT = 12  # px at 1920 wide (24 px at 3840): smaller tile labels are left to the hover
COLUMNS = ("name", "campus", "division_name", "revenue_total", "direct_cost", "admin_allocated_cost",
           "support_allocated_cost", "medtech_allocated_cost", "full_cost", "balance", "margin")


def layout(**query: str) -> Any:
    lang = current_lang()
    opened = open_screen(__name__, "/profit", query, lang, desk=True)
    if not isinstance(opened, tuple):
        return opened
    wq, campuses, (period, division) = opened
    on_wall = wq.kiosk or wq.rotate is not None
    body = [
        panel(t("profit.bars", lang, n=BARS), graph("pf-bars"), extra="area-bars"),
        panel(t("profit.treemap", lang), graph("pf-treemap"), extra="area-treemap"),
        panel(t("profit.table_wall" if on_wall else "profit.table", lang),
              kit_buttons("profit", "departments", lang, button_type="pf-export", look="btn-outline-light")
              if not wq.kiosk else None,
              html.Div(id="pf-table", className="table-box"),
              html.Div([html.Span(id="pf-window"), html.Span(t("table.money_note", lang)),
                        *pager("pf", PAGE_SECONDS, on_wall)], className="tile-note table-foot"),
              extra="area-table"),
        dcc.Store(id="pf-wall", data=on_wall), dcc.Store(id="pf-sort"),
        dcc.Store(id="pf-page-fmt", data=t("table.page", lang)),
        dcc.Download(id="pf-download"),
    ]
    filters = desk_filters("pf", campuses, lang, period, wq.campus, division)
    if wq.kiosk:
        body.append(html.Div(filters, hidden=True))
        filters = None
    return wall_frame("profit", t("wall.profit_title", lang), subtitle(None, campuses, lang), body, wq, lang,
                      settings().wall_refresh_seconds, next_url("/profit", wq, campuses), {}, filters)


WALL_HIDDEN = ("division_name", "admin_allocated_cost", "support_allocated_cost", "medtech_allocated_cost")


def _columns(lang: str, on_wall: bool = False) -> list[Column]:
    """Every column at a desk (it scrolls sideways); a wall leaves out the tiers and the division
    so that balance and margin stay in view."""
    cols = [Column("name", t("drg.department", lang), "text", "minmax(0, 2.2fr)"),
            Column("campus", t("wall.campus", lang), "text", "minmax(0, 1.3fr)"),
            Column("division_name", t("wall.division_filter", lang), "text", "minmax(0, 1fr)")]
    cols += [Column(c, t(f"profit.col.{c}", lang), "money", "minmax(4.2em, 1fr)", loss=c == "balance")
             for c in COLUMNS[3:-1]]
    cols.append(Column("margin", t("profit.col.margin", lang), "ratio", "minmax(3.6em, .8fr)", loss=True))
    return [c for c in cols if c.id not in WALL_HIDDEN] if on_wall else cols


def _frame(period: Any, campus: Any, division: Any, lang: str) -> tuple[pd.DataFrame, Any]:
    scope, per, filters = resolve(period, campus, division)
    df = department_profit(warehouse(), scope, per, filters)
    if df.empty:  # a division no department of the scope belongs to: nothing to name
        return df, per
    zh = lang == "zh"
    df = df.assign(name=df["name_zh" if zh else "name_en"], campus=df["campus_zh" if zh else "campus_en"],
                   division_name=[DIVISIONS.get(d, (t("profit.other_division", "zh"), t("profit.other_division", "en")))
                                  [0 if zh else 1] for d in df["division"]])
    return df, per


@page_callback(Output("pf-bars", "figure"), Output("pf-treemap", "figure"), Output("pf-table", "children"),
               Output("pf-window", "children"), Input("wall-tick", "data"), *FILTERS, Input("pf-sort", "data"),
               State("pf-wall", "data"), roles=LEADERS, cached=True,
               key_args=lambda tick, *rest: (scale_of(tick), rest))
def refresh(ask: Ask, tick: Any, period: Any, campus: Any, division: Any, sort: Any, on_wall: Any) -> tuple:
    lang = ask.lang
    scale = scale_of(tick)
    df, per = _frame(period, campus, division, lang)
    if df.empty:
        note = t("profit.none", lang, start=per.start, end=per.end)
        return empty_figure(note, scale), empty_figure(note, scale), html.Div(note, className="wall-note"), note
    every = list(all_campuses())
    bars = safe_figure(lambda: _bars(df, every, lang, scale), lang, "profit bars", scale)
    tree = safe_figure(lambda: _treemap(df, lang, scale), lang, "treemap", scale)
    wall = bool(on_wall)
    columns = _columns(lang, wall)
    shown = df if wall else sort_frame(df, sort, [c.id for c in columns])
    start, end = df.attrs.get("window", (per.start, per.end))
    table = rank_table("pf", columns, shown, "dept_id", lang, wall=True) if wall else profit_grid(shown, lang)
    return bars, tree, table, t("profit.window", lang, start=start, end=end)


clientside_callback(dash.ClientsideFunction("wall", "page"), Output("pf-page", "children"),
                    Input("pf-page-tick", "n_intervals"), Input("pf-table", "children"),
                    State("pf-page-fmt", "data"), prevent_initial_call=True)


BALANCE_UNIT = {"zh": 1e4, "en": 1e6}  # the bars' axis: 万元 in Chinese, M yuan in English


def _bars(df: pd.DataFrame, every: list[str], lang: str, scale: float) -> dict:
    """The top and bottom departments by balance, in their campus colours; losses hatched."""
    ranked = df.sort_values("balance", ascending=False, kind="stable")
    shown = ranked if len(ranked) <= 2 * BARS else pd.concat([ranked.head(BARS), ranked.tail(BARS)])
    shown = shown.iloc[::-1]  # the largest at the top
    labels = [f"{n}·{c}" if len(every) > 1 else n for n, c in zip(shown["name"], shown["campus"], strict=True)]
    unit = BALANCE_UNIT["zh" if lang == "zh" else "en"]
    fig = plain([{
        "type": "bar", "y": labels, "x": (shown["balance"] / unit).to_numpy(float), "orientation": "h",
        "customdata": shown[["dept_id"]].to_numpy(),
        "marker": {"color": [campus_color(c, every) for c in shown["campus_id"]],
                   "pattern": {"shape": ["x" if b < 0 else "" for b in shown["balance"]], "fgcolor": "#0b1118",
                               "size": round(8 * scale)}},
        "text": [format_money(b, lang, signed=True) for b in shown["balance"]], "textposition": "outside",
        "cliponaxis": False, "textfont": {"size": round(12 * scale)},
        "hovertext": [f"{y}<br>{t('profit.col.balance', lang)} {format_money(b, lang, unit=True)}"
                      for y, b in zip(labels, shown["balance"], strict=True)],
        "hovertemplate": "%{hovertext}<extra></extra>"}])
    low, high = float(shown["balance"].min()) / unit, float(shown["balance"].max()) / unit
    span = max(high - min(low, 0), 1e4 / unit)
    return style(fig, scale, legend=False, margin=(8, 40, 4, 4),
                 xaxes={"title": {"text": t("profit.axis_balance", lang), "font": {"size": round(13 * scale)}},
                        "tickformat": ",~f", "range": [min(low, 0) - 0.22 * span, max(high, 0) + 0.2 * span]},
                 yaxes={"tickfont": {"size": round(12 * scale)}, "automargin": True})


def _treemap(df: pd.DataFrame, lang: str, scale: float) -> dict:
    """Campus → division → department, sized by revenue, coloured by margin (orange loses, blue earns).
    A tile's label shows only where it fits at the minimum size; every tile tells all in its hover,
    and the table beside ranks every department."""
    ids, labels, parents, values, colors, custom, hover = [], [], [], [], [], [], []  # one entry per tile

    def tile(tid: str, label: str, parent: str, revenue: float, balance: float, dept: str) -> None:
        margin = balance / revenue if revenue else 0.0
        ids.append(tid), labels.append(label), parents.append(parent), values.append(revenue)
        colors.append(margin), custom.append(dept)
        hover.append(t("profit.treemap_hover", lang, revenue=format_money(revenue, lang, unit=True),
                       balance=format_money(balance, lang, unit=True), margin=f"{margin:.1%}".replace("-", MINUS)))

    for campus_id, cg in df.groupby("campus_id", sort=True):
        cid = f"c:{campus_id}"
        tile(cid, cg["campus"].iloc[0], "", cg["revenue_total"].sum(), cg["balance"].sum(), "")
        for div, dg in cg.groupby("division_name", sort=True):
            did = f"{cid}/{div}"
            tile(did, div, cid, dg["revenue_total"].sum(), dg["balance"].sum(), "")
            for r in dg.itertuples():
                tile(f"{did}/{r.dept_id}", r.name, did, r.revenue_total, r.balance, r.dept_id)
    limit = max(0.05, float(pd.Series(colors).abs().quantile(0.9)))
    fig = plain([{
        "type": "treemap", "ids": ids, "labels": labels, "parents": parents, "values": values, "branchvalues": "total",
        "customdata": custom, "text": [f"{c:.1%}".replace("-", MINUS) for c in colors], "hovertext": hover,
        "marker": {"colors": colors, "colorscale": [[0, BAD], [0.5, "#3a4654"], [1, GOOD]],
                   "cmin": -limit, "cmax": limit, "cmid": 0,
                   "colorbar": {"title": {"text": t("profit.col.margin", lang)}, "tickformat": ".0%",
                                "thickness": round(12 * scale), "tickfont": {"size": round(12 * scale)}}},
        "texttemplate": "%{label}<br>%{text}", "textfont": {"size": round(13 * scale)},
        "hovertemplate": "<b>%{label}</b><br>%{hovertext}<extra></extra>", "maxdepth": 3}])
    # a label that would need shrinking below the minimum is hidden, never drawn unreadably small
    return style(fig, scale, legend=False, margin=(4, 4, 4, 4),
                 layout={"uniformtext": {"minsize": round(TREEMAP_MIN_FONT * scale), "mode": "hide"}})


target("profit", refresh, LEADERS,
       lambda c: [(tick, "ytd", None, None, None, on_wall) for tick in wall_ticks() for on_wall in (True, False)])


@page_callback(Output("_pages_location", "href", allow_duplicate=True), Input("pf-bars", "clickData"),
          Input("pf-treemap", "clickData"), Input({"type": "pf-grid", "index": ALL}, "cellClicked"),
               roles=LEADERS, prevent_initial_call=True)
def open_department(ask: Ask, bar: Any, tree: Any, cells: Any) -> Any:
    """A click on a department (bar, treemap tile or a row of the desk's grid) opens its page."""
    try:
        if ctx.triggered_id == "pf-bars":
            dept = bar["points"][0]["customdata"][0]
        elif ctx.triggered_id == "pf-treemap":
            dept = tree["points"][0].get("customdata")
        elif isinstance(ctx.triggered_id, dict) and ctx.triggered_id.get("type") == "pf-grid":
            dept = next((c.get("rowId") for c in cells or [] if isinstance(c, dict)), None)
        else:
            return no_update
    except (TypeError, KeyError, IndexError):
        return no_update
    if not dept or not isinstance(dept, str):
        return no_update  # a campus or division tile: the treemap zooms instead
    return department_address(dept)


def _export(ask: Ask, period: Any, campus: Any, division: Any) -> Export:
    df, per = _frame(period, campus, division, ask.lang)
    if df.empty:
        raise UserError(t("profit.none", ask.lang, start=per.start, end=per.end))
    cols = {c.id: c.label for c in _columns(ask.lang)}
    out = df[["dept_id", *cols]].rename(columns={"dept_id": t("ws.pf.col.dept_id", ask.lang), **cols})
    kinds = {cols[c]: "money" for c in COLUMNS[3:-1]} | {cols["margin"]: "percent"}
    return Export(out, f"department-profit-{per.start}-{per.end}", f"department profit {per.start}..{per.end}",
                  title=t("wall.profit_title", ask.lang), kinds=kinds, period=per)


export_callback("profit", {"departments": _export}, *[State(i.component_id, i.component_property) for i in FILTERS],
                output=Output("pf-download", "data"), button_type="pf-export", roles=LEADERS, dept=None, period=None)
