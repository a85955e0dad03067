"""What the leadership screens share: the wall frame (title, clock, freshness stamp), the
query string of wall mode (kiosk, rotate, campus), the rotation order, colours that stay
apart for colour-blind viewers, and the figure style that scales from 1920 to 3840 pixels.

Wall mode:
- `?kiosk=1` hides the navigation and the desk filters;
- `?rotate=SECONDS` moves on to the next screen (and campus) after that many seconds,
  in the browser, without a reload: the position is the URL itself;
- figures re-read the warehouse every WALL_REFRESH_SECONDS without rebuilding the page.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import plotly.graph_objects as go
from dash import dcc, html

from data_layer.registry import Indicator

from .charts import under, with_layout
from .i18n import t
from .notes import address_notes
from .palette import WALL, judge_change, shown_as_zero

if TYPE_CHECKING:  # a type only: components never reach the warehouse
    from data_layer.warehouse import Freshness

# Okabe–Ito: distinguishable under the common colour-vision deficiencies. A campus keeps its
# colour on every screen (by its position among all campuses, not among those shown).
CAMPUS_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#CC79A7", "#0072B2", "#D55E00")
# the palette's wall colours (components/palette.py): sky blue vs orange, never red vs green alone
GOOD, BAD, WARN, NEUTRAL = WALL.good, WALL.bad, WALL.warn, WALL.neutral
LOSS = BAD  # loss-makers: the 'bad' colour, with a cross marker
CURRENT, CURRENT_FAINT = "#b3c3d3", "rgba(179,195,211,.35)"  # this period's series: a light slate, not a verdict
LAST_YEAR = "#8C96A3"
INK, MUTED, PANEL = "#E8EDF3", "#9AA5B1", "#17202B"
MIN_ROTATE, MAX_ROTATE = 10, 3600
SCREENS = ("/wall/campus", "/wall/drg", "/profit", "/wall/appraisal")


def campus_color(campus_id: str, all_campuses: Sequence[str]) -> str:
    ordered = sorted(all_campuses)
    i = ordered.index(campus_id) if campus_id in ordered else len(ordered)
    return CAMPUS_COLORS[i % len(CAMPUS_COLORS)]


@dataclass(frozen=True)
class WallQuery:
    """The wall-mode part of a page's query string, with a note for each bad value."""

    kiosk: bool = False
    rotate: int | None = None
    campus: str | None = None
    notes: tuple[str, ...] = field(default=())


def parse_wall_query(query: Mapping[str, Any], lang: str, campuses: Sequence[str]) -> WallQuery:
    """`kiosk`, `rotate` and `campus` from the URL. A bad value is dropped with a note saying so;
    a campus that does not exist is dropped too (one outside the user's scope is the caller's
    to refuse)."""
    notes: list[str] = []
    kiosk = str(query.get("kiosk", "")).lower() in ("1", "true", "yes", "on")
    rotate = None
    raw = query.get("rotate")
    if raw not in (None, ""):
        try:
            rotate = int(float(str(raw)))
            if not MIN_ROTATE <= rotate <= MAX_ROTATE:
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            rotate = None
            notes.append(t("wall.bad_rotate", lang, value=str(raw)[:40], low=MIN_ROTATE, high=MAX_ROTATE))
    campus = query.get("campus") or None
    if campus is not None and campus not in campuses:
        notes.append(t("wall.bad_campus", lang, value=str(campus)[:40]))
        campus = None
    return WallQuery(kiosk, rotate, campus, tuple(notes))


def rotation(campuses: Sequence[str]) -> list[tuple[str, str | None]]:
    """The order a rotating wall shows: the campus screen for the whole scope, then for each of
    its campuses (when there are several), then the DRG screen, the profit view and the national
    appraisal scorecard."""
    seq: list[tuple[str, str | None]] = [(SCREENS[0], None)]
    if len(campuses) > 1:
        seq += [(SCREENS[0], c) for c in sorted(campuses)]
    return seq + [(s, None) for s in SCREENS[1:]]


def next_url(path: str, wq: WallQuery, campuses: Sequence[str]) -> str | None:
    """Where a rotating wall goes next, keeping kiosk and rotate; None when not rotating."""
    if wq.rotate is None:
        return None
    seq = rotation(campuses)
    here = (path, wq.campus if path == SCREENS[0] else None)
    i = seq.index(here) if here in seq else -1
    nxt_path, nxt_campus = seq[(i + 1) % len(seq)]
    params = {"kiosk": "1"} if wq.kiosk else {}
    params["rotate"] = str(wq.rotate)
    if nxt_campus:
        params["campus"] = nxt_campus
    return f"{nxt_path}?{urlencode(params)}"


def is_stale(fresh: Freshness, stale_hours: float, now: datetime | None = None) -> bool:
    if fresh.loaded_at is None:
        return True
    return (now or datetime.now()) - fresh.loaded_at > timedelta(hours=stale_hours)


def freshness_stamp(fresh: Freshness, stale_hours: float, lang: str) -> tuple[str, str]:
    """The stamp's text and class: a warning when meta_load is older than the limit."""
    if fresh.data_through is None:
        return t("fresh.none", lang), "wall-fresh stale"
    loaded = fresh.loaded_at.strftime("%m-%d %H:%M") if fresh.loaded_at else "—"
    text = f"{t('fresh.through', lang, through=fresh.data_through)} · {t('fresh.loaded', lang, loaded=loaded)}"
    if is_stale(fresh, stale_hours):
        return f"⚠ {text} · {t('wall.stale', lang, hours=f'{stale_hours:g}')}", "wall-fresh stale"
    return text, "wall-fresh"


