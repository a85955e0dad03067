"""Exported files that read like the page they came from: one column spec, one workbook builder,
one CSV writer. Every export of the app (workspace tables, alert rows, the monthly report, the
equipment appraisal) goes through here.

A column has a kind: text, integer, money, percent, days, ratio, date or datetime. An indicator's
kind comes from its registry unit (`unit_kind`). In a workbook a kind is an Excel number format
(percent 0.0% over the fraction, money #,##0.00, integer #,##0, days 0.0, dates as dates); in a
CSV it is plain text a spreadsheet parses (integers without ".0", money to two decimals, percent
values ×100 with "(%)" in the header, never scientific notation), UTF-8 with a byte-order mark.

Text that a spreadsheet would run as a formula (it starts with = + - @, a tab or a carriage
return: the OWASP CSV-injection rule) is neutralised; numbers, negative ones too, stay numbers.

Pure: frames in, bytes out; no database, no request, no clock (the caller passes the export time).
"""
from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from .i18n import t
from .palette import DESK, Verdict

KINDS = ("text", "integer", "money", "percent", "days", "ratio", "date", "datetime")
BY_ROW = "by_row"  # a key/value block: each row names its own kind (Block.row_kinds)
DECIMALS = {"integer": 0, "money": 2, "percent": 1, "days": 1, "ratio": 2}
CSV_PERCENT_DECIMALS = 2  # a CSV keeps one more decimal of a percentage than the page shows
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MIN_WIDTH, MAX_WIDTH = 6.0, 60.0
WIDTH_SAMPLE = 2000  # rows measured for the column widths
HEADER_FILL = "DDE7F3"
TITLE_SIZE = 14

# registry unit -> (kind, decimals); units not named here read as ratios with two decimals
_UNIT_KINDS: dict[str, tuple[str, int | None]] = {
    "ratio": ("percent", None),
    "yuan": ("money", None), "yuan_per_m2": ("money", None), "per_fte": ("money", None),
    "yuan_per_10k": ("money", None),
    "cases": ("integer", None), "visits": ("integer", None), "bed_days": ("integer", None),
    "count": ("integer", None),
    "days": ("days", None), "hours": ("days", None),
    "index": ("ratio", 3), "times": ("ratio", 2), "per_bed": ("ratio", 3), "per_doctor": ("ratio", 1),
    "fte": ("ratio", 1),
}


def unit_kind(unit: str) -> tuple[str, int | None]:
    """The column kind (and decimals, None for the kind's own) of an indicator's registry unit."""
    return _UNIT_KINDS.get(unit, ("ratio", 2))


def cell_kind(kind: str) -> tuple[str, int | None]:
    """The column kind of a page table's cell kind (components.format.format_cell: text, int,
    yuan, days, hours, or a registry unit)."""
    return {"text": ("text", None), "int": ("integer", None), "yuan": ("money", None),
            "days": ("days", None), "hours": ("days", None)}.get(kind) or unit_kind(kind)


_MONEY_WORDS = frozenset({"price", "cost", "revenue", "net", "npv", "charge", "maintenance", "consumables",
                          "depreciation", "income", "payment", "amount", "budget", "yuan"})
_COUNT_WORDS = frozenset({"exams", "count", "cases", "visits", "n", "working"})


def field_kind(name: str, value: Any) -> str | tuple[str, int | None]:
    """The kind of a named figure in a key/value block (an appraisal's inputs and results), from
    the words of its name: rates and shares as percentages (a rate above 1 is already in per
    cent), years with two decimals, per-day figures with one, counts as integers, amounts as
    money; text stays text."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return "text"
    n = name.lower()
    words = set(n.split("_"))
    if words & {"irr", "share", "utilization"} or ("rate" in words and abs(float(value)) <= 1):
        return "percent"
    if words & {"payback", "years"}:
        return ("ratio", 2)
    if "per_day" in n or words & {"breakeven"} or "break_even" in n:
        return ("ratio", 1)
    if words & _COUNT_WORDS:
        return "integer"
    if words & _MONEY_WORDS:
        return "money"
    return "integer" if isinstance(value, (int, np.integer)) else ("ratio", 2)


@dataclass(frozen=True)
class Column:
    """One exported column: the frame's column `key`, its header and its kind."""

    key: str
    header: str
    kind: str = "text"
    decimals: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS and self.kind != BY_ROW:
            raise ValueError(f"unknown column kind {self.kind!r}")

    @property
    def places(self) -> int:
        return self.decimals if self.decimals is not None else DECIMALS.get(self.kind, 0)


