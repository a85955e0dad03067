"""The page for an address that does not exist."""
from __future__ import annotations

import dash
from dash import dcc, html
from flask import request

from components.i18n import t

from ._common import current_lang

dash.register_page(__name__, path="/404", name="Not found", nav=False)


def _asked_path() -> str:
    """The address the user asked for: the router's pathname when Dash renders this page in its
    page callback, the `path` query argument when Flask redirects here."""
    try:
        inputs = dash.ctx.inputs or {}
    except Exception:  # noqa: BLE001 - outside a callback there is no context
        inputs = {}
    for key, value in inputs.items():
        if key.endswith(".pathname") and isinstance(value, str):
            return value
    return request.args.get("path", "") if request else ""


def layout(**_query: str) -> html.Div:
    lang = current_lang()
    path = _asked_path()
    return html.Main([html.H1(t("error.not_found", lang)), html.P(t("error.not_found_body", lang, path=path or "")),
                      dcc.Link(t("nav.home", lang), href="/")], className="container page")
