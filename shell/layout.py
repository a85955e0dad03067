"""The shell around every page: navigation from the page registry, language switch, sign-out,
the warehouse banner and the error line; and the app-wide callback error handler."""
from __future__ import annotations

import logging
import uuid
from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, State, dcc, html
from flask import Flask, current_app
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import Forbidden

from appdb.store import AppDBUnavailable, counting_reads
from components.i18n import t
from components.wall import freshness_stamp
from data_layer.errors import UserError
from data_layer.queries.structure import departments
from data_layer.scope import Scope
from data_layer.warehouse import RESULT_TTL

from .access import PermissionDenied, audit, may_open
from .auth import request_lang
from .cache_values import sent, unsent
from .outage import plain_message

log = logging.getLogger("hospdash")

WAREHOUSE_CHECK_MS = 30_000


def adopt_page_callbacks(server: Flask) -> None:
    """Give the app on `server` the callbacks its pages registered with `dash.callback` now,
    rather than on its first request: Dash moves them into the app in its first-request setup,
    which this runs through Flask's own before-request hooks on the public sign-in page. Each
    app instance in one process (tests, several apps under one server) so owns its pages'
    callbacks from its creation and never takes, or leaves behind, another's."""
    with server.test_request_context("/login"):
        server.preprocess_request()


def callback_error(exc: Exception) -> None:
    """Every callback's last resort: a refusal becomes an audited 403; anything else a short
    message with an error id that is also in the server log. Never a traceback."""
    if isinstance(exc, AppDBUnavailable):
        raise exc  # the server's handler answers 503 with a plain message (shell/outage.py)
    if isinstance(exc, PermissionDenied):
        audit("forbidden_callback", dash.ctx.triggered_id and str(dash.ctx.triggered_id), str(exc))
        raise Forbidden(t("error.forbidden_action", request_lang()))
    if isinstance(exc, UserError):
        text = plain_message(exc, request_lang())
        dash.set_props("app-error", {"children": html.Div(text, className="alert alert-warning mb-0"),
                                     "hidden": False})
        return None
    error_id = uuid.uuid4().hex[:8]
    log.error("callback error %s: %s", error_id, exc, exc_info=exc)
    dash.set_props("app-error", {"children": html.Div(t("error.unexpected", request_lang(), error_id=error_id),
                                                      className="alert alert-danger mb-0"), "hidden": False})
    return None


def _nav_links(role: str, lang: str) -> list[Any]:
    links = []
    for page in sorted(dash.page_registry.values(), key=lambda p: p.get("order") or 0):
        if page.get("nav") is False or not may_open(page["module"], role):
            continue
        label = page.get("nav_label", {}).get(lang, page["name"])
        links.append(dcc.Link(label, href=page["path"], className="nav-link", id={"type": "nav", "index": page["path"]}))
    return links


def _post_button(action: str, label: str, element_id: str, next_url: str = "") -> html.Form:
    return html.Form([
        dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
        dcc.Input(type="hidden", name="next", value=next_url),
        html.Button(label, type="submit", className="btn btn-outline-light btn-sm", id=element_id),
    ], method="post", action=action, className="d-inline ms-2")


def shell_layout() -> html.Div:
    """The page frame for the signed-in user (the gate keeps everyone else at /login)."""
    lang = request_lang()
    if not getattr(current_user, "is_authenticated", False):  # pragma: no cover - the gate answers first
        return html.Div(dcc.Location(id="to-login", href="/login"))
    role = current_user.role
    bar = html.Nav([
        dcc.Link(t("app.title", lang), href="/", className="navbar-brand"),
        html.Div(_nav_links(role, lang), className="nav-links"),
        html.Div([
            html.Span(_badge_text(current_user, lang), className="user-badge", id="user-badge",
                      title=current_user.display_name),
            _post_button(f"/lang/{'en' if lang == 'zh' else 'zh'}", t("lang.switch", lang), "lang-switch"),
            _post_button("/logout", t("nav.logout", lang), "logout", "/"),
        ], className="nav-user"),
    ], className="app-navbar", id="app-navbar")
    return html.Div([
        bar,
        html.Div(id="warehouse-banner", role="status", **_banner(lang)),
        html.Div(id="app-error", hidden=True, role="alert"),
        dcc.Interval(id="warehouse-check", interval=WAREHOUSE_CHECK_MS),
        dash.page_container,
    ], className="app-root", lang="zh-CN" if lang == "zh" else "en")


