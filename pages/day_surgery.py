"""Day surgery (日间手术): how many elective operations are done as day cases, by department and by
procedure group (DRG group); their stay, charge, cost and margin against the same groups admitted
conventionally; the bed-days day surgery frees; and the departments and groups with the most
elective cases still admitted conventionally in groups already done as day surgery.

Leaders see their hospital or campus (a campus picker when they see several), assistants their
departments, directors their department; a department picker narrows the view to one. The
address holds `period`, `campus` and `dept`; a bad value becomes a note, a department or campus
outside the scope is refused. A contract version 1 warehouse (no elective flag) says so plainly.
Definitions: data_layer/queries/day_surgery.py and docs/day-surgery.md.
"""
from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import ALL, Input, Output, State, clientside_callback, ctx, dcc, html, no_update

from components.day_surgery import (
    CANDIDATES_SHOWN,
    GRAPH_CONFIG,
    candidates_block,
    cards,
    dept_grid,
    export_frame,
    group_grid,
    note_figure,
    trend_figure,
)
from components.i18n import t
from components.notes import address_notes
from components.overview import freshness_line
from data_layer.errors import UserError
from data_layer.periods import PERIODS, Period, parse_period
from data_layer.queries.day_surgery import by_department, by_group, candidates, has_elective, share_trend, summary
from data_layer.queries.structure import departments
from data_layer.scope import Scope
from shell.access import PermissionDenied, audit, page_denied

from ._address import check_choice, check_period, department_names, department_refusal, note, refusal
from ._address import unused as unused_notes
from ._common import current_lang, current_scope, forbidden_panel, warehouse, warehouse_error_panel
from ._kit import READERS, Ask, Export, check_department, export_buttons, export_callback, page_callback, safe
from ._wall import all_campuses, department_address, user_campuses, view_scope

ROLES = READERS  # leaders (hospital or campus), assistants (their departments), directors (theirs)
PATH = "/day-surgery"
dash.register_page(__name__, path=PATH, name="Day surgery", order=4, allowed_roles=ROLES,
                   nav_label={"zh": "日间手术", "en": "Day surgery"})

FILTERS = (Input("ds-period", "value"), Input("ds-campus", "value"), Input("ds-dept", "value"))
TABLES = ("departments", "groups")


def _clinical(scope: Scope) -> pd.DataFrame:
    deps = departments(warehouse(), scope)
    return deps[deps["kind"] == "clinical"].reset_index(drop=True)


def _dept_options(mine: pd.DataFrame, lang: str, several_campuses: bool) -> list[dict[str, str]]:
    zh = lang == "zh"
    return [{"label": f"{r['name_zh' if zh else 'name_en']} · {r['campus_zh' if zh else 'campus_en']}"
             if several_campuses else r["name_zh" if zh else "name_en"], "value": r["dept_id"]}
            for _, r in mine.iterrows()]


def _campus_choice(raw: Any, campuses: list[str], query: dict[str, Any], lang: str) -> tuple[str | None, Any]:
    """The campus the address asks for, a note when it cannot be used here, or the refusal panel
    for a campus outside the scope (audited)."""
    if raw in (None, ""):
        return None, None
    every = all_campuses()
    if not current_scope().covers_whole_campuses:
        return None, unused_notes(query, {"campus": t("ds.shown.my_departments", lang)}, lang)[0]
    if isinstance(raw, str) and raw in every and raw not in campuses:
        audit("forbidden_campus", PATH, f"campus={raw[:40]}")
        return None, refusal("campus_scope", lang, name=every[raw][0 if lang == "zh" else 1])
    names = {c: every[c][0 if lang == "zh" else 1] for c in campuses}
    return check_choice("campus", raw, names, lang, default=None, shown=t("wall.whole_hospital", lang))


