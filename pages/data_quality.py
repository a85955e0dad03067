"""Data quality: the latest nightly quality run's findings in the reader's scope, what it could not
check, each check's trend over the last 30 runs and the open data-quality alerts; an administrator
chooses who owns those alerts. Administrators (the IT centre) and leaders see everything, assistants
their departments' findings (docs/data-quality.md)."""
from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html
from flask import current_app
from flask_login import current_user

from appdb.quality import alert_owner, latest_run, list_findings, quality_alerts, runs, set_alert_owner, trend
from appdb.schema import ROLES as ALL_ROLES
from appdb.store import CodedError
from components.i18n import t
from components.overview import freshness_line
from components.quality import alerts_grid, findings_grid, not_checked_list, owner_text, run_line, trend_figure
from data_layer.errors import UserError
from data_layer.queries.structure import departments
from data_layer.scope import Scope
from shell.access import audit, page_denied
from shell.inputs import Code, Count

from ._common import current_lang, current_scope, forbidden_panel, quality_red, warehouse
from ._kit import Ask, page_callback

ROLES = ("admin", "leader", "assistant")
ADMIN = ("admin",)
dash.register_page(__name__, path="/data-quality", name="Data quality", order=85, allowed_roles=ROLES,
                   nav_label={"zh": "数据质量", "en": "Data quality"},
                   inputs={"dq-owner.value": Code, "dq-owner-save.n_clicks": Count})


def _db():
    return current_app.extensions["hospdash"].appdb


def reader_scope() -> Scope:
    """Administrators (the IT centre, whose own scope holds no hospital data) see every finding."""
    return Scope.hospital() if current_user.role == "admin" else current_scope()


def _names(scope: Scope, lang: str) -> dict[str, str]:
    try:
        deps = departments(warehouse(), scope)
    except UserError:  # the warehouse is away: departments by id (the run says what it could not check)
        return {}
    return dict(zip(deps["dept_id"], deps["name_zh" if lang == "zh" else "name_en"], strict=True))


def _people() -> dict[str, str]:
    return {u.username: u.display_name or u.username for u in _db().list_users()}


def _owner_picker(lang: str) -> html.Div:
    people = _people()
    options = [{"label": owner_text(f"role:{r}", lang), "value": f"role:{r}"} for r in ALL_ROLES]
    options += [{"label": name, "value": user} for user, name in sorted(people.items())]
    return html.Div([
        html.Label(t("quality.owner.pick", lang), htmlFor="dq-owner", className="me-2"),
        dcc.Dropdown(id="dq-owner", options=options, value=alert_owner(_db()), clearable=False,
                     className="dq-owner-select"),
        html.Button(t("quality.owner.save", lang), id="dq-owner-save", className="btn btn-outline-primary btn-sm ms-2"),
        html.Span(id="dq-owner-msg", className="ms-2", role="status"),
    ], className="d-flex align-items-center dq-owner")


def layout(**_query: str) -> html.Main:
    lang = current_lang()
    if page_denied(__name__):
        return forbidden_panel(lang)
    scope = reader_scope()
    db = _db()
    try:
        fresh_line: Any = freshness_line(warehouse().freshness(), lang, quality=quality_red("data_quality"))
    except UserError:
        fresh_line = None
    head = [html.H1(t("quality.title", lang)), fresh_line, html.P(t("quality.intro", lang), className="note")]
    run = latest_run(db)
    if run is None:
        return html.Main([*head, html.P(t("quality.none", lang), className="alert alert-info", id="dq-none")],
                         className="container-fluid page dq-page", id="dq-page")
    findings = list_findings(db, scope, run["id"])
    counts = {lv: int((findings["level"] == lv).sum()) for lv in ("red", "orange", "yellow")}
    names = _names(scope, lang)
    people = _people()
    owner = owner_text(alert_owner(db), lang, people)
    body = [
        run_line(run, counts, lang),
        html.Section([html.H2(t("quality.findings", lang)), findings_grid(findings, names, lang)], id="dq-findings-sec"),
        not_checked_list(run["not_checked"], lang),
        html.Section([html.H2(t("quality.trend", lang)),
                      dcc.Graph(id="dq-trend", figure=trend_figure(trend(db, scope), runs(db), lang),
                                config={"displayModeBar": False})], id="dq-trend-sec"),
        html.Section([html.H2(t("quality.alerts", lang)), html.P(t("quality.owner", lang, owner=owner), className="note"),
                      _owner_picker(lang) if current_user.role == "admin" else None,
                      alerts_grid(quality_alerts(db, scope), names, people, lang)], id="dq-alerts-sec"),
    ]
    return html.Main([*head, *[b for b in body if b is not None]], className="container-fluid page dq-page", id="dq-page")


@page_callback(Output("dq-owner-msg", "children"), Input("dq-owner-save", "n_clicks"), State("dq-owner", "value"),
               prevent_initial_call=True, roles=ADMIN)
def save_owner(ask: Ask, _n: int | None, owner: str | None) -> Any:
    """An administrator chooses who owns the data-quality alerts raised from now on."""
    try:
        chosen = set_alert_owner(_db(), owner or "", current_user.username)
    except CodedError:
        return html.Span(t("quality.owner.bad", ask.lang), className="text-warning")
    audit("quality_owner", chosen)
    return t("quality.owner.saved", ask.lang, owner=owner_text(chosen, ask.lang, _people()))
