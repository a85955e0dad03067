"""What every page shares: the app state, the reader's language and scope, error panels.

Dash ignores modules whose names start with an underscore when it collects pages.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

import pandas as pd
from dash import dcc, html
from flask import current_app
from flask_login import current_user

from components import exports
from components.i18n import t
from data_layer.errors import UserError
from data_layer.periods import Period
from data_layer.queries.structure import departments
from data_layer.scope import Scope
from data_layer.warehouse import RESULT_TTL, Warehouse
from shell.access import scope_of
from shell.auth import request_lang

log = logging.getLogger("hospdash")


def warehouse() -> Warehouse:
    return current_app.extensions["hospdash"].warehouse


def current_lang() -> str:
    return request_lang()


# an answer shared by everyone who may see its department is computed as if the reader's scope
# were that department alone (pages/_kit.py, `by_department`): so it cannot show more
_NARROWED: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("hospdash_narrowed", default=None)


def current_scope() -> Scope:
    """The reader's scope, or the narrower one an answer is being computed for (`narrowed`)."""
    narrowed = _NARROWED.get()
    return narrowed if narrowed is not None else scope_of(current_user)


@contextlib.contextmanager
def narrowed(scope: Scope) -> Iterator[None]:
    """Within the block, `current_scope()` is `scope` (which must lie within the reader's own)."""
    token = _NARROWED.set(scope)
    try:
        yield
    finally:
        _NARROWED.reset(token)


def quality_red(page: str) -> bool:
    """Whether the latest data-quality run found something red in the tables `page` shows, for the
    reader's scope (components/quality.PAGE_TABLES): the mark beside the freshness stamp. Never
    fails a page: without an answer from the application database, no mark."""
    from flask import g

    from appdb.quality import red_tables
    from components.quality import page_is_red

    scope = Scope.hospital() if getattr(current_user, "role", None) == "admin" else current_scope()
    read = g.setdefault("hospdash_red_tables", {})  # read once per request, however many marks it shows
    try:
        if scope.key not in read:
            read[scope.key] = red_tables(current_app.extensions["hospdash"].appdb, scope)
        return page_is_red(page, read[scope.key])
    except Exception as exc:  # noqa: BLE001 - the mark is a hint; the page must still show
        log.warning("data-quality mark not read: %s", exc)
        return False


def forbidden_panel(lang: str) -> html.Main:
    """The 403 page inside the shell."""
    return html.Main([html.H1(t("forbidden.title", lang)), html.P(t("forbidden.body", lang)),
                      dcc.Link(t("nav.home", lang), href="/")], className="container page", id="forbidden")


def warehouse_error_panel(message: str, lang: str) -> html.Div:
    """A plain "the warehouse cannot be reached" panel; the message (it may name the database's
    address) goes to the server log only."""
    log.warning("warehouse unavailable: %s", message)
    return html.Div([html.Strong(t("error.warehouse", lang)), html.Br(),
                     html.Span(t("error.warehouse_hint", lang))], className="alert alert-warning", role="alert")


ID_LEVELS = {"dept_id": "department", "ward_id": "ward", "group_id": "group", "doctor_id": "doctor"}


