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
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from flask import current_app
from flask_login import current_user

from appdb.projects import create_project, get_project, list_projects, project_exists, update_project
from appdb.schema import PROJECT_STATUSES
from appdb.store import CodedError
from components.exports import BY_ROW, unit_kind
from components.format import format_indicator, format_points
from components.i18n import t
from components.palette import judge_change
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
from data_layer.queries.structure import departments
from data_layer.registry import INDICATORS
from data_layer.scope import Scope
from data_layer.stats import MIN_PER_GROUP, FieldErrors
from shell.access import PermissionDenied, audit, secured
from shell.inputs import Ref

from .._address import refusal
from .._common import current_lang, current_scope, send_table, warehouse
from .._kit import safe
from ._frame import (
    PATHS,
    ROLES,
    Start,
    begin,
    check_department,
    export_request,
    frame,
    resolve_period,
    section,
    section_page,
    valid_period_key,
)

dash.register_page(__name__, **section_page("projects", inputs={"wsp-open.data": Ref, "wsp-edit.data": Ref}))

PAGE = "projects"
TABLES = ("list", "comparison", "manual")
FORM_FIELDS = ("title", "dept_ids", "indicators", "start_date", "before_days", "after_days", "description", "status")
ROWS = ("before", "after")
BEFORE_COLOUR, AFTER_COLOUR = "#0072b2", "#e69f00"  # Okabe-Ito blue and orange


# ----------------------------------------------------------------------------------- helpers
def _appdb():
    return current_app.extensions["hospdash"].appdb


def _campus_of() -> dict[str, str | None]:
    """Every department the warehouse knows -> its campus (the store checks the scope itself)."""
    deps = departments(warehouse(), Scope.hospital())
    return {str(d): (None if c is None else str(c)) for d, c in zip(deps["dept_id"], deps["campus_id"], strict=True)}


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


def _p_text(p: float) -> str:
    if p != p:
        return "—"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _num(x: float | None, digits: int = 3) -> str:
    return "—" if x is None or x != x else f"{x:.{digits}f}"


def _value(x: float, code: str, lang: str) -> str:
    unit = INDICATORS[code].unit
    if unit == "ratio":
        return "—" if x != x else f"{x * 100:.2f}%"
    if unit in ("visits", "cases", "bed_days", "count") and x == x:
        return f"{x:,.1f}"  # a mean per day: keep a decimal
    return format_indicator(x, unit, lang)


def _diff(x: float, code: str, lang: str) -> str:
    if x != x:
        return "—"
    if INDICATORS[code].unit == "ratio":
        return format_points(x, lang)
    text = _value(abs(x), code, lang)
    return ("+" if x > 0 else "−" if x < 0 else "") + text


def _error_text(res: Result, lang: str) -> str:
    parts = []
    for key, code in res.errors.items():
        if code == "too_few" and key in ROWS:
            n = res.n_before if key == "before" else res.n_after
            parts.append(t(f"ws.projects.few.{key}", lang, n=n, min=MIN_PER_GROUP))
        elif code in ("empty_column", "empty_row"):
            parts.append(t(f"ws.projects.few.{code}", lang))
        else:
            parts.append(t("ws.projects.few.other", lang, code=code))
    return " ".join(parts)


