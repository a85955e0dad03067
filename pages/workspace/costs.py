"""Cost monitoring (成本监测): the department's full cost by category and allocation tier against
the same months last year, and the five-dimension cost monitoring model (human resources 人力资源,
equipment 设备资源, drugs and consumables 药品耗材, space and beds 空间与床位, energy 能耗): each
indicator against the hospital's median over clinical departments, the department's own
history and its annual target, with a verdict over-used / in line / under-used."""
from __future__ import annotations

from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html, no_update

from components.charts import COLORWAY
from components.exports import BY_ROW, unit_kind
from components.format import format_indicator, format_points
from components.i18n import t
from components.palette import change_class
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.monitor import (
    CATEGORIES,
    STAGES,
    TOLERANCE,
    assess,
    cost_composition,
    dimension_summary,
    monitor_table,
)
from data_layer.registry import INDICATORS, MONITOR_DIMENSIONS, UNITS
from data_layer.scope import Scope

from .._common import warehouse
from .._kit import READERS, Ask, Export, export_callback, page_callback, safe
from ._frame import (
    Start,
    begin,
    frame,
    number_field,
    percent_value,
    section,
    section_page,
)

dash.register_page(__name__, **section_page("costs"))

TOL_MIN, TOL_MAX = 1.0, 50.0  # per cent
COLORS = {"this": COLORWAY[0], "ago": "#a6b4c8"}  # series, not verdicts: the change's colour judges


def layout(dept: str | None = None, period: str | None = None, **_query: str) -> Any:
    start = begin(__name__, dept, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    tol = number_field("wc-tol", t("ws.costs.tolerance", lang), round(TOLERANCE * 100), TOL_MIN, TOL_MAX, 1)
    return frame("costs", start, [
        section("costs-composition", lang, html.Div(id="wc-composition"), exports=(("costs", "composition"),),
                title=t("ws.costs.composition", lang)),
        section("costs-model", lang, tol, html.Div(id="wc-summary"), html.Div(id="wc-model"),
                html.P(t("ws.costs.legend", lang), className="note"), html.P(t("ws.costs.rules", lang), className="note"),
                exports=(("costs", "model"),), title=t("ws.costs.model", lang)),
    ])


def parse_tolerance(value: Any, lang: str) -> float:
    """The tolerance typed on the page (per cent, TOL_MIN to TOL_MAX) as a fraction; UserError otherwise."""
    return percent_value(value, TOL_MIN, TOL_MAX, t("input.field.costs_tolerance", lang),
                         t("input.unit.percent", lang))


# ------------------------------------------------------------------------------------ composition
@page_callback(Output("wc-composition", "children"), Input("ws-dept", "value"), Input("ws-period", "value"),
               roles=READERS, dept="ws-dept", period="ws-period", cached=True)
def composition(ask: Ask) -> Any:
    return safe(lambda: _composition(ask.scope, ask.dept, ask.period, ask.lang), ask.lang, "cost composition")


def composition_frame(scope: Scope, dept: str, per: Period, lang: str) -> pd.DataFrame:
    """The composition table in the reader's language (the export and the page show the same)."""
    df = cost_composition(warehouse(), scope, dept, per)
    out = df[[*STAGES, "total", "share", "last_year", "yoy"]].copy()
    out.index = [t(f"dw.cat.{c}", lang) for c in df.index]
    out.columns = [*(t(f"dw.stage.{s}", lang) for s in STAGES), t("dw.stage.total", lang), t("ws.costs.share", lang),
                   t("ws.costs.last_year", lang), t("ws.costs.yoy", lang)]
    out.attrs = df.attrs
    return out


def _composition(scope: Scope, dept: str, per: Period, lang: str) -> Any:
    df = cost_composition(warehouse(), scope, dept, per)
    window, ago_window = df.attrs.get("window"), df.attrs.get("year_ago_window")
    if window is None:
        return html.P(t("profit.none", lang, start=per.start, end=per.end), className="note")
    money = lambda v: format_indicator(v, "yuan", lang)  # noqa: E731
    head = html.Thead(html.Tr([html.Th(t("ws.costs.col.category", lang))] +
                              [html.Th(t(f"dw.stage.{s}", lang), className="num") for s in (*STAGES, "total")] +
                              [html.Th(t(k, lang), className="num") for k in ("ws.costs.share", "ws.costs.last_year",
                                                                               "ws.costs.yoy", "ws.costs.share_diff")]))
    body = []
    for cat, r in df.iterrows():
        yoy_cls = _trend_cost(r["yoy"])
        body.append(html.Tr([html.Th(t(f"dw.cat.{cat}", lang))] +
                            [html.Td(money(r[s]), className="num") for s in (*STAGES, "total")] +
                            [html.Td(f"{r['share']:.1%}" if r["share"] == r["share"] else "—", className="num"),
                             html.Td(money(r["last_year"]), className="num"),
                             html.Td(_pct(r["yoy"]), className=f"num {yoy_cls}"),
                             html.Td(format_points(r["share_diff"], lang), className="num")]))
    tot = df[[*STAGES, "total"]].sum()
    last = df["last_year"].sum(min_count=1)
    yoy = (tot["total"] - last) / abs(last) if last == last and last else float("nan")
    body.append(html.Tr([html.Th(t("dw.stage.total", lang))] +
                        [html.Td(html.B(money(tot[s])), className="num") for s in (*STAGES, "total")] +
                        [html.Td("100.0%", className="num"), html.Td(html.B(money(last)), className="num"),
                         html.Td(html.B(_pct(yoy)), className=f"num {_trend_cost(yoy)}"), html.Td("")],
                        className="wc-total"))
    table = html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table", id="wc-composition-table"),
                     className="table-scroll")
    note = (t("ws.costs.window", lang, start=window[0], end=window[1], ago_start=ago_window[0], ago_end=ago_window[1])
            if ago_window else t("ws.costs.window_no_ago", lang, start=window[0], end=window[1]))
    return [table, html.P(note, className="note"),
            dcc.Graph(figure=_composition_figure(df, lang), config={"displayModeBar": False}, className="dw-graph",
                      id="wc-composition-chart")]


