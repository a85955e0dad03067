"""The page kit: what every scoped page callback needs, done once.

A page callback declared with `page_callback` gets, as its first argument, an `Ask`: the
reader's language and scope, and (when the callback names them) the department it was asked
about, checked against the scope, and the period, resolved within the data. The check runs
before the callback's body; a department outside the scope is refused with a PermissionDenied,
which the shell audits and answers 403 (shell/layout.callback_error), and a bad period or any
other UserError becomes the standard banner on top of the page. The body never checks again.

    @page_callback(Output("wc-composition", "children"), Input("ws-dept", "value"),
                   Input("ws-period", "value"), roles=WORKSPACE_ROLES, dept="ws-dept",
                   period="ws-period", cached=True)
    def composition(ask: Ask) -> Any:
        return safe(lambda: composition_table(ask), ask.lang, "cost composition")

The arguments besides the department and the period are passed on in their declared order.

`export_callback` answers a page's export buttons: one callback per page, a builder per table
returning an `Export` (the frame and how to write it); the kit checks the request (a table or
format the page does not offer is refused), the department and period, then sends the file
through pages/_common.send_table, which audits it.

`safe` builds one part of a page; a failure becomes a note in its place rather than a broken
page (the walls' panels use the same).
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from flask import current_app
from flask_login import current_user

from appdb.store import counting_reads
from components import exports
from components.i18n import t
from components.wall import empty_figure
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.scope import Scope
from data_layer.warehouse import Unkept
from shell.access import ROLES, PermissionDenied
from shell.cache_values import sent, unsent
from shell.outage import plain_message

from ._common import ANSWER_TTL, current_lang, current_scope, export_heading, narrowed, send_table, warehouse

log = logging.getLogger("hospdash")

READERS = tuple(r for r in ROLES if r != "admin")  # the roles that read the warehouse's figures
LEADERS = ("leader",)

EXPORT_FORMATS = ("xlsx", "csv")


@dataclass(frozen=True)
class Ask:
    """One callback's resolved request."""

    lang: str
    scope: Scope
    dept: str | None = None
    period: Period | None = None
    period_key: str | None = None

    @property
    def name_col(self) -> str:
        return "name_zh" if self.lang == "zh" else "name_en"


def require_role(roles: Sequence[str], what: str) -> None:
    """PermissionDenied unless the reader is signed in with one of `roles`."""
    if not getattr(current_user, "is_authenticated", False):
        raise PermissionDenied("not logged in")
    if current_user.role not in roles:
        raise PermissionDenied(f"role {current_user.role} may not call {what}")


def check_department(dept: Any) -> str:
    """The department id if the reader's scope holds it; PermissionDenied (audited by the shell) otherwise."""
    if not isinstance(dept, str) or not dept or len(dept) > 64:
        raise PermissionDenied("no department")
    campus = current_app.extensions["hospdash"].campus_of(dept)
    if not current_scope().allows_department(dept, campus):
        raise PermissionDenied(f"department {dept} is outside the user's scope")
    return dept


def _arg_index(deps: Sequence[Any], component_id: str | None) -> int | None:
    """The position among the callback's arguments of the Input or State `component_id`.value."""
    if component_id is None:
        return None
    args = [d for d in deps if isinstance(d, Input | State)]
    for i, d in enumerate(args):
        if d.component_id == component_id and d.component_property == "value":
            return i
    raise ValueError(f"the callback takes no value of {component_id}")


def _default_resolver(key: Any) -> Period:
    from .workspace._frame import resolve_period

    return resolve_period(key)


def check_departments(depts: Any) -> list[str]:
    """A multi-select's department ids (none chosen is an empty list), every one in the scope;
    PermissionDenied otherwise."""
    if depts is None:
        return []
    if not isinstance(depts, list):
        raise PermissionDenied("departments not a list")
    return [check_department(d) for d in depts]


