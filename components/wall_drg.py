"""The DRG cost screen's parts (DRG病种成本大屏): the table's columns, the headline tiles, the
quadrant of weight against margin per case, one group's cost structure against its payment, and
the departments that carry it. Pure functions: data in, components or figures out."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import html

from data_layer.periods import Period
from data_layer.registry import INDICATORS

from .charts import hrule, plain, vrule
from .format import format_indicator, format_money, format_points
from .i18n import t
from .ranktable import Column
from .wall import GOOD, INK, LOSS, MUTED, change_badge, style

PART_COLORS = {"personnel": "#56B4E9", "drug": "#E69F00", "material": "#CC79A7", "equipment": "#009E73",
               "overhead": "#9AA5B1"}
WALL_COLUMNS = ("drg_code", "name", "cases", "weight", "drg_margin_per_case", "drg_margin")
MONEY_COLUMNS = ("charge_per_discharge", "payment_per_case", "cost_per_case", "drg_margin_per_case", "drg_margin")


def drg_columns(lang: str, on_wall: bool = False) -> list[Column]:
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


def export_frame(groups: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every group with the desk's columns under their labels, and how each column is written."""
    cols = {c.id: c.label for c in drg_columns(lang)}
    out = groups.assign(name=groups["name_zh" if lang == "zh" else "name_en"])[list(cols)].rename(columns=cols)
    kinds: dict[str, Any] = {cols[c]: "money" for c in MONEY_COLUMNS}
    kinds |= {cols["cases"]: "integer", cols["weight"]: ("ratio", 2), cols["time_index"]: ("ratio", 2),
              cols["cost_index"]: ("ratio", 2)}
    return out, kinds


def kpi_tiles(frame: pd.DataFrame, codes: Sequence[str], groups: pd.DataFrame, per: Period, lang: str) -> list[Any]:
    """The headline tiles (`frame`: compare()'s answer indexed by indicator), the loss-making
    groups' count and total, and the period."""
    tiles = []
    for code in codes:
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


def quadrant_figure(groups: pd.DataFrame, lang: str, scale: float) -> dict:
    """Weight against margin per case, bubbles sized by cases; loss-makers as vermillion crosses.
    The last trace is the ring around the group shown in detail."""
    name = "name_zh" if lang == "zh" else "name_en"
    traces = []
    biggest = max(float(groups["cases"].max()), 1.0)
    for loss, color, symbol, label in ((False, GOOD, "circle", t("drg.earning", lang)),
                                       (True, LOSS, "x", t("drg.losing", lang))):
        part = groups[(groups["drg_margin"] < 0) == loss]
        if part.empty:
            continue
        traces.append({
            "type": "scatter", "x": part["weight"].to_numpy(dtype=float),
            "y": part["drg_margin_per_case"].to_numpy(dtype=float), "mode": "markers", "name": label,
            "customdata": [[c] for c in part["drg_code"].astype(str)], "text": part[name].astype(str).tolist(),
            "marker": {"size": part["cases"].to_numpy(dtype=float), "sizemode": "area",
                       "sizeref": 2.0 * biggest / (46 * scale) ** 2, "sizemin": round(4 * scale), "color": color,
                       "symbol": symbol, "opacity": 0.8, "line": {"width": 1, "color": "#0b1118"}},
            "hovertemplate": "%{customdata[0]} %{text}<br>" + t("drg.weight", lang) + " %{x:.2f}<br>"
                             + t("drg.margin_case", lang) + " %{y:,.0f}<extra></extra>"})
    shapes = [hrule(0, {"color": "rgba(255,255,255,.45)", "width": 1}),
              vrule(1.0, {"color": "rgba(255,255,255,.25)", "width": 1, "dash": "dot"})]
    # the four corners say what each quadrant means
    corners = [{"text": t(key, lang), "x": x, "y": y, "xref": "paper", "yref": "paper", "showarrow": False,
                "xanchor": "left" if x < 0.5 else "right", "yanchor": "top" if y > 0.5 else "bottom",
                "font": {"size": round(13 * scale), "color": MUTED}}
               for x, y, key in ((0.01, 0.99, "drg.q_light_earn"), (0.99, 0.99, "drg.q_heavy_earn"),
                                 (0.01, 0.01, "drg.q_light_lose"), (0.99, 0.01, "drg.q_heavy_lose"))]
    traces.append({"type": "scatter", "x": [], "y": [], "mode": "markers", "name": "", "showlegend": False,
                   "hoverinfo": "skip", "marker": {"size": round(40 * scale), "symbol": "circle-open", "color": "#F0E442",
                                                   "line": {"width": round(3 * scale)}}})
    ticks = [0.2, 0.3, 0.5, 1, 2, 3, 5, 10, 20]
    return style(plain(traces), scale, margin=(8, 8, 8, 8), layout={"shapes": shapes, "annotations": corners},
                 xaxes={"title": {"text": t("drg.weight_log", lang), "font": {"size": round(14 * scale)}}, "type": "log",
                        "tickvals": ticks, "ticktext": [f"{v:g}" for v in ticks]},
                 yaxes={"title": {"text": t("drg.margin_case_yuan", lang), "font": {"size": round(14 * scale)}},
                        "tickformat": ",.0f"})