def _verdict(res: Result, lang: str) -> str:
    if res.errors:
        return _error_text(res, lang)
    ind = INDICATORS[res.indicator]
    sig = res.significant
    head = t("ws.projects.sig" if sig else "ws.projects.not_sig", lang, p=_p_text(res.p))
    direction = t("ws.projects.up" if res.diff > 0 else "ws.projects.down", lang)
    moved = t("ws.projects.moved", lang, name=ind.name(lang), direction=direction,
              before=_value(res.value_before, res.indicator, lang), after=_value(res.value_after, res.indicator, lang))
    judged = ""
    verdict = judge_change(ind, res.diff, res.value_after, scale=1, decimals=6) if sig else "neutral"
    if verdict in ("good", "bad"):  # the one rule: direction and healthy range (data_layer.verdict)
        judged = " (" + t("ws.projects.better" if verdict == "good" else "ws.projects.worse", lang) + ")"
    return f"{head} {moved}{judged}"


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
                return refusal("project_scope", lang, link=_href_list(start), link_label="ws.projects.list", id=pid)
            if opened is None:
                notice = html.Div(t("ws.projects.missing", lang, id=pid), className="alert alert-warning",
                                  id="wsp-notice")
    body: list[Any] = [dcc.Store(id="wsp-open", data={"id": opened["id"]} if opened else None)]
    if notice is not None:
        body.append(notice)
    body.append(section("projects-list", lang, _list(start), exports=((PAGE, "list"),),
                        title=t("ws.projects.list", lang)))
    if opened is not None:
        body.append(section("projects-compare", lang, _project_head(opened, lang), dcc.Loading(html.Div(id="wsp-compare")),
                            dcc.Store(id="wsp-compare-data"), exports=((PAGE, "comparison"),),
                            title=t("ws.projects.compare", lang, title=opened["title"])))
    else:
        body.append(html.Div([html.Div(id="wsp-compare"), dcc.Store(id="wsp-compare-data")], className="d-none"))
    body.append(section("projects-form", lang, _form(start, opened),
                        title=t("ws.projects.edit", lang, id=opened["id"]) if opened else t("ws.projects.new", lang)))
    body.append(section("projects-manual", lang, _manual(lang), exports=((PAGE, "manual"),),
                        title=t("ws.projects.manual", lang)))
    return frame("projects", start, body, period_picker=False, subtitle=t("ws.projects.subtitle", lang))


def _href_list(start: Start) -> str:
    return PATHS["projects"] + "?" + urlencode({"dept": start.dept, "period": start.period})


def _href(start: Start, pid: int) -> str:
    return "?" + urlencode({"dept": start.dept, "period": start.period, "project": pid})


def list_frame(scope: Scope, lang: str) -> pd.DataFrame:
    """The projects in the scope, newest first, with names in the reader's language."""
    df = list_projects(_appdb(), scope)
    names = _dept_names(lang)
    k = lambda key: t(f"ws.projects.col.{key}", lang)  # noqa: E731
    rows = [{k("id"): int(r["id"]), k("title"): r["title"],
             k("departments"): "、".join(names.get(d, d) for d in r["dept_list"]) if lang == "zh" else
             ", ".join(names.get(d, d) for d in r["dept_list"]),
             k("indicators"): ", ".join(INDICATORS[c].name(lang) if c in INDICATORS else c for c in r["indicator_list"]),
             k("start"): str(r["start_date"]), k("windows"): f"{r['before_days']}/{r['after_days']}",
             k("status"): t(f"ws.projects.status.{r['status']}", lang), k("created_by"): r["created_by"] or "",
             k("updated"): str(r["updated_at"])[:16], k("description"): r["description"] or ""}
            for _, r in df.iterrows()]
    cols = [k(c) for c in ("id", "title", "departments", "indicators", "start", "windows", "status", "created_by",
                           "updated", "description")]
    return pd.DataFrame(rows, columns=cols)


def _list(start: Start) -> Any:
    lang = start.lang
    df = list_frame(current_scope(), lang)
    if df.empty:
        return html.P(t("ws.projects.none", lang), className="note", id="wsp-list")
    cols = list(df.columns)[:-1]  # the description stays in the export and the opened project
    head = html.Thead(html.Tr([html.Th(c) for c in cols]))
    body = []
    for _, r in df.iterrows():
        pid = int(r[cols[0]])
        cells = [html.Td(pid, className="num"),
                 html.Td(dcc.Link(r[cols[1]], href=_href(start, pid), id={"type": "wsp-link", "index": pid}))]
        cells += [html.Td(r[c]) for c in cols[2:]]
        body.append(html.Tr(cells))
    return html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table wsp-list", id="wsp-list"),
                    className="table-scroll")