def number_format(kind: str, decimals: int | None = None) -> str:
    """The Excel number format of a kind."""
    places = decimals if decimals is not None else DECIMALS.get(kind, 0)
    tail = "." + "0" * places if places > 0 else ""
    return {"integer": "#,##0", "money": "#,##0" + tail, "percent": "0" + tail + "%", "days": "#,##0" + tail,
            "ratio": "#,##0" + tail, "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}.get(kind, "@")


def _missing(v: Any) -> bool:
    if v is None or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)):
        return math.isnan(float(v))
    try:
        return bool(pd.isna(v)) if not isinstance(v, (str, bytes, list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def infer_kind(series: pd.Series) -> str:
    """A kind for a column nobody declared: integers, dates, numbers with decimals (ratio), text."""
    s = series.dropna()
    if pd.api.types.is_bool_dtype(series) or s.empty:
        return "text"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime" if (s.dt.normalize() != s).any() else "date"
    if pd.api.types.is_float_dtype(series):
        return "integer" if bool((s == s.round()).all()) else "ratio"
    values = list(s)
    if all(isinstance(v, datetime) for v in values):
        return "datetime" if any(v.time() != datetime.min.time() for v in values) else "date"
    if all(isinstance(v, date) for v in values):
        return "date"
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return "integer"
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values):
        return "ratio"
    return "text"


def columns_of(frame: pd.DataFrame, kinds: Mapping[str, str | tuple[str, int]] | None = None) -> tuple[Column, ...]:
    """A Column for each of the frame's columns, headed by its name: the kind `kinds` names
    (a kind, or (kind, decimals)), else the inferred one."""
    out = []
    for name in frame.columns:
        spec = (kinds or {}).get(str(name))
        kind, places = (spec, None) if isinstance(spec, str) else (spec if spec else (infer_kind(frame[name]), None))
        out.append(Column(str(name), str(name), kind, places))
    return tuple(out)


def safe_text(value: Any) -> str:
    """Text a spreadsheet shows and never runs: a leading = + - @ tab or CR gets a quote."""
    s = str(value)
    return "'" + s if s.startswith(FORMULA_START) else s


def put_text(cell: Any, text: str) -> Any:
    """Write text into a workbook cell as a string, never a formula, whatever it begins with;
    text a spreadsheet would run as a formula is marked quoted (shown as typed, stored as text).
    Every string the workbook writes goes through here."""
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_START):
        cell.quotePrefix = True
    return cell


def cell_value(value: Any, kind: str, decimals: int | None = None) -> Any:
    """A frame value as a workbook stores it for `kind`: integers as integers, money to the fen,
    other numbers as they are (their number format shows the page's decimals), dates as dates,
    None for missing; text as text."""
    if _missing(value):
        return None
    if kind in ("integer", "money", "days", "ratio", "percent"):
        try:
            x = float(value)
        except (TypeError, ValueError):
            return str(value)  # a note where a number belongs ("never pays back"): shown as it is
        if not math.isfinite(x):
            return None
        if kind == "integer":
            return int(round(x))
        if kind == "money":  # nothing below a fen (0.01 yuan) is real money
            return round(x, decimals if decimals is not None else DECIMALS["money"]) + 0.0
        places = decimals if decimals is not None else DECIMALS.get(kind, 2)
        if round(x * (100 if kind == "percent" else 1), places) == 0:
            return 0.0  # a tiny negative would show as "-0.0%"
        return x  # a rate or a ratio keeps its precision; the number format shows the page's decimals
    if kind in ("date", "datetime"):
        if isinstance(value, str):
            try:
                value = pd.Timestamp(value)
            except (ValueError, TypeError):
                return value
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if kind == "date" and isinstance(value, datetime):
            return value.date()
        if isinstance(value, np.datetime64):
            return pd.Timestamp(value).to_pydatetime()
        return value
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return str(value)