def _pct(v: float) -> str:
    return "—" if v != v else f"{v:+.1%}"


def _trend_cost(v: float) -> str:
    """A cost's change judged by the one rule for the registry's full cost (lower is better):
    growth reads as worse, a fall as better, +0.0% as neutral."""
    return change_class(INDICATORS["full_cost"], v)


def _composition_figure(df: pd.DataFrame, lang: str) -> go.Figure:
    """Per category, this period against the same months last year (10k yuan), with the change."""
    order = list(reversed(CATEGORIES))
    names = [t(f"dw.cat.{c}", lang) for c in order]
    this = df.loc[order, "total"] / 10_000
    ago = df.loc[order, "last_year"] / 10_000
    fig = go.Figure()
    if ago.notna().any():
        fig.add_bar(y=names, x=ago.round(1), orientation="h", name=t("ws.costs.last_year", lang),
                    marker_color=COLORS["ago"], marker_pattern_shape="/")
    fig.add_bar(y=names, x=this.round(1), orientation="h", name=t("ws.costs.this_period", lang), marker_color=COLORS["this"],
                text=[f"{s:.1%} · {_pct(y)}" if y == y else f"{s:.1%}" for s, y in zip(df.loc[order, "share"],
                                                                                       df.loc[order, "yoy"], strict=True)],
                textposition="outside", cliponaxis=False)
    fig.update_layout(title=t("ws.costs.chart_title", lang), barmode="group", height=420,
                      margin={"l": 10, "r": 90, "t": 40, "b": 30}, legend={"orientation": "h", "y": -0.12},
                      plot_bgcolor="#fff", paper_bgcolor="#fff")
    fig.update_yaxes(automargin=True)
    fig.update_xaxes(gridcolor="#e3e8ef")
    return fig


# ------------------------------------------------------------------------------------ model
@page_callback(Output("wc-summary", "children"), Output("wc-model", "children"), Output("wc-tol-msg", "children"),
               Input("ws-dept", "value"), Input("ws-period", "value"), Input("wc-tol", "value"),
               roles=READERS, dept="ws-dept", period="ws-period", cached=True)