def _project_head(p: dict[str, Any], lang: str) -> Any:
    fresh = warehouse().freshness()
    win = windows(p["start_date"], p["before_days"], p["after_days"], fresh.first_date, fresh.data_through)
    names = _dept_names(lang)
    b = win.before or win.before_asked
    lines = [html.Div([html.Span(t(f"ws.projects.status.{p['status']}", lang), className=f"badge wsp-status wsp-{p['status']}"),
                       " ", "、".join(names.get(d, d) for d in p["dept_list"])], className="wsp-meta")]
    if win.after is None:
        lines.append(html.P(t("ws.projects.after_pending", lang, a0=win.after_asked[0], through=fresh.data_through),
                            className="note"))
    else:
        lines.append(html.P(t("ws.projects.windows", lang, b0=b[0], b1=b[1], a0=win.after[0], a1=win.after[1],
                              through=fresh.data_through), className="note"))
    if (win.before, win.after) != (win.before_asked, win.after_asked):
        lines.append(html.P(t("ws.projects.clipped", lang), className="note"))
    if p["description"]:
        lines.append(html.P(p["description"], className="wsp-description"))
    return html.Div(lines, id="wsp-head")


def _field(key: str, lang: str, control: Any) -> html.Div:
    return html.Div([html.Label(t(f"ws.projects.f.{key}", lang), className="form-label"), control,
                     html.Div(id=f"wsp-err-{key}", className="wsp-error")], className=f"wsp-field wsp-field-{key}")


def _form(start: Start, p: dict[str, Any] | None) -> Any:
    lang = start.lang
    fresh = warehouse().freshness()
    dept_opts = [{"label": r[start.name_col], "value": r["dept_id"]} for _, r in start.mine.iterrows()]
    ind_opts = [{"label": INDICATORS[c].name(lang), "value": c} for c in SUPPORTED]
    default_start = fresh.data_through.replace(day=1) if fresh.data_through else None
    return html.Div([
        dcc.Store(id="wsp-edit", data={"id": p["id"], "version": p["version"]} if p else None),
        html.Div([
            _field("title", lang, dcc.Input(id="wsp-title", type="text", maxLength=200, value=p["title"] if p else "",
                                            className="form-control")),
            _field("dept_ids", lang, dcc.Dropdown(id="wsp-depts", options=dept_opts, multi=True,
                                                  value=p["dept_list"] if p else [start.dept])),
            _field("indicators", lang, dcc.Dropdown(id="wsp-indicators", options=ind_opts, multi=True,
                                                    value=p["indicator_list"] if p else [])),
            # Text, not a date picker: a picker drops a day it cannot read (2030-13-45) without a word,
            # where the check on saving says what is wrong. Window lengths leave their range (and
            # whole days) to that check too: a browser blanks a number outside min/max.
            _field("start_date", lang, dcc.Input(
                id="wsp-start", type="text", placeholder="YYYY-MM-DD", maxLength=40, className="form-control",
                value=str(p["start_date"]) if p else (str(default_start) if default_start else ""))),
            _field("before_days", lang, dcc.Input(id="wsp-before", type="number", step="any", inputMode="numeric",
                                                  value=p["before_days"] if p else DEFAULT_BEFORE,
                                                  className="form-control")),
            _field("after_days", lang, dcc.Input(id="wsp-after", type="number", step="any", inputMode="numeric",
                                                 value=p["after_days"] if p else DEFAULT_AFTER, className="form-control")),
            _field("status", lang, dcc.Dropdown(
                id="wsp-status", clearable=False, value=p["status"] if p else "active",
                options=[{"label": t(f"ws.projects.status.{s}", lang), "value": s} for s in PROJECT_STATUSES])),
            _field("description", lang, dcc.Textarea(id="wsp-description", value=(p["description"] or "") if p else "",
                                                     className="form-control", rows=3, maxLength=4000)),
        ], className="wsp-form"),
        html.P(t("ws.projects.f.help", lang), className="note"),
        html.Div([html.Button(t("ws.projects.f.save" if p else "ws.projects.f.save_new", lang), id="wsp-save",
                              className="btn btn-primary"),
                  dcc.Link(t("ws.projects.f.new_link", lang), href="?" + urlencode({"dept": start.dept,
                                                                                     "period": start.period}),
                           className="ms-3") if p else None,
                  html.Span(id="wsp-form-msg", className="ms-3")], className="wsp-actions"),
    ])


