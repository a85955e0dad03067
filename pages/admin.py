"""User administration (admin only): users, their role and scope, passwords, the audit log."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal

import dash
from dash import Input, Output, State, ctx, dcc, html, no_update
from flask import current_app

from appdb.schema import ROLES
from appdb.store import CodedError, PasswordPolicyError
from components.admin import audit_grid, kiosk_grid, message, problems_message, users_grid
from components.i18n import CATALOG, t
from components.sessions import session_table
from data_layer.errors import UserError
from data_layer.inputs import FormProblems, read_form
from data_layer.queries.structure import departments
from data_layer.scope import Scope
from shell.access import audit, page_denied
from shell.inputs import Code, Codes, Count, Line, RowId

from ._admin_form import NEW, SCOPES_FOR, UserForm, action_of, problem_lines
from ._admin_notify import INPUTS as NOTIFY_INPUTS
from ._admin_notify import register as register_notify
from ._admin_notify import section as notify_section
from ._common import current_lang, forbidden_panel, warehouse
from ._kit import Ask, page_callback

ADMIN = ("admin",)
dash.register_page(__name__, path="/admin", name="Users", order=90, allowed_roles=ADMIN, landing_for=ADMIN,
                   nav_label={"zh": "用户管理", "en": "Users"},
                   inputs={"admin-user.value": RowId | Literal["__new__"], "admin-refresh.data": Count,
                           "admin-version.data": Count,
                           "admin-username.value": Line, "admin-name.value": Line, "admin-password.value": Line,
                           "admin-role.value": Code, "admin-scope-kind.value": Code, "admin-scope-ids.value": Codes,
                           "audit-action.value": Code, "audit-user.value": Line, "kiosk-user.value": RowId,
                           "kiosk-label.value": Line, "kiosk-revoke#index": RowId, **NOTIFY_INPUTS})

register_notify()  # the section "Notifications of the selected user" (pages/_admin_notify.py)

# Every audit action with a name in the catalogs ("action.<code>"), in the catalog's order.
AUDIT_ROWS = 2000  # the newest entries the grid holds (it draws only the rows in view)
ACTIONS = tuple(k.removeprefix("action.") for k in CATALOG if k.startswith("action.") and k != "action.other")


def _db():
    return current_app.extensions["hospdash"].appdb


def _scope_options(kind: str | None, lang: str) -> list[dict]:
    """Campuses or departments to choose from (names only: the admin sees no figures)."""
    if kind not in ("campus", "departments"):
        return []
    try:
        deps = departments(warehouse(), Scope.hospital())
    except UserError:
        return []
    if kind == "campus":
        camp = deps.drop_duplicates("campus_id")
        return [{"label": r["campus_zh"] if lang == "zh" else r["campus_en"], "value": r["campus_id"]}
                for _, r in camp.iterrows()]
    name = "name_zh" if lang == "zh" else "name_en"
    return [{"label": r[name], "value": r["dept_id"]} for _, r in deps.iterrows()]


def _scope_names(lang: str) -> dict[str, str]:
    """Campus and department id -> name, for reading scopes."""
    try:
        deps = departments(warehouse(), Scope.hospital())
    except UserError:
        return {}
    name, campus = ("name_zh", "campus_zh") if lang == "zh" else ("name_en", "campus_en")
    return {**dict(zip(deps["campus_id"], deps[campus], strict=True)),
            **dict(zip(deps["dept_id"], deps[name], strict=True))}


def _users_table(lang: str) -> Any:
    return users_grid(_db().list_users(), _scope_names(lang), lang)


def _status(lang: str) -> html.Div:
    """Where the two databases are and whether the warehouse answers, with the driver's words
    when it does not: for administrators only (users see a plain banner)."""
    from data_layer.engine import redact

    settings = current_app.extensions["hospdash"].settings
    try:
        warehouse().freshness()
        wh_state = t("admin.status.ok", lang)
    except UserError as exc:
        wh_state = f"{t('admin.status.down', lang)}: {exc}"
    line = lambda key, address, state: html.Div([  # noqa: E731
        html.Strong(t(key, lang)), " ", html.Span(address, className="verbatim"), " · ",
        html.Span(state, className="verbatim")])
    return html.Div([line("admin.status.app_db", redact(settings.app_db_url), t("admin.status.ok", lang)),
                     line("admin.status.warehouse", redact(settings.warehouse_url), wh_state)],
                    className="note mb-3", id="admin-status")


def layout(**_query: str) -> html.Main:
    lang = current_lang()
    if page_denied(__name__):
        return forbidden_panel(lang)
    users = _db().list_users()
    role_opts = [{"label": t(f"role.{r}", lang), "value": r} for r in ROLES]
    user_opts = _user_options(lang)
    field = lambda label, comp: html.Div([html.Label(t(label, lang), className="form-label"), comp],  # noqa: E731
                                         className="mb-2")
    form = html.Div([
        field("admin.pick", dcc.Dropdown(id="admin-user", options=user_opts, value=NEW, clearable=False)),
        field("admin.username", dcc.Input(id="admin-username", className="form-control", maxLength=64)),
        field("admin.name", dcc.Input(id="admin-name", className="form-control", maxLength=128)),
        field("admin.role", dcc.Dropdown(id="admin-role", options=role_opts, value="assistant", clearable=False)),
        field("admin.scope", dcc.Dropdown(id="admin-scope-kind", value="departments", clearable=False,
                                          options=[{"label": t("scope.departments", lang), "value": "departments"}])),
        field("admin.scope_ids", dcc.Dropdown(id="admin-scope-ids", multi=True,
                                              options=_scope_options("departments", lang))),
        field("admin.password", dcc.Input(id="admin-password", type="password", className="form-control",
                                          autoComplete="new-password")),
        dcc.Store(id="admin-version"),
        html.Div([
            html.Button(t("admin.save", lang), id="admin-save", className="btn btn-primary me-2"),
            html.Button(t("admin.reset_password", lang), id="admin-reset", className="btn btn-outline-secondary me-2"),
            html.Button(t("admin.toggle_active", lang), id="admin-toggle", className="btn btn-outline-danger"),
        ], className="mt-2"),
        html.Div(id="admin-message", className="mt-2", role="status"),
    ], className="admin-form card card-body")
    audit_filters = html.Div([
        dcc.Dropdown(id="audit-action", options=[{"label": t(f"action.{a}", lang), "value": a} for a in ACTIONS],
                     placeholder=t("audit.action", lang), className="audit-filter"),
        dcc.Input(id="audit-user", placeholder=t("audit.user", lang), className="form-control audit-filter",
                  debounce=True),
        html.Div(dcc.DatePickerRange(id="audit-dates", display_format="YYYY-MM-DD", clearable=True,
                                     start_date_placeholder_text=t("audit.from", lang),
                                     end_date_placeholder_text=t("audit.to", lang)), className="audit-dates"),
    ], className="audit-filters")
    return html.Main([
        html.H1(t("nav.admin", lang)),
        _status(lang),
        dcc.Store(id="admin-refresh", data=0),
        html.Div([
            html.Div([html.P(t("admin.users_help", lang), className="note mb-1"),
                      html.Div(_users_table(lang), id="admin-users")], className="admin-users"),
            form,
        ], className="admin-grid"),
        notify_section(lang),
        html.H2(t("sessions.title", lang)),
        html.P(t("sessions.help", lang), className="note"),
        html.Div(id="admin-sessions"),
        html.Button(t("sessions.end_all", lang), id="admin-end-sessions", className="btn btn-outline-danger btn-sm"),
        html.Div(id="admin-sessions-message", className="mt-2", role="status"),
        html.H2(t("kiosk.title", lang)),
        html.P(t("kiosk.help", lang), className="note"),
        html.Div([
            dcc.Dropdown(id="kiosk-user", placeholder=t("kiosk.account", lang), className="audit-filter",
                         options=[{"label": f"{u.username} ({u.display_name})", "value": u.id}
                                  for u in users if u.role == "leader" and u.is_active]),
            dcc.Input(id="kiosk-label", placeholder=t("kiosk.label", lang), className="form-control audit-filter",
                      maxLength=128),
            html.Button(t("kiosk.issue", lang), id="kiosk-issue", className="btn btn-primary"),
        ], className="audit-filters"),
        html.Div(id="kiosk-message", role="status"),
        html.Div(id="kiosk-table"),
        html.H2(t("nav.audit", lang)),
        audit_filters,
        html.Div(id="audit-table"),
    ], className="container-fluid page")


@page_callback(Output("admin-username", "value"), Output("admin-username", "disabled"), Output("admin-name", "value"),
               Output("admin-role", "value"), Output("admin-scope-kind", "value"), Output("admin-scope-ids", "value"),
               Output("admin-version", "data"), Output("admin-password", "value"),
               Input("admin-user", "value"), Input("admin-refresh", "data"), roles=ADMIN)
def load_user(ask: Ask, user_id: Any, _refresh: int) -> tuple:
    if user_id in (None, NEW):
        return "", False, "", "assistant", "departments", [], None, ""
    user = _db().get(int(user_id))
    if user is None:
        return "", False, "", "assistant", "departments", [], None, ""
    return user.username, True, user.display_name, user.role, user.scope_kind, list(user.scope_ids), user.version, ""


@page_callback(Output("admin-scope-kind", "options"), Output("admin-scope-ids", "options"),
               Output("admin-scope-ids", "disabled"),
               Input("admin-role", "value"), Input("admin-scope-kind", "value"), roles=ADMIN)
def scope_choices(ask: Ask, role: str | None, kind: str | None) -> tuple:
    lang = ask.lang
    kinds = SCOPES_FOR.get(role or "", [])
    return ([{"label": t(f"scope.{k}", lang), "value": k} for k in kinds], _scope_options(kind, lang),
            kind not in ("campus", "departments"))


@page_callback(Output("admin-message", "children"), Output("admin-refresh", "data"), Output("admin-user", "options"),
               Output("admin-user", "value"),
               Input("admin-save", "n_clicks"), Input("admin-reset", "n_clicks"), Input("admin-toggle", "n_clicks"),
               State("admin-user", "value"), State("admin-username", "value"), State("admin-name", "value"),
               State("admin-role", "value"), State("admin-scope-kind", "value"), State("admin-scope-ids", "value"),
               State("admin-password", "value"), State("admin-version", "data"), State("admin-refresh", "data"),
          prevent_initial_call=True, roles=ADMIN)
def act(ask: Ask, _save, _reset, _toggle, user_id, username, name, role, kind, ids, password, version, refresh) -> tuple:
    lang, db = ask.lang, _db()
    unchanged = (no_update, no_update, no_update)
    if ctx.triggered_id != "admin-save" and user_id in (None, NEW):
        return message(t("admin.err.pick_first", lang), False), *unchanged
    try:
        form = read_form(UserForm, {"action": action_of(ctx.triggered_id, user_id), "username": username,
                                    "display_name": name, "role": role, "scope_kind": kind, "scope_ids": ids,
                                    "password": password})
    except FormProblems as exc:
        return problems_message(problem_lines(exc.problems, lang)), *unchanged
    name, ids = form.display_name or "", form.scope_ids or []
    try:
        if form.action == "create":
            user = db.create_user(form.username or "", name, form.password or "", role, kind, ids)
            audit("user_created", user.username, f"{role} {kind}:{','.join(ids)}")
            text = t("admin.created", lang, username=user.username)
        elif form.action == "update":
            user = db.update_role_scope(int(user_id), role, kind, ids, expected_version=version, display_name=name)
            audit("user_changed", user.username, f"{role} {kind}:{','.join(ids)}")
            text = t("admin.saved", lang, username=user.username)
        elif form.action == "reset":
            user = db.set_password(int(user_id), form.password or "", expected_version=version)
            audit("password_reset", user.username)
            text = t("admin.password_set", lang, username=user.username)
        else:
            current = db.get(int(user_id))
            if current is None:
                raise CodedError("pick_first", "pick an existing user first")
            user = db.set_active(current.id, not current.is_active, expected_version=version)
            audit("user_activated" if user.is_active else "user_deactivated", user.username)
            text = t("admin.activated" if user.is_active else "admin.deactivated", lang, username=user.username)
    except PasswordPolicyError as exc:
        return message(t(f"password.{exc.code}", lang), False), *unchanged
    except CodedError as exc:
        return message(t(f"admin.err.{exc.code}", lang), False), *unchanged
    except UserError as exc:
        return message(str(exc), False), *unchanged
    return message(text, True), (refresh or 0) + 1, _user_options(lang), user.id


@page_callback(Output("admin-user", "value", allow_duplicate=True), Input("admin-users-table", "cellClicked"),
               prevent_initial_call=True, roles=ADMIN)
def pick_row(ask: Ask, cell: dict | None) -> Any:
    """A click on a row of the users grid picks that user, as the dropdown does."""
    try:
        user_id = int((cell or {}).get("rowId"))
    except (TypeError, ValueError):
        return no_update
    return user_id if 0 < user_id < 2**31 and _db().get(user_id) is not None else no_update


def _user_options(lang: str) -> list[dict]:
    return [{"label": t("admin.new_user", lang), "value": NEW}] + [
        {"label": f"{u.username} ({u.display_name})", "value": u.id} for u in _db().list_users()]


@page_callback(Output("admin-users", "children"), Input("admin-refresh", "data"), prevent_initial_call=True, roles=ADMIN)
def refresh_users(ask: Ask, _n: int) -> Any:
    return _users_table(ask.lang)


@page_callback(Output("admin-sessions", "children"), Output("admin-sessions-message", "children"),
               Input("admin-user", "value"), Input("admin-refresh", "data"),
               Input("admin-end-sessions", "n_clicks"), roles=ADMIN)
def user_sessions(ask: Ask, user_id: Any, _refresh: int, _end: Any) -> tuple:
    """The selected user's open sessions; the button ends them all (audited)."""
    lang = ask.lang
    db = _db()
    user = db.get(user_id) if isinstance(user_id, int) and 0 < user_id < 2**31 else None
    if user is None:
        pressed = ctx.triggered_id == "admin-end-sessions"
        refused = message(t("admin.err.pick_first", lang), False) if pressed else None
        return html.P(t("sessions.pick", lang), className="note"), refused
    said = None
    if ctx.triggered_id == "admin-end-sessions":
        count = db.end_user_sessions(user.id, "admin")
        audit("sessions_ended", user.username, f"{count} sessions")
        said = message(t("sessions.ended", lang, username=user.username, count=count), True)
    return session_table(db.active_sessions(user.id), lang), said


