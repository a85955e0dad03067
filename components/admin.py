"""The admin page's grids: users, the audit log, kiosk logins (with their revoke buttons).

Pure: records and the language in, Dash components out (no queries, no callbacks)."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from dash import html

from .grid import Column, data_grid
from .i18n import t

AUDIT_VISIBLE_ROWS = 16


def _when(d: datetime | None) -> str:
    return f"{d:%Y-%m-%d %H:%M}" if d else "—"


def users_grid(users: Sequence[Any], names: Mapping[str, str], lang: str) -> Any:
    """Every user (appdb.store.User) as a grid; a click on a row picks the user (the page's
    callback reads `cellClicked`); inactive users are greyed."""
    rows = []
    for u in users:
        state = t("admin.active", lang) if u.is_active else t("admin.inactive", lang)
        if u.is_demo:
            state += f" · {t('admin.demo', lang)}"
        ids = [names.get(i) or i for i in u.scope_ids]
        scope = t(f"scope.{u.scope_kind}", lang) + (f": {', '.join(ids)}" if ids else "")
        rows.append({"id": u.id, "username": u.username, "display_name": u.display_name,
                     "role": t(f"role.{u.role}", lang), "scope": scope, "state": state, "active": bool(u.is_active)})
    df = pd.DataFrame(rows, columns=["id", "username", "display_name", "role", "scope", "state", "active"])
    cols = [Column("username", t("admin.username", lang), pinned=True, width=170),
            Column("display_name", t("admin.name", lang), width=150),
            Column("role", t("admin.role", lang)), Column("scope", t("admin.scope", lang), width=220),
            Column("state", t("admin.state", lang))]
    grid = data_grid(df, cols, lang, "admin-users-table", row_id="id", selectable=True, hidden=("active",),
                     row_classes={"text-muted": "params.data.active === false"}, class_name="admin-users-grid")
    grid.columnDefs[3]["tooltipField"] = "scope"  # a long scope reads whole on hover
    return grid


def action_name(code: str, actions: Sequence[str], lang: str) -> str:
    return t(f"action.{code}", lang) if code in actions else t("action.other", lang)


def audit_grid(rows: Sequence[Mapping[str, Any]], actions: Sequence[str], lang: str) -> Any:
    """The audit log (newest first) as a virtualised grid; who, on what and the detail are
    shown verbatim, as recorded at the time."""
    if not rows:
        return html.P(t("audit.none", lang), className="note")
    df = pd.DataFrame([{"at": str(r["at"])[:19], "username": r["username"] or "—",
                        "action": action_name(r["action"], actions, lang), "target": r["target"] or "",
                        "detail": r["detail"] or "", "ip": r["ip"] or ""} for r in rows])
    df.insert(0, "n", range(1, len(df) + 1))
    cols = [Column("at", t("audit.at", lang), pinned=True, width=170), Column("username", t("audit.user", lang)),
            Column("action", t("audit.action", lang)), Column("target", t("audit.target", lang)),
            Column("detail", t("audit.detail", lang), width=260), Column("ip", t("audit.ip", lang))]
    grid = data_grid(df, cols, lang, "audit-log-table", row_id="n", visible_rows=AUDIT_VISIBLE_ROWS,
                     class_name="audit-grid")
    for col in grid.columnDefs[3:5]:  # target, detail: whole on hover
        col["tooltipField"] = col["field"]
    return grid


def kiosk_grid(rows: Sequence[Mapping[str, Any]], lang: str, revoke_id: Callable[[int], Any]) -> Any:
    """Kiosk logins as a grid, and below it one revoke button per login still valid (ordinary
    buttons: reachable with the keyboard, ids from `revoke_id(kiosk id)`)."""
    if not rows:
        return html.P(t("kiosk.none", lang), className="note")
    data = []
    for k in rows:
        revoked = k["revoked_at"] is not None
        data.append({"id": k["id"], "username": k["username"], "label": k["label"], "created": _when(k["created_at"]),
                     "used": f"{_when(k['last_used_at'])} · {k['last_ip']}" if k["last_used_at"]
                     else t("kiosk.never", lang),
                     "state": t("kiosk.revoked", lang, at=_when(k["revoked_at"])) if revoked else t("admin.active", lang),
                     "revoked": revoked})
    df = pd.DataFrame(data)
    cols = [Column("id", t("kiosk.id", lang), "integer", pinned=True, width=70),
            Column("username", t("kiosk.account", lang)), Column("label", t("kiosk.label", lang), width=200),
            Column("created", t("kiosk.created", lang)), Column("used", t("kiosk.last_used", lang), width=200),
            Column("state", t("admin.state", lang))]
    grid = data_grid(df, cols, lang, "kiosk-list", row_id="id", hidden=("revoked",),
                     row_classes={"text-muted": "params.data.revoked === true"}, visible_rows=8)
    buttons = [html.Button(f"{t('kiosk.revoke', lang)} #{k['id']} · {k['label']}", id=revoke_id(k["id"]),
                           className="btn btn-outline-danger btn-sm me-2 mb-1")
               for k in rows if k["revoked_at"] is None]
    revokes = html.Div([html.Span(t("kiosk.revoke_help", lang), className="note me-2"), *buttons],
                       className="kiosk-revokes mt-2") if buttons else None
    return html.Div([grid, revokes])


def message(text: str, ok: bool) -> html.Div:
    return html.Div(text, className=f"alert {'alert-success' if ok else 'alert-warning'} py-2 mb-0")


def problems_message(lines: Sequence[tuple[str, str]]) -> html.Div:
    """The fields of the user form that do not fit: each field's label and what is wrong with it."""
    return html.Div([html.Div([html.Strong(f"{label}: "), text]) for label, text in lines],
                    className="alert alert-warning py-2 mb-0", id="admin-problems")