def shown(value: Any, kind: str, decimals: int | None = None) -> str:
    """A stored value as the spreadsheet shows it (for the column widths)."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and kind != "text":
        places = decimals if decimals is not None else DECIMALS.get(kind, 2)
        return f"{value * 100:.{places}f}%" if kind == "percent" else f"{value:,.{places}f}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}" if kind != "date" else f"{value:%Y-%m-%d}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def csv_value(value: Any, kind: str, decimals: int | None = None) -> str:
    """A frame value as CSV text: integers without decimals, money with two, percent values
    (×100), ISO dates, neutralised text; never scientific notation."""
    v = cell_value(value, kind, decimals)
    if v is None:
        return ""
    if isinstance(v, (int, float)) and not isinstance(v, bool) and kind != "text":
        if kind == "integer":
            return str(int(v))
        if kind == "percent":
            places = (decimals if decimals is not None else DECIMALS["percent"]) + 1
            return f"{v * 100:.{max(places, CSV_PERCENT_DECIMALS)}f}"
        places = decimals if decimals is not None else DECIMALS[kind]
        return f"{v:.{places}f}".replace("-0.00", "0.00") if places == 2 else f"{v:.{places}f}"
    if isinstance(v, datetime):
        return f"{v:%Y-%m-%d %H:%M}" if kind == "datetime" else f"{v:%Y-%m-%d}"
    if isinstance(v, date):
        return v.isoformat()
    return safe_text(v)


def text_width(text: str) -> float:
    """Characters as a spreadsheet measures them: a Chinese (wide) character counts double."""
    line = max(str(text).split("\n"), key=len) if text else ""
    return float(sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line))


@dataclass(frozen=True)
class Block:
    """A table in a sheet: an optional caption, the frame and its columns. A column of kind
    BY_ROW takes each row's kind from `row_kinds` (a key/value block of mixed figures)."""

    frame: pd.DataFrame
    columns: tuple[Column, ...]
    caption: str | None = None
    row_kinds: tuple[str | tuple[str, int | None], ...] = ()
    empty_note: str | None = None  # shown instead of the table when the frame has no rows
    # column key -> one verdict a row ("good", "bad", "warn", "neutral"): those cells take the
    # palette's colour (verdict_font), as the page colours the same judgment
    verdicts: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name and blocks, and notes printed below them (a formula, a caveat)."""

    name: str
    blocks: tuple[Block, ...]
    notes: tuple[str, ...] = ()
    landscape: bool | None = None  # None: landscape when the widest block has more than 8 columns
    one_page: bool = False  # printed on one page (fit to height too)


@dataclass(frozen=True)
class Heading:
    """What every exported workbook says on top of each sheet: the title and the lines below it
    (period, scope, data freshness, export time and user)."""

    title: str
    lines: tuple[str, ...] = field(default_factory=tuple)


def heading(title: str, lang: str, *, scope: str, exported_at: datetime, user: str,
            period: tuple[date, date] | None = None, through: date | None = None,
            loaded_at: datetime | None = None, extra: Iterable[str] = ()) -> Heading:
    """The heading of an export in the reader's language."""
    lines = []
    if period is not None:
        lines.append(t("export.period", lang, start=period[0], end=period[1]))
    lines.append(t("export.scope", lang, scope=scope))
    lines.extend(extra)
    lines.append(t("export.fresh", lang, through=through or "—",
                   loaded=f"{loaded_at:%Y-%m-%d %H:%M}" if loaded_at else "—"))
    lines.append(t("export.by", lang, at=f"{exported_at:%Y-%m-%d %H:%M}", user=user or "—"))
    return Heading(title, tuple(lines))


def scope_text(kind: str, names: Sequence[str], lang: str, most: int = 6) -> str:
    """The scope in words: the whole hospital, its campuses, or its departments (the first few
    and how many more)."""
    if kind == "hospital":
        return t("export.scope.hospital", lang)
    sep = "、" if lang == "zh" else ", "
    shown_names = sep.join(names[:most]) if names else "—"
    if len(names) > most:
        return t("export.scope.more", lang, names=shown_names, n=len(names))
    return shown_names