@page_callback(Output("audit-table", "children"), Input("audit-action", "value"), Input("audit-user", "value"),
               Input("audit-dates", "start_date"), Input("audit-dates", "end_date"),
               Input("admin-refresh", "data"), roles=ADMIN)
def audit_table(ask: Ask, action: str | None, user: str | None, start: str | None, end: str | None, _n: int) -> Any:
    lang = ask.lang
    if action is not None and action not in ACTIONS:
        raise UserError(t("audit.bad_filter", lang))
    try:
        since = datetime.combine(date.fromisoformat(start[:10]), time.min) if start else None
        until = datetime.combine(date.fromisoformat(end[:10]), time.max) if end else None
    except ValueError:
        raise UserError(t("audit.bad_filter", lang)) from None
    rows = _db().audit_entries(action=action, username=(user or "").strip() or None, since=since, until=until,
                               limit=AUDIT_ROWS)
    return audit_grid(rows, ACTIONS, lang)


def _kiosk_table(lang: str) -> Any:
    return kiosk_grid(_db().list_kiosks(), lang, lambda kid: {"type": "kiosk-revoke", "index": kid})


@page_callback(Output("kiosk-message", "children"), Output("kiosk-table", "children"),
               Input("kiosk-issue", "n_clicks"), Input({"type": "kiosk-revoke", "index": dash.ALL}, "n_clicks"),
               State("kiosk-user", "value"), State("kiosk-label", "value"), roles=ADMIN)
