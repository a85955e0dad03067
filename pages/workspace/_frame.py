"""What the sections of the operations assistant's workspace (运营分析工作台) share.

Nine sections, one page each, under /workspace: portfolio, revenue drill-down, cost
composition and monitoring model, DRG detail, the national appraisal scorecard (国考), budget
execution, equipment, improvement projects, monthly reports. They share a tab bar, the department and period pickers (one
address per choice, so it can be bookmarked and shared), the scope checks, and the export
buttons (Excel or CSV, every table, audited, limited to the user's scope).

A page of the workspace registers itself with Dash and takes its opening and callbacks
from the page kit (pages/_kit.py):

    dash.register_page(__name__, **section_page("budget"))
    def layout(dept=None, period=None, **_q):
        start = begin(__name__, dept, period)          # forbidden / error panel, or the choices
        if not isinstance(start, Start):
            return start
        return frame("budget", start, [section(...)])

Its callbacks are `kit.page_callback(..., dept="ws-dept", period="ws-period")`, which checks the
department and resolves the period before the callback runs, and its export buttons are answered
by `kit.export_callback`.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

import pandas as pd
from dash import Input, Output, State, ctx, dcc, html, no_update
from pydantic import BaseModel, BeforeValidator, Field, create_model

from components.i18n import t
from components.notes import address_notes
from components.overview import freshness_line
from data_layer.errors import UserError
from data_layer.inputs import FormProblems, InputProblem, number, read_form
from data_layer.periods import PERIODS, Period, add_months, parse_period
from data_layer.queries.structure import departments
from shell.access import PermissionDenied, audit, page_denied
from shell.warmup import target

from .._address import check_period, department_names, department_refusal
from .._common import (
    current_lang,
    current_scope,
    forbidden_panel,
    quality_red,
    warehouse,
    warehouse_error_panel,
)
from .._kit import READERS, Ask, check_department, page_callback

ROLES = READERS  # the workspace is for every role that reads figures
SECTIONS: tuple[tuple[str, str], ...] = (
    ("portfolio", "/workspace"),
    ("revenue", "/workspace/revenue"),
    ("costs", "/workspace/costs"),
    ("drg", "/workspace/drg"),
    ("appraisal", "/workspace/appraisal"),
    ("budget", "/workspace/budget"),
    ("equipment", "/workspace/equipment"),
    ("projects", "/workspace/projects"),
    ("reports", "/workspace/reports"),
)
PATHS = dict(SECTIONS)
EXPORT_FORMATS = ("xlsx", "csv")
MONTHS_OFFERED = 13  # the period picker offers the last 13 months besides the named periods
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def section_page(section: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `dash.register_page` arguments of a workspace section: only the portfolio appears in the
    top navigation (the tab bar leads to the rest) and assistants land on it. `inputs`: the page's
    declared callback values (shell/inputs.py)."""
    order = 3 + [s for s, _ in SECTIONS].index(section) / 100
    return {"path": PATHS[section], "name": f"Workspace {section}", "order": order, "allowed_roles": ROLES,
            "nav": section == "portfolio", "landing_for": ("assistant",) if section == "portfolio" else (),
            "nav_label": {"zh": "运营分析", "en": "Workspace"}, "title": f"Workspace · {section}",
            "inputs": inputs or {}}


def my_departments(also: Callable[[], set[str]] | None = None) -> pd.DataFrame:
    """The clinical departments in the user's scope (dept_id, names, campus, division …), and the
    departments in scope that `also()` names (e.g. the medical-technical ones operating devices)."""
    deps = departments(warehouse(), current_scope())
    keep = deps["kind"] == "clinical"
    if also is not None:
        keep |= deps["dept_id"].isin(also())
    return deps[keep].reset_index(drop=True)


