"""The banner of address notes: what was wrong with the address and what is shown instead."""
from __future__ import annotations

from collections.abc import Sequence

from dash import html

from .i18n import t


def address_notes(notes: Sequence[str], lang: str, *, wall: bool = False) -> html.Div | None:
    """A small banner above the content, one line per note; None when the address was fine.
    The wall's dark screens get their own quiet style, the desk a Bootstrap warning."""
    if not notes:
        return None
    if wall:
        return html.Div([html.Div(n, className="wall-note addr-note") for n in notes], className="wall-notes",
                        id="address-notes", role="status", **{"aria-label": t("addr.notes_label", lang)})
    return html.Div([html.Div(n, className="addr-note") for n in notes], className="alert alert-warning addr-notes",
                    id="address-notes", role="status", **{"aria-label": t("addr.notes_label", lang)})


def month_label(year: int, month: int, lang: str) -> str:
    """A month as the reader writes it: 2022-01 in Chinese, Jan 2022 in English."""
    import calendar

    return t("month.fmt", lang).format(y=year, m=month, mon=calendar.month_abbr[month])
