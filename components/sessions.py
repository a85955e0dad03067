"""The admin page's list of a user's open sessions."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from dash import html

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


def session_table(rows: list[dict[str, Any]], lang: str) -> html.Table | html.P:
    """Open sessions (rows of `AppDB.active_sessions`) as a small table; a note when there are none."""
    if not rows:
        return html.P(t("sessions.none", lang), className="note")
    keys = ("sessions.started", "sessions.last_seen", "sessions.address", "sessions.browser", "sessions.wall")
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in keys]))
    body = html.Tbody([html.Tr([
        html.Td(_when(r["created_at"])), html.Td(_when(r["last_seen_at"])), html.Td(r["ip"] or "—"),
        html.Td(browser_label(r["user_agent"]), title=r["user_agent"] or "", className="verbatim"),
        html.Td(r["kiosk_label"] or "", className="verbatim")]) for r in rows])
    return html.Table([head, body], className="table table-sm", id="admin-sessions-table")