def warm_section(name: str, fn: Callable[..., Any], opening: Callable[[str, str], Iterable[tuple]],
                 every_department: bool = True) -> None:
    """Register a section's callback with the warm-up (shell/warmup.py) for each assistant: first as
    the page opens (the first department of the scope, the year to date), then, for an answer
    shared by department (`every_department`), for every department of the scope in every named
    period, and last in every month the picker offers, so a section is warm whichever department
    and period an assistant picks; each shared answer is computed once, for the first assistant
    whose scope holds the department.
    `opening(dept, period)`: the argument sets the page sends then (the callback's inputs and
    states in order, with the values the page's layout starts with)."""
    def depts() -> list[str]:
        return [str(d) for d in my_departments()["dept_id"]]

    def every(periods: Callable[[], Iterable[str]]) -> Callable[[Any], list[tuple]] | None:
        return (lambda _c: [a for d in depts() for p in periods() for a in opening(d, p)]) if every_department else None

    target(f"workspace/{name}", fn, ("assistant",), lambda _c: [a for d in depts()[:1] for a in opening(d, "ytd")],
           more=every(lambda: PERIODS), last=every(offered_months))


def period_options(lang: str, keep: str | None = None) -> list[dict[str, str]]:
    """The named periods and the last months with data; `keep` (a month the address asked for,
    already checked against the data's range) is offered too, so the picker shows it."""
    opts = [{"label": t(f"period.{p}", lang), "value": p} for p in PERIODS]
    opts += [{"label": m, "value": m} for m in offered_months()]
    if keep and _MONTH.match(keep) and keep not in {o["value"] for o in opts}:
        opts.append({"label": keep, "value": keep})
    return opts


def offered_months() -> list[str]:
    """The months the period picker offers (YYYY-MM, newest first): the last MONTHS_OFFERED with data."""
    fresh = warehouse().freshness()
    if fresh.data_through is None:
        return []
    months = []
    for i in range(MONTHS_OFFERED):
        m = add_months(fresh.data_through.replace(day=1), -i)
        if fresh.first_date is not None and m < fresh.first_date.replace(day=1):
            break
        months.append(f"{m:%Y-%m}")
    return months


def valid_period_key(key: Any) -> bool:
    return isinstance(key, str) and (key in PERIODS or bool(_MONTH.match(key)))


def resolve_period(key: Any) -> Period:
    """A named period (ytd, last-month …) or a month YYYY-MM, within the data; UserError otherwise."""
    lang = current_lang()
    if not valid_period_key(key):
        raise UserError(t("wall.bad_filter", lang))
    fresh = warehouse().freshness()
    if fresh.data_through is None:
        raise UserError(t("fresh.none", lang))
    try:
        per = parse_period(key, fresh.data_through)
    except (UserError, ValueError):  # a month that is no month (2026-13): the reader's words, not the parser's
        raise UserError(t("wall.bad_filter", lang)) from None
    if fresh.first_date is not None and (per.end < fresh.first_date or per.start > fresh.data_through):
        raise UserError(t("ws.period_outside", lang, period=key, first=fresh.first_date, through=fresh.data_through))
    if per.end > fresh.data_through:
        per = Period(per.start, fresh.data_through, per.kind)
    return per


@dataclass(frozen=True)
class Start:
    """What a workspace page opens with: the language, the user's departments and the choices."""

    lang: str
    mine: pd.DataFrame
    dept: str
    period: str
    notes: tuple[str, ...] = ()  # what was wrong with the address and what is shown instead

    @property
    def name_col(self) -> str:
        return "name_zh" if self.lang == "zh" else "name_en"

    def dept_name(self, dept: str | None = None) -> str:
        row = self.mine[self.mine["dept_id"] == (dept or self.dept)]
        return str(row.iloc[0][self.name_col]) if not row.empty else str(dept or self.dept)


