"""Improvement projects (改善项目): the project list's grid, the opened project's head, its
before/after comparison (table, verdicts, weekly charts), the project form and the hand-typed
contingency table. Pure: frames, results and the language in, components and figures out.

A comparison takes the before/after module's results (data_layer.queries.before_after.Result);
the page runs the queries and hands the results here."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components.format import format_indicator, format_points
from components.grid import Column, data_grid
from components.i18n import t
from components.palette import judge_change
from data_layer.registry import INDICATORS
from data_layer.stats import MIN_PER_GROUP

ROWS = ("before", "after")
BEFORE_COLOUR, AFTER_COLOUR = "#0072b2", "#e69f00"  # Okabe-Ito blue and orange
LIST_COLUMNS = ("id", "title", "departments", "indicators", "start", "windows", "status", "created_by", "updated",
                "description")
LIST_GRID = "wsp-list"


# ------------------------------------------------------------------------------------ words
def p_text(p: float) -> str:
    if p != p:
        return "—"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def value_text(x: float, code: str, lang: str) -> str:
    unit = INDICATORS[code].unit
    if unit == "ratio":
        return "—" if x != x else f"{x * 100:.2f}%"
    if unit in ("visits", "cases", "bed_days", "count") and x == x:
        return f"{x:,.1f}"  # a mean per day: keep a decimal
    return format_indicator(x, unit, lang)


def diff_text(x: float, code: str, lang: str) -> str:
    if x != x:
        return "—"
    if INDICATORS[code].unit == "ratio":
        return format_points(x, lang)
    text = value_text(abs(x), code, lang)
    return ("+" if x > 0 else "−" if x < 0 else "") + text


def error_text(res: Any, lang: str) -> str:
    parts = []
    for key, code in res.errors.items():
        if code == "too_few" and key in ROWS:
            n = res.n_before if key == "before" else res.n_after
            parts.append(t(f"ws.projects.few.{key}", lang, n=n, min=MIN_PER_GROUP))
        elif code == "unavailable":
            parts.append(t("ws.projects.few.unavailable", lang))
        elif code in ("empty_column", "empty_row"):
            parts.append(t(f"ws.projects.few.{code}", lang))
        else:
            parts.append(t("ws.projects.few.other", lang, code=code))
    return " ".join(parts)


def verdict_text(res: Any, lang: str) -> str:
    """What the test says about one indicator, judged better or worse by the one rule."""
    if res.errors:
        return error_text(res, lang)
    ind = INDICATORS[res.indicator]
    sig = res.significant
    head = t("ws.projects.sig" if sig else "ws.projects.not_sig", lang, p=p_text(res.p))
    direction = t("ws.projects.up" if res.diff > 0 else "ws.projects.down", lang)
    moved = t("ws.projects.moved", lang, name=ind.name(lang), direction=direction,
              before=value_text(res.value_before, res.indicator, lang),
              after=value_text(res.value_after, res.indicator, lang))
    judged = ""
    verdict = judge_change(ind, res.diff, res.value_after, scale=1, decimals=6) if sig else "neutral"
    if verdict in ("good", "bad"):  # the one rule: direction and healthy range (data_layer.verdict)
        judged = " (" + t("ws.projects.better" if verdict == "good" else "ws.projects.worse", lang) + ")"
    return f"{head} {moved}{judged}"


def _joined(names: Sequence[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(names)


# ------------------------------------------------------------------------------------- list
def list_frame(projects: pd.DataFrame, dept_names: Mapping[str, str], lang: str) -> pd.DataFrame:
    """The projects (appdb.projects.list_projects) as the page and the export show them: one row
    per project, columns LIST_COLUMNS, names in the reader's language."""
    rows = [{"id": int(r["id"]), "title": r["title"],
             "departments": _joined([dept_names.get(d, d) for d in r["dept_list"]], lang),
             "indicators": ", ".join(INDICATORS[c].name(lang) if c in INDICATORS else c for c in r["indicator_list"]),
             "start": str(r["start_date"]), "windows": f"{r['before_days']}/{r['after_days']}",
             "status": t(f"ws.projects.status.{r['status']}", lang), "created_by": r["created_by"] or "",
             "updated": str(r["updated_at"])[:16], "description": r["description"] or ""}
            for _, r in projects.iterrows()]
    return pd.DataFrame(rows, columns=list(LIST_COLUMNS))


