"""Budget execution (预算执行): by department and budget item, executed against budget for the
period and the year to date, the share of the annual budget executed against the share of the
year elapsed (time progress, 时间进度), items ahead of pace flagged; the departments in scope side
by side, the items of the chosen department grouped by budget category, and a chart of one
item's cumulative execution against the time pace."""
from __future__ import annotations

from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, dcc, html, no_update

from components.charts import COLORWAY
from components.format import format_indicator, format_points
from components.i18n import t
from components.palette import PACE_VERDICT
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.budget import (
    CATEGORIES,
    TOLERANCE,
    budget_lines,
    budget_monthly,
    category_summary,
    department_summary,
    with_pace,
)
from data_layer.scope import Scope
from shell.access import secured

from .._common import cached_answer, current_lang, current_scope, send_table, warehouse
from .._kit import safe
from ._frame import (
    ROLES,
    Start,
    begin,
    check_department,
    export_request,
    frame,
    my_departments,
    number_field,
    percent_value,
    resolve_period,
    section,
    section_page,
)

dash.register_page(__name__, **section_page("budget"))

TABLES = ("departments", "items", "pace")
TOL_MIN, TOL_MAX = 0.0, 50.0  # percentage points
ALL_ITEMS = "__all__"
STATUS_ICON = {"ahead": "▲", "behind": "▼", "on_pace": "", None: ""}
MONEY = ("budget_period", "executed_period", "budget_ytd", "executed_ytd", "budget_year")
RATES = ("execution", "execution_ytd", "share_year")


