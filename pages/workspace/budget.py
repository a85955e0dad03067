"""Budget execution (预算执行): by department and budget item, executed against budget for the
period and the year to date, the share of the annual budget executed against the share of the
year elapsed (time progress, 时间进度), items ahead of pace flagged; the departments in scope side
by side, the items of the chosen department with their category subtotals (grids: components/budget.py),
and a chart of one item's cumulative execution against the time pace."""
from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from components.budget import MONEY, departments_grid, items_grid, pace_graph
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

from .._common import current_lang, warehouse
from .._kit import READERS, Ask, Export, export_callback, page_callback, safe
from ._frame import (
    Start,
    begin,
    frame,
    my_departments,
    number_field,
    percent_form,
    read_percent,
    section,
    section_page,
    warm_section,
)

dash.register_page(__name__, **section_page("budget"))

TOL_MIN, TOL_MAX = 0.0, 50.0  # percentage points
TOLERANCE_FORM = percent_form(TOL_MIN, TOL_MAX)
TOL_START = round(TOLERANCE * 100)  # the tolerance the page opens with (per cent)
ALL_ITEMS = "__all__"
RATES = ("execution", "execution_ytd", "share_year")


def layout(dept: str | None = None, period: str | None = None, **_query: str) -> Any:
    start = begin(__name__, dept, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    tol = number_field("wb-tol", t("ws.budget.tolerance", lang), TOL_START, TOL_MIN, TOL_MAX, 0.5)
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
    return read_percent(TOLERANCE_FORM, value, t("input.field.budget_tolerance", lang), t("input.unit.points", lang))


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
@page_callback(Output("wb-window", "children"), Output("wb-items", "children"), Output("wb-item", "options"),
               Output("wb-tol-msg", "children"), Input("ws-dept", "value"), Input("ws-period", "value"),
               Input("wb-tol", "value"), roles=READERS, dept="ws-dept", period="ws-period", cached=True,
               by_department=True)
def tables(ask: Ask, tol: Any) -> tuple:
    """The department's budget window and items (shared by everyone who may see the department)."""
    lang, scope, dept, per = ask.lang, ask.scope, ask.dept, ask.period
    try:
        tolerance = parse_tolerance(tol, lang)
    except UserError as exc:
        return no_update, no_update, no_update, str(exc)
    lines = budget_lines(warehouse(), scope, per, dept)
    attrs = lines.attrs
    if attrs.get("window") is None:
        note = t("ws.budget.no_window", lang, start=per.start, end=per.end)
    else:
        note = t("ws.budget.window", lang, start=attrs["window"][0], end=attrs["window"][1],
                 year_start=attrs["year_start"], elapsed=f"{attrs['elapsed']:.1%}")
    options = [{"label": t("ws.budget.all_items", lang), "value": ALL_ITEMS}] + [
        {"label": getattr(r, ask.name_col), "value": r.item_code} for r in lines.itertuples()]
    return note, safe(lambda: _items(scope, dept, per, tolerance, lang), lang, "budget items"), options, ""


@page_callback(Output("wb-departments", "children"), Input("ws-dept", "value"), Input("ws-period", "value"),
               Input("wb-tol", "value"), roles=READERS, dept="ws-dept", period="ws-period", cached=True)
def departments_table(ask: Ask, tol: Any) -> Any:
    """The departments of the reader's scope side by side, the one picked marked (the reader's own)."""
    try:
        tolerance = parse_tolerance(tol, ask.lang)
    except UserError:
        return no_update  # the window's callback says why
    return safe(lambda: _departments(ask.scope, ask.dept, ask.period, tolerance, ask.lang), ask.lang,
                "budget departments")


def _departments(scope: Scope, dept: str, per: Period, tolerance: float, lang: str) -> Any:
    df = departments_frame(scope, per, tolerance)
    if df.empty:
        return html.P(t("ws.budget.no_lines", lang), className="note")
    return departments_grid(df, dept, lang)


def _items(scope: Scope, dept: str, per: Period, tolerance: float, lang: str) -> Any:
    lines = budget_lines(warehouse(), scope, per, dept)
    if lines.attrs.get("window") is None:
        return html.P(t("ws.budget.no_window", lang, start=per.start, end=per.end), className="note")
    if lines.empty:
        return html.P(t("ws.budget.no_lines", lang), className="note")
    total = pd.DataFrame([lines[list(MONEY)].sum()])
    total.attrs = dict(lines.attrs)
    return items_grid(with_pace(lines, tolerance), category_summary(lines, tolerance), with_pace(total, tolerance).iloc[0],
                      CATEGORIES, lang)


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


@page_callback(Output("wb-pace", "children"), Output("wb-item-msg", "children"),
               Input("ws-dept", "value"), Input("ws-period", "value"), Input("wb-item", "value"),
               roles=READERS, dept="ws-dept", period="ws-period", cached=True, by_department=True)
def pace(ask: Ask, item: Any) -> tuple:
    try:
        code = check_item(ask.scope, ask.dept, ask.period, item)
    except UserError as exc:
        return no_update, str(exc)
    return safe(lambda: _pace(ask.scope, ask.dept, ask.period, code, ask.lang), ask.lang, "budget pace"), ""


def _pace(scope: Scope, dept: str, per: Period, item: str | None, lang: str) -> Any:
    df = pace_frame(scope, dept, per, item)
    if df.empty:
        return html.P(t("ws.budget.no_lines", lang), className="note")
    lines = budget_lines(warehouse(), scope, per, dept)
    name = "name_zh" if lang == "zh" else "name_en"
    label = t("ws.budget.all_items", lang) if item is None else \
        str(lines.loc[lines["item_code"] == item, name].iloc[0])
    return pace_graph(df, label, lang)


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


def _status_words(lang: str) -> Any:
    return lambda s: t(f"ws.budget.s.{s or 'none'}", lang)


def _export_departments(ask: Ask, tol: Any, _item: Any) -> Export:
    lang, labels = ask.lang, _labels(ask.lang)
    df = departments_frame(ask.scope, ask.period, parse_tolerance(tol, lang))
    verdicts = {labels["status"]: [PACE_VERDICT.get(s or "", "neutral") for s in df["status"]]}
    df = df.assign(dept=df["dept_zh" if lang == "zh" else "dept_en"], status=df["status"].map(_status_words(lang)))
    df = _localised(df, lang, ["dept_id", "dept", *FIGS, "items", "items_ahead"], labels)
    return _export(ask, "departments", df, verdicts, whole_scope=True)


def _export_items(ask: Ask, tol: Any, _item: Any) -> Export:
    lang, labels = ask.lang, _labels(ask.lang)
    df = items_frame(ask.scope, ask.dept, ask.period, parse_tolerance(tol, lang))
    verdicts = {labels["status"]: [PACE_VERDICT.get(s or "", "neutral") for s in df["status"]]}
    df = df.assign(item=df["name_zh" if lang == "zh" else "name_en"], status=df["status"].map(_status_words(lang)),
                   category=df["category"].map(lambda c: t(f"ws.budget.cat.{c}", lang) if c in CATEGORIES else c))
    df = _localised(df, lang, ["dept_id", "category", "item_code", "item", "budget_ytd", *FIGS], labels)
    return _export(ask, "items", df, verdicts)


def _export_pace(ask: Ask, _tol: Any, item: Any) -> Export:
    df = pace_frame(ask.scope, ask.dept, ask.period, check_item(ask.scope, ask.dept, ask.period, item))
    df = df.assign(month=[f"{m:%Y-%m}" for m in df["month_start"]])
    df = _localised(df, ask.lang, ["month", "budget", "executed", "cum_budget", "cum_executed", "pace"],
                    _labels(ask.lang))
    return _export(ask, "pace", df, {})


def _export(ask: Ask, table: str, df: pd.DataFrame, verdicts: dict[str, list[str]], whole_scope: bool = False) -> Export:
    labels, per = _labels(ask.lang), ask.period
    kinds = {labels[c]: "money" for c in (*MONEY, "budget", "executed", "cum_budget", "cum_executed")}
    kinds |= {labels[c]: "percent" for c in (*RATES, "elapsed", "gap", "pace")}
    kinds |= {labels[c]: "integer" for c in ("items", "items_ahead")}
    return Export(df, f"{ask.dept}-budget-{table}-{per.start}-{per.end}", f"workspace budget {ask.dept} {table}",
                  title=t(f"ws.budget.{table}", ask.lang), kinds=kinds, verdicts=verdicts, whole_scope=whole_scope)


warm_section("budget tables", tables, lambda d, p: [(d, p, TOL_START)])
warm_section("budget departments", departments_table, lambda d, p: [(d, p, TOL_START)], every_department=False)
warm_section("budget pace", pace, lambda d, p: [(d, p, ALL_ITEMS)])

export_callback("budget", {"departments": _export_departments, "items": _export_items, "pace": _export_pace},
                State("wb-tol", "value"), State("wb-item", "value"), roles=READERS)