def list_headers(lang: str) -> dict[str, str]:
    """LIST_COLUMNS -> the column's header in the reader's language."""
    return {c: t(f"ws.projects.col.{c}", lang) for c in LIST_COLUMNS}


def list_grid(df: pd.DataFrame, lang: str) -> Any:
    """The project list as a grid (a click on a row opens the project); a note when there is none.
    The description stays in the export and the opened project."""
    if df.empty:  # not the grid's id: the row-click callback listens to the grid's cellClicked
        return html.P(t("ws.projects.none", lang), className="note", id="wsp-list-none")
    h = list_headers(lang)
    # The title names the row, so it comes first and stays pinned (the number beside it would take
    # a phone's width); widths are the share each column gets of a wide screen.
    columns = [Column("title", h["title"], pinned=True, width=240), Column("id", h["id"], "integer", width=70),
               Column("departments", h["departments"], width=180), Column("indicators", h["indicators"], width=240),
               Column("start", h["start"], "date", width=110), Column("windows", h["windows"], width=110),
               Column("status", h["status"], width=80), Column("created_by", h["created_by"], width=100),
               Column("updated", h["updated"], width=150)]
    return data_grid(df, columns, lang, LIST_GRID, row_id="id", selectable=True, class_name="wsp-list-grid")


# ------------------------------------------------------------------------------ opened project
def project_head(p: Mapping[str, Any], win: Any, through: date | None, dept_names: Mapping[str, str],
                 lang: str) -> html.Div:
    """The opened project's status, departments, windows (`win`: before_after.Windows) and description."""
    b = win.before or win.before_asked
    lines = [html.Div([html.Span(t(f"ws.projects.status.{p['status']}", lang),
                                 className=f"badge wsp-status wsp-{p['status']}"),
                       " ", "、".join(dept_names.get(d, d) for d in p["dept_list"])], className="wsp-meta")]
    if win.after is None:
        lines.append(html.P(t("ws.projects.after_pending", lang, a0=win.after_asked[0], through=through),
                            className="note"))
    else:
        lines.append(html.P(t("ws.projects.windows", lang, b0=b[0], b1=b[1], a0=win.after[0], a1=win.after[1],
                              through=through), className="note"))
    if (win.before, win.after) != (win.before_asked, win.after_asked):
        lines.append(html.P(t("ws.projects.clipped", lang), className="note"))
    if p["description"]:
        lines.append(html.P(p["description"], className="wsp-description"))
    return html.Div(lines, id="wsp-head")


def comparison_frame(results: Sequence[Any], lang: str) -> pd.DataFrame:
    """One row per indicator: windows, observations, values, difference and interval, test, p, verdict."""
    k = lambda key: t(f"ws.projects.c.{key}", lang)  # noqa: E731
    rows = []
    for r in results:
        ind = INDICATORS[r.indicator]
        w = r.windows
        rows.append({
            k("indicator"): ind.name(lang), k("observation"): t(f"ws.projects.obs.{r.kind}", lang),
            k("before_window"): f"{w.before[0]}..{w.before[1]}" if w.before else "",
            k("after_window"): f"{w.after[0]}..{w.after[1]}" if w.after else "",
            k("n_before"): r.n_before, k("n_after"): r.n_after,
            k("events_before"): r.table[0][0] if r.table else None, k("events_after"): r.table[1][0] if r.table else None,
            k("before"): r.value_before, k("after"): r.value_after, k("diff"): None if r.errors else r.diff,
            k("ci_low"): r.ci[0] if r.ci and not r.errors else None, k("ci_high"): r.ci[1] if r.ci and not r.errors else None,
            k("test"): t(f"ws.projects.test.{r.test}", lang) if r.test else "",
            k("statistic"): None if r.errors else r.statistic, k("df"): r.dof, k("p"): None if r.errors else r.p,
            k("verdict"): t("ws.projects.verdict." + ("none" if r.significant is None else
                                                      "sig" if r.significant else "not_sig"), lang),
            t("ws.projects.col.description", lang): verdict_text(r, lang),
        })
    return pd.DataFrame(rows)