def resolve(args: Sequence[Any], roles: Sequence[str], what: str, dept_at: int | None, period_at: int | None,
            period_of: Callable[[Any], Period] | None, depts_at: int | None = None,
            place: Callable[..., tuple[Any, Any]] | None = None) -> tuple[Ask, list[Any]]:
    """Check the role and the department(s), resolve the period; the Ask and the other arguments
    (a multi-select of departments stays among them, checked). With `place`, the department (None:
    all of the scope) and the period key come from `place(*args)` and every argument is passed on."""
    require_role(roles, what)
    args = list(args)
    if depts_at is not None:
        args[depts_at] = check_departments(args[depts_at])
    if place is not None:
        dept_value, key = place(*args)
        dept = check_department(dept_value) if dept_value is not None else None
        per = (period_of or _default_resolver)(key)
        return Ask(current_lang(), current_scope(), dept, per, key if isinstance(key, str) else None), args
    dept = check_department(args[dept_at]) if dept_at is not None else None
    per = key = None
    if period_at is not None:
        key = args[period_at]
        per = (period_of or _default_resolver)(key)
    rest = [a for i, a in enumerate(args) if i not in (dept_at, period_at)]
    return Ask(current_lang(), current_scope(), dept, per, key if isinstance(key, str) else None), rest


def department_scope(scope: Scope, dept: Any) -> Scope:
    """The scope an answer about `dept` alone is computed and kept under (`by_department`): a
    reader whose scope is a set of departments reads it as if the scope were that department, so
    every such reader of the department shares one answer; a hospital or campus scope is kept as
    it is (its figures close over whole campuses, which one department does not)."""
    if isinstance(dept, str) and dept and scope.kind == "departments" and dept in scope.ids:
        return Scope.departments((dept,))
    return scope


def kept_answer(ask: Ask, what: str, parts: tuple, build: Callable[[], Any], ttl: int = ANSWER_TTL,
                live: bool = False) -> Any:
    """`build()`'s answer kept in the result cache under the reader's scope and language, `what` (the
    callback) and `parts` (what else it depends on), and the warehouse's freshness; kept as the JSON
    text Dash sends, read back with nothing to rebuild (shell/cache_values.sent), until the next load
    (`ttl`: a day at most). An answer that also shows something of the application database (which
    changes without a load) reads it outside `build` and puts it in `parts`: one whose building read
    the application database is answered but not kept (and logged: a missing part of its key),
    unless it is `live` (it shows live state, the clock, and is kept only `ttl` seconds, keyed by the
    live tick)."""
    def made() -> Any:
        with counting_reads() as reads:
            out = sent(build())
        if reads[0] and not live:
            log.warning("answer %s not kept: building it read the application database (%d statements), "
                        "which its key does not hold", what, reads[0])
            return Unkept(out)
        return out

    return unsent(warehouse().remember(("answer", what, ask.scope.key, ask.lang, parts), made, ttl))