def model(ask: Ask, tol: Any) -> tuple:
    lang, scope, dept, per = ask.lang, ask.scope, ask.dept, ask.period
    try:
        tolerance = parse_tolerance(tol, lang)
    except UserError as exc:
        return no_update, no_update, str(exc)
    assessed: dict[str, pd.DataFrame] = {}

    def table() -> Any:
        assessed["df"] = assess(monitor_table(warehouse(), scope, dept, per), tolerance)
        return _model_table(assessed["df"], lang)

    body = safe(table, lang, "cost monitoring model")
    summary = safe(lambda: _summary(assessed["df"], lang), lang, "model summary") if "df" in assessed else None
    return summary, body, ""


def _summary(df: pd.DataFrame, lang: str) -> Any:
    if df.empty:
        return None
    cards = []
    for r in dimension_summary(df).itertuples():
        name = MONITOR_DIMENSIONS[r.dimension][0 if lang == "zh" else 1]
        v = _v(r.verdict)
        cards.append(html.Div([
            html.Div(name, className="stat-label"),
            html.Div(t(f"ws.costs.v.{v}", lang), className="stat-value wc-dim-verdict"),
            html.Div(t("ws.costs.summary_counts", lang, over=r.over, in_line=r.in_line, under=r.under),
                     className="stat-change"),
            html.Div(t("ws.costs.summary_unknown", lang, n=r.unknown), className="stat-change text-muted")
            if r.unknown else None,
        ], className=f"stat-card wc-dim wc-{v}", id={"type": "wc-dim", "index": r.dimension}))
    return html.Div(cards, className="stat-grid wc-dims")


def _v(verdict: Any) -> str:
    return verdict if isinstance(verdict, str) else "none"


def _direction(h: bool | None) -> str:
    return "up" if h else ("down" if h is False else "none")


def _ref_cell(value: float, ref: float, gap: float, verdict: str | None, unit: str, lang: str) -> html.Td:
    if ref != ref:
        return html.Td("—", className="num")
    diff = (value - ref) / abs(ref) if value == value and ref else float("nan")
    return html.Td([html.Div(format_indicator(ref, unit, lang)),
                    html.Small(_pct(diff), className="wc-gap") if diff == diff else None],
                   className=f"num wc-ref wc-{_v(verdict)}",
                   title=t(f"ws.costs.v.{_v(verdict)}", lang))


def _window_text(r: Any) -> str:
    if r.window_start is None or r.window_start != r.window_start:
        return "—"
    return f"{str(r.window_start)[:10]} – {str(r.window_end)[:10]}"


def _model_table(df: pd.DataFrame, lang: str) -> Any:
    if df.empty:
        return html.P(t("home.no_data", lang), className="note")
    head = html.Thead(html.Tr([html.Th(t(f"ws.costs.{k}", lang), className="num" if k not in ("indicator", "months",
                                                                                               "verdict") else "")
                               for k in ("indicator", "months", "value", "median", "year_ago", "baseline", "target",
                                         "verdict")]))
    body = []
    for dim, part in df.groupby("dimension", sort=False):
        body.append(html.Tr(html.Th(MONITOR_DIMENSIONS[dim][0 if lang == "zh" else 1], colSpan=8), className="wc-dim-row"))
        for r in part.itertuples():
            ind = INDICATORS[r.indicator]
            unit = UNITS[ind.unit][0 if lang == "zh" else 1]
            verdict = _v(r.verdict)
            med = _ref_cell(r.value, r.median, r.gap_median, r.v_median, ind.unit, lang)
            if r.median == r.median:
                med.children.append(html.Small(f" n={r.peers}", className="text-muted"))
            body.append(html.Tr([
                html.Td([html.Div(ind.name(lang)),
                         html.Small(f"{t('ws.costs.dir.' + _direction(ind.higher_is_better), lang)}"
                                    f"{' · ' + unit if unit else ''}", className="text-muted")]),
                html.Td(_window_text(r), className="wc-months"),
                html.Td(format_indicator(r.value, ind.unit, lang) if r.value == r.value else
                        html.Span(t("ws.costs.no_value", lang), className="text-muted"), className="num wc-value"),
                med,
                _ref_cell(r.value, r.year_ago, r.gap_year_ago, r.v_year_ago, ind.unit, lang),
                _ref_cell(r.value, r.baseline, r.gap_baseline, r.v_baseline, ind.unit, lang),
                _ref_cell(r.value, r.target, r.gap_target, r.v_target, ind.unit, lang),
                html.Td(html.Span(t(f"ws.costs.v.{verdict}", lang), className=f"wc-badge wc-{verdict}")),
            ], id={"type": "wc-row", "index": r.indicator}))
    return html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table wc-model-table",
                               id="wc-model-table"), className="table-scroll")


