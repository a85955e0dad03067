"""The cost monitoring page's parts (pages/workspace/costs.py): the composition grid (category by
allocation tier, a total row) and its figure, the five dimensions' verdict cards, and the
monitoring model's grid (each indicator against the hospital median, its own history, its
baseline and its target, with a verdict). Pure: frames in, components out.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import html

from components.charts import COLORWAY
from components.format import format_indicator, format_points
from components.grid import Column, data_grid
from components.i18n import t
from components.reports import class_field, text_field, with_cells
from data_layer.registry import INDICATORS, MONITOR_DIMENSIONS, UNITS

COLORS = {"this": COLORWAY[0], "ago": "#a6b4c8"}  # series, not verdicts: the change's colour judges
REFS = ("median", "year_ago", "baseline", "target")


def pct(v: float) -> str:
    return "—" if v != v else f"{v:+.1%}"


def verdict_key(verdict: Any) -> str:
    return verdict if isinstance(verdict, str) else "none"


def direction(h: bool | None) -> str:
    return "up" if h else ("down" if h is False else "none")


def composition_grid(df: pd.DataFrame, stages: tuple[str, ...], lang: str) -> Any:
    """Category by allocation tier (money in 万/亿 in Chinese as on the page's cards), the share,
    last year and the change (coloured by the one rule for the full cost: lower is better), the
    share's change in points, and a total row."""
    rows = df.reset_index(names="cat")
    rows["category"] = [t(f"dw.cat.{c}", lang) for c in rows["cat"]]
    rows[text_field("share_diff")] = [format_points(v, lang) for v in rows["share_diff"]]
    cols = [Column("category", t("ws.costs.col.category", lang), pinned=True),
            *(Column(s, t(f"dw.stage.{s}", lang), "money", compact=True) for s in (*stages, "total")),
            Column("share", t("ws.costs.share", lang), "percent"),
            Column("last_year", t("ws.costs.last_year", lang), "money", compact=True),
            Column("yoy", t("ws.costs.yoy", lang), "change", indicator=INDICATORS["full_cost"]),
            Column("share_diff", t("ws.costs.share_diff", lang), "ratio")]
    tot = df[[*stages, "total"]].sum()
    last = df["last_year"].sum(min_count=1)
    yoy = (tot["total"] - last) / abs(last) if last == last and last else None
    total = {"category": t("dw.stage.total", lang), **{s: float(tot[s]) for s in (*stages, "total")}, "share": 1.0,
             "last_year": None if last != last else float(last), "yoy": yoy, text_field("share_diff"): ""}
    grid = data_grid(rows, cols, lang, "wc-composition-table", row_id="cat", total=total,
                     hidden=(text_field("share_diff"),), class_name="wc-grid")
    return with_cells(grid, texts=("share_diff",))


def composition_figure(df: pd.DataFrame, lang: str) -> go.Figure:
    """Per category, this period against the same months last year (10k yuan), with the change."""
    order = list(reversed(list(df.index)))  # the query's order of categories, the first on top
    names = [t(f"dw.cat.{c}", lang) for c in order]
    this = df.loc[order, "total"] / 10_000
    ago = df.loc[order, "last_year"] / 10_000
    fig = go.Figure()
    if ago.notna().any():
        fig.add_bar(y=names, x=ago.round(1), orientation="h", name=t("ws.costs.last_year", lang),
                    marker_color=COLORS["ago"], marker_pattern_shape="/")
    fig.add_bar(y=names, x=this.round(1), orientation="h", name=t("ws.costs.this_period", lang), marker_color=COLORS["this"],
                text=[f"{s:.1%} · {pct(y)}" if y == y else f"{s:.1%}" for s, y in zip(df.loc[order, "share"],
                                                                                      df.loc[order, "yoy"], strict=True)],
                textposition="outside", cliponaxis=False)
    fig.update_layout(title=t("ws.costs.chart_title", lang), barmode="group", height=420,
                      margin={"l": 10, "r": 90, "t": 40, "b": 30}, legend={"orientation": "h", "y": -0.12},
                      plot_bgcolor="#fff", paper_bgcolor="#fff")
    fig.update_yaxes(automargin=True)
    fig.update_xaxes(gridcolor="#e3e8ef")
    return fig


def summary_cards(summary: pd.DataFrame, lang: str) -> Any:
    """One card per dimension: its verdict and how many indicators are over-used, in line, under-used."""
    cards = []
    for r in summary.itertuples():
        name = MONITOR_DIMENSIONS[r.dimension][0 if lang == "zh" else 1]
        v = verdict_key(r.verdict)
        cards.append(html.Div([
            html.Div(name, className="stat-label"),
            html.Div(t(f"ws.costs.v.{v}", lang), className="stat-value wc-dim-verdict"),
            html.Div(t("ws.costs.summary_counts", lang, over=r.over, in_line=r.in_line, under=r.under),
                     className="stat-change"),
            html.Div(t("ws.costs.summary_unknown", lang, n=r.unknown), className="stat-change text-muted")
            if r.unknown else None,
        ], className=f"stat-card wc-dim wc-{v}", id={"type": "wc-dim", "index": r.dimension}))
    return html.Div(cards, className="stat-grid wc-dims")


def window_text(start: Any, end: Any) -> str:
    if start is None or start != start:
        return "—"
    return f"{str(start)[:10]} – {str(end)[:10]}"


def _ref_text(value: float, ref: float, unit: str, lang: str, peers: Any = None) -> str:
    """A reference as the model shows it: the figure, then the department's gap to it."""
    if ref != ref:
        return "—"
    diff = (value - ref) / abs(ref) if value == value and ref else float("nan")
    out = format_indicator(ref, unit, lang) + (f" ({pct(diff)})" if diff == diff else "")
    return out + (f" · n={peers}" if peers is not None else "")


def model_grid(df: pd.DataFrame, lang: str) -> Any:
    """The model's indicators, dimension by dimension: the department's value against each
    reference (with the gap, the cell coloured by that reference's verdict) and the verdict."""
    if df.empty:
        return html.P(t("home.no_data", lang), className="note")
    rows = []
    for r in df.itertuples():
        ind = INDICATORS[r.indicator]
        unit = UNITS[ind.unit][0 if lang == "zh" else 1]
        verdict = verdict_key(r.verdict)
        row: dict[str, Any] = {
            "code": r.indicator, "indicator": ind.name(lang),
            "dimension": MONITOR_DIMENSIONS[r.dimension][0 if lang == "zh" else 1],
            "direction": t("ws.costs.dir." + direction(ind.higher_is_better), lang) + (f" · {unit}" if unit else ""),
            "months": window_text(r.window_start, r.window_end), "value": None if r.value != r.value else r.value,
            text_field("value"): format_indicator(r.value, ind.unit, lang) if r.value == r.value
            else t("ws.costs.no_value", lang),
            "verdict": t(f"ws.costs.v.{verdict}", lang), class_field("verdict"): f"wc-badge-cell wc-{verdict}",
        }
        for ref in REFS:
            value = getattr(r, ref)
            row[ref] = None if value != value else value
            row[text_field(ref)] = _ref_text(r.value, value, ind.unit, lang, r.peers if ref == "median" else None)
            row[class_field(ref)] = f"wc-{verdict_key(getattr(r, 'v_' + ref))}" if value == value else ""
        rows.append(row)
    texts = ("value", *REFS)
    classes = (*REFS, "verdict")
    cols = [Column("indicator", t("ws.costs.indicator", lang), pinned=True, width=190),
            Column("dimension", t("ws.costs.dimension", lang)), Column("direction", t("ws.costs.direction", lang)),
            Column("months", t("ws.costs.months", lang), width=200),
            *(Column(c, t(f"ws.costs.{c}", lang), "ratio") for c in texts),
            Column("verdict", t("ws.costs.verdict", lang))]
    hidden = ("code", *(text_field(c) for c in texts), *(class_field(c) for c in classes))
    grid = data_grid(pd.DataFrame(rows), cols, lang, "wc-model-table", row_id="code", hidden=hidden,
                     visible_rows=len(rows), class_name="wc-grid wc-model-grid")
    return with_cells(grid, texts, classes)