def _manual(lang: str) -> Any:
    def cell(r: int, c: int) -> html.Td:
        return html.Td(dcc.Input(id={"type": "wsp-cell", "row": r, "col": c}, type="text", inputMode="numeric",
                                 value="", className="form-control form-control-sm wsp-cell", debounce=True),
                       className=f"wsp-c{c}")

    labels = [t("ws.projects.m.label0", lang), t("ws.projects.m.label1", lang)] + [
        t("ws.projects.m.label", lang, n=i + 1) for i in range(2, MAX_COLUMNS)]
    head = html.Tr([html.Th(t("ws.projects.m.group", lang))] + [
        html.Th(dcc.Input(id={"type": "wsp-label", "col": c}, type="text", value=labels[c], maxLength=40,
                          className="form-control form-control-sm"), className=f"wsp-c{c}")
        for c in range(MAX_COLUMNS)])
    rows = [html.Tr([html.Th(t(f"ws.projects.m.{name}", lang))] + [cell(r, c) for c in range(MAX_COLUMNS)])
            for r, name in enumerate(ROWS)]
    return html.Div([
        html.P(t("ws.projects.manual_help", lang), className="note"),
        html.Div([html.Label(t("ws.projects.m.columns", lang), className="me-2"),
                  dcc.Dropdown(id="wsp-ncols", options=[{"label": str(n), "value": n} for n in range(2, MAX_COLUMNS + 1)],
                               value=2, clearable=False, className="wsp-ncols")], className="wsp-inline"),
        html.Div(html.Table([html.Thead(head), html.Tbody(rows)], className=_manual_class(2), id="wsp-manual"),
                 className="table-scroll"),
        html.Button(t("ws.projects.m.run", lang), id="wsp-run", className="btn btn-primary btn-sm"),
        html.Div(id="wsp-manual-result", className="wsp-manual-result"),
        dcc.Store(id="wsp-manual-data"),
    ])


def _manual_class(ncols: int) -> str:
    """The table's classes; wsp-n<k> hides the columns from k on (assets/ws-projects.css)."""
    return f"table table-sm wsp-manual wsp-n{ncols}"


# ------------------------------------------------------------------------------- comparison
def comparison_frame(results: list[Result], lang: str) -> pd.DataFrame:
    """One row per indicator: windows, observations, values, difference and interval, test, p, verdict."""
    k = lambda key: t(f"ws.projects.c.{key}", lang)  # noqa: E731
    rows = []
    for r in results:
        ind = INDICATORS[r.indicator]
        w = r.windows
        rows.append({
            k("indicator"): ind.name(lang), k("observation"): t(f"ws.projects.obs.{r.kind}", lang),
            k("before_window"): f"{w.before[0]}..{w.before[1]}" if w.before else "",
            k("after_window"): f"{w.after[0]}..{w.after[1]}" if w.after else "",
            k("n_before"): r.n_before, k("n_after"): r.n_after,
            k("events_before"): r.table[0][0] if r.table else None, k("events_after"): r.table[1][0] if r.table else None,
            k("before"): r.value_before, k("after"): r.value_after, k("diff"): None if r.errors else r.diff,
            k("ci_low"): r.ci[0] if r.ci and not r.errors else None, k("ci_high"): r.ci[1] if r.ci and not r.errors else None,
            k("test"): t(f"ws.projects.test.{r.test}", lang) if r.test else "",
            k("statistic"): None if r.errors else r.statistic, k("df"): r.dof, k("p"): None if r.errors else r.p,
            k("verdict"): t("ws.projects.verdict." + ("none" if r.significant is None else
                                                      "sig" if r.significant else "not_sig"), lang),
            t("ws.projects.col.description", lang): _verdict(r, lang),
        })
    return pd.DataFrame(rows)


def _results(project: dict[str, Any]) -> list[Result]:
    codes = tuple(c for c in project["indicator_list"] if c in KINDS)
    return evaluate_project(warehouse(), current_scope(), codes, tuple(project["dept_list"]), project["start_date"],
                            int(project["before_days"]), int(project["after_days"]))


