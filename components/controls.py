"""The built-in texts of Dash's controls (a dropdown's "Search", "Select All", "2 selected", a
date picker's "Select Date") in the reader's language, set on every page in one pass."""
from __future__ import annotations

from typing import Any

from dash import dcc

from .i18n import t

DROPDOWN_LABELS = ("select_all", "deselect_all", "selected_count", "search", "clear_search", "clear_selection",
                   "no_options_found")


def dropdown_labels(lang: str) -> dict[str, str]:
    """The labels a dcc.Dropdown shows besides its options."""
    return {k: t(f"ctl.{k}", lang) for k in DROPDOWN_LABELS}


def localize_controls(tree: Any, lang: str) -> Any:
    """Give every dropdown and date picker in a layout tree its texts in `lang`, unless the page
    set them itself; returns the tree (changed in place)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
            continue
        if isinstance(node, dcc.Dropdown) and getattr(node, "labels", None) is None:
            node.labels = dropdown_labels(lang)
        elif isinstance(node, dcc.DatePickerSingle) and getattr(node, "placeholder", None) is None:
            node.placeholder = t("ctl.pick_date", lang)
        elif isinstance(node, dcc.DatePickerRange):
            if getattr(node, "start_date_placeholder_text", None) is None:
                node.start_date_placeholder_text = t("audit.from", lang)
            if getattr(node, "end_date_placeholder_text", None) is None:
                node.end_date_placeholder_text = t("audit.to", lang)
        children = getattr(node, "children", None)
        if children is not None and not isinstance(children, (str, int, float)):
            stack.append(children)
    return tree