def comparison(results: Sequence[Any], lang: str) -> Any:
    """The comparison table (one row per indicator) and a card per indicator with its verdict,
    notes and weekly chart."""
    if not results:
        return html.P(t("home.no_data", lang), className="note")
    k = lambda key: t(f"ws.projects.c.{key}", lang)  # noqa: E731
    head = html.Thead(html.Tr([html.Th(k(c)) for c in ("indicator", "observation", "n", "before", "after", "diff", "ci",
                                                        "test", "statistic", "p", "verdict")]))
    body, cards = [], []
    for r in results:
        code = r.indicator
        ind = INDICATORS[code]
        ci = "—" if r.errors or r.ci is None else f"{diff_text(r.ci[0], code, lang)} … {diff_text(r.ci[1], code, lang)}"
        stat = "—" if r.errors else (f"χ² = {r.statistic:.3f}, df = {r.dof}" if r.test == "chi_square" else
                                     f"{'t' if r.test == 'welch_t' else 'U'} = {r.statistic:,.3f}")
        sig = r.significant
        verdict_cls = "wsp-none" if sig is None else "wsp-sig" if sig else "wsp-notsig"
        body.append(html.Tr([
            html.Td(ind.name(lang)), html.Td(t(f"ws.projects.obs.{r.kind}", lang)),
            html.Td(f"{r.n_before:,} / {r.n_after:,}", className="num"),
            html.Td(value_text(r.value_before, code, lang), className="num"),
            html.Td(value_text(r.value_after, code, lang), className="num"),
            html.Td("—" if r.errors else diff_text(r.diff, code, lang), className="num"), html.Td(ci, className="num"),
            html.Td(t(f"ws.projects.test.{r.test}", lang) if r.test else "—"), html.Td(stat, className="num"),
            html.Td("—" if r.errors else p_text(r.p).replace("= ", ""), className="num"),
            html.Td(html.Span(t("ws.projects.verdict." + ("none" if sig is None else "sig" if sig else "not_sig"), lang),
                              className=f"wsp-verdict {verdict_cls}")),
        ], id={"type": "wsp-row", "index": code}))
        cards.append(_card(r, lang))
    table = html.Div(html.Table([head, html.Tbody(body)], className="table table-sm dw-table wsp-compare-table",
                                id="wsp-compare-table"), className="table-scroll")
    return [table, html.Div(cards, className="wsp-cards")]


def _card(r: Any, lang: str) -> html.Div:
    code = r.indicator
    notes: list[Any] = [html.P(verdict_text(r, lang), className="wsp-verdict-text" + (" wsp-error-text" if r.errors else ""),
                               id={"type": "wsp-verdict", "index": code})]
    if r.reason:
        notes.append(html.P(t(f"ws.projects.why.{r.reason}", lang), className="note"))
    if r.table:
        notes.append(html.P(t("ws.projects.counts", lang, eb=f"{r.table[0][0]:,}", nb=f"{r.n_before:,}",
                              ea=f"{r.table[1][0]:,}", na=f"{r.n_after:,}"), className="note"))
    if r.small_expected:
        notes.append(html.P(t("ws.projects.small_expected", lang), className="note"))
    if r.kind == "daily":
        notes.append(html.P(t("ws.projects.daily_note", lang), className="note"))
    graph = None if r.weekly.empty else dcc.Graph(figure=weekly_figure(r, lang), config={"displayModeBar": False},
                                                  className="wsp-graph", id={"type": "wsp-graph", "index": code})
    return html.Div([html.H3(INDICATORS[code].name(lang)),
                     html.Div([html.Div(notes, className="wsp-notes"), graph], className="wsp-card-body")],
                    className="wsp-card", id={"type": "wsp-card", "index": code})


