"""Payment by DIP (按病种分值付费): the workspace DRG tab's DIP section (packet, department and case
grids, the payment-scheme block, the point-value trend, the sensitivity sentence) and the DRG
screen's DIP band (tiles, the largest losses, the point-value trend). Margins are judged by the
registry's DIP margin indicators (one rule: components.palette). Pure: frames in, components out.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import html

from components.exports import cell_kind
from components.format import format_amount, format_money
from components.grid import Column, data_grid
from components.i18n import t
from components.palette import DESK, WALL, change_class
from data_layer.registry import INDICATORS

MARGIN = INDICATORS["dip_margin"]
MARGIN_PER_CASE = INDICATORS["dip_margin_per_case"]
FUND_COLOURS = {"employee": "#0072B2", "resident": "#CC79A7"}  # Okabe-Ito blue and purple
WALL_FUND_COLOURS = {"employee": "#56B4E9", "resident": "#CC79A7"}
OTHER_FUND = "#999999"
# (frame column, catalog key, kind) — kinds as components.format.format_cell names them
PACKET_COLS = (("dip_code", "code", "text"), ("name", "name", "text"), ("kind", "kind", "text"),
               ("cases", "cases", "int"), ("score", "score", "score"), ("points", "points", "int"),
               ("charge_per_case", "charge_per_case", "yuan"), ("ref_charge_per_case", "ref_charge", "yuan"),
               ("est_payment", "est_payment", "yuan"), ("cost", "cost", "yuan"), ("margin", "margin", "yuan"),
               ("margin_per_case", "margin_per_case", "yuan"), ("payment", "payment", "yuan"),
               ("booked_margin", "booked_margin", "yuan"), ("high_ratio", "high", "int"), ("low_ratio", "low", "int"))
DEPT_COLS = (("name", "dept", "text"), ("packets", "packets", "int"), ("cases", "cases", "int"),
             ("points", "points", "int"), ("est_payment", "est_payment", "yuan"), ("cost", "cost", "yuan"),
             ("margin", "margin", "yuan"), ("margin_per_case", "margin_per_case", "yuan"),
             ("payment", "payment", "yuan"), ("booked_margin", "booked_margin", "yuan"),
             ("high_ratio", "high", "int"), ("low_ratio", "low", "int"))
CASE_COLS = (("case_id", "case_id", "text"), ("dept", "dept", "text"), ("discharge_date", "discharge", "date"),
             ("fund", "fund", "text"), ("los_days", "los", "int"), ("doctor", "doctor", "text"),
             ("charge_total", "charge", "yuan"), ("ref_charge", "ref_charge", "yuan"), ("ratio", "ratio", "score"),
             ("flag_label", "flag", "text"), ("drg_payment", "payment", "yuan"), ("cost_total", "cost", "yuan"),
             ("margin", "case_margin", "yuan"))
GRID_KIND = {"text": "text", "int": "integer", "yuan": "money", "score": "ratio", "date": "date"}
JUDGED = {"margin": MARGIN, "booked_margin": MARGIN, "margin_per_case": MARGIN_PER_CASE}
PACKET_ROWS = 12


def fund_name(fund: Any, lang: str) -> str:
    return t(f"ws.dip.fund.{fund}" if fund in ("employee", "resident") else "ws.dip.fund.other", lang)


def _name(df: pd.DataFrame, lang: str) -> pd.Series:
    return df["name_zh" if lang == "zh" else "name_en"]


def _columns(specs: tuple, lang: str, pinned: str | None = None) -> list[Column]:
    return [Column(c, t(f"ws.dip.c.{k}", lang), GRID_KIND[kind], pinned=c == pinned,
                   compact=kind == "yuan", indicator=JUDGED.get(c), width=130 if c == pinned else None)
            for c, k, kind in specs]


def packet_rows(packets: pd.DataFrame, lang: str) -> pd.DataFrame:
    """packet_table's rows with the reader's name, the packet's kind and the charge per case."""
    return packets.assign(name=_name(packets, lang),
                          kind=[t("ws.dip.core" if c else "ws.dip.comprehensive", lang) for c in packets["is_core"]],
                          charge_per_case=packets["charge"] / packets["cases"])


