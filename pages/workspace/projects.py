"""Improvement projects (改善项目): record a project, compare its indicators before and after the
start with the right significance test, and test a contingency table typed by hand.

Address: /workspace/projects?dept=D001&period=ytd&project=12. The project list shows every project
whose departments all lie in the user's scope; `project=ID` opens one (a forged id or one outside
the scope is refused with a message, audited). Saving a project moves to its address, so the
list, the comparison and the form are rebuilt from the database.
"""
from __future__ import annotations

import math
from datetime import date
from typing import Any
from urllib.parse import urlencode

import dash
import pandas as pd
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from flask import current_app
from flask_login import current_user

from appdb.projects import (
    DESCRIPTION_MAX,
    TITLE_MAX,
    create_project,
    get_project,
    list_projects,
    project_exists,
    update_project,
)
from appdb.schema import PROJECT_STATUSES
from appdb.store import CodedError
from components import projects as view
from components.exports import BY_ROW, unit_kind
from components.i18n import t
from data_layer.errors import UserError
from data_layer.queries.before_after import (
    DEFAULT_AFTER,
    DEFAULT_BEFORE,
    KINDS,
    MAX_COLUMNS,
    MAX_DAYS,
    MAX_INDICATORS,
    MIN_DAYS,
    SUPPORTED,
    Result,
    evaluate_project,
    manual_test,
    windows,
)
from data_layer.queries.structure import department_campuses, departments
from data_layer.registry import INDICATORS
from data_layer.scope import Scope
from data_layer.stats import FieldErrors
from shell.access import PermissionDenied, audit
from shell.inputs import Ref

from .._address import refusal
from .._common import current_lang, current_scope, warehouse
from .._kit import READERS, Ask, Export, export_callback, page_callback, safe
from ._frame import PATHS, Start, begin, frame, resolve_period, section, section_page, valid_period_key

dash.register_page(__name__, **section_page("projects", inputs={"wsp-open.data": Ref, "wsp-edit.data": Ref}))

PAGE = "projects"
FORM_FIELDS = ("title", "dept_ids", "indicators", "start_date", "before_days", "after_days", "description", "status")


# ----------------------------------------------------------------------------------- helpers
def _appdb():
    return current_app.extensions["hospdash"].appdb


def _dept_names(lang: str) -> dict[str, str]:
    deps = departments(warehouse(), current_scope())
    col = "name_zh" if lang == "zh" else "name_en"
    return dict(zip(deps["dept_id"].astype(str), deps[col].astype(str), strict=True))