def weekly_figure(r: Any, lang: str) -> go.Figure:
    """Weekly values (7-day bins from the start), before in blue and after in orange, the start marked
    and each window's mean as a dashed line."""
    ind = INDICATORS[r.indicator]
    scale = 100.0 if ind.unit == "ratio" else 1.0
    wk = r.weekly
    fig = go.Figure()
    for name, colour, symbol in (("before", BEFORE_COLOUR, "circle"), ("after", AFTER_COLOUR, "diamond")):
        part = wk[wk["window"] == name]
        if part.empty:
            continue
        fig.add_scatter(x=[str(d) for d in part["bin_start"]], y=(part["value"].astype(float) * scale).round(4).tolist(),
                        mode="lines+markers", name=t(f"ws.projects.chart_{name}", lang),
                        line={"color": colour, "width": 2}, marker={"symbol": symbol, "size": 7},
                        hovertemplate="%{x}: %{y}<extra></extra>")
        mean = r.value_before if name == "before" else r.value_after
        if mean == mean:
            fig.add_scatter(x=[str(part["bin_start"].iloc[0]), str(part["bin_start"].iloc[-1])],
                            y=[round(mean * scale, 4)] * 2, mode="lines", showlegend=False, hoverinfo="skip",
                            line={"color": colour, "dash": "dash", "width": 1.5})
    start = str(r.windows.start)
    fig.add_shape(type="line", x0=start, x1=start, y0=0, y1=1, xref="x", yref="paper",
                  line={"color": "#555", "width": 1.5, "dash": "dot"})
    fig.add_annotation(x=start, y=1, xref="x", yref="paper", text=t("ws.projects.chart_start", lang), showarrow=False,
                       yanchor="bottom", font={"size": 11})
    fig.update_xaxes(type="date", tickformat="%Y-%m-%d")
    fig.update_yaxes(ticksuffix="%" if ind.unit == "ratio" else "")
    fig.update_layout(title={"text": t("ws.projects.chart", lang, name=ind.name(lang)), "font": {"size": 13}},
                      height=250, margin={"l": 50, "r": 10, "t": 44, "b": 30}, plot_bgcolor="#fff",
                      paper_bgcolor="#fff", legend={"orientation": "h", "y": -0.18})
    return fig


# ------------------------------------------------------------------------------------- form
def _field(key: str, lang: str, control: Any) -> html.Div:
    return html.Div([html.Label(t(f"ws.projects.f.{key}", lang), className="form-label"), control,
                     html.Div(id=f"wsp-err-{key}", className="wsp-error")], className=f"wsp-field wsp-field-{key}")