def packets_grid(packets: pd.DataFrame, lang: str) -> Any:
    """The packets, loss-makers first, a total row under them; a click on a row opens its cases."""
    if packets.empty:
        return html.P(t("ws.dip.none", lang), className="note")
    rows = packet_rows(packets, lang)
    sums = rows[["cases", "points", "est_payment", "cost", "margin", "payment", "booked_margin", "high_ratio",
                 "low_ratio"]].sum()
    foot: dict[str, Any] = {"dip_code": t("dw.stage.total", lang), **{c: float(sums[c]) for c in sums.index}}
    foot["margin_per_case"] = float(sums["margin"] / sums["cases"]) if sums["cases"] else None
    grid = data_grid(rows, _columns(PACKET_COLS, lang, "dip_code"), lang, "ws-dip-packets-table", row_id="dip_code",
                     total=foot, visible_rows=PACKET_ROWS, selectable=True, class_name="ws-dip-grid")
    for spec in grid.columnDefs:
        if spec["field"] == "name":
            spec["tooltipField"] = "name"
    return grid


def departments_grid(depts: pd.DataFrame, lang: str) -> Any:
    """DIP figures per department of the reader's scope, loss-makers first."""
    if depts.empty:
        return html.P(t("ws.dip.none_scope", lang), className="note")
    rows = depts.assign(name=_name(depts, lang))
    return data_grid(rows, _columns(DEPT_COLS, lang, "name"), lang, "ws-dip-depts-table", row_id="dept_id",
                     visible_rows=8, class_name="ws-dip-grid")


def cases_grid(cases: pd.DataFrame, lang: str) -> Any:
    """A packet's cases, high- and low-ratio cases first and marked by row colour and label."""
    if cases.empty:
        return html.P(t("ws.dip.none", lang), className="note")
    rows = case_rows(cases, lang)
    return data_grid(rows, _columns(CASE_COLS, lang, "case_id"), lang, "ws-dip-cases-table", row_id="case_id",
                     hidden=("flag",), class_name="ws-drg-cases ws-dip-cases",
                     row_classes={"ws-drg-high": "params.data.flag === 'high'",
                                  "ws-drg-low": "params.data.flag === 'low'"})


def case_rows(cases: pd.DataFrame, lang: str) -> pd.DataFrame:
    return cases.assign(dept=cases["dept_zh" if lang == "zh" else "dept_en"],
                        fund=[fund_name(f, lang) for f in cases["insurance_type"]],
                        flag_label=[t(f"ws.dip.flag.{f}", lang) if f else "" for f in cases["flag"].fillna("")])


