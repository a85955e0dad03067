"""Two small Plotly templates, registered once: `hospdash` (the desk: white, light grid) is the
default, `hospdash_dark` serves the wall screens.

Plotly's own templates ("plotly", "plotly_dark") describe every trace type; each figure carries
a copy, which costs about 7 kB in every answer sent to the browser and 3–13 ms to build per
figure. These carry only what the pages use: the colours, the font, the grid.
"""
from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

# Series (wards, years, campuses' lines) are categories, not verdicts: a neutral categorical sequence
# with no red and none of the palette's 'bad' orange/vermillion (components/palette.py), so no line
# reads as bad because of the colour it happened to draw (plotly's default made the second one red).
COLORWAY = ["#4e79a7", "#59a14f", "#b07aa1", "#76b7b2", "#9c755f", "#edc948", "#8c8c8c", "#a0cbe8", "#8cd17d",
            "#d4a6c8"]
FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, Source Han Sans SC, sans-serif"


def _axis(grid: str, zero: str, line: str) -> dict:
    return {"gridcolor": grid, "zerolinecolor": zero, "linecolor": line, "automargin": True, "ticks": "",
            "title": {"standoff": 10}}


DESK = go.layout.Template(layout={
    "colorway": COLORWAY, "font": {"family": FONT, "color": "#2a3f5f"},
    "paper_bgcolor": "#fff", "plot_bgcolor": "#fff", "hovermode": "closest",
    "hoverlabel": {"align": "left"}, "xaxis": _axis("#e5e9f0", "#c8d0dc", "#c8d0dc"),
    "yaxis": _axis("#e5e9f0", "#c8d0dc", "#c8d0dc"), "title": {"x": 0.05},
})
DARK = go.layout.Template(layout={
    "colorway": COLORWAY, "font": {"family": FONT, "color": "#f2f5fa"},
    "paper_bgcolor": "rgb(17,17,17)", "plot_bgcolor": "rgb(17,17,17)", "hovermode": "closest",
    "hoverlabel": {"align": "left"}, "xaxis": _axis("#283442", "#283442", "#506784"),
    "yaxis": _axis("#283442", "#283442", "#506784"), "title": {"x": 0.05},
})


def register() -> None:
    pio.templates["hospdash"] = DESK
    pio.templates["hospdash_dark"] = DARK
    pio.templates.default = "hospdash"
    # Plotly loads each trace type's validators on first use (about 60 ms for the first bar
    # chart): load them at import, so that gunicorn's preloading master pays once, not the first
    # request of every worker.
    go.Figure([go.Bar(), go.Scatter(), go.Treemap()])


register()