def project_form(p: Mapping[str, Any] | None, lang: str, *, dept_options: list[dict[str, str]], default_dept: str,
                 indicators: Sequence[str], statuses: Sequence[str], default_start: date | None,
                 default_days: tuple[int, int], new_href: str, title_max: int, description_max: int) -> html.Div:
    """The form that records a project (`p` None) or changes `p`; each field has its message line
    (wsp-err-<field>), written by the page's save callback."""
    return html.Div([
        dcc.Store(id="wsp-edit", data={"id": p["id"], "version": p["version"]} if p else None),
        html.Div([
            _field("title", lang, dcc.Input(id="wsp-title", type="text", maxLength=title_max,
                                            value=p["title"] if p else "", className="form-control")),
            _field("dept_ids", lang, dcc.Dropdown(id="wsp-depts", options=dept_options, multi=True,
                                                  value=p["dept_list"] if p else [default_dept])),
            _field("indicators", lang, dcc.Dropdown(id="wsp-indicators", multi=True,
                                                    options=[{"label": INDICATORS[c].name(lang), "value": c}
                                                             for c in indicators],
                                                    value=p["indicator_list"] if p else [])),
            # Text, not a date picker: a picker drops a day it cannot read (2030-13-45) without a word,
            # where the check on saving says what is wrong. Window lengths leave their range (and
            # whole days) to that check too: a browser blanks a number outside min/max.
            _field("start_date", lang, dcc.Input(
                id="wsp-start", type="text", placeholder="YYYY-MM-DD", maxLength=40, className="form-control",
                value=str(p["start_date"]) if p else (str(default_start) if default_start else ""))),
            _field("before_days", lang, dcc.Input(id="wsp-before", type="number", step="any", inputMode="numeric",
                                                  value=p["before_days"] if p else default_days[0],
                                                  className="form-control")),
            _field("after_days", lang, dcc.Input(id="wsp-after", type="number", step="any", inputMode="numeric",
                                                 value=p["after_days"] if p else default_days[1],
                                                 className="form-control")),
            _field("status", lang, dcc.Dropdown(
                id="wsp-status", clearable=False, value=p["status"] if p else "active",
                options=[{"label": t(f"ws.projects.status.{s}", lang), "value": s} for s in statuses])),
            _field("description", lang, dcc.Textarea(id="wsp-description", value=(p["description"] or "") if p else "",
                                                     className="form-control", rows=3, maxLength=description_max)),
        ], className="wsp-form"),
        html.P(t("ws.projects.f.help", lang), className="note"),
        html.Div([html.Button(t("ws.projects.f.save" if p else "ws.projects.f.save_new", lang), id="wsp-save",
                              className="btn btn-primary"),
                  dcc.Link(t("ws.projects.f.new_link", lang), href=new_href, className="ms-3") if p else None,
                  html.Span(id="wsp-form-msg", className="ms-3")], className="wsp-actions"),
    ])


def field_errors(fields: Sequence[str], errors: Mapping[str, str], lang: str, **params: Any) -> tuple:
    """Each field's message (ws.projects.err.<code>) or None, in the order of `fields`."""
    return tuple(html.Span(t(f"ws.projects.err.{errors[f]}", lang, **params), className="text-danger",
                           id={"type": "wsp-field-error", "index": f}) if f in errors else None for f in fields)


# ------------------------------------------------------------------------------- manual table
def manual_class(ncols: int) -> str:
    """The table's classes; wsp-n<k> hides the columns from k on (assets/ws-projects.css)."""
    return f"table table-sm wsp-manual wsp-n{ncols}"


def manual_table(lang: str, max_columns: int) -> html.Div:
    """Two rows (before, after) of up to `max_columns` typed counts with their labels, and Run."""
    def cell(r: int, c: int) -> html.Td:
        return html.Td(dcc.Input(id={"type": "wsp-cell", "row": r, "col": c}, type="text", inputMode="numeric",
                                 value="", className="form-control form-control-sm wsp-cell", debounce=True),
                       className=f"wsp-c{c}")

    labels = [t("ws.projects.m.label0", lang), t("ws.projects.m.label1", lang)] + [
        t("ws.projects.m.label", lang, n=i + 1) for i in range(2, max_columns)]
    head = html.Tr([html.Th(t("ws.projects.m.group", lang))] + [
        html.Th(dcc.Input(id={"type": "wsp-label", "col": c}, type="text", value=labels[c], maxLength=40,
                          className="form-control form-control-sm"), className=f"wsp-c{c}")
        for c in range(max_columns)])
    rows = [html.Tr([html.Th(t(f"ws.projects.m.{name}", lang))] + [cell(r, c) for c in range(max_columns)])
            for r, name in enumerate(ROWS)]
    return html.Div([
        html.P(t("ws.projects.manual_help", lang), className="note"),
        html.Div([html.Label(t("ws.projects.m.columns", lang), className="me-2"),
                  dcc.Dropdown(id="wsp-ncols", options=[{"label": str(n), "value": n} for n in range(2, max_columns + 1)],
                               value=2, clearable=False, className="wsp-ncols")], className="wsp-inline"),
        html.Div(html.Table([html.Thead(head), html.Tbody(rows)], className=manual_class(2), id="wsp-manual"),
                 className="table-scroll"),
        html.Button(t("ws.projects.m.run", lang), id="wsp-run", className="btn btn-primary btn-sm"),
        html.Div(id="wsp-manual-result", className="wsp-manual-result"),
        dcc.Store(id="wsp-manual-data"),
    ])


