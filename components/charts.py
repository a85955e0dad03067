"""Two small Plotly templates, registered once: `hospdash` (the desk: white, light grid) is the
default, `hospdash_dark` serves the wall screens.

Plotly's own templates ("plotly", "plotly_dark") describe every trace type; each figure carries
a copy, which costs about 7 kB in every answer sent to the browser and 3–13 ms to build per
figure. These carry only what the pages use: the colours, the font, the grid.
"""
from __future__ import annotations

from typing import Any

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


TEMPLATES = {"hospdash": DESK, "hospdash_dark": DARK}
_TEMPLATE_JSON: dict[str, dict] = {}


def _template_json(name: str) -> dict:
    """A registered template as the plain dictionary a figure carries (made once)."""
    if name not in _TEMPLATE_JSON:
        _TEMPLATE_JSON[name] = TEMPLATES[name].to_plotly_json()
    return _TEMPLATE_JSON[name]


def _merge(into: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict) and key != "template":
            _merge(into[key], value)
        elif value is not None:
            into[key] = value
    return into


def under(own: dict | None, style: dict) -> dict:
    """`style` merged over a copy of `own` (a figure's own settings, then a common style)."""
    import copy

    return _merge(copy.deepcopy(own), style) if own else style


def figure(traces: list[dict], layout: dict | None = None) -> go.Figure:
    """A figure of plain trace dictionaries ({"type": "bar", ...}, nested properties as nested
    dictionaries, arrays as lists or numpy arrays) and, if given, a plain layout dictionary,
    built without Plotly's checks: each checked trace costs about 1.5 ms and each
    update_layout call more, most of a small figure's time. The dictionaries come from this
    code; the browser tests draw the figures."""
    return go.Figure(data=traces, layout=layout, _validate=False)


def plain(traces: list[dict], layout: dict | None = None) -> dict:
    """A figure as the plain dictionary dcc.Graph takes ({"data": traces, "layout": layout}), for
    the wall screens: no Plotly object is made at all, and Dash sends it as it is (a styled
    Plotly figure costs about a millisecond to build and another to send; this, a tenth of one).
    The traces and layout as for `figure`."""
    return {"data": traces, "layout": layout or {}}


def vspan(x0: Any, x1: Any, **props: Any) -> dict:
    """A band across the plot from x0 to x1: the shape `add_vrect` makes, as a plain dictionary for
    a figure's layout["shapes"] (add_vrect re-reads the figure's subplots on every call: about
    20 ms, most of a small wall figure's time)."""
    return {"type": "rect", "xref": "x", "yref": "y domain", "x0": x0, "x1": x1, "y0": 0, "y1": 1, **props}


def vrule(x: Any, line: dict) -> dict:
    """A vertical line across the plot at x: the shape `add_vline` makes, as a plain dictionary."""
    return {"type": "line", "xref": "x", "yref": "y domain", "x0": x, "x1": x, "y0": 0, "y1": 1, "line": line}


def hrule(y: Any, line: dict) -> dict:
    """A horizontal line across the plot at y: the shape `add_hline` makes, as a plain dictionary."""
    return {"type": "line", "xref": "x domain", "yref": "y", "x0": 0, "x1": 1, "y0": y, "y1": y, "line": line}


def with_layout(fig: go.Figure | dict, layout: dict, xaxes: dict | None = None, yaxes: dict | None = None,
                template: str | None = None) -> go.Figure | dict:
    """`fig` with `layout` merged into its layout (and `xaxes`/`yaxes` into every x and y axis, as
    update_xaxes would), in one pass over plain dictionaries. Plotly's update_layout validates
    every property on each call (about 30 ms for a styled wall figure, most of a wall screen's
    Python time); these dictionaries come from this code, so the result is built without that
    validation, as Plotly's own readers do (`_validate=False`). Keys whose value is None are left
    as they were. `template`: a registered template's name, set as a whole. A plain figure
    (`plain`) comes back as a plain figure, its layout changed in place."""
    lay = fig["layout"] if isinstance(fig, dict) else fig.layout.to_plotly_json()  # the traces stay as they are
    if template is not None:
        lay["template"] = _template_json(template)
    _merge(lay, layout)
    for prefix, extra in (("xaxis", xaxes), ("yaxis", yaxes)):
        if not extra:
            continue
        names = [k for k in lay if k == prefix or (k.startswith(prefix) and k[len(prefix):].isdigit())] or [prefix]
        for name in names:
            lay[name] = _merge(lay.get(name) or {}, dict(extra))
    if isinstance(fig, dict):
        return {"data": fig["data"], "layout": lay}
    return go.Figure(data=fig.data, layout=lay, _validate=False)


def register() -> None:
    pio.templates["hospdash"] = DESK
    pio.templates["hospdash_dark"] = DARK
    pio.templates.default = "hospdash"
    # Plotly loads each trace type's validators on first use (about 60 ms for the first bar
    # chart): load them at import, so that gunicorn's preloading master pays once, not the first
    # request of every worker.
    go.Figure([go.Bar(), go.Scatter(), go.Treemap()])


register()
