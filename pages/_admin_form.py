"""The user form of the admin page, declared once (read with data_layer.inputs.read_form).

The rules are the store's (appdb.store.create_user, _check_role_scope) and the password policy's
(appdb.passwords, called from the validator, not copied); the store checks again when it writes.
Each rule that fails names its field with an InputProblem code: a password rule's code
(`password.<code>` in the catalogs), a rule of users (`admin.err.<code>`), or a generic one
(missing, too_long, not_choice: `admin.err.<code>` as well)."""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from appdb.passwords import PasswordPolicyError, password_problem
from appdb.schema import ROLES, SCOPE_KINDS
from components.i18n import CATALOG, t
from data_layer.inputs import InputProblem

NEW = "__new__"
SCOPES_FOR = {"admin": ["none"], "leader": ["hospital", "campus"], "director": ["departments"],
              "assistant": ["departments"]}
USERNAME = re.compile(r"[A-Za-z0-9_.\-]{3,64}")
FIELD_LABELS = {"username": "admin.username", "display_name": "admin.name", "role": "admin.role",
                "scope_kind": "admin.scope", "scope_ids": "admin.scope_ids", "password": "admin.password"}
WITH_PASSWORD = ("create", "reset")


class UserForm(BaseModel):
    """What the admin asks for: `action` is create (save a new user), update (save an existing
    one), reset (its password) or toggle (active or not)."""

    model_config = ConfigDict(extra="ignore")

    action: Literal["create", "update", "reset", "toggle"]
    username: str | None = None
    display_name: Annotated[str, Field(max_length=128)] | None = None
    role: Literal[ROLES]  # type: ignore[valid-type]
    scope_kind: Literal[SCOPE_KINDS]  # type: ignore[valid-type]
    scope_ids: list[Annotated[str, Field(max_length=64)]] | None = None
    password: str | None = None

    @field_validator("username")
    @classmethod
    def _username(cls, value: str | None, info: ValidationInfo) -> str:
        value = (value or "").strip()
        if info.data.get("action") == "create" and not USERNAME.fullmatch(value):
            raise InputProblem("bad_username")
        return value

    @field_validator("scope_kind")
    @classmethod
    def _kind_fits_role(cls, value: str, info: ValidationInfo) -> str:
        if value not in SCOPES_FOR.get(info.data.get("role") or "", []):
            raise InputProblem("scope_mismatch")
        return value

    @field_validator("scope_ids")
    @classmethod
    def _ids_fit_kind(cls, value: list[str] | None, info: ValidationInfo) -> list[str]:
        ids = sorted({i.strip() for i in value or [] if i.strip()})
        kind = info.data.get("scope_kind")
        if info.data.get("action") in ("create", "update"):
            if kind in ("campus", "departments") and not ids:
                raise InputProblem("scope_ids_required")
            if kind in ("hospital", "none") and ids:
                raise InputProblem("scope_ids_forbidden")
        return ids

    @field_validator("password")
    @classmethod
    def _policy(cls, value: str | None, info: ValidationInfo) -> str:
        """The password policy (appdb/passwords.py) for a new user or a reset."""
        value = value or ""
        if info.data.get("action") in WITH_PASSWORD:
            problem = password_problem(value, info.data.get("username") or "", info.data.get("display_name") or "")
            if problem:
                raise InputProblem(problem)
        return value


def action_of(trigger: Any, user_id: Any) -> str:
    """The form's action from the button pressed and the user picked."""
    if trigger == "admin-save":
        return "create" if user_id in (None, NEW) else "update"
    return "reset" if trigger == "admin-reset" else "toggle"


def problem_text(problem: InputProblem, lang: str) -> str:
    """A field's problem in the reader's language."""
    if problem.code in PasswordPolicyError.MESSAGES:
        return t(f"password.{problem.code}", lang)
    key = f"admin.err.{problem.code}"
    return t(key if key in CATALOG else "admin.err.invalid", lang)


def problem_lines(problems: dict[str, InputProblem], lang: str) -> list[tuple[str, str]]:
    """(field label, message) for each field that does not fit, in the form's order."""
    order = [*FIELD_LABELS, *problems]
    return [(t(FIELD_LABELS[f], lang) if f in FIELD_LABELS else "—", problem_text(problems[f], lang))
            for f in dict.fromkeys(order) if f in problems]