def table_workbook(head: Heading, frame: pd.DataFrame, columns: Sequence[Column] | None = None,
                   sheet: str = "", lang: str = "zh", row_kinds: Sequence[str | tuple[str, int | None]] = (),
                   empty_note: str | None = None, verdicts: Mapping[str, Sequence[str]] | None = None) -> bytes:
    """One table as a workbook (the workspace and page exports); `verdicts` colours the judged
    columns' cells (Block.verdicts)."""
    cols = tuple(columns) if columns is not None else columns_of(frame)
    return workbook(head, [Sheet(sheet or t("export.sheet", lang),
                                 (Block(frame, cols, row_kinds=tuple(row_kinds), empty_note=empty_note,
                                        verdicts=dict(verdicts or {})),))])


def verdict_font(verdict: str, bold: bool = False) -> Any:
    """The cell font of a good/bad/warn judgment in a workbook: the palette's desk colour (the
    page's colour on white paper); None for "neutral" or an unknown verdict (the cell keeps the
    default font: only judged cells are coloured)."""
    from openpyxl.styles import Font

    if verdict not in ("good", "bad", "warn"):
        return None
    colour: Verdict = verdict  # type: ignore[assignment]
    return Font(color=DESK.color(colour).lstrip("#").upper(), bold=bold)


def _sheet_name(name: str, taken: set[str]) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'") or "Sheet"
    clean = clean[:31].rstrip()
    out, n = clean, 2
    while out.lower() in taken:
        out = f"{clean[:28]}-{n}"
        n += 1
    taken.add(out.lower())
    return out