def begin(module: str, dept: str | None, period: str | None, default_period: str = "ytd",
          also: Callable[[], set[str]] | None = None) -> Start | html.Main:
    """Check the page and the address; a Start (with a note for each bad address value), or the
    panel to show instead: forbidden role, no data, or a department that does not exist, lies
    outside the scope (audited) or is not offered here, each with its own message. `also` adds
    departments besides the clinical ones to the choices (see my_departments)."""
    lang = current_lang()
    if page_denied(module):
        return forbidden_panel(lang)
    try:
        mine = my_departments(also)
    except UserError as exc:
        return html.Main(warehouse_error_panel(str(exc), lang), className="container page")
    if mine.empty:
        return html.Main(html.Div(t("dw.no_departments", lang), className="alert alert-warning"),
                         className="container page")
    path = PATHS.get(module.rsplit(".", 1)[-1].removeprefix("ws_"), module)
    dept = dept or str(mine["dept_id"].iloc[0])
    try:
        check_department(dept)
        allowed = True
    except PermissionDenied:
        allowed = False
    refused = department_refusal(str(dept), allowed, set(mine["dept_id"]), department_names(lang), lang,
                                 path if path.startswith("/") else "/workspace")
    if refused is not None:
        if not allowed:
            audit("forbidden_department", path, f"dept={str(dept)[:64]}")
        return refused
    fresh = warehouse().freshness()
    key, note = check_period(period, PERIODS, lang, default=default_period, months=True, first=fresh.first_date,
                             through=fresh.data_through)
    return Start(lang, mine, dept, key, (note,) if note else ())


def tabs(active: str, start: Start) -> html.Nav:
    """The workspace's tab bar; each tab keeps the department and period."""
    q = "?" + urlencode({"dept": start.dept, "period": start.period})
    return html.Nav([dcc.Link(t(f"ws.tab.{key}", start.lang), href=path + q, id={"type": "ws-tab", "index": key},
                              className="ws-tab active" if key == active else "ws-tab")
                     for key, path in SECTIONS], className="ws-tabs", **{"aria-label": t("ws.title", start.lang)})


def pickers(start: Start, *, dept: bool = True, period: bool = True) -> html.Div:
    """Department and period pickers (ids ws-dept and ws-period); a hidden one still carries its value."""
    lang = start.lang
    dept_opts = [{"label": r[start.name_col], "value": r["dept_id"]} for _, r in start.mine.iterrows()]
    return html.Div([
        dcc.Dropdown(id="ws-dept", options=dept_opts, value=start.dept, clearable=False,
                     className="dw-select" if dept and len(dept_opts) > 1 else "d-none"),
        dcc.Dropdown(id="ws-period", options=period_options(lang, start.period), value=start.period, clearable=False,
                     className="dw-select" if period else "d-none"),
    ], className="dw-pickers")


def frame(section: str, start: Start, body: list[Any], *, dept_picker: bool = True, period_picker: bool = True,
          subtitle: str | None = None, notes: tuple[str | None, ...] = ()) -> html.Main:
    """The section's page: tab bar, heading with pickers, freshness, the address notes (the
    Start's and the section's own `notes`), then `body`."""
    lang = start.lang
    title = t(f"ws.tab.{section}", lang)
    heading = html.Div([html.H1(title, id="ws-title"),
                        html.Span(subtitle if subtitle is not None else start.dept_name(), className="lead ms-2",
                                  id="ws-subtitle")], className="dw-heading")
    return html.Main([
        tabs(section, start),
        html.Header([heading, pickers(start, dept=dept_picker, period=period_picker)],
                    className="page-header dw-header"),
        html.Div(freshness_line(warehouse().freshness(), lang, quality_red(section))),
        address_notes([n for n in (*start.notes, *notes) if n], lang),
        *body,
        dcc.Download(id="ws-download"),
    ], className=f"container-fluid page dw-page ws-page ws-{section}", id=f"ws-{section}-page")


def section(key: str, lang: str, *children: Any, exports: tuple[tuple[str, str], ...] = (),
            title: str | None = None) -> html.Section:
    """A titled block with export buttons for its tables: exports = ((page, table), …)."""
    buttons = [export_buttons(page, table, lang) for page, table in exports]
    return html.Section([html.H2([title or t(f"ws.{key}", lang), *buttons]), *children], className="dw-section",
                        id=f"ws-sec-{key}")


def number_field(field_id: str, label: str, value: float, low: float, high: float, step: float) -> html.Div:
    """A small labelled number input with its message line (`<field_id>-msg`), for a page's
    tolerance or threshold; the page's callback checks the value (percent_value) and writes the
    message. The range is the callback's to check, not the browser's: a browser blanks a number
    outside min/max or off the step, and the message could then only say "required"."""
    del step  # any precision is accepted; the range shows in the empty field
    return html.Div([
        html.Label(label, htmlFor=field_id, className="form-label me-2 mb-0"),
        dcc.Input(id=field_id, type="number", value=value, step="any", debounce=True, placeholder=f"{low:g}–{high:g}",
                  className="form-control form-control-sm wc-tol"),
        html.Div(id=f"{field_id}-msg", className="invalid-feedback d-block"),
    ], className="wc-controls")