def model_frame(scope: Scope, dept: str, per: Period, tolerance: float, lang: str) -> pd.DataFrame:
    """The model as a flat table in the reader's language (values in the indicator's unit;
    gaps relative, positive = worse)."""
    df = assess(monitor_table(warehouse(), scope, dept, per), tolerance)
    k = lambda key: t(f"ws.costs.{key}", lang)  # noqa: E731
    verdict = lambda v: t(f"ws.costs.v.{_v(v)}", lang)  # noqa: E731
    out = pd.DataFrame({
        k("dimension"): [MONITOR_DIMENSIONS[d][0 if lang == "zh" else 1] for d in df["dimension"]],
        k("col.code"): df["indicator"],
        k("indicator"): [INDICATORS[c].name(lang) for c in df["indicator"]],
        k("col.unit"): [UNITS[INDICATORS[c].unit][0 if lang == "zh" else 1] for c in df["indicator"]],
        k("direction"): [t("ws.costs.dir." + _direction(h), lang) for h in df["higher_is_better"]],
        k("col.window_start"): df["window_start"], k("col.window_end"): df["window_end"],
        k("value"): df["value"], k("median"): df["median"], k("peers"): df["peers"],
        k("gap_median"): df["gap_median"], k("verdict"): [verdict(v) for v in df["verdict"]],
        k("year_ago"): df["year_ago"], k("gap_year_ago"): df["gap_year_ago"],
        k("baseline"): df["baseline"], k("col.baseline_window"): [
            f"{str(s)[:7]} – {str(e)[:7]}" if s is not None and s == s else "" for s, e in
            zip(df["baseline_start"], df["baseline_end"], strict=True)],
        k("gap_baseline"): df["gap_baseline"],
        k("target"): df["target"], k("gap_target"): df["gap_target"],
        k("col.tolerance"): tolerance,
    })
    return out


def _export_composition(ask: Ask, _tol: Any) -> Export:
    lang, per = ask.lang, ask.period
    df = composition_frame(ask.scope, ask.dept, per, lang)
    if df.attrs.get("window") is None:  # no closed month in the period: say so rather than export zeros
        raise UserError(t("profit.none", lang, start=per.start, end=per.end))
    df = df.reset_index(names=t("ws.costs.col.category", lang))
    k = lambda key: t(f"ws.costs.{key}", lang)  # noqa: E731
    kinds = {c: "money" for c in df.columns[1:]} | {k("share"): "percent", k("yoy"): "percent"}
    return Export(df, f"{ask.dept}-costs-composition-{per.start}-{per.end}", f"workspace costs {ask.dept} composition",
                  title=k("composition"), kinds=kinds)


def _export_model(ask: Ask, tol: Any) -> Export:
    lang, per = ask.lang, ask.period
    df = model_frame(ask.scope, ask.dept, per, parse_tolerance(tol, lang), lang)
    k = lambda key: t(f"ws.costs.{key}", lang)  # noqa: E731
    kinds = {k(c): BY_ROW for c in ("value", "median", "year_ago", "baseline", "target")}
    kinds |= {k(c): "percent" for c in ("gap_median", "gap_year_ago", "gap_baseline", "gap_target",
                                        "col.tolerance")} | {k("peers"): "integer"}
    return Export(df, f"{ask.dept}-costs-model-{per.start}-{per.end}", f"workspace costs {ask.dept} model",
                  title=k("model"), kinds=kinds, row_kinds=[unit_kind(INDICATORS[c].unit) for c in df[k("col.code")]])


export_callback("costs", {"composition": _export_composition, "model": _export_model}, State("wc-tol", "value"),
                roles=READERS)
