"""Response headers and request limits every response shares: the Content-Security-Policy
and the request body limit (413 with a plain message)."""
from __future__ import annotations

from io import BytesIO
from typing import Any

import dash
from flask import Flask, Response, jsonify, request
from markupsafe import escape
from werkzeug.exceptions import RequestEntityTooLarge

from components.i18n import t

from .auth import request_lang, wants_json

MB = 1024 * 1024
TOO_LARGE = "hospdash.too_large"  # set in the WSGI environ by BodyLimit


class BodyLimit:
    """WSGI middleware: a body sent without a declared length (chunked transfer) is read here up to
    one byte past the limit. Werkzeug would cut such a body at the limit silently (a truncated JSON
    body then reads as a malformed request, a truncated form as missing fields); over the limit the
    request is marked and answered 413 like a declared length, within the limit it goes on with
    its length declared."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    def __call__(self, environ: dict, start_response: Any) -> Any:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() or environ.get("wsgi.input_terminated")
        if chunked and not environ.get("CONTENT_LENGTH"):
            stream, parts, size = environ["wsgi.input"], [], 0
            while size <= self.limit:
                part = stream.read(min(65536, self.limit + 1 - size))
                if not part:
                    break
                parts.append(part)
                size += len(part)
            body = b"".join(parts)
            if size > self.limit:
                environ[TOO_LARGE], body = True, b""
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = BytesIO(body), str(len(body))
            environ.pop("wsgi.input_terminated", None)
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)


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
    server.wsgi_app = BodyLimit(server.wsgi_app, server.config["MAX_CONTENT_LENGTH"])  # type: ignore[method-assign]

    def chunked_too_large() -> None:
        if request.environ.get(TOO_LARGE):
            raise RequestEntityTooLarge()

    # first of all: before the login gate or the CSRF check reads an empty body
    server.before_request_funcs.setdefault(None, []).insert(0, chunked_too_large)

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
