"""What every page shares: the app state, the reader's language and scope, error panels.

Dash ignores modules whose names start with an underscore when it collects pages.
"""
from __future__ import annotations

import logging
import uuid

import pandas as pd
from dash import dcc, html
from flask import current_app
from flask_login import current_user

from components.i18n import t
from data_layer.scope import Scope
from data_layer.warehouse import Warehouse
from shell.access import scope_of
from shell.auth import request_lang

log = logging.getLogger("hospdash")


def warehouse() -> Warehouse:
    return current_app.extensions["hospdash"].warehouse


def current_lang() -> str:
    return request_lang()


def current_scope() -> Scope:
    return scope_of(current_user)


def forbidden_panel(lang: str) -> html.Main:
    """The 403 page inside the shell."""
    return html.Main([html.H1(t("forbidden.title", lang)), html.P(t("forbidden.body", lang)),
                      dcc.Link(t("nav.home", lang), href="/")], className="container page", id="forbidden")


def warehouse_error_panel(message: str, lang: str) -> html.Div:
    return html.Div([html.Strong(t("error.warehouse", lang, message=message)), html.Br(),
                     html.Span(t("error.warehouse_hint", lang))], className="alert alert-warning", role="alert")


def send_table(df: pd.DataFrame, stem: str, fmt: str, what: str) -> dict:
    """A table as an Excel file or a CSV that Excel opens with Chinese intact (UTF-8 with a
    byte-order mark); the export is audited."""
    import io

    from dash import dcc

    from shell.access import audit

    if fmt == "csv":
        data = df.to_csv(index=False).encode("utf-8-sig")
        audit("export", what, f"{len(df)} rows, csv")
        return dcc.send_bytes(data, f"{stem}.csv")
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        df.to_excel(xl, index=False, sheet_name=stem[:31])
    audit("export", what, f"{len(df)} rows, xlsx")
    return dcc.send_bytes(buf.getvalue(), f"{stem}.xlsx")


ANSWER_TTL = 600  # seconds an answer is kept at most, besides being dropped by a new load


def cached_answer(key_args=None, ttl: int = ANSWER_TTL):
    """Keep a read-only callback's answer in the result cache, keyed by the callback, the user's
    scope and language, its arguments (or `key_args(*args)` where a tick counter must not count)
    and the warehouse freshness stamp: a second identical request costs a cache read. Use it
    below `@secured` (the access check runs on every request) and only on callbacks that read
    nothing but the warehouse. An answer is kept for `ttl` seconds at most, so a panel that
    failed once is tried again."""
    import functools

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args):
            parts = key_args(*args) if key_args else args
            return warehouse().remember(("answer", fn.__module__, fn.__qualname__, current_scope().key, current_lang(),
                                         parts), lambda: fn(*args), ttl)

        inner.uncached = fn  # type: ignore[attr-defined]
        return inner

    return wrap


def unexpected_error_panel(exc: BaseException, lang: str) -> html.Div:
    """Log the error with an id; show the user only the id."""
    error_id = uuid.uuid4().hex[:8]
    log.error("error %s: %s", error_id, exc, exc_info=exc)
    return html.Div(t("error.unexpected", lang, error_id=error_id), className="alert alert-danger", role="alert")