def layout(dept: str | None = None, period: str | None = None, **_query: str) -> Any:
    start = begin(__name__, dept, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    tol = number_field("wb-tol", t("ws.budget.tolerance", lang), round(TOLERANCE * 100), TOL_MIN, TOL_MAX, 0.5)
    return frame("budget", start, [
        html.Div([tol, html.Div(id="wb-window", className="note")], className="dw-section wb-head"),
        section("budget-departments", lang, html.Div(id="wb-departments"), exports=(("budget", "departments"),),
                title=t("ws.budget.departments", lang)),
        section("budget-items", lang, html.Div(id="wb-items"), html.P(t("ws.budget.rules", lang), className="note"),
                exports=(("budget", "items"),), title=f"{t('ws.budget.items', lang)} · {start.dept_name()}"),
        section("budget-pace", lang,
                html.Div([html.Label(t("ws.budget.pick_item", lang), htmlFor="wb-item", className="form-label me-2 mb-0"),
                          dcc.Dropdown(id="wb-item", value=ALL_ITEMS, clearable=False,
                                       options=[{"label": t("ws.budget.all_items", lang), "value": ALL_ITEMS}],
                                       className="dw-select wb-item")],
                         className="wc-controls"),
                html.Div(id="wb-item-msg", className="invalid-feedback d-block"),
                html.Div(id="wb-pace"), exports=(("budget", "pace"),), title=t("ws.budget.pace", lang)),
    ])


def parse_tolerance(value: Any, lang: str) -> float:
    """The tolerance typed on the page (per cent, TOL_MIN to TOL_MAX) as a fraction; UserError otherwise."""
    return percent_value(value, TOL_MIN, TOL_MAX, t("input.field.budget_tolerance", lang),
                         t("input.unit.points", lang))


def _department_ids() -> list[str]:
    """The clinical departments of the user's scope (the workspace's departments)."""
    return list(my_departments()["dept_id"])


def departments_frame(scope: Scope, per: Period, tolerance: float) -> pd.DataFrame:
    lines = budget_lines(warehouse(), scope, per)
    mine = set(_department_ids())
    kept = lines[lines["dept_id"].isin(mine)]
    kept.attrs = dict(lines.attrs)
    return department_summary(kept, tolerance)


def items_frame(scope: Scope, dept: str, per: Period, tolerance: float) -> pd.DataFrame:
    return with_pace(budget_lines(warehouse(), scope, per, dept), tolerance)


# ------------------------------------------------------------------------------------ tables
@callback(Output("wb-window", "children"), Output("wb-departments", "children"), Output("wb-items", "children"),
          Output("wb-item", "options"), Output("wb-tol-msg", "children"),
          Input("ws-dept", "value"), Input("ws-period", "value"), Input("wb-tol", "value"))
@secured(roles=ROLES, departments=lambda dept, _p, _t: [dept])
@cached_answer()
def tables(dept: Any, period: Any, tol: Any) -> tuple:
    lang = current_lang()
    dept = check_department(dept)
    per = resolve_period(period)
    try:
        tolerance = parse_tolerance(tol, lang)
    except UserError as exc:
        return no_update, no_update, no_update, no_update, str(exc)
    scope = current_scope()
    lines = budget_lines(warehouse(), scope, per, dept)
    attrs = lines.attrs
    if attrs.get("window") is None:
        note = t("ws.budget.no_window", lang, start=per.start, end=per.end)
    else:
        note = t("ws.budget.window", lang, start=attrs["window"][0], end=attrs["window"][1],
                 year_start=attrs["year_start"], elapsed=f"{attrs['elapsed']:.1%}")
    name = "name_zh" if lang == "zh" else "name_en"
    options = [{"label": t("ws.budget.all_items", lang), "value": ALL_ITEMS}] + [
        {"label": getattr(r, name), "value": r.item_code} for r in lines.itertuples()]
    return (note, safe(lambda: _departments(scope, dept, per, tolerance, lang), lang, "budget departments"),
            safe(lambda: _items(scope, dept, per, tolerance, lang), lang, "budget items"), options, "")


def _money(v: float, lang: str) -> str:
    return format_indicator(v, "yuan", lang)


def _rate(v: float) -> str:
    return "—" if v != v else f"{v:.1%}"


def _status_cell(status: str | None, gap: float, lang: str) -> list[html.Td]:
    s = status or "none"
    return [html.Td(format_points(gap, lang), className=f"num wb-{s}"),
            html.Td(html.Span(f"{STATUS_ICON[status]} {t(f'ws.budget.s.{s}', lang)}".strip(), className=f"wc-badge wb-{s}"))]


def _figures(r: Any, lang: str) -> list[html.Td]:
    return ([html.Td(_money(getattr(r, c), lang), className="num") for c in ("budget_period", "executed_period")] +
            [html.Td(_rate(r.execution), className="num")] +
            [html.Td(_money(getattr(r, c), lang), className="num") for c in ("executed_ytd", "budget_year")] +
            [html.Td(_rate(r.share_year), className="num"), html.Td(_rate(r.elapsed), className="num")] +
            _status_cell(r.status, r.gap, lang))


FIG_HEADS = ("budget_period", "executed_period", "execution", "executed_ytd", "budget_year", "share_year", "elapsed",
             "gap", "status")


def _departments(scope: Scope, dept: str, per: Period, tolerance: float, lang: str) -> Any:
    df = departments_frame(scope, per, tolerance)
    if df.empty:
        return html.P(t("ws.budget.no_lines", lang), className="note")
    head = html.Thead(html.Tr([html.Th(t("ws.budget.department", lang))] +
                              [html.Th(t(f"ws.budget.{k}", lang), className="num") for k in FIG_HEADS] +
                              [html.Th(t("ws.budget.items_ahead", lang), className="num")]))
    body = []
    name = "dept_zh" if lang == "zh" else "dept_en"
    for r in df.itertuples():
        label = [getattr(r, name)]
        if r.dept_id == dept:
            label.append(html.Small(f" · {t('ws.budget.this_dept', lang)}", className="text-muted"))
        body.append(html.Tr([html.Th(label)] + _figures(r, lang) +
                            [html.Td(f"{r.items_ahead} / {r.items}", className="num" + (" wb-ahead" if r.items_ahead else ""))],
                            className="wb-current" if r.dept_id == dept else "", id={"type": "wb-dept", "index": r.dept_id}))
    return html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table", id="wb-departments-table"),
                    className="table-scroll")