def wall_frame(screen: str, title: str, subtitle: Any, body: list[Any], wq: WallQuery, lang: str,
               refresh_seconds: int, nxt: str | None, params: dict[str, Any],
               filters: Any = None) -> html.Div:
    """A dark 16:9 screen: a header with title, scope, clock and freshness stamp, then `body`
    (a grid the page lays out), the desk filters unless in kiosk mode, and the timers."""
    header = html.Header([
        html.Div([html.H1(title, className="wall-title"), html.Span(subtitle, className="wall-subtitle")],
                 className="wall-heading"),
        html.Div(filters, className="wall-filters") if filters is not None and not wq.kiosk else None,
        html.Div([html.Div(id="wall-clock", className="wall-clock"),
                  html.Div(id="wall-fresh", className="wall-fresh")], className="wall-meta"),
    ], className="wall-header")
    return html.Div([
        header,
        address_notes(wq.notes, lang, wall=True),
        html.Div(body, className=f"wall-body wall-body-{screen}"),
        dcc.Store(id="wall-params", data={**params, "lang": lang}),
        dcc.Store(id="wall-tick"),
        dcc.Store(id="wall-next", data=nxt),
        dcc.Interval(id="wall-refresh", interval=refresh_seconds * 1000),
        dcc.Interval(id="wall-clock-tick", interval=1000),
        dcc.Interval(id="wall-rotate", interval=(wq.rotate or 3600) * 1000, disabled=nxt is None),
    ], className="wall" + (" kiosk" if wq.kiosk else ""), id=f"wall-{screen}", lang="zh-CN" if lang == "zh" else "en")


def scale_of(tick: Any) -> float:
    """The screen's width over 1920, from the browser's tick (1 when unknown, bounded)."""
    try:
        s = float((tick or {}).get("scale", 1.0))
    except (TypeError, ValueError, AttributeError):
        return 1.0
    return min(max(s, 0.5), 4.0) if s == s else 1.0


def style(fig: go.Figure | dict, scale: float, *, legend: bool = True, margin: tuple[int, int, int, int] = (8, 8, 8, 8),
          title: str | None = None, layout: dict | None = None, xaxes: dict | None = None,
          yaxes: dict | None = None) -> go.Figure | dict:
    """The dark wall style at the screen's scale: transparent, large type, light grid, in one pass
    over plain dictionaries (components/charts.with_layout). `layout`, `xaxes` and `yaxes`: the
    figure's own settings, applied under the wall style (where both set a property, the wall
    style wins, as when a figure set it before styling). A plain figure (charts.plain) stays one."""
    left, right, top, bottom = (round(m * scale) for m in margin)
    axis = {"gridcolor": "rgba(255,255,255,.08)", "zerolinecolor": "rgba(255,255,255,.25)",
            "tickfont": {"size": round(14 * scale)}}
    return with_layout(fig, under(layout, {
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif", "size": round(15 * scale),
                 "color": INK},
        "margin": {"l": left, "r": right, "t": top + (round(34 * scale) if title else 0), "b": bottom},
        "showlegend": legend, "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right",
                                         "font": {"size": round(14 * scale)}, "bgcolor": "rgba(0,0,0,0)",
                                         "traceorder": "normal"},
        "hoverlabel": {"font": {"size": round(14 * scale)}}, "uirevision": "wall",
        "title": {"text": title, "font": {"size": round(18 * scale)}, "x": 0, "xanchor": "left"} if title else None,
    }), xaxes=under(xaxes, axis), yaxes=under(yaxes, axis), template="hospdash_dark")


@functools.lru_cache(maxsize=256)
def _empty_figure_json(message: str, scale: float) -> str:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": round(18 * scale), "color": MUTED})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, scale, legend=False).to_json()


def empty_figure(message: str, scale: float) -> dict:
    """A figure that says why it is empty, in place of the chart, as a plain figure (built once
    per message and scale: every wall page's layout starts with one per graph)."""
    return json.loads(_empty_figure_json(message, scale))


GRAPH_CONFIG = {"displayModeBar": False, "responsive": True}


def graph(graph_id: str) -> dcc.Graph:
    """A wall figure that fills its grid cell; its figure comes from the refresh callback."""
    return dcc.Graph(id=graph_id, config=GRAPH_CONFIG, className="wall-graph", figure=empty_figure("", 1.0))


def panel(title: str, *children: Any, panel_id: str | None = None, extra: str = "") -> html.Section:
    kwargs = {"id": panel_id} if panel_id else {}
    return html.Section([html.H2(title, className="wall-panel-title"), *children], className=f"wall-panel {extra}",
                        **kwargs)


def change_badge(change: float | None, indicator: Indicator | None, text: str, value: float | None = None) -> html.Span:
    """A change with an arrow and a colour: good/bad by arrow, sign and hue, never hue alone. The
    verdict is the one rule (data_layer.verdict.judge_change) for `indicator`, with `value` (the
    figure after the change) deciding when it lies outside the healthy range; no indicator: neutral."""
    if change is None or change != change:
        return html.Span(text, className="chg chg-neutral")
    zero = shown_as_zero(change)  # "+0.0%" / "0.0 pp" is neither good nor bad (components/palette.py)
    arrow = "■" if zero else ("▲" if change > 0 else "▼")
    verdict = "neutral" if indicator is None else judge_change(indicator, change, value)
    return html.Span(f"{arrow} {text}", className=f"chg chg-{verdict}")


def export_buttons(prefix: str, lang: str) -> html.Div:
    """Excel and CSV buttons (ids PREFIX-export-xlsx and PREFIX-export-csv) for a desk."""
    return html.Div([html.Button(t("export.xlsx", lang), id=f"{prefix}-export-xlsx", className="btn btn-sm btn-outline-light"),
                     html.Button(t("export.csv", lang), id=f"{prefix}-export-csv", className="btn btn-sm btn-outline-light")],
                    className="export-buttons")
