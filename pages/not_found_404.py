"""The page for an address that does not exist."""
from __future__ import annotations

import dash
from dash import dcc, html
from flask import request

from components.i18n import t

from ._common import current_lang

dash.register_page(__name__, path="/404", name="Not found", nav=False)


def layout(**_query: str) -> html.Div:
    lang = current_lang()
    path = request.args.get("path", "") if request else ""
    return html.Main([html.H1(t("error.not_found", lang)), html.P(t("error.not_found_body", lang, path=path or "")),
                      dcc.Link(t("nav.home", lang), href="/")], className="container page")