def _items(scope: Scope, dept: str, per: Period, tolerance: float, lang: str) -> Any:
    lines = budget_lines(warehouse(), scope, per, dept)
    if lines.attrs.get("window") is None:
        return html.P(t("ws.budget.no_window", lang, start=per.start, end=per.end), className="note")
    if lines.empty:
        return html.P(t("ws.budget.no_lines", lang), className="note")
    items = with_pace(lines, tolerance)
    cats = category_summary(lines, tolerance).set_index("category")
    name = "name_zh" if lang == "zh" else "name_en"
    head = html.Thead(html.Tr([html.Th(t("ws.budget.item", lang))] +
                              [html.Th(t(f"ws.budget.{k}", lang), className="num") for k in FIG_HEADS]))
    body = []
    order = {c: i for i, c in enumerate(CATEGORIES)}
    for cat in sorted(items["category"].unique(), key=lambda c: order.get(c, 99)):
        sub = cats.loc[cat]
        label = t(f"ws.budget.cat.{cat}", lang) if cat in order else str(cat)
        body.append(html.Tr([html.Th(f"{label} · {t('ws.budget.subtotal', lang)}")] +
                            _figures(_Row(sub), lang), className="wb-cat-row", id={"type": "wb-cat", "index": cat}))
        for r in items[items["category"] == cat].itertuples():
            body.append(html.Tr([html.Td(getattr(r, name),
                                         className="wb-item-name")] + _figures(r, lang),
                                id={"type": "wb-line", "index": r.item_code}))
    total = with_pace(_total(lines), tolerance).iloc[0]
    body.append(html.Tr([html.Th(t("ws.budget.total", lang))] + _figures(_Row(total), lang), className="wc-total"))
    return html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table", id="wb-items-table"),
                    className="table-scroll")


class _Row:
    """Attribute access to a Series row (as itertuples gives)."""

    def __init__(self, s: pd.Series) -> None:
        self._s = s

    def __getattr__(self, k: str) -> Any:
        return self._s[k]