def workbook(head: Heading, sheets: Sequence[Sheet]) -> bytes:
    """The workbook: on each sheet the heading, then the blocks with styled, frozen headers,
    number formats by kind and fitted widths; A4, fitted to the page width."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    bold, head_fill = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL)
    thin = Side(style="thin", color="999999")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    styles: dict[tuple[str, int | None], str] = {}

    def style(kind: str, places: int | None) -> str:
        """A named cell style per number format, registered once: a cell takes it by name, which
        is much cheaper than setting its border and format one by one."""
        fmt = number_format(kind, places) if kind != "text" else "General"
        name = f"hospdash {fmt}"
        if name not in styles.values():
            wb.add_named_style(NamedStyle(name=name, number_format=fmt, border=box))
        styles[(kind, places)] = name
        return name
    taken: set[str] = set()
    for spec in sheets:
        ws = wb.create_sheet(_sheet_name(spec.name, taken))
        put_text(ws.cell(1, 1), head.title).font = Font(bold=True, size=TITLE_SIZE)
        for i, line in enumerate(head.lines, start=2):
            put_text(ws.cell(i, 1), line).font = Font(color="555555")
        row = len(head.lines) + 3
        widths: dict[int, float] = {}
        header_rows: list[int] = []
        ncols = max((len(b.columns) for b in spec.blocks), default=1)
        for block in spec.blocks:
            if block.caption:
                put_text(ws.cell(row, 1), block.caption).font = bold
                row += 1
            for j, col in enumerate(block.columns, start=1):
                c = put_text(ws.cell(row, j), col.header)
                c.font, c.fill, c.border = bold, head_fill, box
                c.alignment = Alignment(wrap_text=True, vertical="center",
                                        horizontal="left" if col.kind == "text" else "center")
                widths[j] = max(widths.get(j, 0.0), min(text_width(col.header), 24.0))
            header_rows.append(row)
            row += 1
            if block.frame.empty and block.empty_note:
                put_text(ws.cell(row, 1), block.empty_note).font = Font(italic=True, color="555555")
                row += 1
            columns = [_stored(block, col) for col in block.columns]
            judged = [list(block.verdicts.get(col.key, ())) for col in block.columns]
            fonts: dict[str, Any] = {}
            text_style = styles.get(("text", None)) or style("text", None)
            for i in range(len(block.frame)):
                for j, (col, values) in enumerate(zip(block.columns, columns, strict=True), start=1):
                    kind, places = _kind_of(col, block.row_kinds, i)
                    value = values[i]
                    c = ws.cell(row, j)
                    if isinstance(value, str):
                        c.style = text_style  # before the text: a named style resets the quote mark
                        put_text(c, value)
                    else:
                        c.value = value
                        c.style = styles.get((kind, places)) or style(kind, places)
                    if i < len(judged[j - 1]):
                        verdict = judged[j - 1][i]
                        if verdict not in fonts:
                            fonts[verdict] = verdict_font(verdict)
                        if fonts[verdict] is not None:
                            c.font = fonts[verdict]
                    if i < WIDTH_SAMPLE:
                        widths[j] = max(widths.get(j, 0.0), text_width(shown(value, kind, places)))
                row += 1
            row += 1
        for note in spec.notes:
            put_text(ws.cell(row, 1), note).alignment = Alignment(wrap_text=True, vertical="top")
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=max(ncols, 2))
            ws.row_dimensions[row].height = 15 * max(2, math.ceil(text_width(note) / max(
                sum(widths.values()) or 60.0, 30.0)) + 1)
            row += 1
        for j, w in widths.items():
            ws.column_dimensions[get_column_letter(j)].width = min(max(MIN_WIDTH, w + 2.0), MAX_WIDTH)
        if len(header_rows) == 1 and len(spec.blocks) == 1:
            top = header_rows[0]
            ws.freeze_panes = ws.cell(top + 1, 1)
            last = top + max(len(spec.blocks[0].frame), 1)
            ws.auto_filter.ref = f"A{top}:{get_column_letter(ncols)}{max(last, top)}"
            ws.print_title_rows = f"{top}:{top}"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "landscape" if (spec.landscape if spec.landscape is not None
                                                    else ncols > 8) else "portrait"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 1 if spec.one_page else 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _stored(block: Block, col: Column) -> list[Any]:
    """A column's values as the workbook stores them (cell_value), converted a column at a time
    where the column is all numbers of one kind."""
    where = {str(c): i for i, c in enumerate(block.frame.columns)}
    series = block.frame.iloc[:, where[col.key]]
    if col.kind in ("integer", "money", "percent", "days", "ratio") and (
            pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
        x = series.astype(float).to_numpy()
        bad = ~np.isfinite(x)
        if col.kind == "integer":
            out: list[Any] = [int(v) for v in np.round(np.where(bad, 0.0, x))]
        elif col.kind == "money":
            out = (np.round(x, col.places) + 0.0).tolist()
        else:
            out = x.tolist()
        return [None if b else v for v, b in zip(out, bad.tolist(), strict=True)]
    kinds = [_kind_of(col, block.row_kinds, i) for i in range(len(series))] if col.kind == BY_ROW else None
    return [cell_value(v, *(kinds[i] if kinds else (col.kind, col.decimals))) for i, v in enumerate(series.tolist())]


def _kind_of(col: Column, row_kinds: Sequence[str | tuple[str, int | None]], i: int) -> tuple[str, int | None]:
    """The kind and decimals of a cell: its column's, or for a BY_ROW column its row's."""
    if col.kind != BY_ROW:
        return col.kind, col.decimals
    spec = row_kinds[i] if i < len(row_kinds) else "text"
    return (spec, None) if isinstance(spec, str) else spec


def _pick(block: Block, record: tuple) -> list[Any]:
    """The values of a frame row in the order of the block's columns."""
    where = {str(c): i for i, c in enumerate(block.frame.columns)}
    return [record[where[col.key]] for col in block.columns]


def csv_bytes(frame: pd.DataFrame, columns: Sequence[Column] | None = None,
              row_kinds: Sequence[str | tuple[str, int | None]] = ()) -> bytes:
    """One table as CSV for Excel: UTF-8 with a byte-order mark, a percent column's header ends
    in "(%)", numbers written as the page shows them, text neutralised. In a BY_ROW column (a
    table of indicators in their own units, with a unit column) a percentage is its percent value."""
    cols = tuple(columns) if columns is not None else columns_of(frame)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([safe_text(f"{c.header} (%)" if c.kind == "percent" else c.header) for c in cols])
    block = Block(frame, cols)
    for i, record in enumerate(frame.itertuples(index=False, name=None)):
        w.writerow([csv_value(v, *_kind_of(c, row_kinds, i)) for c, v in zip(cols, _pick(block, record), strict=True)])
    return buf.getvalue().encode("utf-8-sig")


