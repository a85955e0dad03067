"""Who may open what: roles, page access, the user's Scope.

Access is checked three times: in a page's layout (`page_denied`), in every callback (the page
kit, pages/_kit.py, before the body runs), and in the data layer (every query requires the
caller's Scope, applied in SQL by data_layer/scope.scoped).
"""
from __future__ import annotations

from typing import Any

import dash
from flask import current_app, g, has_request_context, request
from flask_login import current_user

from appdb.schema import ROLES  # the one list of roles, stored with the users
from data_layer.scope import Scope


class PermissionDenied(Exception):
    """A request for something outside the user's role or scope."""


def scope_of(user: Any) -> Scope:
    """The data a user may see; an admin manages users and sees no hospital data."""
    if not getattr(user, "is_authenticated", False):
        return Scope.departments([])
    return Scope.stored(user.scope_kind, user.scope_ids)


def is_kiosk() -> bool:
    """Whether this request comes from a wall display signed in with a kiosk login."""
    return has_request_context() and g.get("kiosk_id") is not None


def page_roles(module: str) -> tuple[str, ...]:
    """The roles a registered page allows (its `allowed_roles`; all roles when unset)."""
    page = dash.page_registry.get(module, {})
    return tuple(page.get("allowed_roles", ROLES))


def may_open(module: str, role: str | None) -> bool:
    """Whether `role` may open the page `module` (a page registered with `kiosk=False` is not for a
    wall display's kiosk login, whatever its role)."""
    if dash.page_registry.get(module, {}).get("kiosk") is False and is_kiosk():
        return False
    return role is not None and role in page_roles(module)


def landing_path(role: str) -> str:
    """The page a role lands on after login: the page that names the role in `landing_for`."""
    for page in sorted(dash.page_registry.values(), key=lambda p: p.get("order") or 0):
        if role in page.get("landing_for", ()):
            return page["path"]
    return "/"


def audit(action: str, target: str | None = None, detail: str | None = None) -> None:
    """Write to the audit log as the current user."""
    state = current_app.extensions["hospdash"]
    g.hospdash_audited = True  # what was audited is not kept as a page layout (shell/layout._localized)
    name = current_user.username if getattr(current_user, "is_authenticated", False) else None
    ip = request.remote_addr if request else None
    state.appdb.audit(action, name, target, detail, ip)


def page_denied(module: str) -> bool:
    """True (and audited) when the current user may not open the page `module`."""
    role = getattr(current_user, "role", None) if getattr(current_user, "is_authenticated", False) else None
    if may_open(module, role):
        return False
    audit("forbidden_page", dash.page_registry.get(module, {}).get("path", module), f"role={role}")
    return True
