"""The one-page Excel report of a saved purchase appraisal (设备购置论证): inputs, results and the
devices of the category it was compared with, fit to one A4 page. Pure: the appraisal, the
language and the export's heading in, the workbook's bytes out.

A workbook builder: it belongs with the others in components/exports.py (as `appraisal_workbook`)
once that module is free to take it; it only uses exports' public Block/Sheet/workbook."""
from __future__ import annotations

from typing import Any

import pandas as pd

from components import exports
from components.appraisal import EXISTING_REPORT, Row, category_name, existing_report_rows, report_rows
from components.i18n import t

EXISTING_KINDS = ("text", "text", "date", "integer", "integer", "percent", "text")


def report_workbook(a: dict[str, Any], lang: str, head: exports.Heading) -> bytes:
    """The appraisal as one printable page: inputs, results, existing devices; fit to one A4 page.
    A figure's format follows its field's name (exports.field_kind), so a new field has one."""
    item, value = t("ws.eq.report_item", lang), t("ws.eq.report_value", lang)

    def block(title: str, rows: list[Row]) -> exports.Block:
        df = pd.DataFrame([(r.label, r.value) for r in rows], columns=[item, value])
        kinds = tuple(exports.field_kind(r.key, r.value) for r in rows)
        return exports.Block(df, (exports.Column(item, item), exports.Column(value, value, exports.BY_ROW)), title,
                             row_kinds=kinds)

    inputs, results = report_rows(a, lang)
    heads = [t(f"ws.eq.c.{k}", lang) for _c, k in EXISTING_REPORT]
    existing = pd.DataFrame(existing_report_rows(a, lang), columns=heads)
    none = t("ws.eq.existing_none", lang, category=category_name(a["category"], lang))
    sheet = exports.Sheet(f"{t('ws.eq.report_title', lang)}-{a['id']}", (
        block(t("ws.eq.report_inputs", lang), inputs), block(t("ws.eq.report_results", lang), results),
        exports.Block(existing, tuple(exports.Column(h, h, k) for h, k in zip(heads, EXISTING_KINDS, strict=True)),
                      t("ws.eq.report_existing", lang), empty_note=none)),
        notes=(t("ws.eq.formula", lang),), landscape=False, one_page=True)
    return exports.workbook(head, [sheet])
