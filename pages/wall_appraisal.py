"""National appraisal screen (国考指标大屏): the indicators of the national performance appraisal of
tertiary public hospitals (国家三级公立医院绩效考核) that the warehouse gives, in the appraisal's own
groups (medical quality, operational efficiency, sustainable development, satisfaction): this year
to date, last year, the national and provincial medians from fact_benchmark, the better direction,
the status against the median in the palette's colours (with a word), a 24-month sparkline and the
clinical departments pulling the figure down most. The indicators the warehouse cannot give are
listed below, grouped by their reason. Figures come from data_layer/queries/scorecard.py, drawn by
components/scorecard.py; the whole hospital or one campus (`?campus=`), kiosk-ready like the other
leadership screens and in their rotation after the profit view.
"""
from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from components.i18n import t
from components.scorecard import cannot_give, wall_group
from components.wall import next_url, panel, wall_frame
from data_layer.queries.scorecard import drags, scorecard, trends, year_to_date
from data_layer.scope import Scope
from data_layer.scorecard import GROUPS
from shell.access import PermissionDenied
from shell.warmup import target

from ._common import current_lang, warehouse
from ._kit import LEADERS, Ask, page_callback, safe
from ._wall import all_campuses, open_screen, settings, subtitle, user_campuses, view_scope

ROLES = LEADERS
dash.register_page(__name__, cache_layout=True, path="/wall/appraisal", name="National appraisal", order=4, allowed_roles=ROLES,
                   nav_label={"zh": "国考指标", "en": "Appraisal"})

# the wall's layout: medical quality on the left with the small groups under it, efficiency on the right
LEFT, RIGHT = ("quality", "development", "satisfaction"), ("efficiency",)


def layout(**query: str) -> Any:
    lang = current_lang()
    opened = open_screen(__name__, "/wall/appraisal", query, lang,
                         unused={"period": t("period.ytd", lang), "division": t("wall.whole_hospital", lang)})
    if not isinstance(opened, tuple):
        return opened
    wq, campuses = opened
    body = [html.Div(id="ap-left", className="ap-column area-left"), html.Div(id="ap-right", className="ap-column area-right"),
            html.Div(id="ap-foot", className="ap-foot area-foot")]
    filters = None
    if len(campuses) > 1:
        names = all_campuses()
        options = [{"label": t("wall.whole_hospital", lang), "value": ""}] + [
            {"label": names[c][0 if lang == "zh" else 1], "value": c} for c in campuses]
        filters = dcc.Dropdown(id="ap-campus", options=options, value=wq.campus or "", clearable=False,
                               className="wall-select")
    return wall_frame("appraisal", t("wall.appraisal_title", lang), subtitle(wq.campus, campuses, lang), body, wq, lang,
                      settings().wall_refresh_seconds, next_url("/wall/appraisal", wq, campuses), {"campus": wq.campus},
                      filters)


@page_callback(Output("_pages_location", "search", allow_duplicate=True), Input("ap-campus", "value"), roles=ROLES,
               prevent_initial_call=True)
def pick_campus(_ask: Ask, campus: str | None) -> str:
    """At a desk: another campus is another address, so it can be bookmarked."""
    if campus and campus not in user_campuses():
        raise PermissionDenied(f"campus {campus} is outside the user's scope")
    return f"?campus={campus}" if campus else ""


@page_callback(Output("ap-left", "children"), Output("ap-right", "children"), Output("ap-foot", "children"),
               Input("wall-tick", "data"), State("wall-params", "data"), roles=ROLES, cached=True,
               key_args=lambda _tick, params: (params,))
def refresh(ask: Ask, _tick: Any, params: Any) -> tuple:
    """Every group of the scorecard, re-read from the warehouse (cached until meta_load changes)."""
    campus = (params or {}).get("campus") if isinstance(params, dict) else None
    if campus is not None and (not isinstance(campus, str) or campus not in all_campuses()):
        raise PermissionDenied(f"unknown campus {campus!r}")
    return board(view_scope(campus), ask.lang)


target("wall/appraisal", refresh, ROLES, lambda c: [({"n": 1, "scale": 1.0}, {"campus": None, "lang": c.lang})])


def board(scope: Scope, lang: str) -> tuple:
    """The two columns of groups and the foot (what the warehouse cannot give, the notes)."""
    wh = warehouse()
    card = scorecard(wh, scope)
    ytd, _ = year_to_date(wh)
    shown = card[card["available"].astype(bool)]
    series = {c: list(df["value"]) for c, df in trends(wh, scope, tuple(shown["code"])).items()}
    pulls = {c: drags(wh, scope, c, 2) for c in shown["code"]}

    def column(groups: tuple[str, ...]) -> list[Any]:
        out = []
        for g in groups:
            rows = shown[shown["group"] == g]
            if rows.empty:
                continue
            title = GROUPS[g][0 if lang == "zh" else 1]
            out.append(panel(title, safe(lambda rows=rows, g=g: wall_group(g, rows, series, pulls, lang), lang,
                                         f"appraisal {g}"), extra=f"ap-panel ap-group-{g}"))
        return out

    notes = [t("ap.subtitle", lang, start=ytd.start, end=ytd.end), t("ap.status_note", lang), t("ap.drags_note", lang)]
    if card["national_median"].isna().all() and card["provincial_median"].isna().all():
        notes.insert(0, t("ap.no_benchmarks", lang))
    foot = [cannot_give(card, lang, wall=True), html.Div([html.Span(n) for n in notes], className="ap-notes")]
    return column(LEFT), column(RIGHT), foot