def detail_title(code: str, group: Any, lang: str) -> list[Any]:
    """One group's code and name, cases, weight and margin per case."""
    name = group["name_zh" if lang == "zh" else "name_en"]
    return [html.Span(f"{code} {name}", className="detail-name"),
            html.Span(t("drg.detail_line", lang, cases=f"{group['cases']:,.0f}", weight=f"{group['weight']:.2f}",
                        margin=format_money(group["drg_margin_per_case"], lang, unit=True)), className="detail-facts")]


def structure_figure(parts: pd.Series, cost_parts: Sequence[str], lang: str, scale: float) -> go.Figure:
    """One group's cost per case by component (`parts`: per case by component name, with
    'payment') stacked against its payment per case."""
    fig = go.Figure()
    cost_label, pay_label = t("drg.cost_bar", lang), t("drg.payment_bar", lang)
    dark = "#0b1118"
    cost = 0.0
    for part in (c.removeprefix("cost_") for c in cost_parts):
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
    return style(fig, scale, margin=(8, 8, 6, 6),
                 layout={"barmode": "stack", "bargap": 0.35, "uniformtext": {"minsize": round(12 * scale), "mode": "hide"}},
                 xaxes={"tickformat": ",.0f", "nticks": 5, "range": [0, max(cost, pay, 1.0) * 1.22],
                        "title": {"text": t("drg.per_case_yuan", lang), "font": {"size": round(13 * scale)}}},
                 yaxes={"categoryorder": "array", "categoryarray": [pay_label, cost_label]})


def carriers_table(deps: pd.DataFrame, dots: dict[str, str], lang: str, n: int = 6) -> Any:
    """The `n` departments with the most cases of one group, with their margins; a click opens the
    department. `dots`: department id -> its campus colour."""
    if deps.empty:
        return html.Div(t("drg.no_carriers", lang), className="wall-note")
    deps = deps.sort_values("cases", ascending=False, kind="stable").head(n)
    rows = []
    for r in deps.itertuples():
        color = dots.get(r.dept_id)
        dot = html.I(className="dot", style={"background": color}) if color else None
        name = r.name_zh if lang == "zh" else r.name_en  # a long name is cut, whole on hover
        rows.append(html.Tr([html.Td([dot, html.Span(name, className="carrier-name", title=name)], className="row-label"),
                             html.Td(f"{r.cases:,.0f}", className="num"),
                             html.Td(format_money(r.drg_margin_per_case, lang, unit=True),
                                     className="num" + (" neg" if r.drg_margin_per_case < 0 else "")),
                             html.Td(format_money(r.drg_margin, lang, unit=True),
                                     className="num" + (" neg" if r.drg_margin < 0 else ""))],
                            id={"type": "drg-carrier", "index": r.dept_id}, n_clicks=0, title=t("drg.carriers_hint", lang)))
    head = html.Tr([html.Th(t("drg.department", lang)), html.Th(t("drg.cases", lang)),
                    html.Th(t("drg.margin_case", lang)), html.Th(t("drg.margin_total", lang))])
    return html.Table([html.Thead(head), html.Tbody(rows)], className="wall-table carriers")