def page_callback(*deps: Any, roles: Sequence[str] = ROLES, dept: str | None = None, period: str | None = None,
                  period_of: Callable[[Any], Period] | None = None, depts: str | None = None, cached: bool = False,
                  key_args: Callable[..., Any] | None = None, place: Callable[..., tuple[Any, Any]] | None = None,
                  ttl: int = ANSWER_TTL, live: bool = False, by_department: bool = False,
                  whole_scope: bool = False, **options: Any) -> Callable:
    """Register a Dash callback (`deps` and `options` as for dash.callback) whose function takes an
    Ask and then the other arguments. `dept` and `period` name the components (their `value`)
    holding the department and the period; `period_of` resolves the period (the workspace's rule by
    default). `cached`: the answer is kept in the result cache, keyed by the callback, the scope,
    the language, the arguments (or `key_args(*rest)`) and the warehouse's freshness; only for
    callbacks that read nothing but the warehouse. `depts` names a multi-select of departments:
    every one chosen must lie in the scope; it stays among the other arguments. `place`: for a page
    that keeps the department and the period in one state (a dcc.Store), a function of the
    callback's arguments returning (department or None for all of the scope, period key); the kit
    checks and resolves them as above and passes every argument on. `ttl`: the longest a cached
    answer is kept (seconds; until the next load, a day at most, by default). `live`: the answer
    shows live state (open alerts, the clock), so `key_args` holds the live tick and `ttl` is short
    (kept_answer). `by_department`: the answer shows the department asked about and
    nothing else of the scope, so it is computed for that department alone (`department_scope`;
    `current_scope()` says the same within the body) and shared by everyone who may see it; only
    for callbacks that show the same for any scope holding the department
    (tests/test_shared_answers.py checks each one). `whole_scope`: the answer shows the whole scope
    and nothing of the department picked (which is still checked): the body is asked with no
    department, and one answer serves every department of the scope."""
    dept_at, period_at, depts_at = _arg_index(deps, dept), _arg_index(deps, period), _arg_index(deps, depts)

    def asked_dept(args: Sequence[Any]) -> Any:
        return place(*args)[0] if place is not None else args[dept_at] if dept_at is not None else None

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        what = f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def inner(*args: Any) -> Any:
            ask, rest = resolve(args, roles, what, dept_at, period_at, period_of, depts_at, place)
            if by_department:
                ask = replace(ask, scope=department_scope(ask.scope, ask.dept))
            elif whole_scope:
                ask = replace(ask, dept=None)
            body = functools.partial(_within, ask.scope, fn, ask, *rest) if by_department else \
                functools.partial(fn, ask, *rest)
            if not cached:
                return body()
            parts = (ask.dept, ask.period, *(key_args(*rest) if key_args else rest))
            return kept_answer(ask, what, parts, body, ttl, live)

        inner.uncached = fn  # type: ignore[attr-defined]
        inner.by_department = by_department  # type: ignore[attr-defined]
        # the scope the answer to `args` is kept under for a reader of `scope` (the warm-up's bookkeeping)
        inner.answer_scope = (lambda scope, args: department_scope(scope, asked_dept(args))) if by_department \
            else (lambda scope, _args: scope)  # type: ignore[attr-defined]
        inner.kit = True  # type: ignore[attr-defined]  # tests find the callbacks that bypass the kit
        callback(*deps, **options)(inner)
        return inner

    return wrap


def _within(scope: Scope, fn: Callable[..., Any], *args: Any) -> Any:
    """fn(*args) with `current_scope()` saying `scope`."""
    with narrowed(scope):
        return fn(*args)


@dataclass(frozen=True)
class Export:
    """A table to send: the frame, the file's stem, the audit line, and how to write it (see
    pages/_common.send_table for `kinds`, `row_kinds` and `verdicts`). The heading names the
    request's period and department unless `period`/`dept` say otherwise; `dated=False` (a list of
    saved records) names no period, `whole_scope` (the departments side by side) no department."""

    frame: pd.DataFrame
    stem: str
    what: str
    title: str | None = None
    kinds: Mapping[str, Any] | None = None
    row_kinds: Sequence[Any] = ()
    verdicts: Mapping[str, Sequence[str]] | None = None
    period: Period | None = None
    dept: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    dated: bool = True  # False: the file names no period (a table that does not follow the period picker)
    whole_scope: bool = False  # True: the heading names the reader's scope, not the department picked
    lines: Sequence[str] = ()  # more lines under the heading (what the table is about)
    sheet: str | None = None  # the worksheet's name (the title by default)
    empty_note: str | None = None  # said in the workbook when the table has no rows

    def heading_period(self, asked: Period | None) -> Period | None:
        return None if not self.dated else self.period if self.period is not None else asked

    def heading_dept(self, asked: str | None) -> str | None:
        return self.dept if self.dept is not None else None if self.whole_scope else asked
    # a workbook of several sheets (components/exports.Sheet) instead of one table: sent as xlsx
    # under the heading `title` with `heading_lines` below the period and scope; `detail` is the
    # audit line's detail
    sheets: Sequence[Any] = ()
    heading_lines: tuple[str, ...] = ()
    detail: str | None = None