# ------------------------------------------------------------------------------------ the app's workbooks
# Every workbook the app sends is built here: one table (table_workbook, through
# pages/_common.send_table), a sheet of key/value blocks printed on one page (an appraisal:
# field_block + one_page_workbook), and the monthly operations report (report_sheets).

def field_block(caption: str, rows: Sequence[tuple[str, str, Any]], item: str, value: str) -> Block:
    """A key/value block of named figures: rows of (field name, label, value); each value's format
    follows its field's name (field_kind), so a new field has one."""
    df = pd.DataFrame([(label, v) for _key, label, v in rows], columns=[item, value])
    kinds = tuple(field_kind(key, v) for key, _label, v in rows)
    return Block(df, (Column(item, item), Column(value, value, BY_ROW)), caption, row_kinds=kinds)


def one_page_workbook(head: Heading, name: str, blocks: Sequence[Block], notes: Sequence[str] = (),
                      landscape: bool = False) -> bytes:
    """Blocks on one sheet printed on one A4 page (an appraisal report), notes below them."""
    return workbook(head, [Sheet(name, tuple(blocks), notes=tuple(notes), landscape=landscape, one_page=True)])


APPRAISAL_EXISTING_KINDS = ("text", "text", "date", "integer", "integer", "percent", "text")


def appraisal_workbook(a: Mapping[str, Any], lang: str, head: Heading) -> bytes:
    """A saved purchase appraisal (设备购置论证) as one printable A4 page: inputs, results, and the
    devices of the category it was compared with. A figure's format follows its field's name
    (field_kind), so a new field has one."""
    from components.appraisal import EXISTING_REPORT, category_name, existing_report_rows, report_rows

    item, value = t("ws.eq.report_item", lang), t("ws.eq.report_value", lang)
    inputs, results = report_rows(a, lang)
    heads = [t(f"ws.eq.c.{k}", lang) for _c, k in EXISTING_REPORT]
    existing = pd.DataFrame(existing_report_rows(a, lang), columns=heads)
    none = t("ws.eq.existing_none", lang, category=category_name(a["category"], lang))
    blocks = (
        field_block(t("ws.eq.report_inputs", lang), [(r.key, r.label, r.value) for r in inputs], item, value),
        field_block(t("ws.eq.report_results", lang), [(r.key, r.label, r.value) for r in results], item, value),
        Block(existing, tuple(Column(h, h, k) for h, k in zip(heads, APPRAISAL_EXISTING_KINDS, strict=True)),
              t("ws.eq.report_existing", lang), empty_note=none))
    return one_page_workbook(head, f"{t('ws.eq.report_title', lang)}-{a['id']}", blocks,
                             notes=(t("ws.eq.formula", lang),))


REPORT_SHEETS = ("key", "structure", "costs", "targets", "alerts", "findings")


