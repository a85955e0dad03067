"""Outages that say so without leaking: the application database's outage as a page, a 503
JSON answer or a login message, and /healthz reporting each database on its own."""
from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, current_app, g, jsonify, render_template, request

from appdb.store import AppDBUnavailable
from components.i18n import t
from data_layer.errors import UserError, WarehouseError

from .auth import _login_context, request_lang, safe_next, wants_json

log = logging.getLogger("hospdash")

HEALTH_TTL = 5.0  # seconds a health answer is reused: a load balancer polling often costs one query each


def plain_message(exc: UserError, lang: str) -> str:
    """What a user reads for an error meant for a person: its text, except that a warehouse error
    (whose text names the database's address) says only that the warehouse cannot be reached;
    the address goes to the log."""
    if isinstance(exc, WarehouseError):
        log.warning("warehouse unavailable: %s", exc)
        return t("error.warehouse", lang)
    return str(exc)


def _check(ping: Any) -> dict[str, Any]:
    """{"ok": True} or {"ok": False, "error": plain text}; the address goes to the log only."""
    try:
        ping()
    except AppDBUnavailable as exc:
        log.warning("health: %s", exc.detail)
        return {"ok": False, "error": "unreachable"}
    except Exception as exc:  # noqa: BLE001 - a health check answers whatever the database says
        log.warning("health: %s", exc if isinstance(exc, UserError) else repr(exc))
        return {"ok": False, "error": "unreachable"}
    return {"ok": True}


def _warehouse_ping(state: Any) -> None:
    from sqlalchemy import text

    from data_layer.engine import translate_errors

    with translate_errors(state.settings.warehouse_url), state.warehouse.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def health(state: Any, now: float | None = None) -> dict[str, Any]:
    """The app database's and the warehouse's state, reused for HEALTH_TTL seconds."""
    now = time.monotonic() if now is None else now
    cached = state.health_answer
    if cached is not None and now - cached[0] < HEALTH_TTL:
        return cached[1]
    answer = {"app_db": _check(state.appdb.ping), "warehouse": _check(lambda: _warehouse_ping(state))}
    answer = {"status": "ok" if all(v["ok"] for v in answer.values()) else "degraded", **answer}
    state.health_answer = (now, answer)
    return answer


def _as_anonymous() -> None:
    """Answer this request as nobody: the user could not be loaded, and the after-request hooks
    must not try again (a second failure there would be a bare 500)."""
    g._login_user = current_app.login_manager.anonymous_user()  # flask-login's per-request user


def _retry_path() -> str:
    """Where the outage page's Try again leads: this page again, or home after a form's POST."""
    return (safe_next(request.full_path.rstrip("?")) or "/") if request.method == "GET" else "/"


def init_outages(server: Flask) -> None:
    """The app database's outage handler and /healthz on `server`."""

    @server.errorhandler(AppDBUnavailable)
    def app_db_down(exc: AppDBUnavailable) -> tuple[Any, int]:
        log.error("application database unavailable (%s %s): %s", request.method, request.path, exc.detail)
        _as_anonymous()
        lang = request_lang()
        if request.endpoint == "login":
            return render_template("login.html", **_login_context(lang, error=t("login.unavailable", lang))), 503
        if wants_json():
            return jsonify({"error": "unavailable", "message": t("banner.app_db_down", lang)}), 503
        return render_template("outage.html", lang=lang, html_lang="zh-CN" if lang == "zh" else "en",
                               title=t("app.title", lang), message=t("banner.app_db_down", lang),
                               retry=t("outage.retry", lang), path=_retry_path()), 503

    @server.route("/healthz")
    def healthz() -> Any:
        answer = health(server.extensions["hospdash"])
        return jsonify(answer), 200 if answer["status"] == "ok" else 503