def export_frame(rows: pd.DataFrame, specs: tuple, lang: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The grid's columns under their headers, and how the workbook writes each."""
    names = {c: t(f"ws.dip.c.{k}", lang) for c, k, _kind in specs}
    kinds = {names[c]: ("ratio", 2) if kind == "score" else "date" if kind == "date" else cell_kind(kind)
             for c, _k, kind in specs}
    return rows[[c for c, _k, _kind in specs]].rename(columns=names), kinds


def rates_line(rates: pd.DataFrame, lang: str) -> str:
    """The latest point-value estimate of each fund in words."""
    if rates.empty:
        return ""
    month = f"{int(rates['year'].max())}-{int(rates.loc[rates['year'].idxmax(), 'month']):02d}"
    funds = ("；" if lang == "zh" else "; ").join(
        t("ws.dip.rate", lang, fund=fund_name(r.insurance_type, lang), value=f"{r.point_value:.4f}",
          coef=f"{r.hospital_coefficient:.2f}") for r in rates.itertuples())
    return t("ws.dip.rates", lang, month=month, funds=funds)


def summary_line(packets: pd.DataFrame, lang: str) -> str:
    losers = int((packets["margin"] < 0).sum())
    return t("ws.dip.summary", lang, cases=f"{int(packets['cases'].sum()):,}",
             payment=format_amount(packets["est_payment"].sum(), lang, "元" if lang == "zh" else "yuan"),
             cost=format_amount(packets["cost"].sum(), lang, "元" if lang == "zh" else "yuan"),
             margin=format_amount(packets["margin"].sum(), lang, "元" if lang == "zh" else "yuan"),
             losers=losers, packets=len(packets))


def sensitivity_text(sens: pd.DataFrame, lang: str) -> html.P:
    """The sensitivity in one sentence: which packets turn loss-making if the final point value lands
    the cut below the estimate, and the margin before and after."""
    a = sens.attrs
    unit = "元" if lang == "zh" else "yuan"
    turning = sens[sens["turns_loss"]]
    args = {"cut": f"{a['cut']:.0%}", "before": format_amount(a["margin"], lang, unit),
            "after": format_amount(a["margin_cut"], lang, unit), "effect": format_amount(a["effect"], lang, unit)}
    if turning.empty:
        text = t("ws.dip.sensitivity_none", lang, **args)
    else:
        names = ("、" if lang == "zh" else "; ").join(_name(turning, lang))
        text = t("ws.dip.sensitivity", lang, names=names, **args)
    verdict = change_class(MARGIN, a["margin_cut"] - a["margin"], scale=1, decimals=0) if a["effect"] else ""
    return html.P(text, className=f"ws-dip-sensitivity {verdict}".strip(), id="ws-dip-sensitivity")


def settlement_line(effect: pd.DataFrame, lang: str) -> str:
    """The settled years' final against estimated payment, summed over the funds."""
    if effect.empty:
        return ""
    years = effect.groupby("year")[["estimated", "effect"]].sum()
    unit = "元" if lang == "zh" else "yuan"
    items = ("；" if lang == "zh" else "; ").join(
        t("ws.dip.settlement_item", lang, year=int(y), effect=format_amount(r.effect, lang, unit),
          share=f"{r.effect / r.estimated:+.1%}" if r.estimated else "—") for y, r in years.iterrows())
    return t("ws.dip.settlement", lang, items=items)


def split_table(split: pd.DataFrame, lang: str) -> Any:
    """Cases, revenue, cost and margin per payment scheme, side by side (a small fixed block)."""
    if split.empty:
        return None
    head = html.Tr([html.Th(t("ws.dip.c.scheme", lang))] + [html.Th(t(f"ws.dip.c.{k}", lang)) for k in
                                                              ("cases", "revenue", "cost", "margin", "margin_per_case")])
    rows = []
    for r in split.itertuples():
        key = r.payment_scheme if r.payment_scheme in ("drg", "dip", "fee_for_service") else "fee_for_service"
        rows.append(html.Tr([html.Th(t(f"ws.dip.scheme.{key}", lang)), html.Td(f"{r.cases:,}", className="num"),
                             html.Td(format_amount(r.revenue, lang), className="num"),
                             html.Td(format_amount(r.cost, lang), className="num"),
                             html.Td(format_amount(r.margin, lang),
                                     className="num " + change_class(MARGIN, r.margin, scale=1, decimals=0)),
                             html.Td(format_amount(r.margin_per_case, lang),
                                     className="num " + change_class(MARGIN_PER_CASE, r.margin_per_case, scale=1,
                                                                     decimals=0))]))
    return html.Div([html.Table([html.Thead(head), html.Tbody(rows)], className="table table-sm dw-table",
                                id="ws-dip-split"),
                     html.P(t("ws.dip.split_note", lang), className="note")], className="table-scroll")


def _months(points: pd.DataFrame) -> pd.DataFrame:
    est = points[~points["is_final"].astype(bool)].dropna(subset=["month"])
    return est.assign(when=[date(int(y), int(m), 1) for y, m in zip(est["year"], est["month"], strict=True)])


def trend_figure(points: pd.DataFrame, lang: str, *, wall: bool = False, scale: float = 1.0) -> go.Figure:
    """Each fund's monthly point-value estimates as a line, and each settled year's final value as a
    dashed segment across that year."""
    fig = go.Figure()
    colours = WALL_FUND_COLOURS if wall else FUND_COLOURS
    est = _months(points)
    final = points[points["is_final"].astype(bool)]
    for fund, rows in est.groupby("insurance_type"):
        name = fund_name(fund, lang)
        short = t(f"drg.dip.fund.{fund}" if fund in ("employee", "resident") else "ws.dip.fund.other", lang)
        colour = colours.get(str(fund), OTHER_FUND)
        fig.add_scatter(x=rows["when"], y=rows["point_value"], mode="lines+markers",
                        name=short if wall else t("ws.dip.trend_estimate", lang, fund=name),
                        line={"color": colour, "width": round(2 * scale)}, marker={"size": round(5 * scale)},
                        hovertemplate="%{x|%Y-%m} %{y:.4f}<extra>" + name + "</extra>")
        mine = final[final["insurance_type"] == fund]
        xs: list[Any] = []
        ys: list[Any] = []
        for r in mine.itertuples():
            xs += [date(int(r.year), 1, 1), date(int(r.year), 12, 1), None]
            ys += [r.point_value, r.point_value, None]
        if xs:
            fig.add_scatter(x=xs, y=ys, mode="lines",
                            name=t("drg.dip.final" if wall else "ws.dip.trend_final", lang, fund=short if wall else name),
                            line={"color": colour, "width": round(3 * scale), "dash": "dash"},
                            hovertemplate="%{y:.4f}<extra>" + name + "</extra>")
    if wall:
        return fig
    fig.update_layout(height=320, margin={"l": 60, "r": 10, "t": 16, "b": 30},
                      legend={"orientation": "h", "y": -0.18}, plot_bgcolor="#fff", paper_bgcolor="#fff")
    fig.update_yaxes(title=t("ws.dip.trend_y", lang), tickformat=".2f", gridcolor="#e5e9ef")
    fig.update_xaxes(tickformat="%Y-%m", gridcolor="#e5e9ef")
    return fig


def margin_colour(value: float, dark: bool = False) -> str:
    """A margin's colour by the one rule (good above break-even, bad below)."""
    css = change_class(MARGIN, value, scale=1, decimals=0)
    palette = WALL if dark else DESK
    return palette.bad if css.endswith("bad") else palette.good if css.endswith("good") else palette.neutral


# ---------------------------------------------------------------------------------------- wall band
def band_tiles(packets: pd.DataFrame, sens: pd.DataFrame, rates: pd.DataFrame, lang: str) -> list[Any]:
    """The band's tiles: DIP cases, estimated payment, margin, loss-making packets, and the sensitivity."""
    if packets.empty:
        return [html.Div(t("drg.dip.none", lang), className="wall-note")]
    margin = float(packets["margin"].sum())
    losers = packets[packets["margin"] < 0]

    def tile(label: str, value: str, css: str = "") -> html.Div:
        return html.Div([html.Div(label, className="tile-label"), html.Div(value, className=f"tile-value {css}")],
                        className="tile")

    tiles = [tile(t("drg.dip.cases", lang), f"{int(packets['cases'].sum()):,}"),
             tile(t("drg.dip.payment", lang), format_money(packets["est_payment"].sum(), lang, unit=True)),
             tile(t("drg.dip.margin", lang), format_money(margin, lang, unit=True), "loss" if margin < 0 else "gain"),
             tile(t("drg.dip.losers", lang), f"{len(losers)} / {len(packets)}", "loss" if len(losers) else "")]
    a = sens.attrs
    month = ""
    if not rates.empty:
        month = f"{int(rates['year'].max())}-{int(rates.loc[rates['year'].idxmax(), 'month']):02d}"
    notes = [html.Div(t("drg.dip.sensitivity", lang, cut=f"{a['cut']:.0%}", n=a["turning"],
                        before=format_money(a["margin"], lang, unit=True),
                        after=format_money(a["margin_cut"], lang, unit=True)), className="dip-sense"),
             html.Div(t("drg.dip.rate_note", lang, month=month), className="tile-note")]
    return [html.Div(tiles, className="dip-tiles"), html.Div(notes, className="dip-notes")]


def worst_table(packets: pd.DataFrame, lang: str, n: int = 7) -> Any:
    """The `n` packets with the largest losses: name, cases, margin per case and in total."""
    losers = packets[packets["margin"] < 0].head(n)
    if losers.empty:
        return html.Div(t("drg.dip.no_losers", lang), className="wall-note")
    head = html.Tr([html.Th(t("drg.dip.worst", lang)), html.Th(t("drg.cases", lang)),
                    html.Th(t("drg.margin_case", lang)), html.Th(t("drg.margin_total", lang))])
    rows = [html.Tr([html.Td(name, className="row-label dip-name", title=name), html.Td(f"{r.cases:,}", className="num"),
                     html.Td(format_money(r.margin_per_case, lang), className="num neg"),
                     html.Td(format_money(r.margin, lang), className="num neg")])
            for r, name in zip(losers.itertuples(), _name(losers, lang), strict=True)]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="wall-table dip-worst")


def wall_trend(points: pd.DataFrame, lang: str, scale: float) -> go.Figure:
    """The point-value trend in the wall's dark style at the screen's scale (the last 24 months)."""
    from components.wall import empty_figure, style

    if points.empty:
        return empty_figure(t("drg.dip.none", lang), scale)
    last = int(points["year"].max())
    fig = trend_figure(points[points["year"] >= last - 1], lang, wall=True, scale=scale)
    fig.update_yaxes(tickformat=".1f", nticks=5,
                     title={"text": t("ws.dip.trend_y", lang), "font": {"size": round(13 * scale)}})
    fig.update_xaxes(tickformat="%Y-%m", nticks=6)
    fig = style(fig, scale, margin=(8, 8, 4, 4))
    fig.update_layout(legend={"font": {"size": round(12 * scale)}})
    return fig