def report_sheets(report: Mapping[str, Any], lang: str, fields: Sequence[str]) -> list[Sheet]:
    """The monthly operations report as sheets, one per section (key figures, income structure,
    costs, targets, alerts, findings), figures in their indicator's format; `fields` are the
    findings' columns (problem, cause, suggestion)."""
    from data_layer.registry import INDICATORS, UNITS

    from .format import COUNTED_ALERTS, alert_kind

    c = report["content"]
    unit = lambda code: UNITS[INDICATORS[code].unit][0 if lang == "zh" else 1]  # noqa: E731
    kind = lambda code: unit_kind(INDICATORS[code].unit)  # noqa: E731
    k = lambda key: t(f"ws.rp.k.{key}", lang)  # noqa: E731
    points = lambda code: INDICATORS[code].unit == "ratio"  # noqa: E731 - a ratio's change is in points
    key = pd.DataFrame([{k("indicator"): INDICATORS[r["indicator"]].name(lang), t("export.unit", lang): unit(r["indicator"]),
                         k("value"): r["value"], k("previous"): r["previous"],
                         k("mom"): r["mom_diff"] if points(r["indicator"]) else r["mom"],
                         k("year_ago"): r["year_ago"],
                         k("yoy"): r["yoy_diff"] if points(r["indicator"]) else r["yoy"],
                         k("hospital"): r["hospital"]} for r in c["key"]],
                       columns=[k("indicator"), t("export.unit", lang), *(k(x) for x in ("value", "previous", "mom",
                                                                                         "year_ago", "yoy", "hospital"))])
    parts = ("inpatient", "outpatient", "amount", "share", "share_year_ago")
    structure = pd.DataFrame([[t(f"ws.rp.comp.{r['component']}", lang), *(r[x] for x in parts)] for r in c["structure"]],
                             columns=[t("ws.rp.s.component", lang), *(t(f"ws.rp.s.{x}", lang) for x in parts)])
    amounts = ("direct", "allocated", "total", "year_ago")
    costs = pd.DataFrame([[t(f"dw.cat.{r['category']}", lang), *(r[x] for x in amounts)] for r in c["costs"]["rows"]],
                         columns=[t("ws.rp.c.category", lang), *(t(f"ws.rp.c.{x}", lang) for x in amounts)])
    target_cols = [t(f"dw.t.{x}", lang) for x in ("indicator", "target", "actual", "expected", "projection", "status")]
    targets = pd.DataFrame([[INDICATORS[r["indicator"]].name(lang), r["target"], r["actual"], r["expected"],
                             r["projection"], t(f"dw.status.{r['status']}", lang)] for r in c["targets"]],
                           columns=target_cols)
    alert_cols = [t("ws.rp.a.level", lang), t("ws.rp.k.indicator", lang), t("ws.rp.a.period", lang),
                  t("ws.rp.a.observed", lang), t("ws.rp.a.expected", lang), t("ws.rp.a.status", lang),
                  t("ws.rp.cause", lang), t("ws.rp.action", lang)]
    listed = c.get("alerts") or []
    alerts = pd.DataFrame([[t(f"level.{a['level']}", lang),
                            INDICATORS[a["indicator"]].name(lang) if a["indicator"] in INDICATORS else a["indicator"],
                            f"{a['period_start']} – {a['period_end']}", a["observed"], a["expected"],
                            t(f"status.{a['status']}", lang), "；".join(a["notes"]["cause"]),
                            "；".join(a["notes"]["action"] + a["notes"]["suggestion"])]
                           for a in listed], columns=alert_cols)
    findings = pd.DataFrame(report["findings"] or [], columns=list(fields)).rename(
        columns={f: t(f"ws.rp.f.{f}", lang) for f in fields})
    specs = {  # sheet: (frame, kinds by header, each row's kind)
        "key": (key, {k(x): BY_ROW for x in ("value", "previous", "year_ago", "hospital")}
                | {k("mom"): "percent", k("yoy"): "percent"}, [kind(r["indicator"]) for r in c["key"]]),
        "structure": (structure, {t(f"ws.rp.s.{x}", lang): "money" for x in ("inpatient", "outpatient", "amount")}
                      | {t(f"ws.rp.s.{x}", lang): "percent" for x in ("share", "share_year_ago")}, []),
        "costs": (costs, {t(f"ws.rp.c.{x}", lang): "money" for x in ("direct", "allocated", "total", "year_ago")}, []),
        "targets": (targets, dict.fromkeys(target_cols[1:5], BY_ROW), [kind(r["indicator"]) for r in c["targets"]]),
        "alerts": (alerts, dict.fromkeys(alert_cols[3:5], BY_ROW),
                   ["integer" if alert_kind(a) in COUNTED_ALERTS  # an idle device's exams, not its utilization
                    else kind(a["indicator"]) if a["indicator"] in INDICATORS else "ratio" for a in listed]),
        "findings": (findings, {}, []),
    }
    return [Sheet(t(f"ws.rp.sheet.{name}", lang),
                  (Block(df, columns_of(df, kinds), row_kinds=tuple(rows), empty_note=t("export.no_rows", lang)),))
            for name, (df, kinds, rows) in specs.items()]


def report_workbook(report: Mapping[str, Any], lang: str, head: Heading, fields: Sequence[str]) -> bytes:
    """The monthly operations report as an Excel workbook: one sheet per section under the
    report's heading, each set up to print on A4."""
    return workbook(head, report_sheets(report, lang, fields))