def kiosks(ask: Ask, _issue: Any, revokes: list, user_id: Any, label: Any) -> tuple:
    """Issue a kiosk login (its address is shown once) or revoke one; both audited."""
    lang = ask.lang
    db = _db()
    said: Any = None
    trigger = ctx.triggered_id
    try:
        if trigger == "kiosk-issue":
            if not isinstance(user_id, int):
                raise CodedError("pick_first", "pick a leader account first")
            kid, token = db.issue_kiosk(user_id, label if isinstance(label, str) else "", None)
            user = db.get(user_id)
            audit("kiosk_issued", user.username if user else str(user_id), f"kiosk {kid} {label or ''}")
            from flask import request

            address = f"{request.host_url.rstrip('/')}/kiosk/{token}"
            said = html.Div([html.Div(t("kiosk.issued", lang, id=kid)), html.Code(address, id="kiosk-address")],
                            className="alert alert-success py-2")
        elif isinstance(trigger, dict) and trigger.get("type") == "kiosk-revoke" and any(revokes or []):
            kid = int(trigger["index"])
            if db.revoke_kiosk(kid):
                audit("kiosk_revoked", f"kiosk {kid}")
                said = message(t("kiosk.revoked_now", lang, id=kid), True)
    except CodedError as exc:
        key = f"admin.err.{exc.code}"
        said = message(t(key, lang) if exc.code == "pick_first" else t("kiosk.leader_only", lang), False)
    return said, _kiosk_table(lang)
