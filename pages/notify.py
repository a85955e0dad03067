"""Notifications (消息订阅): the signed-in user's alert subscription (departments within their scope,
levels, immediate or morning digest, language, chat robots and email). Not for a wall display's
kiosk login. Delivery itself: appdb/notify.py; docs/alerts.md#delivery."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash
from dash import Input, Output, State, html, no_update
from flask import current_app
from flask_login import current_user

from appdb.schema import NOTIFY_LEVELS, NOTIFY_MODES
from appdb.store import StaleEdit
from appdb.subscriptions import get_subscription, save_subscription
from components.admin import message
from components.i18n import t
from components.notify import FIELDS, feedback_id, field_id, problem_messages, subscription_form
from data_layer.errors import UserError
from data_layer.inputs import FormProblems
from shell.access import PermissionDenied, audit, is_kiosk, page_denied
from shell.inputs import Code, Codes, Count

from ._common import current_lang, current_scope, forbidden_panel, warehouse
from ._kit import READERS, Ask, page_callback

PREFIX = "nt"
dash.register_page(__name__, path="/notifications", name="Notifications", order=80, allowed_roles=READERS,
                   kiosk=False, nav_label={"zh": "消息订阅", "en": "Notifications"},
                   inputs={"nt-all-depts.value": Codes, "nt-dept-ids.value": Codes, "nt-levels.value": Codes,
                           "nt-mode.value": Code, "nt-lang.value": Code, "nt-version.data": Count})


def _db():
    return current_app.extensions["hospdash"].appdb


def department_choices(scope: Any, lang: str) -> tuple[list[tuple[str, str]], Mapping[str, str | None]]:
    """(id, name) of the departments in `scope`, and every department's campus (for the form's check)."""
    from data_layer.queries.structure import department_campuses, departments
    from data_layer.scope import Scope

    try:
        every = departments(warehouse(), Scope.hospital())
        campus_of = department_campuses(warehouse(), Scope.hospital())
    except UserError:
        return [], {}
    name = "name_zh" if lang == "zh" else "name_en"
    mine = [(d, n) for d, n, c in zip(every["dept_id"], every[name], every["campus_id"], strict=True)
            if scope.allows_department(d, c)]
    return mine, campus_of


def form_values(sub: Any, lang: str) -> dict[str, Any]:
    """The form's field values for a stored subscription (or the defaults: red, at once, the UI language)."""
    if sub is None:
        return {"all_depts": ["all"], "dept_ids": [], "levels": ["red"], "mode": "immediate", "lang": lang,
                "wecom": "", "dingtalk": "", "feishu": "", "email": "", "version": None}
    return {"all_depts": ["all"] if sub.all_depts else [], "dept_ids": list(sub.dept_ids), "levels": list(sub.levels),
            "mode": sub.mode, "lang": sub.lang, **{c: sub.channels.get(c, "") for c in ("wecom", "dingtalk", "feishu",
                                                                                      "email")},
            "version": sub.version}


def layout(**_query: str) -> html.Main:
    lang = current_lang()
    if page_denied(__name__):
        return forbidden_panel(lang)
    options, _ = department_choices(current_scope(), lang)
    sub = get_subscription(_db(), current_user.id)
    form = subscription_form(PREFIX, lang, options, NOTIFY_LEVELS, NOTIFY_MODES, form_values(sub, lang))
    return html.Main([
        html.H1(t("notify.title", lang)),
        html.P(t("notify.intro", lang), className="note"),
        html.P(t("notify.none_yet", lang), className="note") if sub is None else None,
        html.Div(form, className="card card-body notify-card", style={"maxWidth": "820px"}),
    ], className="container page")


def save(ask: Ask, user: Any, values: list[Any], version: Any, by: str) -> tuple:
    """Check and store `user`'s subscription: (problem under each field…, message, new version)."""
    lang = ask.lang
    form = dict(zip(["all_depts", *FIELDS], values, strict=True))
    form["all_depts"] = "all" in (form["all_depts"] or [])
    for key in ("wecom", "dingtalk", "feishu", "email"):
        if form[key] is not None and not isinstance(form[key], str):
            form[key] = str(form[key])
    _, campus_of = department_choices(ask.scope, lang)
    try:
        sub = save_subscription(_db(), user, form, campus_of, by=by,
                                expected_version=version if isinstance(version, int) else None)
    except FormProblems as exc:
        return *problem_messages(exc.problems, lang), message(t("notify.problems", lang), False), no_update
    except StaleEdit:
        return *([None] * len(FIELDS)), message(t("notify.err.stale", lang), False), no_update
    audit("subscription_saved", user.username, f"{'all' if sub.all_depts else ','.join(sub.dept_ids)} "
          f"{','.join(sub.levels)} {sub.mode} {sub.lang} {','.join(sorted(sub.channels))}")
    said = t("notify.saved", lang) if user.id == current_user.id else t("notify.saved_for", lang, username=user.username)
    return *([None] * len(FIELDS)), message(said, True), sub.version


def save_outputs(prefix: str) -> list[Output]:
    return [*(Output(feedback_id(prefix, f), "children") for f in FIELDS), Output(f"{prefix}-message", "children"),
            Output(f"{prefix}-version", "data")]


def save_states(prefix: str) -> list[State]:
    return [State(field_id(prefix, "all_depts"), "value"), *(State(field_id(prefix, f), "value") for f in FIELDS),
            State(f"{prefix}-version", "data")]


@page_callback(*save_outputs(PREFIX), Input(f"{PREFIX}-save", "n_clicks"), *save_states(PREFIX),
               prevent_initial_call=True, roles=READERS)
def save_mine(ask: Ask, _n: int, *rest: Any) -> tuple:
    """The signed-in user saves their own subscription (a department outside their scope is refused at its field)."""
    if is_kiosk():
        raise PermissionDenied("a kiosk login has no subscription")
    user = _db().get(current_user.id)
    if user is None:
        raise PermissionDenied("no such user")
    return save(ask, user, list(rest[:-1]), rest[-1], current_user.username)
