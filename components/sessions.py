"""The admin page's list of a user's open sessions (a grid)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pandas as pd
from dash import html

from .grid import Column, data_grid
from .i18n import t

# (pattern, name): the first that matches names the browser; Edge and Opera also say "Chrome", Chrome says "Safari"
_BROWSERS = ((r"Edg(?:e|A|iOS)?/(\d+)", "Edge"), (r"OPR/(\d+)", "Opera"), (r"Firefox/(\d+)", "Firefox"),
             (r"(?:Chrome|CriOS)/(\d+)", "Chrome"), (r"Version/(\d+).*Safari/", "Safari"))
_SYSTEMS = (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def browser_label(user_agent: str | None) -> str:
    """A short name for a browser from its User-Agent ("Chrome 120 · Windows"), or the first 40 characters."""
    ua = user_agent or ""
    name = next((f"{label} {m.group(1)}" for pattern, label in _BROWSERS if (m := re.search(pattern, ua))), None)
    system = next((label for token, label in _SYSTEMS if token in ua), None)
    parts = [p for p in (name, system) if p]
    return " · ".join(parts) if parts else (ua[:40] or "—")


def _when(d: datetime | None) -> str:
    return f"{d:%Y-%m-%d %H:%M}" if d else "—"


def session_table(rows: list[dict[str, Any]], lang: str) -> Any:
    """Open sessions (rows of `AppDB.active_sessions`) as a grid; a note when there are none."""
    if not rows:
        return html.P(t("sessions.none", lang), className="note")
    df = pd.DataFrame([{"n": i, "started": _when(r["created_at"]), "last_seen": _when(r["last_seen_at"]),
                        "ip": r["ip"] or "—", "browser": browser_label(r["user_agent"]),
                        "wall": r["kiosk_label"] or ""} for i, r in enumerate(rows, 1)])
    cols = [Column("started", t("sessions.started", lang), pinned=True, width=150),
            Column("last_seen", t("sessions.last_seen", lang), width=150), Column("ip", t("sessions.address", lang)),
            Column("browser", t("sessions.browser", lang), width=180), Column("wall", t("sessions.wall", lang))]
    return data_grid(df, cols, lang, "admin-sessions-table", row_id="n", visible_rows=8)
