"""What every page shares: the app state, the reader's language, error panels.

Dash ignores modules whose names start with an underscore when it collects pages.
"""
from __future__ import annotations

import logging
import uuid

from dash import html
from flask import current_app, request

from components.i18n import pick_lang, t
from data_layer.warehouse import Warehouse

log = logging.getLogger("hospdash")


def warehouse() -> Warehouse:
    return current_app.extensions["hospdash"].warehouse


def current_lang() -> str:
    try:
        return pick_lang(request.headers.get("Accept-Language"), request.cookies.get("lang"))
    except RuntimeError:  # outside a request
        return "zh"


def warehouse_error_panel(message: str, lang: str) -> html.Div:
    return html.Div([html.Strong(t("error.warehouse", lang, message=message)), html.Br(),
                     html.Span(t("error.warehouse_hint", lang))], className="alert alert-warning", role="alert")


def unexpected_error_panel(exc: BaseException, lang: str) -> html.Div:
    """Log the error with an id; show the user only the id."""
    error_id = uuid.uuid4().hex[:8]
    log.error("error %s: %s", error_id, exc, exc_info=exc)
    return html.Div(t("error.unexpected", lang, error_id=error_id), className="alert alert-danger", role="alert")