@callback(Output("wsp-compare", "children"), Output("wsp-compare-data", "data"), Input("wsp-open", "data"),
          Input("ws-dept", "value"))
@secured(roles=ROLES, departments=lambda _o, dept: [dept])
def compare_callback(opened: Any, dept: Any) -> tuple:
    check_department(dept)
    if not opened:
        return None, None
    lang = current_lang()
    project = _open_project(opened)
    results: list[Result] = []

    def build() -> Any:
        results.extend(_results(project))
        return _comparison(results, lang)
    shown = safe(build, lang, "project comparison")
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


def _comparison(results: list[Result], lang: str) -> Any:
    if not results:
        return html.P(t("home.no_data", lang), className="note")
    k = lambda key: t(f"ws.projects.c.{key}", lang)  # noqa: E731
    head = html.Thead(html.Tr([html.Th(k(c)) for c in ("indicator", "observation", "n", "before", "after", "diff", "ci",
                                                        "test", "statistic", "p", "verdict")]))
    body, cards = [], []
    for r in results:
        code = r.indicator
        ind = INDICATORS[code]
        ci = "—" if r.errors or r.ci is None else f"{_diff(r.ci[0], code, lang)} … {_diff(r.ci[1], code, lang)}"
        stat = "—" if r.errors else (f"χ² = {r.statistic:.3f}, df = {r.dof}" if r.test == "chi_square" else
                                     f"{'t' if r.test == 'welch_t' else 'U'} = {r.statistic:,.3f}")
        sig = r.significant
        verdict_cls = "wsp-none" if sig is None else "wsp-sig" if sig else "wsp-notsig"
        body.append(html.Tr([
            html.Td(ind.name(lang)), html.Td(t(f"ws.projects.obs.{r.kind}", lang)),
            html.Td(f"{r.n_before:,} / {r.n_after:,}", className="num"),
            html.Td(_value(r.value_before, code, lang), className="num"),
            html.Td(_value(r.value_after, code, lang), className="num"),
            html.Td("—" if r.errors else _diff(r.diff, code, lang), className="num"), html.Td(ci, className="num"),
            html.Td(t(f"ws.projects.test.{r.test}", lang) if r.test else "—"), html.Td(stat, className="num"),
            html.Td("—" if r.errors else _p_text(r.p).replace("= ", ""), className="num"),
            html.Td(html.Span(t("ws.projects.verdict." + ("none" if sig is None else "sig" if sig else "not_sig"), lang),
                              className=f"wsp-verdict {verdict_cls}")),
        ], id={"type": "wsp-row", "index": code}))
        notes: list[Any] = [html.P(_verdict(r, lang), className="wsp-verdict-text" + (" wsp-error-text" if r.errors else ""),
                                   id={"type": "wsp-verdict", "index": code})]
        if r.reason:
            notes.append(html.P(t(f"ws.projects.why.{r.reason}", lang), className="note"))
        if r.table:
            notes.append(html.P(t("ws.projects.counts", lang, eb=f"{r.table[0][0]:,}", nb=f"{r.n_before:,}",
                                  ea=f"{r.table[1][0]:,}", na=f"{r.n_after:,}"), className="note"))
        if r.small_expected:
            notes.append(html.P(t("ws.projects.small_expected", lang), className="note"))
        if r.kind == "daily":
            notes.append(html.P(t("ws.projects.daily_note", lang), className="note"))
        graph = None if r.weekly.empty else dcc.Graph(figure=_figure(r, lang), config={"displayModeBar": False},
                                                      className="wsp-graph", id={"type": "wsp-graph", "index": code})
        cards.append(html.Div([html.H3(ind.name(lang)), html.Div([html.Div(notes, className="wsp-notes"), graph],
                                                                className="wsp-card-body")],
                              className="wsp-card", id={"type": "wsp-card", "index": code}))
    table = html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table wsp-compare-table",
                                id="wsp-compare-table"), className="table-scroll")
    return [table, html.Div(cards, className="wsp-cards")]


