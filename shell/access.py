"""Who may open what: roles, page access, the user's Scope, and the callback guard.

Access is checked three times: in a page's layout (`page_denied`), in every callback
(`@secured`), and in the data layer (every query requires the caller's Scope).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

import dash
from flask import current_app, request
from flask_login import current_user

from appdb.schema import ROLES  # the one list of roles, stored with the users
from data_layer.scope import Scope


class PermissionDenied(Exception):
    """A request for something outside the user's role or scope."""


def scope_of(user: Any) -> Scope:
    """The data a user may see; an admin manages users and sees no hospital data."""
    if not getattr(user, "is_authenticated", False):
        return Scope.departments([])
    if user.scope_kind == "hospital":
        return Scope.hospital()
    if user.scope_kind == "campus":
        return Scope.campuses(user.scope_ids)
    if user.scope_kind == "departments":
        return Scope.departments(user.scope_ids)
    return Scope.departments([])


def page_roles(module: str) -> tuple[str, ...]:
    """The roles a registered page allows (its `allowed_roles`; all roles when unset)."""
    page = dash.page_registry.get(module, {})
    return tuple(page.get("allowed_roles", ROLES))


def may_open(module: str, role: str | None) -> bool:
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


def check_departments(ids: Iterable[str | None], scope: Scope, campus_of: Callable[[str], str | None]) -> None:
    """Refuse when any department id lies outside the scope."""
    for dept_id in ids:
        if dept_id is None:
            continue
        if not scope.allows_department(str(dept_id), campus_of(str(dept_id))):
            raise PermissionDenied(f"department {dept_id} is outside the user's scope")


def secured(roles: Iterable[str] = ROLES, departments: Callable[..., Iterable[str | None]] | None = None):
    """Callback guard: the user is logged in, has one of `roles`, and every department id
    that `departments(*args)` extracts from the callback's arguments lies in their scope.
    Refusals are audited and answered 403 before the callback body runs."""
    allowed = frozenset(roles)

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if not getattr(current_user, "is_authenticated", False):
                raise PermissionDenied("not logged in")
            if current_user.role not in allowed:
                raise PermissionDenied(f"role {current_user.role} may not call {fn.__name__}")
            if departments is not None:
                state = current_app.extensions["hospdash"]
                check_departments(departments(*args, **kwargs), scope_of(current_user), state.campus_of)
            return fn(*args, **kwargs)

        return inner

    return wrap
