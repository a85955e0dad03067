"""What the leadership screens' pages share: campuses in the user's scope, the scope a screen
shows, its title with the campus colour key, and the per-panel guard."""
from __future__ import annotations

from typing import Any

from dash import html
from flask import current_app

from components.i18n import t
from components.wall import campus_color
from data_layer.errors import UserError
from data_layer.periods import PERIODS, Period
from data_layer.queries.names import DIVISIONS
from data_layer.queries.structure import departments
from data_layer.scope import Scope
from data_layer.sources import Filters
from shell.access import PermissionDenied
from shell.outage import plain_message

from ._common import current_lang as current_lang_
from ._common import current_scope, warehouse


def settings():
    return current_app.extensions["hospdash"].settings


def all_campuses() -> dict[str, tuple[str, str]]:
    """Every campus of the hospital (id -> zh, en names), for colours and URL checks (kept in the
    process beside the departments it comes from: a screen asks several times per answer; shared,
    so never changed by a caller)."""
    wh = warehouse()

    def read() -> dict[str, tuple[str, str]]:
        deps = departments(wh, Scope.hospital())
        return {r.campus_id: (r.campus_zh, r.campus_en) for r in deps.drop_duplicates("campus_id").itertuples()}
    return wh.here(("all_campuses",), read)


def user_campuses() -> list[str]:
    scope = current_scope()
    if scope.kind == "hospital":
        return sorted(all_campuses())
    if scope.kind == "campus":
        return sorted(scope.ids)
    return []


def view_scope(campus: str | None) -> Scope:
    """The scope a screen shows: the user's, narrowed to one campus if asked and allowed."""
    scope = current_scope()
    if campus is None:
        return scope
    if not scope.covers_whole_campuses or not scope.allows_department("", campus):
        raise PermissionDenied(f"campus {campus} is outside the user's scope")
    return Scope.campuses([campus])


def scope_title(campus: str | None, lang: str) -> str:
    names = all_campuses()
    if campus is not None:
        return names[campus][0 if lang == "zh" else 1]
    scope = current_scope()
    if scope.kind == "campus":
        return "、".join(names[c][0 if lang == "zh" else 1] for c in sorted(scope.ids) if c in names)
    return t("wall.whole_hospital", lang)


def campus_key(campuses: list[str], lang: str) -> list[Any]:
    """The campuses shown, each with its colour: the key to every campus-coloured mark."""
    if len(campuses) < 2:
        return []
    names, every = all_campuses(), list(all_campuses())
    return [html.Span([html.I(className="dot", style={"background": campus_color(c, every)}),
                       names[c][0 if lang == "zh" else 1]], className="campus-key-item") for c in campuses]


def subtitle(campus: str | None, campuses: list[str], lang: str) -> list[Any]:
    shown = [campus] if campus else campuses
    return [scope_title(campus, lang), html.Span(campus_key(shown, lang), className="campus-key")]


def my_divisions(lang: str) -> dict[str, str]:
    """The divisions (内科/外科系统 …) of the departments in the user's scope: id -> name."""
    divisions = sorted(d for d in departments(warehouse(), current_scope())["division"].dropna().unique() if d)
    return {d: DIVISIONS.get(d, (d, d))[0 if lang == "zh" else 1] for d in divisions}


def desk_choices(query: dict[str, Any], lang: str) -> tuple[str, str | None, tuple[str, ...]]:
    """The period and division a desk opens with, read from the address, and a note for each bad
    value (the campus is read by open_screen)."""
    from ._address import check_choice, check_period

    period, period_note = check_period(query.get("period"), PERIODS, lang)
    division, division_note = check_choice("division", query.get("division"), my_divisions(lang), lang, default=None,
                                           shown=t("addr.shown.all_divisions", lang))
    return period, division, tuple(n for n in (period_note, division_note) if n)