def _figure(r: Result, lang: str) -> go.Figure:
    """Weekly values (7-day bins from the start), before in blue and after in orange, the start marked
    and each window's mean as a dashed line."""
    ind = INDICATORS[r.indicator]
    scale = 100.0 if ind.unit == "ratio" else 1.0
    wk = r.weekly
    fig = go.Figure()
    for name, colour, symbol in (("before", BEFORE_COLOUR, "circle"), ("after", AFTER_COLOUR, "diamond")):
        part = wk[wk["window"] == name]
        if part.empty:
            continue
        fig.add_scatter(x=[str(d) for d in part["bin_start"]], y=(part["value"].astype(float) * scale).round(4).tolist(),
                        mode="lines+markers", name=t(f"ws.projects.chart_{name}", lang),
                        line={"color": colour, "width": 2}, marker={"symbol": symbol, "size": 7},
                        hovertemplate="%{x}: %{y}<extra></extra>")
        mean = r.value_before if name == "before" else r.value_after
        if mean == mean:
            fig.add_scatter(x=[str(part["bin_start"].iloc[0]), str(part["bin_start"].iloc[-1])],
                            y=[round(mean * scale, 4)] * 2, mode="lines", showlegend=False, hoverinfo="skip",
                            line={"color": colour, "dash": "dash", "width": 1.5})
    start = str(r.windows.start)
    fig.add_shape(type="line", x0=start, x1=start, y0=0, y1=1, xref="x", yref="paper",
                  line={"color": "#555", "width": 1.5, "dash": "dot"})
    fig.add_annotation(x=start, y=1, xref="x", yref="paper", text=t("ws.projects.chart_start", lang), showarrow=False,
                       yanchor="bottom", font={"size": 11})
    fig.update_xaxes(type="date", tickformat="%Y-%m-%d")
    fig.update_yaxes(ticksuffix="%" if ind.unit == "ratio" else "")
    fig.update_layout(title={"text": t("ws.projects.chart", lang, name=ind.name(lang)), "font": {"size": 13}},
                      height=250, margin={"l": 50, "r": 10, "t": 44, "b": 30}, plot_bgcolor="#fff",
                      paper_bgcolor="#fff", legend={"orientation": "h", "y": -0.18})
    return fig


# ------------------------------------------------------------------------------------- saving
@callback(Output("_pages_location", "search", allow_duplicate=True),
          *[Output(f"wsp-err-{f}", "children") for f in FORM_FIELDS], Output("wsp-form-msg", "children"),
          Input("wsp-save", "n_clicks"),
          State("ws-dept", "value"), State("ws-period", "value"), State("wsp-edit", "data"),
          State("wsp-title", "value"), State("wsp-depts", "value"), State("wsp-indicators", "value"),
          State("wsp-start", "value"), State("wsp-before", "value"), State("wsp-after", "value"),
          State("wsp-description", "value"), State("wsp-status", "value"), prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _n, dept, *_rest: [dept])
def save(clicks: Any, dept: Any, period: Any, edit: Any, title: Any, dept_ids: Any, indicators: Any, start_date: Any,
         before_days: Any, after_days: Any, description: Any, status: Any) -> tuple:
    """Create or change a project; bad fields are marked in place and nothing is saved."""
    none = (None,) * len(FORM_FIELDS)
    if not clicks:
        return (no_update, *none, no_update)
    lang = current_lang()
    dept = check_department(dept)
    period = period if valid_period_key(period) else "ytd"
    scope = current_scope()
    values = {"title": title, "dept_ids": dept_ids if isinstance(dept_ids, list) else [], "indicators":
              indicators if isinstance(indicators, list) else [], "start_date": start_date, "before_days": before_days,
              "after_days": after_days, "description": description, "status": status}
    fresh = warehouse().freshness()
    campus_of = _campus_of()
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
        params = {"first": fresh.first_date, "min_days": MIN_DAYS, "max_days": MAX_DAYS, "max_ind": MAX_INDICATORS,
                  "start_text": str(start_date or "").strip()[:40]}
        marks = tuple(html.Span(t(f"ws.projects.err.{exc.errors[f]}", lang, **params), className="text-danger",
                                id={"type": "wsp-field-error", "index": f})
                      if f in exc.errors else None for f in FORM_FIELDS)
        return (no_update, *marks, html.Span(t("ws.projects.not_saved", lang), className="text-danger"))
    except CodedError as exc:
        return (no_update, *none, html.Span(t(f"ws.projects.err.{exc.code}", lang), className="text-danger",
                                            id="wsp-form-refused"))
    query = {"dept": dept, "period": period, "project": project["id"], "v": project["version"]}
    return ("?" + urlencode(query), *none, html.Span(t("ws.projects.saved", lang), className="text-success"))