def _badge_text(user: Any, lang: str) -> str:
    """Who is signed in, in the page's language only: the role and what it covers (全院 / a campus /
    a department / N departments). The display name is free text an administrator typed, often in
    one language or both ("院长 Hospital leader"), so it is the badge's tooltip, not its text."""
    from .access import scope_of

    role = t(f"role.{user.role}", lang)
    scope = scope_of(user)
    if scope.kind == "hospital":
        return f"{role} · {t('wall.whole_hospital', lang)}"
    try:
        depts = departments(current_app.extensions["hospdash"].warehouse, Scope.hospital())
    except UserError:  # the warehouse is away: the banner says so; the role is enough here
        return role
    zh = lang == "zh"
    if scope.kind == "campus":
        names = depts.drop_duplicates("campus_id").set_index("campus_id")["campus_zh" if zh else "campus_en"]
        shown = [names[c] for c in sorted(scope.ids) if c in names.index]
        return f"{role} · {'、'.join(shown) if zh else ', '.join(shown)}" if shown else role
    names = depts.set_index("dept_id")["name_zh" if zh else "name_en"]
    mine = [names[d] for d in sorted(scope.ids) if d in names.index]
    if len(mine) == 1:
        return f"{role} · {mine[0]}"
    return f"{role} · {t('shell.scope_departments', lang, n=len(mine))}" if mine else role


def _banner(lang: str) -> dict[str, Any]:
    """The warehouse banner's children and visibility, from a fresh check of meta_load."""
    try:
        current_app.extensions["hospdash"].warehouse.freshness()
    except UserError as exc:  # its text names the database's address: for the log and the admin page only
        log.warning("warehouse unavailable: %s", exc)
        return {"children": html.Div(t("banner.warehouse_down", lang), className="alert alert-warning mb-0"),
                "hidden": False}
    return {"children": None, "hidden": True}


LAYOUT_TTL = RESULT_TTL  # a page layout is kept until the next load, a day at most (as answers are: pages/_kit)


def _localized(layout: Any, module: str | None = None, cached: Any = False) -> Any:
    """A page's layout function whose dropdowns and date pickers speak the reader's language.
    `cached` (a page registered with cache_layout=True: the leadership screens, whose layout is a
    function of the reader's role, scope and language, the address and the data alone): the
    layout is kept in the result cache under those and the freshness stamp, as the callbacks'
    answers are; a layout that audited something (a refusal) is built, and audited, every time.
    A page whose layout also shows something of the application database (which changes without
    a load: the data-quality mark) registers cache_layout=a function returning what it shows,
    read for every request and kept in the key, so a change shows at once."""
    import functools

    from components.controls import localize_controls

    if not callable(layout) or getattr(layout, "localized", False):
        return layout

    def build(*args: Any, **kwargs: Any) -> Any:
        return localize_controls(layout(*args, **kwargs), request_lang())

    @functools.wraps(layout)
    def inner(*args: Any, **kwargs: Any) -> Any:
        if not cached:
            return build(*args, **kwargs)
        marks = cached() if callable(cached) else ()
        return _kept_layout(module or "", (*sorted(kwargs.items()), *marks), lambda: build(*args, **kwargs))

    inner.localized = True  # type: ignore[attr-defined]
    return inner