def export_callback(page: str, tables: Mapping[str, Callable[..., Export]], *states: State,
                    output: Output | None = None, button_type: str = "ws-export", roles: Sequence[str] = ROLES,
                    dept: str | None = "ws-dept", period: str | None = "ws-period",
                    period_of: Callable[[Any], Period] | None = None,
                    place: Callable[..., tuple[Any, Any]] | None = None) -> None:
    """Answer the export buttons {type: button_type, page, table, fmt} of `page`: `tables[table](ask,
    *other states)` builds the Export. The department and period states are checked as for any
    page callback (or, with `place`, as `place(*states)` names them: pass dept=None, period=None);
    a table or format the page does not offer (a forged request) is refused."""
    out = output or Output("ws-download", "data", allow_duplicate=True)
    ids = [s for s in (dept, period) if s is not None]
    all_states = [*(State(i, "value") for i in ids), *states]
    pattern = {"type": button_type, "table": ALL, "fmt": ALL} | ({"page": page} if button_type == "ws-export" else {})

    @page_callback(out, Input(pattern, "n_clicks"), *all_states, roles=roles, dept=dept, period=period,
                   period_of=period_of, place=(lambda _clicks, *values: place(*values)) if place else None,
                   prevent_initial_call=True)
    def export(ask: Ask, clicks: list | None, *rest: Any) -> Any:
        if not any(clicks or []) or not isinstance(ctx.triggered_id, dict):
            return no_update
        table, fmt = ctx.triggered_id.get("table"), ctx.triggered_id.get("fmt")
        if table not in tables or fmt not in EXPORT_FORMATS:
            raise UserError(t("wall.bad_filter", ask.lang))
        made = tables[table](ask, *rest)
        if made.sheets:
            if fmt != "xlsx":
                raise UserError(t("wall.bad_filter", ask.lang))
            return send_sheets(made, ask)
        return send_table(made.frame, made.stem, fmt, made.what, title=made.title, kinds=made.kinds,
                          period=made.heading_period(ask.period), dept=made.heading_dept(ask.dept),
                          row_kinds=made.row_kinds, verdicts=made.verdicts, **_workbook_extras(made))

    export.__qualname__ = f"export_{page}"


def _workbook_extras(made: Export) -> dict[str, Any]:
    """The optional parts of a workbook an Export names (only those, so send_table's defaults hold)."""
    return {k: v for k, v in (("lines", tuple(made.lines)), ("sheet", made.sheet), ("empty_note", made.empty_note))
            if v}


def send_sheets(made: Export, ask: Ask) -> dict:
    """An Export of several sheets as one workbook (components/exports.workbook), audited."""
    from shell.access import audit

    head = export_heading(made.title or t("export.sheet", ask.lang), made.heading_period(ask.period),
                          made.heading_dept(ask.dept), extra=made.heading_lines)
    data = exports.workbook(head, list(made.sheets))
    audit("export", made.what, made.detail or f"{len(made.sheets)} sheets, xlsx")
    return dcc.send_bytes(data, f"{made.stem}.xlsx")


def export_buttons(page: str, table: str, lang: str, button_type: str = "ws-export",
                   look: str = "btn-outline-secondary", formats: Sequence[str] = EXPORT_FORMATS) -> html.Span:
    """The Excel and CSV buttons of one table (`look`: the Bootstrap button style, light on a dark
    page; `formats`: only Excel for a workbook of sheets)."""
    def bid(fmt: str) -> dict[str, str]:
        return {"type": button_type, "table": table, "fmt": fmt} | ({"page": page} if button_type == "ws-export" else {})

    return html.Span([html.Button(t(f"export.{fmt}", lang), id=bid(fmt),
                                  className=f"btn btn-sm {look} ms-2 ws-export")
                      for fmt in formats], className="ws-exports")


def safe(build: Callable[[], Any], lang: str, what: str) -> Any:
    """Build one part of a page; a failure becomes a note in its place, not a broken page."""
    try:
        return build()
    except UserError as exc:
        return html.Div(plain_message(exc, lang), className="wall-note")
    except Exception as exc:  # noqa: BLE001 - never a traceback on a page
        log.exception("page part %s failed", what)
        return html.Div(t("wall.panel_failed", lang, error=type(exc).__name__), className="wall-note")


def safe_figure(build: Callable[[], go.Figure | dict], lang: str, what: str, scale: float = 1.0) -> go.Figure | dict:
    """A figure built as `panel` builds a part: a failure becomes an empty figure saying so."""
    try:
        return build()
    except UserError as exc:
        return empty_figure(plain_message(exc, lang), scale)
    except Exception as exc:  # noqa: BLE001
        log.exception("page figure %s failed", what)
        return empty_figure(t("wall.panel_failed", lang, error=type(exc).__name__), scale)