# ------------------------------------------------------------------------------- manual table
def _cells(values: list[Any] | None, ncols: int) -> list[list[Any]]:
    """The ALL-pattern cell values (row-major, as laid out) cut to the columns in use."""
    vals = list(values or [])
    if len(vals) != len(ROWS) * MAX_COLUMNS:
        raise UserError(t("ws.projects.m.err.too_small", current_lang()))
    return [vals[r * MAX_COLUMNS:r * MAX_COLUMNS + ncols] for r in range(len(ROWS))]


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
    rows = [[t(f"ws.projects.m.{name}", lang), *table[i], sum(table[i])] for i, name in enumerate(ROWS)]
    df = pd.DataFrame(rows, columns=[t("ws.projects.m.group", lang), *labels, t("ws.projects.m.total", lang)])
    stats = [("χ²", chi.chi2), (t("ws.projects.c.df", lang), chi.dof), ("p", chi.p)]
    if chi.diff is not None and chi.ci is not None:
        stats += [(t("ws.projects.c.diff", lang) + f" ({labels[0]})", chi.diff),
                  (t("ws.projects.c.ci_low", lang), chi.ci[0]), (t("ws.projects.c.ci_high", lang), chi.ci[1])]
    extra = pd.DataFrame([[name, value] + [None] * (len(df.columns) - 2) for name, value in stats], columns=df.columns)
    return pd.concat([df, extra], ignore_index=True)


@callback(Output("wsp-manual", "className"), Output("wsp-manual-result", "children"),
          Output("wsp-manual-data", "data"), Input("wsp-run", "n_clicks"), Input("wsp-ncols", "value"),
          State({"type": "wsp-cell", "row": ALL, "col": ALL}, "value"), State({"type": "wsp-label", "col": ALL}, "value"),
          State("ws-dept", "value"), prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _n, _c, _v, _l, dept: [dept])
def manual(clicks: Any, ncols: Any, values: Any, labels: Any, dept: Any) -> tuple:
    """Show the columns in use; on Run, Pearson's chi-square on the typed counts (bad cells named)."""
    check_department(dept)
    lang = current_lang()
    n = _ncols(ncols)
    if ctx.triggered_id != "wsp-run" or not clicks:
        return _manual_class(n), None, None
    cells = _cells(values, n)
    names = _labels(labels, n, lang)
    try:
        table, chi = manual_test(cells)
    except FieldErrors as exc:
        items = []
        for key, code in exc.errors.items():
            if key == "table":
                items.append(html.Li(t(f"ws.projects.m.err.{code}", lang), id={"type": "wsp-manual-error", "index": key}))
            else:
                r, c = int(key[1]), int(key[3])
                items.append(html.Li(t("ws.projects.m.cell", lang, row=t(f"ws.projects.m.{ROWS[r]}", lang), col=names[c],
                                       message=t(f"ws.projects.m.err.{code}", lang)),
                                     id={"type": "wsp-manual-error", "index": key}))
        return _manual_class(n), html.Ul(items, className="text-danger wsp-manual-errors"), {"errors": exc.errors}
    shares = [[x / sum(row) for x in row] for row in table]
    share_row = lambda i: html.Tr([html.Th(t(f"ws.projects.m.{ROWS[i]}", lang))] + [  # noqa: E731
        html.Td(f"{s * 100:.1f}%", className="num") for s in shares[i]])
    parts: list[Any] = [
        html.P(html.Strong(t("ws.projects.m.result", lang, chi2=f"{chi.chi2:.3f}", df=chi.dof, p=_p_text(chi.p))),
               id="wsp-manual-summary"),
        html.P(t("ws.projects.sig" if chi.p < 0.05 else "ws.projects.not_sig", lang, p=_p_text(chi.p))),
    ]
    if chi.diff is not None and chi.ci is not None:
        parts.append(html.P(t("ws.projects.m.diff", lang, label=names[0], p1=f"{shares[0][0] * 100:.1f}%",
                              p2=f"{shares[1][0] * 100:.1f}%", diff=format_points(chi.diff, lang),
                              lo=format_points(chi.ci[0], lang), hi=format_points(chi.ci[1], lang))))
    if chi.small_expected:
        parts.append(html.P(t("ws.projects.small_expected", lang), className="note"))
    parts.append(html.Table([html.Thead(html.Tr([html.Th(t("ws.projects.m.row_share", lang))] +
                                                [html.Th(x) for x in names])),
                             html.Tbody([share_row(0), share_row(1)])], className="table table-sm dw-table wsp-shares"))
    data = {"table": table, "labels": names, "chi2": chi.chi2, "dof": chi.dof, "p": chi.p, "diff": chi.diff,
            "ci": list(chi.ci) if chi.ci else None, "small_expected": chi.small_expected}
    return _manual_class(n), parts, data


