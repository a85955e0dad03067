"""Response headers and request limits every response shares: the Content-Security-Policy
and the request body limit (413 with a plain message)."""
from __future__ import annotations

from typing import Any

import dash
from flask import Flask, Response, jsonify
from markupsafe import escape
from werkzeug.exceptions import RequestEntityTooLarge

from components.i18n import t

from .auth import request_lang, wants_json

MB = 1024 * 1024


def content_security_policy(app: dash.Dash) -> str:
    """The policy: scripts only from this server plus Dash's own inline scripts by their hashes
    (the renderer bootstrap and inline clientside callbacks; the `_dash-config` block is JSON,
    not a script), so no injected script runs."""
    scripts = " ".join(["'self'", *dict.fromkeys(app.csp_hashes())])
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        # Plotly.js writes its own <style> elements when it draws (modebar, hover labels), and
        # dcc components do the same: styles need 'unsafe-inline'. A style cannot run code.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",  # Plotly's modebar icons and image exports are data:/blob: URLs
        "font-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ])


def init_headers(server: Flask, app: dash.Dash) -> None:
    """The request body limit and the Content-Security-Policy on `server`, whose pages `app` serves."""
    settings = server.extensions["hospdash"].settings
    server.config["MAX_CONTENT_LENGTH"] = int(settings.max_request_mb * MB)

    @server.after_request
    def csp(resp: Response) -> Response:
        # built per answer, not once: the inline scripts Dash reports grow as pages register theirs
        # (a policy memoised at the first answer blocked the walls' clientside callbacks)
        resp.headers.setdefault("Content-Security-Policy", content_security_policy(app))
        return resp

    @server.errorhandler(RequestEntityTooLarge)
    def too_large(_err: RequestEntityTooLarge) -> Any:
        message = t("http.too_large", request_lang(), mb=f"{settings.max_request_mb:g}")
        if wants_json():
            return jsonify({"error": "too_large", "message": message}), 413
        lang = "zh-CN" if request_lang() == "zh" else "en"
        return (f'<!DOCTYPE html><html lang="{lang}"><meta charset="utf-8"><title>413</title>'
                f"<p>{escape(message)}</p></html>"), 413