def _total(lines: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame([lines[list(MONEY)].sum()])
    out.attrs = dict(lines.attrs)
    return out


# ------------------------------------------------------------------------------------ pace chart
def check_item(scope: Scope, dept: str, per: Period, item: Any) -> str | None:
    """None for all items, or an item code of the department's budget; UserError otherwise (a forged id)."""
    if item in (None, ALL_ITEMS):
        return None
    lines = budget_lines(warehouse(), scope, per, dept)
    if not isinstance(item, str) or item not in set(lines["item_code"]):
        raise UserError(t("ws.budget.bad_item", current_lang()))
    return item


def pace_frame(scope: Scope, dept: str, per: Period, item: str | None) -> pd.DataFrame:
    lines = budget_lines(warehouse(), scope, per, dept)
    as_of = lines.attrs.get("as_of")
    return budget_monthly(warehouse(), scope, dept, (as_of or per.end).year, item, as_of)


@callback(Output("wb-pace", "children"), Output("wb-item-msg", "children"),
          Input("ws-dept", "value"), Input("ws-period", "value"), Input("wb-item", "value"))
@secured(roles=ROLES, departments=lambda dept, _p, _i: [dept])
@cached_answer()
def pace(dept: Any, period: Any, item: Any) -> tuple:
    lang = current_lang()
    dept = check_department(dept)
    per = resolve_period(period)
    scope = current_scope()
    try:
        code = check_item(scope, dept, per, item)
    except UserError as exc:
        return no_update, str(exc)
    return safe(lambda: _pace(scope, dept, per, code, lang), lang, "budget pace"), ""


def _pace(scope: Scope, dept: str, per: Period, item: str | None, lang: str) -> Any:
    df = pace_frame(scope, dept, per, item)
    if df.empty:
        return html.P(t("ws.budget.no_lines", lang), className="note")
    lines = budget_lines(warehouse(), scope, per, dept)
    name = "name_zh" if lang == "zh" else "name_en"
    label = t("ws.budget.all_items", lang) if item is None else \
        str(lines.loc[lines["item_code"] == item, name].iloc[0])
    months = [f"{m:%Y-%m}" for m in df["month_start"]]
    fig = go.Figure()
    fig.add_bar(x=months, y=(df["cum_executed"] / 10_000).round(1), name=t("ws.budget.cum_executed", lang),
                marker_color=COLORWAY[0])  # a series, not a verdict (the pace status judges)
    fig.add_scatter(x=months, y=(df["cum_budget"] / 10_000).round(1), name=t("ws.budget.cum_budget", lang),
                    mode="lines+markers", line={"color": "#009e73", "width": 2})
    fig.add_scatter(x=months, y=(df["pace"] / 10_000).round(1), name=t("ws.budget.time_pace", lang), mode="lines",
                    line={"color": "#e69f00", "dash": "dash", "width": 3})
    fig.update_xaxes(type="category")
    fig.update_layout(title=t("ws.budget.chart_title", lang, item=label, year=df["month_start"].iloc[0].year),
                      height=340, margin={"l": 50, "r": 10, "t": 40, "b": 30}, legend={"orientation": "h", "y": -0.18},
                      plot_bgcolor="#fff", paper_bgcolor="#fff")
    fig.update_yaxes(gridcolor="#e3e8ef")
    return dcc.Graph(figure=fig, config={"displayModeBar": False}, className="dw-graph", id="wb-pace-chart")


# ------------------------------------------------------------------------------------ export
def _localised(df: pd.DataFrame, lang: str, keys: list[str], names: dict[str, str]) -> pd.DataFrame:
    out = df[keys].copy()
    out.columns = [names[k] for k in keys]
    return out


def _labels(lang: str) -> dict[str, str]:
    out = {k: t(f"ws.budget.{k}", lang) for k in (*MONEY, *RATES, "elapsed", "gap", "status", "items_ahead",
                                                   "budget_ytd", "category")}
    out.update({"dept_id": t("ws.budget.col.dept_id", lang), "dept": t("ws.budget.department", lang),
                "item_code": t("ws.budget.col.item_code", lang), "item": t("ws.budget.item", lang),
                "items": t("ws.budget.n_items", lang), "month": t("ws.budget.col.month", lang),
                "budget": t("ws.budget.col.budget", lang), "executed": t("ws.budget.col.executed", lang),
                "cum_budget": t("ws.budget.cum_budget", lang), "cum_executed": t("ws.budget.cum_executed", lang),
                "pace": t("ws.budget.col.pace", lang)})
    return out


FIGS = [*MONEY, *RATES, "elapsed", "gap", "status"]


@callback(Output("ws-download", "data", allow_duplicate=True),
          Input({"type": "ws-export", "page": "budget", "table": ALL, "fmt": ALL}, "n_clicks"),
          State("ws-dept", "value"), State("ws-period", "value"), State("wb-tol", "value"), State("wb-item", "value"),
          prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _n, dept, _p, _t, _i: [dept])
def export(clicks: list, dept: Any, period: Any, tol: Any, item: Any) -> Any:
    req = export_request(clicks, TABLES)
    if req is None:
        return no_update
    table, fmt = req
    lang = current_lang()
    dept = check_department(dept)
    per = resolve_period(period)
    scope = current_scope()
    labels = _labels(lang)
    status = lambda s: t(f"ws.budget.s.{s or 'none'}", lang)  # noqa: E731
    verdicts: dict[str, list[str]] = {}
    if table == "departments":
        df = departments_frame(scope, per, parse_tolerance(tol, lang))
        verdicts = {labels["status"]: [PACE_VERDICT.get(s or "", "neutral") for s in df["status"]]}
        df = df.assign(dept=df["dept_zh" if lang == "zh" else "dept_en"], status=df["status"].map(status))
        df = _localised(df, lang, ["dept_id", "dept", *FIGS, "items", "items_ahead"], labels)
    elif table == "items":
        df = items_frame(scope, dept, per, parse_tolerance(tol, lang))
        verdicts = {labels["status"]: [PACE_VERDICT.get(s or "", "neutral") for s in df["status"]]}
        df = df.assign(item=df["name_zh" if lang == "zh" else "name_en"], status=df["status"].map(status),
                       category=df["category"].map(lambda c: t(f"ws.budget.cat.{c}", lang) if c in CATEGORIES else c))
        df = _localised(df, lang, ["dept_id", "category", "item_code", "item", "budget_ytd", *FIGS], labels)
    else:
        df = pace_frame(scope, dept, per, check_item(scope, dept, per, item))
        df = df.assign(month=[f"{m:%Y-%m}" for m in df["month_start"]])
        df = _localised(df, lang, ["month", "budget", "executed", "cum_budget", "cum_executed", "pace"], labels)
    kinds = {labels[c]: "money" for c in (*MONEY, "budget", "executed", "cum_budget", "cum_executed")}
    kinds |= {labels[c]: "percent" for c in (*RATES, "elapsed", "gap", "pace")}
    kinds |= {labels[c]: "integer" for c in ("items", "items_ahead")}
    return send_table(df, f"{dept}-budget-{table}-{per.start}-{per.end}", fmt, f"workspace budget {dept} {table}",
                      title=t(f"ws.budget.{table}", lang), kinds=kinds, period=per,
                      dept=None if table == "departments" else dept, verdicts=verdicts)
