"""Login, logout, sessions, CSRF and the gate that keeps every non-public path behind login."""
from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from appdb.store import User
from components.i18n import LANGS, pick_lang, t

from .access import audit, landing_path

# What anyone may fetch: the views below, and Dash's static files (routes whose first segment is one
# of PUBLIC_TREES). Decided by the route a request matched, so /loginX, /login/x or a GET of
# /lang/en, which Dash's catch-all route would answer with the page shell, are not public.
PUBLIC_ENDPOINTS = frozenset({"login", "healthz", "kiosk", "set_language", "bootstrap_css"})
PUBLIC_TREES = frozenset({"assets", "_dash-component-suites", "_favicon.ico"})
SESSION_KEY = "sid"  # the cookie's random session id; the application database knows whether it is alive
KIOSK_COOKIE = "hospdash_kiosk"
KIOSK_COOKIE_AGE = 400 * 86400  # browsers cap cookies at 400 days; every use renews it
KIOSK_LANDING = "/wall/campus?kiosk=1&rotate=60"
DASH_PREFIXES = ("/_dash-", "/_reload-hash")


class SessionUser(UserMixin):
    """The logged-in user as flask-login sees it."""

    def __init__(self, user: User):
        self.user = user

    def get_id(self) -> str:
        # the version makes a session end when an admin changes the user (role, scope, password, deactivation)
        return f"{self.user.id}:{self.user.version}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)


def safe_next(target: str | None) -> str | None:
    """A local path to return to after login, or None (never another site)."""
    if not target:
        return None
    target = target.strip().replace("\\", "/")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if any(ord(c) < 32 for c in target):
        return None
    return target


def referrer_path() -> str | None:
    """The path and query of the page that sent this request, when it is one of ours."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host or parts.scheme not in ("http", "https"):
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def client_ip() -> str:
    return request.remote_addr or "unknown"


def request_lang() -> str:
    saved = current_user.lang if getattr(current_user, "is_authenticated", False) else None
    return pick_lang(request.headers.get("Accept-Language"), request.cookies.get("lang") or saved)


def is_public() -> bool:
    """Whether this request is for a public view or a static file (whole route segments, never a prefix)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return True
    rule = request.url_rule
    return rule is not None and rule.rule.strip("/").split("/")[0] in PUBLIC_TREES


def wants_json() -> bool:
    if request.path.startswith(DASH_PREFIXES) or request.path.startswith("/download"):
        return True
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


class _SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a refused XHR leaves the browser's cookie alone."""

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if g.get("leave_session_cookie"):
            return
        super().save_session(app, session, response)