def _pid(raw: Any) -> int | None:
    """A project id from the address or a store; None when it is not a plain positive integer."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw > 0 else None
    if isinstance(raw, str) and raw.isdigit() and len(raw) < 10:
        return int(raw) or None
    return None


def _open_project(raw: Any) -> dict[str, Any]:
    """The project a callback was asked about: refused (audited 403) when it exists outside the scope."""
    pid = _pid(raw.get("id") if isinstance(raw, dict) else raw)
    lang = current_lang()
    if pid is None:
        raise UserError(t("ws.projects.m.need_project", lang))
    project = get_project(_appdb(), current_scope(), pid)
    if project is None:
        if project_exists(_appdb(), pid):
            raise PermissionDenied(f"project {pid} lies outside the user's scope")
        raise UserError(t("ws.projects.missing", lang, id=pid))
    return project


def _period_key(raw: Any) -> str:
    return raw if valid_period_key(raw) else "ytd"


def _href(dept: str, period: str, pid: int | None = None) -> str:
    return "?" + urlencode({"dept": dept, "period": period} | ({"project": pid} if pid is not None else {}))


# ------------------------------------------------------------------------------------ layout
def layout(dept: str | None = None, period: str | None = None, project: str | None = None, **_q: str) -> Any:
    start = begin(__name__, dept, period)
    if not isinstance(start, Start):
        return start
    lang = start.lang
    opened: dict[str, Any] | None = None
    notice = None
    if project is not None:
        pid = _pid(project)
        if pid is None:
            notice = html.Div(t("ws.projects.bad_id", lang), className="alert alert-warning", id="wsp-notice")
        else:
            opened = get_project(_appdb(), current_scope(), pid)
            if opened is None and project_exists(_appdb(), pid):
                audit("forbidden_project", "/workspace/projects", f"project={pid}")
                return refusal("project_scope", lang, link=PATHS["projects"] + _href(start.dept, start.period),
                               link_label="ws.projects.list", id=pid)
            if opened is None:
                notice = html.Div(t("ws.projects.missing", lang, id=pid), className="alert alert-warning",
                                  id="wsp-notice")
    body: list[Any] = [dcc.Store(id="wsp-open", data={"id": opened["id"]} if opened else None)]
    if notice is not None:
        body.append(notice)
    projects = view.list_frame(list_projects(_appdb(), current_scope()), _dept_names(lang), lang)
    body.append(section("projects-list", lang, view.list_grid(projects, lang), exports=((PAGE, "list"),),
                        title=t("ws.projects.list", lang)))
    if opened is not None:
        body.append(section("projects-compare", lang, _project_head(opened, lang), dcc.Loading(html.Div(id="wsp-compare")),
                            dcc.Store(id="wsp-compare-data"), exports=((PAGE, "comparison"),),
                            title=t("ws.projects.compare", lang, title=opened["title"])))
    else:
        body.append(html.Div([html.Div(id="wsp-compare"), dcc.Store(id="wsp-compare-data")], className="d-none"))
    body.append(section("projects-form", lang, _form(start, opened),
                        title=t("ws.projects.edit", lang, id=opened["id"]) if opened else t("ws.projects.new", lang)))
    body.append(section("projects-manual", lang, view.manual_table(lang, MAX_COLUMNS), exports=((PAGE, "manual"),),
                        title=t("ws.projects.manual", lang)))
    return frame("projects", start, body, period_picker=False, subtitle=t("ws.projects.subtitle", lang))


def _project_head(p: dict[str, Any], lang: str) -> Any:
    fresh = warehouse().freshness()
    win = windows(p["start_date"], p["before_days"], p["after_days"], fresh.first_date, fresh.data_through)
    return view.project_head(p, win, fresh.data_through, _dept_names(lang), lang)


def _form(start: Start, p: dict[str, Any] | None) -> Any:
    through = warehouse().freshness().data_through
    return view.project_form(
        p, start.lang, dept_options=[{"label": r[start.name_col], "value": r["dept_id"]} for _, r in start.mine.iterrows()],
        default_dept=start.dept, indicators=SUPPORTED, statuses=PROJECT_STATUSES,
        default_start=through.replace(day=1) if through else None, default_days=(DEFAULT_BEFORE, DEFAULT_AFTER),
        new_href=_href(start.dept, start.period), title_max=TITLE_MAX, description_max=DESCRIPTION_MAX)


@page_callback(Output("_pages_location", "search", allow_duplicate=True), Input(view.LIST_GRID, "cellClicked"),
               State("ws-dept", "value"), State("ws-period", "value"), roles=READERS, dept="ws-dept",
               prevent_initial_call=True)
def open_clicked(ask: Ask, cell: Any, period: Any) -> Any:
    """A click on a row of the list opens that project (its address; the layout checks the scope)."""
    pid = _pid(cell.get("rowId")) if isinstance(cell, dict) else None
    return no_update if pid is None else _href(ask.dept, _period_key(period), pid)


# ------------------------------------------------------------------------------- comparison
def _results(project: dict[str, Any]) -> list[Result]:
    codes = tuple(c for c in project["indicator_list"] if c in KINDS)
    return evaluate_project(warehouse(), current_scope(), codes, tuple(project["dept_list"]), project["start_date"],
                            int(project["before_days"]), int(project["after_days"]))


@page_callback(Output("wsp-compare", "children"), Output("wsp-compare-data", "data"), Input("wsp-open", "data"),
               Input("ws-dept", "value"), roles=READERS, dept="ws-dept")
def compare_callback(ask: Ask, opened: Any) -> tuple:
    if not opened:
        return None, None
    project = _open_project(opened)
    results: list[Result] = []

    def build() -> Any:
        results.extend(_results(project))
        return view.comparison(results, ask.lang)
    shown = safe(build, ask.lang, "project comparison")
    return shown, [_data(r) for r in results]


def _data(r: Result) -> dict[str, Any]:
    """The numbers behind the display (for tests and for a reader's tools)."""
    def clean(x: Any) -> Any:
        return None if isinstance(x, float) and not math.isfinite(x) else x
    return {"indicator": r.indicator, "kind": r.kind, "n_before": r.n_before, "n_after": r.n_after,
            "value_before": clean(r.value_before), "value_after": clean(r.value_after), "diff": clean(r.diff),
            "ci": list(r.ci) if r.ci else None, "test": r.test, "statistic": clean(r.statistic), "dof": r.dof,
            "p": clean(r.p), "reason": r.reason, "table": r.table, "errors": r.errors,
            "before": [str(d) for d in r.windows.before] if r.windows.before else None,
            "after": [str(d) for d in r.windows.after] if r.windows.after else None}


# ------------------------------------------------------------------------------------- saving
@page_callback(Output("_pages_location", "search", allow_duplicate=True),
               *[Output(f"wsp-err-{f}", "children") for f in FORM_FIELDS], Output("wsp-form-msg", "children"),
               Input("wsp-save", "n_clicks"),
               State("ws-dept", "value"), State("ws-period", "value"), State("wsp-edit", "data"),
               State("wsp-title", "value"), State("wsp-depts", "value"), State("wsp-indicators", "value"),
               State("wsp-start", "value"), State("wsp-before", "value"), State("wsp-after", "value"),
               State("wsp-description", "value"), State("wsp-status", "value"), roles=READERS, dept="ws-dept",
               prevent_initial_call=True)
def save(ask: Ask, clicks: Any, period: Any, edit: Any, title: Any, dept_ids: Any, indicators: Any, start_date: Any,
         before_days: Any, after_days: Any, description: Any, status: Any) -> tuple:
    """Create or change a project; bad fields are marked in place and nothing is saved."""
    none = (None,) * len(FORM_FIELDS)
    if not clicks:
        return (no_update, *none, no_update)
    lang, scope = ask.lang, ask.scope
    values = {"title": title, "dept_ids": dept_ids if isinstance(dept_ids, list) else [], "indicators":
              indicators if isinstance(indicators, list) else [], "start_date": start_date, "before_days": before_days,
              "after_days": after_days, "description": description, "status": status}
    fresh = warehouse().freshness()
    campus_of = department_campuses(warehouse(), Scope.hospital())  # every department's (the store checks the scope)
    try:
        if isinstance(edit, dict) and edit.get("id") is not None:
            pid = _pid(edit.get("id"))
            version = edit.get("version")
            if pid is None or not isinstance(version, int):
                raise UserError(t("wall.bad_filter", lang))
            if get_project(_appdb(), scope, pid) is None and project_exists(_appdb(), pid):
                raise PermissionDenied(f"project {pid} lies outside the user's scope")
            project = update_project(_appdb(), scope, pid, values, current_user.username, version, campus_of,
                                     fresh.first_date, fresh.data_through)
            audit("project_update", f"project {pid}", f"version {project['version']}")
        else:
            project = create_project(_appdb(), scope, values, current_user.username, campus_of, fresh.first_date,
                                     fresh.data_through)
            audit("project_create", f"project {project['id']}", project["dept_ids"])
    except FieldErrors as exc:
        if exc.errors.get("dept_ids") == "outside_scope":
            audit("forbidden_department", "/workspace/projects", f"depts={','.join(map(str, values['dept_ids']))[:200]}")
        marks = view.field_errors(FORM_FIELDS, exc.errors, lang, first=fresh.first_date, min_days=MIN_DAYS,
                                  max_days=MAX_DAYS, max_ind=MAX_INDICATORS, start_text=str(start_date or "").strip()[:40])
        return (no_update, *marks, html.Span(t("ws.projects.not_saved", lang), className="text-danger"))
    except CodedError as exc:
        return (no_update, *none, html.Span(t(f"ws.projects.err.{exc.code}", lang), className="text-danger",
                                            id="wsp-form-refused"))
    search = _href(ask.dept, _period_key(period), project["id"]) + "&" + urlencode({"v": project["version"]})
    return (search, *none, html.Span(t("ws.projects.saved", lang), className="text-success"))


# ------------------------------------------------------------------------------- manual table
def _cells(values: list[Any] | None, ncols: int) -> list[list[Any]]:
    """The ALL-pattern cell values (row-major, as laid out) cut to the columns in use."""
    vals = list(values or [])
    if len(vals) != len(view.ROWS) * MAX_COLUMNS:
        raise UserError(t("ws.projects.m.err.too_small", current_lang()))
    return [vals[r * MAX_COLUMNS:r * MAX_COLUMNS + ncols] for r in range(len(view.ROWS))]


def _labels(values: list[Any] | None, ncols: int, lang: str) -> list[str]:
    vals = list(values or [])
    out = []
    for c in range(ncols):
        raw = str(vals[c]).strip()[:40] if c < len(vals) and vals[c] is not None else ""
        out.append(raw or t("ws.projects.m.label", lang, n=c + 1))
    return out


def _ncols(raw: Any) -> int:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and 2 <= raw <= MAX_COLUMNS else 2


def manual_frame(cells: list[list[Any]], labels: list[str], lang: str) -> pd.DataFrame:
    """The typed table with totals, then the test's results; FieldErrors when the table is not valid."""
    table, chi = manual_test(cells)
    return view.manual_frame(table, chi, labels, lang)


@page_callback(Output("wsp-manual", "className"), Output("wsp-manual-result", "children"),
               Output("wsp-manual-data", "data"), Input("wsp-run", "n_clicks"), Input("wsp-ncols", "value"),
               State({"type": "wsp-cell", "row": ALL, "col": ALL}, "value"),
               State({"type": "wsp-label", "col": ALL}, "value"), State("ws-dept", "value"), roles=READERS,
               dept="ws-dept", prevent_initial_call=True)
def manual(ask: Ask, clicks: Any, ncols: Any, values: Any, labels: Any) -> tuple:
    """Show the columns in use; on Run, Pearson's chi-square on the typed counts (bad cells named)."""
    n = _ncols(ncols)
    if ctx.triggered_id != "wsp-run" or not clicks:
        return view.manual_class(n), None, None
    names = _labels(labels, n, ask.lang)
    try:
        table, chi = manual_test(_cells(values, n))
    except FieldErrors as exc:
        return view.manual_class(n), view.manual_errors(exc.errors, names, ask.lang), {"errors": exc.errors}
    data = {"table": table, "labels": names, "chi2": chi.chi2, "dof": chi.dof, "p": chi.p, "diff": chi.diff,
            "ci": list(chi.ci) if chi.ci else None, "small_expected": chi.small_expected}
    return view.manual_class(n), view.manual_result(table, chi, names, ask.lang), data


# ------------------------------------------------------------------------------------- export
def _export_list(ask: Ask, *_rest: Any) -> Export:
    df = view.list_frame(list_projects(_appdb(), ask.scope), _dept_names(ask.lang), ask.lang)
    heads = view.list_headers(ask.lang)
    return Export(df.rename(columns=heads), f"projects-{date.today()}", "workspace projects list",
                  title=t("ws.projects.list", ask.lang), kinds={heads["start"]: "date"}, dated=False,
                  whole_scope=True)


def _export_comparison(ask: Ask, opened: Any, *_rest: Any) -> Export:
    lang = ask.lang
    project = _open_project(opened)
    results = _results(project)
    c = lambda key: t(f"ws.projects.c.{key}", lang)  # noqa: E731
    kinds: dict[str, Any] = {c(k): BY_ROW for k in ("before", "after", "diff", "ci_low", "ci_high")}
    kinds |= {c(k): "integer" for k in ("n_before", "n_after", "events_before", "events_after", "df")}
    kinds |= {c("statistic"): ("ratio", 3), c("p"): ("ratio", 4)}
    return Export(view.comparison_frame(results, lang), f"project-{project['id']}-before-after",
                  f"workspace project {project['id']}", title=t("ws.projects.compare", lang, title=project["title"]),
                  kinds=kinds, row_kinds=[unit_kind(INDICATORS[r.indicator].unit) for r in results], dated=False,
                  whole_scope=True)


def _export_manual(ask: Ask, _opened: Any, values: Any, labels: Any, ncols: Any) -> Export:
    lang, n = ask.lang, _ncols(ncols)
    try:
        df = manual_frame(_cells(values, n), _labels(labels, n, lang), lang)
    except FieldErrors:
        raise UserError(t("ws.projects.m.not_ready", lang)) from None
    stats = ["integer", "integer", ("ratio", 3), "integer", ("ratio", 4), "percent", "percent", "percent"]
    return Export(df, f"contingency-{ask.dept}", "workspace projects manual table", title=t("ws.projects.manual", lang),
                  kinds={h: BY_ROW for h in df.columns[1:]}, row_kinds=stats[:len(df)], dated=False)


export_callback(PAGE, {"list": _export_list, "comparison": _export_comparison, "manual": _export_manual},
                State("wsp-open", "data"), State({"type": "wsp-cell", "row": ALL, "col": ALL}, "value"),
                State({"type": "wsp-label", "col": ALL}, "value"), State("wsp-ncols", "value"), roles=READERS,
                dept="ws-dept", period="ws-period", period_of=lambda key: resolve_period(_period_key(key)))