def manual_errors(errors: Mapping[str, str], names: Sequence[str], lang: str) -> html.Ul:
    """The typed table's problems: the table's own, or each bad cell named by its row and column."""
    items = []
    for key, code in errors.items():
        if key == "table":
            items.append(html.Li(t(f"ws.projects.m.err.{code}", lang), id={"type": "wsp-manual-error", "index": key}))
        else:
            r, c = int(key[1]), int(key[3])
            items.append(html.Li(t("ws.projects.m.cell", lang, row=t(f"ws.projects.m.{ROWS[r]}", lang), col=names[c],
                                   message=t(f"ws.projects.m.err.{code}", lang)),
                                 id={"type": "wsp-manual-error", "index": key}))
    return html.Ul(items, className="text-danger wsp-manual-errors")


def manual_result(table: list[list[int]], chi: Any, names: Sequence[str], lang: str) -> list[Any]:
    """Pearson's chi-square on the typed counts (`chi`: data_layer.stats.ChiSquare), the difference
    of the first column's share with its interval (2×2), and each row's shares."""
    shares = [[x / sum(row) for x in row] for row in table]
    share_row = lambda i: html.Tr([html.Th(t(f"ws.projects.m.{ROWS[i]}", lang))] + [  # noqa: E731
        html.Td(f"{s * 100:.1f}%", className="num") for s in shares[i]])
    parts: list[Any] = [
        html.P(html.Strong(t("ws.projects.m.result", lang, chi2=f"{chi.chi2:.3f}", df=chi.dof, p=p_text(chi.p))),
               id="wsp-manual-summary"),
        html.P(t("ws.projects.sig" if chi.p < 0.05 else "ws.projects.not_sig", lang, p=p_text(chi.p))),
    ]
    if chi.diff is not None and chi.ci is not None:
        parts.append(html.P(t("ws.projects.m.diff", lang, label=names[0], p1=f"{shares[0][0] * 100:.1f}%",
                              p2=f"{shares[1][0] * 100:.1f}%", diff=format_points(chi.diff, lang),
                              lo=format_points(chi.ci[0], lang), hi=format_points(chi.ci[1], lang))))
    if chi.small_expected:
        parts.append(html.P(t("ws.projects.small_expected", lang), className="note"))
    parts.append(html.Table([html.Thead(html.Tr([html.Th(t("ws.projects.m.row_share", lang))] +
                                                [html.Th(x) for x in names])),
                             html.Tbody([share_row(0), share_row(1)])], className="table table-sm dw-table wsp-shares"))
    return parts


def manual_frame(table: list[list[int]], chi: Any, labels: Sequence[str], lang: str) -> pd.DataFrame:
    """The typed table with totals, then the test's results (for the export)."""
    rows = [[t(f"ws.projects.m.{name}", lang), *table[i], sum(table[i])] for i, name in enumerate(ROWS)]
    df = pd.DataFrame(rows, columns=[t("ws.projects.m.group", lang), *labels, t("ws.projects.m.total", lang)])
    stats = [("χ²", chi.chi2), (t("ws.projects.c.df", lang), chi.dof), ("p", chi.p)]
    if chi.diff is not None and chi.ci is not None:
        stats += [(t("ws.projects.c.diff", lang) + f" ({labels[0]})", chi.diff),
                  (t("ws.projects.c.ci_low", lang), chi.ci[0]), (t("ws.projects.c.ci_high", lang), chi.ci[1])]
    extra = pd.DataFrame([[name, value] + [None] * (len(df.columns) - 2) for name, value in stats], columns=df.columns)
    return pd.concat([df, extra], ignore_index=True)
