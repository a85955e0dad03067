"""The admin page's section for a user's alert subscription: the same form as the Notifications
page (components.notify.subscription_form, ids `adn-…`), filled for the user picked above and
checked against that user's own scope when saved. The admin page calls `register()`."""
from __future__ import annotations

from typing import Any

from dash import Input, Output, State, html

from appdb.schema import NOTIFY_LEVELS, NOTIFY_MODES
from appdb.subscriptions import get_subscription, user_scope
from components.admin import message
from components.i18n import t
from components.notify import FIELDS, field_id, subscription_form
from shell.inputs import Code, Codes, Count

from ._kit import Ask, page_callback
from .notify import _db, department_choices, form_values, save, save_outputs, save_states

PREFIX = "adn"
ADMIN = ("admin",)
INPUTS = {f"{PREFIX}-all-depts.value": Codes, f"{PREFIX}-dept-ids.value": Codes, f"{PREFIX}-levels.value": Codes,
          f"{PREFIX}-mode.value": Code, f"{PREFIX}-lang.value": Code, f"{PREFIX}-version.data": Count}


def section(lang: str) -> html.Div:
    """The heading, the help line and the (empty) form; `load` fills it for the user picked."""
    return html.Div([
        html.H2(t("notify.admin_title", lang)),
        html.P(t("notify.admin_help", lang), className="note"),
        html.Div(id=f"{PREFIX}-pick", className="note"),
        html.Div(subscription_form(PREFIX, lang, [], NOTIFY_LEVELS, NOTIFY_MODES), className="card card-body notify-card",
                 style={"maxWidth": "820px"}),
    ], id="admin-notify")


def _target(user_id: Any) -> Any:
    """The user picked, when it is one who reads hospital data (None otherwise)."""
    user = _db().get(user_id) if isinstance(user_id, int) and 0 < user_id < 2**31 else None
    return user if user is not None and user.role != "admin" else None


def register() -> None:
    """Declare the section's callbacks; pages/admin.py calls this each time Dash loads it (for every
    app built in a process: this module itself is imported once)."""

    @page_callback(Output(f"{PREFIX}-pick", "children"), Output(field_id(PREFIX, "dept_ids"), "options"),
                   Output(field_id(PREFIX, "all_depts"), "value"),
                   *(Output(field_id(PREFIX, f), "value") for f in FIELDS), Output(f"{PREFIX}-version", "data"),
                   Input("admin-user", "value"), Input("admin-refresh", "data"), roles=ADMIN)
    def load(ask: Ask, user_id: Any, _refresh: Any) -> tuple:
        """Fill the form with the picked user's subscription, departments offered from their scope."""
        lang = ask.lang
        user = _target(user_id)
        if user is None:
            values = form_values(None, lang)
            return (t("notify.admin_pick", lang), [], values["all_depts"], *(values[f] for f in FIELDS), None)
        options, _ = department_choices(user_scope(user), lang)
        sub = get_subscription(_db(), user.id)
        values = form_values(sub, user.lang or lang)
        note = f"{user.display_name} · {t('role.' + user.role, lang)}" + ("" if sub else f" · {t('notify.none_yet', lang)}")
        return (html.Span(note, className="verbatim"), [{"label": n, "value": d} for d, n in options], values["all_depts"],
                *(values[f] for f in FIELDS), values["version"])


    @page_callback(*save_outputs(PREFIX), Input(f"{PREFIX}-save", "n_clicks"), *save_states(PREFIX),
                   State("admin-user", "value"), prevent_initial_call=True, roles=ADMIN)
    def save_for(ask: Ask, _n: int, *rest: Any) -> tuple:
        """An administrator saves the picked user's subscription (checked against that user's scope)."""
        user = _target(rest[-1])
        if user is None:
            return *([None] * len(FIELDS)), message(t("notify.admin_pick", ask.lang), False), None
        from flask_login import current_user

        return save(ask, user, list(rest[:-2]), rest[-2], current_user.username)