def layout(period: str | None = None, campus: str | None = None, dept: str | None = None, **query: str) -> Any:
    lang = current_lang()
    if page_denied(__name__):
        return forbidden_panel(lang)
    try:
        mine = _clinical(current_scope())
        campuses = user_campuses()
        v2 = has_elective(warehouse())
    except UserError as exc:
        return html.Main(warehouse_error_panel(str(exc), lang), className="container page")
    head = [html.Div([html.H1(t("ds.title", lang), id="ds-title")], className="dw-heading")]
    if not v2:
        return html.Main([html.Header(head, className="page-header dw-header"),
                          html.Div(freshness_line(warehouse().freshness(), lang)),
                          html.Div(t("ds.v1", lang), className="alert alert-info", id="ds-v1", role="status")],
                         className="container-fluid page dw-page ds-page", id="day-surgery-page")
    if mine.empty:
        return html.Main(html.Div(t("dw.no_departments", lang), className="alert alert-warning"),
                         className="container page")
    notes: list[str] = []
    period, period_note = check_period(period, PERIODS, lang)
    notes += [period_note] if period_note else []
    campus, campus_note = _campus_choice(campus, campuses, {"campus": campus}, lang)
    if isinstance(campus_note, html.Main):
        return campus_note
    notes += [campus_note] if campus_note else []
    if dept not in (None, ""):
        try:
            allowed = bool(check_department(dept))
        except PermissionDenied:
            allowed = False
        refused = department_refusal(str(dept), allowed, set(mine["dept_id"]), department_names(lang), lang, PATH)
        if refused is not None:
            if not allowed:
                audit("forbidden_department", PATH, f"dept={str(dept)[:64]}")
            return refused
        home = str(mine.loc[mine["dept_id"] == dept, "campus_id"].iloc[0])
        if campus is not None and campus != home:
            every = all_campuses()
            notes.append(note("campus", campus, t("ds.addr.other_campus", lang), every[home][0 if lang == "zh" else 1],
                              lang))
            campus = home
    else:
        dept = None
    shown = mine if campus is None else mine[mine["campus_id"] == campus]
    several = len(campuses) > 1
    pickers = html.Div([
        dcc.Dropdown(id="ds-period", value=period, clearable=False, className="dw-select",
                     options=[{"label": t(f"period.{p}", lang), "value": p} for p in PERIODS]),
        dcc.Dropdown(id="ds-campus", value=campus, placeholder=t("wall.whole_hospital", lang),
                     className="dw-select" if several else "d-none",
                     options=[{"label": all_campuses()[c][0 if lang == "zh" else 1], "value": c} for c in campuses]),
        dcc.Dropdown(id="ds-dept", value=dept, placeholder=t("ds.all_departments", lang),
                     className="dw-select" if len(mine) > 1 else "d-none",
                     options=_dept_options(shown, lang, several and campus is None)),
    ], className="dw-pickers")

    def section(key: str, *children: Any, table: str | None = None) -> html.Section:
        buttons = export_buttons("day-surgery", table, lang, button_type="ds-export") if table else None
        return html.Section([html.H2([t(f"ds.{key}", lang), buttons]), *children], className="dw-section",
                            id=f"ds-sec-{key}")

    return html.Main([
        html.Header([*head, pickers], className="page-header dw-header"),
        html.Div(freshness_line(warehouse().freshness(), lang)),
        address_notes(notes, lang),
        dcc.Loading(html.Div(id="ds-cards"), type="dot"),
        html.P(id="ds-window", className="note"),
        section("trend", dcc.Graph(id="ds-trend", config=GRAPH_CONFIG, className="dw-graph ds-trend")),
        section("departments", html.P(t("ds.departments_note", lang), className="note"), html.Div(id="ds-departments"),
                table="departments"),
        section("groups", html.P(t("ds.groups_note", lang), className="note"), html.Div(id="ds-groups"),
                table="groups"),
        section("candidates", html.P(t("ds.candidates_note", lang, n=CANDIDATES_SHOWN), className="note"),
                html.Div(id="ds-candidates")),
        dcc.Download(id="ds-download"),
    ], className="container-fluid page dw-page ds-page", id="day-surgery-page")


def period_of(key: Any) -> Period:
    """A named period (PERIODS) up to the warehouse's data date; UserError otherwise."""
    if key not in PERIODS:
        raise UserError(t("wall.bad_filter", current_lang()))
    through = warehouse().freshness().data_through
    if through is None:
        raise UserError(t("fresh.none", current_lang()))
    return parse_period(key, through)


def _place(period: Any, _campus: Any, dept: Any) -> tuple[Any, Any]:
    """The department (None: all of the view) and the period key, for the kit to check."""
    return (dept if dept not in (None, "") else None), period


def view(ask: Ask, campus: Any) -> Scope:
    """The scope the page shows: one department (checked by the kit), one campus of the reader's
    (refused otherwise), or all the reader may see."""
    if ask.dept is not None:
        return Scope.departments([ask.dept])
    if campus in (None, ""):
        return ask.scope
    if not isinstance(campus, str) or campus not in all_campuses():
        raise PermissionDenied(f"unknown campus {str(campus)[:40]!r}")
    return view_scope(campus)


clientside_callback("function () { return true; }", Output("address-notes", "hidden", allow_duplicate=True),
                    *FILTERS, prevent_initial_call=True)


@page_callback(Output("ds-dept", "options"), Output("ds-dept", "value"), Input("ds-campus", "value"),
               State("ds-dept", "value"), roles=ROLES, prevent_initial_call=True)