def init_auth(server: Flask) -> None:
    """Sessions, flask-login, CSRF and the login gate on `server`."""
    state = server.extensions["hospdash"]
    server.session_interface = _SessionCookies()
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=state.settings.secure_cookies,
        SESSION_COOKIE_NAME="hospdash_session",
        # The cookie is written only when the session changes (a sign-in, a sign-out): a late answer to a
        # request admitted before the session ended must not overwrite the cookie the login page has just set
        # (its CSRF token), or the next sign-in is refused. So the cookie lives as long as a session can; the
        # server-side record, with its idle limit, is what counts.
        PERMANENT_SESSION_LIFETIME=state.appdb.session_limits.absolute,
        SESSION_REFRESH_EACH_REQUEST=False,
        REMEMBER_COOKIE_DURATION=timedelta(seconds=0),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=False,
    )
    manager = LoginManager()
    manager.init_app(server)
    # Off on purpose: the server-side session record is the protection. Flask-Login's "strong" mode
    # would tie a session to the address and browser, which change legitimately (Wi-Fi roaming, a
    # proxy), and with permanent sessions it only marks the session "not fresh", which nothing reads.
    manager.session_protection = None

    @manager.user_loader
    def load_user(key: str) -> SessionUser | None:
        try:
            user_id, version = (int(x) for x in key.split(":"))
        except ValueError:
            return None
        # the browser's server-side session is read with the user, in one round to the database;
        # session_ended() below judges it (the gate asks right after this)
        found, user = state.appdb.check_session_user(session.get(SESSION_KEY), user_id)
        g.hospdash_session = found
        if user is None or not user.is_active or user.version != version:
            return None
        if user.is_demo and not state.demo_warehouse:
            return None
        return SessionUser(user)

    def kiosk_sign_in(token: str, action: str) -> bool:
        """Sign the browser in with a kiosk token (audited); False for a bad or revoked one."""
        found = state.appdb.kiosk_login(token, client_ip())
        if found is None:
            state.appdb.audit("kiosk_refused", None, request.path[:7], action, client_ip())
            return False
        kid, user = found
        if user.is_demo and not state.demo_warehouse:  # like a password sign-in: demo accounts stay in the demo
            state.appdb.audit("kiosk_refused", user.username, f"kiosk {kid}", "demo account", client_ip())
            return False
        start_session(user, kiosk_id=kid)
        state.appdb.audit(action, user.username, f"kiosk {kid}", None, client_ip())
        return True

    def start_session(user: User, kiosk_id: int | None = None) -> None:
        """Sign the browser in as `user` with a new server-side session record."""
        session.clear()
        login_user(SessionUser(user))
        session[SESSION_KEY] = state.appdb.open_session(user.id, client_ip(), request.user_agent.string, kiosk_id)
        g.fresh_csrf = True  # the new session's CSRF token goes out with this answer (the sign-in's redirect)

    def session_ended() -> bool:
        """True (and signed out) when the signed-in browser's server-side session is over."""
        # read with the user (load_user) in this request, or now
        found = g.pop("hospdash_session") if "hospdash_session" in g else state.appdb.check_session(session.get(SESSION_KEY))
        if found is not None and found.ended is None and found.user_id == current_user.id:
            g.kiosk_id = found.kiosk_id  # a wall display's session (shell.access.is_kiosk)
            return False
        if found is not None and found.ended == "kiosk_revoked":
            state.appdb.audit("kiosk_ended", current_user.username, f"kiosk {found.kiosk_id}", "revoked", client_ip())
        logout_user()
        session.clear()
        return True

    @server.before_request
    def gate() -> Response | None:
        if not session.permanent:  # setting it marks the session changed, and the cookie would be written again
            session.permanent = True
        if is_public():
            return None
        if current_user.is_authenticated and not session_ended():
            return None
        token = request.cookies.get(KIOSK_COOKIE)
        if token and kiosk_sign_in(token, "kiosk_resume"):
            return None  # a wall whose session ran out (a restart, a long network outage) carries on
        return _refuse(clear_kiosk=bool(token))

    def _refuse(clear_kiosk: bool) -> Response:
        path = request.path
        if wants_json():
            resp = jsonify({"error": "login required", "login": url_for("login")})
            resp.status_code = 401
            # the browser's session cookie is left as it is: a page's late request must not overwrite the cookie
            # the login page has just set (its CSRF token) with a stale one (the ended session is refused anyway)
            g.leave_session_cookie = True
        else:
            resp = redirect(url_for("login", next=request.full_path if request.query_string else path))
        if clear_kiosk:
            resp.delete_cookie(KIOSK_COOKIE)
        return resp

    @server.route("/kiosk/<token>")
    def kiosk(token: str) -> Any:
        """A wall display's sign-in: the address an administrator issued, opened once on the wall."""
        lang = request_lang()
        if not kiosk_sign_in(token, "kiosk_login"):
            resp = Response(render_template("login.html", **_login_context(lang, error=t("login.kiosk_bad", lang))),
                            status=403)
            resp.delete_cookie(KIOSK_COOKIE)
            return resp
        resp = redirect(safe_next(request.args.get("next")) or KIOSK_LANDING)
        resp.set_cookie(KIOSK_COOKIE, token, max_age=KIOSK_COOKIE_AGE, httponly=True, samesite="Lax",
                        secure=state.settings.secure_cookies)
        return resp

    CSRFProtect(server)  # after the gate: a stranger hears 401 before any CSRF complaint

    @server.after_request
    def headers(resp: Response) -> Response:
        # Dash's renderer sends this cookie back as the X-CSRFToken header on every callback. Public views and
        # static files skip it: they must not load the user (a static file answers while the app database is away),
        # except a sign-in's own answer, which carries the new session's token to a client that calls back at once.
        if g.get("fresh_csrf") or (not is_public() and current_user.is_authenticated):
            resp.set_cookie("_csrf_token", generate_csrf(), samesite="Lax", secure=state.settings.secure_cookies,
                            httponly=False)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp

    @server.errorhandler(CSRFError)
    def csrf_failed(err: CSRFError) -> tuple[Any, int]:
        audit("csrf_refused", request.path, err.description)
        lang = request_lang()
        if wants_json():
            return jsonify({"error": "csrf", "message": t("login.csrf", lang)}), 400
        return render_template("login.html", **_login_context(lang, error=t("login.csrf", lang))), 400

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        lang = request_lang()
        nxt = safe_next(request.values.get("next"))
        if request.method != "POST":  # GET, and HEAD (a monitor's probe): the form, never a sign-in attempt
            if current_user.is_authenticated and not session_ended():
                return redirect(nxt or landing_path(current_user.role))
            return render_template("login.html", **_login_context(lang, next_url=nxt))
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        ip = client_ip()
        user, reason = state.appdb.authenticate(username, password, ip)
        if user is not None and user.is_demo and not state.demo_warehouse:
            user, reason = None, "demo_refused"
        if user is None:
            state.appdb.audit("login_failed", username[:64] or None, None, reason, ip)
            if reason == "locked":
                minutes = max(1, -(-state.appdb.lockout_seconds(username, ip) // 60))
                message = t("login.locked", lang, minutes=minutes)
                status = 429
            elif reason == "demo_refused":
                message, status = t("login.demo_refused", lang), 403
            else:
                message, status = t("login.bad", lang), 401
            page = Response(render_template("login.html", **_login_context(lang, error=message, username=username,
                                                                         next_url=nxt)), status=status)
            if status == 429:
                page.headers["Retry-After"] = str(minutes * 60)
            return page
        start_session(user)
        g.login_user = user
        state.appdb.audit("login", user.username, None, f"role={user.role}", ip)
        resp = redirect(nxt or landing_path(user.role))
        if user.lang in LANGS:
            resp.set_cookie("lang", user.lang, max_age=365 * 86400, samesite="Lax")
        return resp

    @server.route("/logout", methods=["POST"])
    def logout() -> Any:
        if current_user.is_authenticated:
            audit("logout")
        state.appdb.end_session(session.get(SESSION_KEY), "logout")
        logout_user()
        session.clear()
        resp = redirect(url_for("login"))
        resp.delete_cookie(KIOSK_COOKIE)  # signing out of a wall ends its kiosk login on this browser
        return resp

    @server.route("/lang/<code>", methods=["POST"])
    def set_language(code: str) -> Any:
        code = code if code in LANGS else "zh"
        if current_user.is_authenticated and not session_ended():
            state.appdb.set_lang(current_user.id, code)
        # back to the page the switch was pressed on (the shell's form cannot know it: it comes from the referrer)
        resp = redirect(safe_next(request.form.get("next")) or referrer_path() or "/")
        resp.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax", secure=state.settings.secure_cookies)
        return resp


def _login_context(lang: str, error: str | None = None, username: str = "", next_url: str | None = None) -> dict:
    return {
        "lang": lang, "html_lang": "zh-CN" if lang == "zh" else "en", "t": lambda key, **kw: t(key, lang, **kw),
        "error": error, "username": username, "next_url": next_url or "",
        "other_lang": "en" if lang == "zh" else "zh", "csrf_token": generate_csrf(),
        "demo": current_app.extensions["hospdash"].demo_warehouse,
    }