def with_names(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The frame with its department, ward, medical group and doctor ids replaced by their names in
    the reader's language (an id the scope cannot see stays as it is)."""
    from data_layer.queries.names import level_names
    from data_layer.registry import Level

    name = "name_zh" if lang == "zh" else "name_en"
    out = df
    for col, level in ID_LEVELS.items():
        if col in out.columns:
            names = level_names(warehouse(), current_scope(), Level(level)).set_index("key")[name]
            out = out.assign(**{col: [names.get(str(v), v) if isinstance(v, str) else v for v in out[col]]})
    return out


def export_heading(title: str, period: Period | None = None, dept: str | None = None,
                   extra: tuple[str, ...] = ()) -> exports.Heading:
    """The heading on top of an export: the title, the period, the scope (the department and its
    campus, or the user's whole scope), the data freshness, and when and by whom it was exported.
    With the warehouse away (a saved report still exports) ids stand in for names."""
    lang, scope = current_lang(), current_scope()
    through = loaded = None
    try:
        where = _scope_words(scope, dept, lang)
        fresh = warehouse().freshness()
        through, loaded = fresh.data_through, fresh.loaded_at
    except UserError:
        where = dept or exports.scope_text(scope.kind, sorted(scope.ids), lang)
    user = getattr(current_user, "display_name", "") or getattr(current_user, "username", "")
    if getattr(current_user, "username", "") and user != current_user.username:
        user = f"{user} ({current_user.username})"
    return exports.heading(title, lang, scope=where, exported_at=datetime.now(), user=user,
                           period=(period.start, period.end) if period is not None else None,
                           through=through, loaded_at=loaded, extra=extra)


def _scope_words(scope: Scope, dept: str | None, lang: str) -> str:
    """The department and its campus, or the scope: the whole hospital, its campuses or departments."""
    from data_layer.queries.names import level_names
    from data_layer.registry import Level

    wh, name = warehouse(), "name_zh" if lang == "zh" else "name_en"
    campuses = level_names(wh, scope, Level.campus).set_index("key")[name]
    if dept is not None:
        deps = departments(wh, scope)
        row = deps[deps["dept_id"] == dept]
        if row.empty:
            return dept
        dept_name = str(row.iloc[0][name])
        if dept_name.rstrip().endswith((")", "）")):  # already qualified by its campus: 创伤骨科（东院）
            return dept_name
        return t("export.scope.dept", lang, dept=dept_name, campus=campuses.get(row.iloc[0]["campus_id"], "—"))
    if scope.kind == "campus":
        return exports.scope_text("campus", [campuses.get(c, c) for c in sorted(scope.ids)], lang)
    if scope.kind == "departments":
        return exports.scope_text("departments", list(departments(wh, scope)[name]), lang)
    return exports.scope_text("hospital", [], lang)


def send_table(df: pd.DataFrame, stem: str, fmt: str, what: str, *, title: str | None = None,
               kinds: Mapping[str, str | tuple[str, int]] | None = None, period: Period | None = None,
               dept: str | None = None, row_kinds: Sequence[str | tuple[str, int | None]] = (),
               verdicts: Mapping[str, Sequence[str]] | None = None, lines: Sequence[str] = (),
               sheet: str | None = None, empty_note: str | None = None) -> dict:
    """A table as a formatted Excel workbook (heading, frozen header, number formats by kind,
    fitted widths) or a CSV that Excel opens with Chinese intact (UTF-8 with a byte-order mark);
    the export is audited. `kinds` names a column's kind by its header (components/exports.py);
    the other columns' kinds are inferred; a column of kind exports.BY_ROW takes each row's kind
    from `row_kinds` (a table of indicators, each in its own unit); `verdicts` names, by header,
    the columns carrying a good/bad judgment (one verdict a row), coloured in the workbook as on
    the page (components/exports.verdict_font). `lines` go under the workbook's heading, `sheet`
    names its sheet (the title by default), `empty_note` is said when there are no rows."""
    from shell.access import audit

    lang = current_lang()
    columns = exports.columns_of(df, kinds)
    if fmt == "csv":
        data = exports.csv_bytes(df, columns, row_kinds)
        audit("export", what, f"{len(df)} rows, csv")
        return dcc.send_bytes(data, f"{stem}.csv")
    head = export_heading(title or t("export.sheet", lang), period, dept, extra=tuple(lines))
    data = exports.table_workbook(head, df, columns, sheet=sheet or title or "", lang=lang, row_kinds=row_kinds,
                                  verdicts=verdicts, empty_note=empty_note)
    audit("export", what, f"{len(df)} rows, xlsx")
    return dcc.send_bytes(data, f"{stem}.xlsx")


# An answer is kept until the next load (its key holds the load's freshness stamp and the code's),
# a day at most, like the query results it is built from: a night's warm-up lasts the working day.
# It may only show what its key holds: the kit does not keep one whose building read the application
# database (pages/_kit.kept_answer), and an answer that shows the clock or live state says so
# (`live`) and is kept as briefly as it asks.
ANSWER_TTL = RESULT_TTL


def unexpected_error_panel(exc: BaseException, lang: str) -> html.Div:
    """Log the error with an id; show the user only the id."""
    error_id = uuid.uuid4().hex[:8]
    log.error("error %s: %s", error_id, exc, exc_info=exc)
    return html.Div(t("error.unexpected", lang, error_id=error_id), className="alert alert-danger", role="alert")