# ------------------------------------------------------------------------------------- export
@callback(Output("ws-download", "data", allow_duplicate=True),
          Input({"type": "ws-export", "page": PAGE, "table": ALL, "fmt": ALL}, "n_clicks"),
          State("ws-dept", "value"), State("ws-period", "value"), State("wsp-open", "data"),
          State({"type": "wsp-cell", "row": ALL, "col": ALL}, "value"), State({"type": "wsp-label", "col": ALL}, "value"),
          State("wsp-ncols", "value"), prevent_initial_call=True)
@secured(roles=ROLES, departments=lambda _n, dept, *_rest: [dept])
def export(clicks: Any, dept: Any, period: Any, opened: Any, values: Any, labels: Any, ncols: Any) -> Any:
    req = export_request(clicks, TABLES)
    if req is None:
        return no_update
    table, fmt = req
    lang = current_lang()
    dept = check_department(dept)
    resolve_period(period if valid_period_key(period) else "ytd")
    scope = current_scope()
    c = lambda key: t(f"ws.projects.c.{key}", lang)  # noqa: E731
    if table == "list":
        return send_table(list_frame(scope, lang), f"projects-{date.today()}", fmt, "workspace projects list",
                          title=t("ws.projects.list", lang), kinds={t("ws.projects.col.start", lang): "date"})
    if table == "comparison":
        project = _open_project(opened)
        results = _results(project)
        df = comparison_frame(results, lang)
        kinds = {c(k): BY_ROW for k in ("before", "after", "diff", "ci_low", "ci_high")}
        kinds |= {c(k): "integer" for k in ("n_before", "n_after", "events_before", "events_after", "df")}
        kinds |= {c("statistic"): ("ratio", 3), c("p"): ("ratio", 4)}
        return send_table(df, f"project-{project['id']}-before-after", fmt, f"workspace project {project['id']}",
                          title=t("ws.projects.compare", lang, title=project["title"]), kinds=kinds,
                          row_kinds=[unit_kind(INDICATORS[r.indicator].unit) for r in results])
    n = _ncols(ncols)
    try:
        df = manual_frame(_cells(values, n), _labels(labels, n, lang), lang)
    except FieldErrors:
        raise UserError(t("ws.projects.m.not_ready", lang)) from None
    stats = ["integer", "integer", ("ratio", 3), "integer", ("ratio", 4), "percent", "percent", "percent"]
    return send_table(df, f"contingency-{dept}", fmt, "workspace projects manual table",
                      title=t("ws.projects.manual", lang), kinds={h: BY_ROW for h in df.columns[1:]},
                      dept=dept, row_kinds=stats[:len(df)])