def desk_filters(prefix: str, campuses: list[str], lang: str, period: str = "ytd", campus: str | None = None,
                 division: str | None = None) -> list[Any]:
    """Period, campus (when the user sees several) and division pickers for a desk, set to the
    address's choices."""
    from dash import dcc

    names = all_campuses()
    parts = [dcc.Dropdown(id=f"{prefix}-period", clearable=False, value=period, className="wall-select",
                          options=[{"label": t(f"period.{p}", lang), "value": p} for p in PERIODS])]
    parts.append(dcc.Dropdown(id=f"{prefix}-campus", placeholder=t("wall.whole_hospital", lang), value=campus,
                              className="wall-select" if len(campuses) > 1 else "d-none",
                              options=[{"label": names[c][0 if lang == "zh" else 1], "value": c} for c in campuses]))
    parts.append(dcc.Dropdown(id=f"{prefix}-division", placeholder=t("wall.all_divisions", lang), className="wall-select",
                              value=division, options=[{"label": n, "value": d} for d, n in my_divisions(lang).items()]))
    return parts


def resolve(period: Any, campus: Any, division: Any) -> tuple[Scope, Period, Filters]:
    """The scope, period and filters a desk asks for; a forged value is refused, not guessed."""
    from data_layer.periods import parse_period

    if period is None:
        period = "ytd"
    if period not in PERIODS:
        raise UserError(t("wall.bad_filter", current_lang_()))
    if campus is not None and (not isinstance(campus, str) or campus not in all_campuses()):
        raise PermissionDenied(f"unknown campus {campus!r}")
    scope = view_scope(campus or None)
    if division is not None and not isinstance(division, str):
        raise UserError(t("wall.bad_filter", current_lang_()))
    through = warehouse().freshness().data_through
    if through is None:
        raise UserError(t("fresh.none", current_lang_()))
    return scope, parse_period(period, through), Filters(division=(division,)) if division else Filters()


def notes_follow_the_filters(prefix: str) -> None:
    """The address notes of a desk (what the address asked for and what is shown instead) stop
    applying once the reader picks another period, campus or division there: they are hidden then.
    Called once per desk page at import, like @callback."""
    from dash import Input, Output, clientside_callback

    clientside_callback("function () { return true; }", Output("address-notes", "hidden", allow_duplicate=True),
                        Input(f"{prefix}-period", "value"), Input(f"{prefix}-campus", "value"),
                        Input(f"{prefix}-division", "value"), prevent_initial_call=True)


def open_screen(module: str, path: str, query: dict[str, Any], lang: str, *, unused: dict[str, str] | None = None,
                desk: bool = False) -> tuple[Any, ...] | Any:
    """The checks every leadership screen makes before it draws: the role may open the page, the
    campus asked for lies in the user's scope (refusals audited, with their reason), bad query
    values become notes. `unused`: parameters of the dashboard's addresses this screen does not
    read, each with what it shows instead (a note when the address holds one). Returns
    (WallQuery, the user's campuses), with desk=True (WallQuery, campuses, (period, division))
    as desk_choices reads them, or the panel to show instead."""
    from dataclasses import replace

    from components.wall import parse_wall_query
    from shell.access import audit, page_denied

    from ._address import refusal
    from ._address import unused as unused_notes
    from ._common import forbidden_panel

    if page_denied(module):
        return forbidden_panel(lang)
    try:
        campuses = user_campuses()
        wq = parse_wall_query(query, lang, list(all_campuses()))
        view_scope(wq.campus)
    except PermissionDenied as exc:
        audit("forbidden_campus", path, str(exc))
        return refusal("campus_scope", lang, name=scope_title(wq.campus, lang))
    except UserError as exc:
        return html.Main(html.Div(plain_message(exc, lang), className="alert alert-warning"), className="container page")
    notes = (*wq.notes, *unused_notes(query, unused or {}, lang))
    if not desk:
        return replace(wq, notes=notes), campuses
    period, division, desk_notes = desk_choices(query, lang)
    return replace(wq, notes=(*notes, *desk_notes)), campuses, (period, division)


def department_address(dept: Any) -> str:
    """The address of a department's page, for a click on a leadership screen; a department
    outside the user's scope (or not a department id at all) is refused and audited."""
    from urllib.parse import urlencode

    if not isinstance(dept, str) or not dept:
        raise PermissionDenied(f"not a department: {dept!r}")
    campus = current_app.extensions["hospdash"].campus_of(dept)
    if campus is None or not current_scope().allows_department(dept, campus):
        raise PermissionDenied(f"department {dept[:40]} is outside the user's scope")
    return f"/department?{urlencode({'dept': dept})}"