def input_message(problem: InputProblem, lang: str, field: str, unit: str) -> str:
    """What was wrong with a typed number, naming the field, its range and its unit."""
    return t(f"input.{problem.code}", lang, field=field, unit=unit, **{"value": "", **problem.params})


def percent_value(value: Any, low: float, high: float, field: str, unit: str) -> float:
    """A per-cent figure typed into a number field, between `low` and `high`, as a fraction;
    UserError with the reason (empty, not a number, out of range, naming `field`, the range and
    `unit`) for anything else."""
    try:
        return number(value, low, high) / 100
    except InputProblem as problem:
        raise UserError(input_message(problem, current_lang(), field, unit)) from None


def percent_form(low: float, high: float) -> type[BaseModel]:
    """The declared form of one per-cent field `value` from `low` to `high` inclusive (a tolerance, a
    threshold): a number or numeric text, finite; a yes/no is no number. Read it with `read_percent`."""
    def no_bool(raw: Any) -> Any:
        if isinstance(raw, bool):
            raise InputProblem("not_number", low=f"{low:g}", high=f"{high:g}")
        return raw.strip() if isinstance(raw, str) else raw

    value = Annotated[float, BeforeValidator(no_bool), Field(ge=low, le=high, allow_inf_nan=False)]
    return create_model(f"Percent_{low:g}_{high:g}".replace(".", "_").replace("-", "m"), value=(value, ...))


def read_percent(form: type[BaseModel], value: Any, field: str, unit: str) -> float:
    """A per-cent figure typed into a number field, checked by its declared `form` (percent_form), as
    a fraction; UserError with the reason (empty, not a number, out of range, naming `field`, the
    range and `unit`) for anything else."""
    try:
        return float(read_form(form, {"value": value}).value) / 100  # type: ignore[attr-defined]
    except FormProblems as exc:
        raise UserError(input_message(exc.problems["value"], current_lang(), field, unit)) from None


def export_buttons(page: str, table: str, lang: str) -> html.Span:
    return html.Span([html.Button(t(f"export.{fmt}", lang), id={"type": "ws-export", "page": page, "table": table,
                                                                "fmt": fmt},
                                  className="btn btn-sm btn-outline-secondary ms-2 ws-export")
                      for fmt in EXPORT_FORMATS], className="ws-exports")


def export_request(clicks: list | None, tables: tuple[str, ...] | dict) -> tuple[str, str] | None:
    """(table, format) of the export button that fired, or None when nothing was clicked; a table
    or format the page does not offer (a forged request) is refused."""
    if not any(clicks or []) or not isinstance(ctx.triggered_id, dict):
        return None
    table, fmt = ctx.triggered_id.get("table"), ctx.triggered_id.get("fmt")
    if table not in tables or fmt not in EXPORT_FORMATS:
        raise UserError(t("wall.bad_filter", current_lang()))
    return table, fmt


@page_callback(Output("_pages_location", "search", allow_duplicate=True), Input("ws-dept", "value"),
               Input("ws-period", "value"), State("_pages_location", "search"), roles=ROLES, dept="ws-dept",
               prevent_initial_call=True)
def pick(ask: Ask, period: Any, search: Any) -> Any:
    """Another department or period is another address. A section's own parameters (a report,
    a drill-down path) stay when only the period changes and go when the department does."""
    dept = ask.dept
    return merge_query(search, dept, period if valid_period_key(period) else "ytd")


def merge_query(search: Any, dept: str, period: str) -> Any:
    old = dict(parse_qsl(search[1:] if isinstance(search, str) and search.startswith("?") else "",
                         keep_blank_values=True))
    if old.get("dept") == dept and old.get("period") == period:
        return no_update
    keep = {k: v for k, v in old.items() if k not in ("dept", "period")} if old.get("dept") in (None, dept) else {}
    return "?" + urlencode({"dept": dept, "period": period, **keep})