def _kept_layout(module: str, keyed: tuple, build: Any) -> Any:
    """The layout kept under the reader, the module and `keyed` (the address's values and what the
    layout shows of the application database), or `build()` kept there."""
    from flask import g

    from .access import is_kiosk, scope_of

    wh = current_app.extensions["hospdash"].warehouse
    role = getattr(current_user, "role", None)
    try:
        parts = ("layout", module, role, scope_of(current_user).key, request_lang(), is_kiosk(),
                 tuple(repr(k) for k in keyed))
        hit = wh.lookup(parts)
    except UserError:  # the warehouse is away: the layout says so itself
        return build()
    if hit is not None:
        return unsent(hit)
    g.hospdash_audited = False
    with counting_reads() as reads:  # what the layout shows of the application database is in `keyed`
        out = build()
    if g.get("hospdash_audited"):  # a refusal: built, and audited, every time
        return out
    if reads[0]:
        log.warning("layout of %s not kept: building it read the application database (%d statements), "
                    "which its key does not hold", module, reads[0])
    else:
        wh.keep(parts, sent(out), LAYOUT_TTL)
    return out


def init_shell(app: dash.Dash) -> None:
    app.layout = shell_layout
    for page in dash.page_registry.values():
        page["layout"] = _localized(page.get("layout"), page.get("module"), page.get("cache_layout") or False)
    _wall_callbacks(app)

    @app.callback(Output("warehouse-banner", "children"), Output("warehouse-banner", "hidden"),
                  Input("warehouse-check", "n_intervals"), prevent_initial_call=True)
    def check_warehouse(_n: int | None) -> tuple[Any, bool]:
        """The banner comes and goes by itself as the warehouse goes away and returns."""
        if not getattr(current_user, "is_authenticated", False):
            raise PermissionDenied("not logged in")
        b = _banner(request_lang())
        return b["children"], b["hidden"]


def _wall_callbacks(app: dash.Dash) -> None:
    """What every leadership screen's frame (components/wall.py) runs: the browser-side clock,
    refresh tick (which also measures the screen, for figure scaling) and rotation step, and
    the freshness stamp, re-read from the warehouse with every refresh tick."""
    app.clientside_callback(ClientsideFunction("wall", "clock"), Output("wall-clock", "children"),
                            Input("wall-clock-tick", "n_intervals"), State("wall-params", "data"))
    app.clientside_callback(ClientsideFunction("wall", "tick"), Output("wall-tick", "data"),
                            Input("wall-refresh", "n_intervals"))
    app.clientside_callback(ClientsideFunction("wall", "rotate"), Output("wall-rotate", "disabled"),
                            Input("wall-rotate", "n_intervals"), State("wall-next", "data"),
                            prevent_initial_call=True)

    @app.callback(Output("wall-fresh", "children"), Output("wall-fresh", "className"), Input("wall-tick", "data"))
    def stamp(_tick: Any) -> tuple[str, str]:
        """The freshness stamp, re-read with every refresh; a warning once it is too old."""
        if not getattr(current_user, "is_authenticated", False):
            raise PermissionDenied("not logged in")
        state = current_app.extensions["hospdash"]
        lang = request_lang()
        text, css = freshness_stamp(state.warehouse.freshness(), state.settings.wall_stale_hours, lang)
        if _quality_red("wall"):  # the latest data-quality run found something red in what the wall shows
            text = f"{text} · ⚠ {t('quality.mark', lang)}"
        return text, css


def _quality_red(page: str) -> bool:
    """The data-quality mark for the signed-in reader's scope (never fails the stamp)."""
    from appdb.quality import red_tables
    from components.quality import page_is_red

    from .access import scope_of

    try:
        return page_is_red(page, red_tables(current_app.extensions["hospdash"].appdb, scope_of(current_user)))
    except Exception as exc:  # noqa: BLE001 - a hint beside the stamp; the wall must still refresh
        log.warning("data-quality mark not read: %s", exc)
        return False