def campus_departments(ask: Ask, campus: Any, dept: Any) -> tuple:
    """The department picker offers the departments of the campus picked; one of another campus is cleared."""
    scope = view(Ask(ask.lang, ask.scope), campus)
    mine = _clinical(scope)
    keep = dept if dept in set(mine["dept_id"]) else None
    return _dept_options(mine, ask.lang, scope.kind == "hospital" and len(user_campuses()) > 1), keep


@page_callback(Output("ds-cards", "children"), Output("ds-window", "children"), Output("ds-trend", "figure"),
               Output("ds-departments", "children"), Output("ds-groups", "children"),
               Output("ds-candidates", "children"), *FILTERS, roles=ROLES, place=_place, period_of=period_of,
               cached=True)
def refresh(ask: Ask, period: Any, campus: Any, dept: Any) -> tuple:
    lang, per = ask.lang, ask.period
    wh = warehouse()
    if not has_elective(wh):
        msg = html.Div(t("ds.v1", lang), className="alert alert-info")
        return msg, "", note_figure(""), None, None, None
    scope = view(ask, campus)
    now = summary(wh, scope, per)
    window = t("ds.period", lang, start=per.start, end=per.end)
    if not now or now["elective"] == 0:
        msg = t("ds.none", lang, start=per.start, end=per.end)
        return (html.Div(msg, className="alert alert-info"), window, _trend(scope, per, lang),
                html.P(msg, className="note"), html.P(msg, className="note"), html.P(msg, className="note"))
    year_ago = safe_summary(scope, per.year_ago())
    groups = by_group(wh, scope, per)
    return (safe(lambda: cards(now, year_ago, lang), lang, "day surgery cards"), window, _trend(scope, per, lang),
            safe(lambda: dept_grid(by_department(wh, scope, per), lang), lang, "day surgery departments"),
            safe(lambda: group_grid(groups, lang) if not groups.empty
                 else html.P(t("ds.no_groups", lang), className="note"), lang, "day surgery groups"),
            safe(lambda: candidates_block(candidates(wh, scope, per, "department", CANDIDATES_SHOWN),
                                          candidates(wh, scope, per, "group", CANDIDATES_SHOWN), lang),
                 lang, "day surgery candidates"))


def safe_summary(scope: Scope, per: Period) -> dict[str, float] | None:
    """Last year's figures, or None when the data does not reach back that far."""
    fresh = warehouse().freshness()
    if fresh.first_date is not None and per.start < fresh.first_date:
        return None
    return summary(warehouse(), scope, per)


def _trend(scope: Scope, per: Period, lang: str) -> Any:
    try:
        trend = share_trend(warehouse(), scope, per.end)
        if trend["elective"].sum() == 0:
            return note_figure(t("ds.trend_none", lang, months=len(trend)))
        return trend_figure(trend, per.start, per.end, lang)
    except Exception:  # noqa: BLE001 - a failed chart is a note, not a broken page
        return note_figure(t("wall.panel_failed", lang, error="trend"))


@page_callback(Output("_pages_location", "href", allow_duplicate=True),
               Input({"type": "ds-grid", "index": ALL}, "cellClicked"), roles=ROLES, prevent_initial_call=True)
def open_department(ask: Ask, cells: Any) -> Any:
    """A click on a department's row opens its page (one outside the scope is refused)."""
    if not isinstance(ctx.triggered_id, dict) or ctx.triggered_id.get("index") != "departments":
        return no_update
    dept = next((c.get("rowId") for c in cells or [] if isinstance(c, dict) and c.get("rowId")), None)
    return department_address(dept) if dept else no_update


def _export(table: str) -> Any:
    def build(ask: Ask, period: Any, campus: Any, dept: Any) -> Export:
        wh, per, lang = warehouse(), ask.period, ask.lang
        if not has_elective(wh):
            raise UserError(t("ds.v1", lang))
        scope = view(ask, campus)
        df = by_department(wh, scope, per) if table == "departments" else by_group(wh, scope, per)
        if df.empty:
            raise UserError(t("ds.none", lang, start=per.start, end=per.end))
        out, kinds = export_frame(df, lang, group=table == "groups")
        return Export(out, f"day-surgery-{table}-{per.start}-{per.end}", f"day surgery {table} {per.start}..{per.end}",
                      title=t(f"ds.export.{table}", lang), kinds=kinds, period=per, whole_scope=ask.dept is None)
    return build


export_callback("day-surgery", {table: _export(table) for table in TABLES}, *[State(i.component_id, "value")
                                                                               for i in FILTERS],
                output=Output("ds-download", "data"), button_type="ds-export", roles=ROLES, dept=None, period=None,
                period_of=period_of, place=_place)
