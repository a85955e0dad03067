"""Cost monitoring (成本监测): the department's full cost by category and allocation tier against
the same months last year, and the five-dimension cost monitoring model (human resources 人力资源,
equipment 设备资源, drugs and consumables 药品耗材, space and beds 空间与床位, energy 能耗): each
indicator against the hospital's median over clinical departments, the department's own
history and its annual target, with a verdict over-used / in line / under-used."""
from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from components.costs import composition_figure, composition_grid, direction, model_grid, summary_cards, verdict_key
from components.exports import BY_ROW, unit_kind
from components.i18n import t
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.monitor import (
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
    warm_section,
)

dash.register_page(__name__, **section_page("costs"))

TOL_MIN, TOL_MAX = 1.0, 50.0  # per cent
TOL_START = round(TOLERANCE * 100)  # the tolerance the page opens with (per cent)


def layout(dept: str | None = None, period: str | None = None, **_query: str) -> Any:
    start = begin(__name__, dept, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    tol = number_field("wc-tol", t("ws.costs.tolerance", lang), TOL_START, TOL_MIN, TOL_MAX, 1)
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
               roles=READERS, dept="ws-dept", period="ws-period", cached=True, by_department=True)
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
    note = (t("ws.costs.window", lang, start=window[0], end=window[1], ago_start=ago_window[0], ago_end=ago_window[1])
            if ago_window else t("ws.costs.window_no_ago", lang, start=window[0], end=window[1]))
    return [composition_grid(df, STAGES, lang), html.P(note, className="note"),
            dcc.Graph(figure=composition_figure(df, lang), config={"displayModeBar": False}, className="dw-graph",
                      id="wc-composition-chart")]


# ------------------------------------------------------------------------------------ model
@page_callback(Output("wc-summary", "children"), Output("wc-model", "children"), Output("wc-tol-msg", "children"),
               Input("ws-dept", "value"), Input("ws-period", "value"), Input("wc-tol", "value"),
               roles=READERS, dept="ws-dept", period="ws-period", cached=True, by_department=True)
def model(ask: Ask, tol: Any) -> tuple:
    lang, scope, dept, per = ask.lang, ask.scope, ask.dept, ask.period
    try:
        tolerance = parse_tolerance(tol, lang)
    except UserError as exc:
        return no_update, no_update, str(exc)
    assessed: dict[str, pd.DataFrame] = {}

    def table() -> Any:
        assessed["df"] = assess(monitor_table(warehouse(), scope, dept, per), tolerance)
        return model_grid(assessed["df"], lang)

    body = safe(table, lang, "cost monitoring model")
    summary = safe(lambda: _summary(assessed["df"], lang), lang, "model summary") if "df" in assessed else None
    return summary, body, ""


def _summary(df: pd.DataFrame, lang: str) -> Any:
    return None if df.empty else summary_cards(dimension_summary(df), lang)


def model_frame(scope: Scope, dept: str, per: Period, tolerance: float, lang: str) -> pd.DataFrame:
    """The model as a flat table in the reader's language (values in the indicator's unit;
    gaps relative, positive = worse)."""
    df = assess(monitor_table(warehouse(), scope, dept, per), tolerance)
    k = lambda key: t(f"ws.costs.{key}", lang)  # noqa: E731
    verdict = lambda v: t(f"ws.costs.v.{verdict_key(v)}", lang)  # noqa: E731
    out = pd.DataFrame({
        k("dimension"): [MONITOR_DIMENSIONS[d][0 if lang == "zh" else 1] for d in df["dimension"]],
        k("col.code"): df["indicator"],
        k("indicator"): [INDICATORS[c].name(lang) for c in df["indicator"]],
        k("col.unit"): [UNITS[INDICATORS[c].unit][0 if lang == "zh" else 1] for c in df["indicator"]],
        k("direction"): [t("ws.costs.dir." + direction(h), lang) for h in df["higher_is_better"]],
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


warm_section("costs composition", composition, lambda d, p: [(d, p)])
warm_section("costs model", model, lambda d, p: [(d, p, TOL_START)])

export_callback("costs", {"composition": _export_composition, "model": _export_model}, State("wc-tol", "value"),
                roles=READERS)
