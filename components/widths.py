"""How wide a grid's text column must be to show its values whole (a name, a label): pure arithmetic
over the text, as components/grid.header_width does for headers. A candidate for components/grid.py."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from components.grid import HEADER_ICONS, header_width


def _px(text: str) -> int:
    """Pixels a text needs in the grids' font (CJK characters are wide)."""
    return sum(14 if ord(c) >= 0x2E80 else 8 for c in text)


def fit_width(values: Iterable[Any], header: str, cap: int = 360) -> int:
    """Pixels a text column needs to show its longest value (CJK characters are wide) and its header,
    at most `cap` (a longer value is cut with an ellipsis and shown whole in its tooltip)."""
    longest = max((_px(str(v)) for v in values), default=0)
    return int(min(cap, max(longest + 40, header_width(header))))


def wrap_headers(grid: Any, min_width: int = 96, header_height: int = 58) -> Any:
    """Let the headers of a wide grid wrap onto two lines, so the columns fit the page instead of
    scrolling sideways (a number needs less room than its header's words): a number column needs
    only its header's longest word (and `min_width`), a column of a set width that width or its
    header's longest word, not the whole header on one line."""
    for col in grid.columnDefs:
        words = str(col.get("headerName", "")).split()  # wrapped between words, never inside one
        word = max((_px(w) + HEADER_ICONS for w in words), default=0)
        if col.get("type") == "numericColumn" and not col.get("width"):
            col["minWidth"] = max(min_width, word)
        elif col.get("width"):  # its width, or its header's longest word if that is wider: not the whole header
            col["minWidth"] = max(col["width"], word)
        col["wrapHeaderText"] = True
        col["autoHeaderHeight"] = True
    grid.dashGridOptions["headerHeight"] = header_height
    height = int(str(grid.style.get("height", "0px")).removesuffix("px") or 0)
    grid.style = {**grid.style, "height": f"{height + header_height - 40}px"}
    return grid
