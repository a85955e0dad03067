"""Each user's alert subscription: which departments (within the user's scope), which levels,
immediate or a morning digest, the language of the messages, and the channels (WeCom, DingTalk,
Feishu/Lark robots, email).

The form is one declared model (`SubscriptionForm`, read with data_layer.inputs.read_form): every
field that does not fit is named with an InputProblem code (`notify.err.<code>` in the catalogs),
so a page shows the message at its field; `save_subscription` checks again before it writes and
saves nothing when a field is wrong.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import insert, select, update

from data_layer.inputs import FormProblems, InputProblem, has_unprintable, read_form
from data_layer.scope import Scope

from .schema import CHANNELS, NOTIFY_LEVELS, NOTIFY_MODES, subscriptions
from .store import AppDB, StaleEdit, User

LOOPBACK_HOSTS = ("localhost",)
WEBHOOK_MAX = 500
EMAIL_MAX = 254
# the part of an address before @ (RFC 5322 dot-atom) and a domain of at least two labels
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def user_scope(user: User) -> Scope:
    """The data a user may see (as shell.access.scope_of, for a stored user): an administrator none."""
    return Scope.stored(user.scope_kind, user.scope_ids)


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_webhook(raw: str | None, channel: str) -> str | None:
    """A `channel` robot's webhook address as stored (None: the channel is off); InputProblem when it
    is not an https URL with a host (plain http only on this machine: 127.0.0.1, ::1, localhost, for
    tests), or is the chat service's own address without its key, or another service's."""
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > WEBHOOK_MAX:
        raise InputProblem("too_long", high=str(WEBHOOK_MAX))
    if has_unprintable(value) or any(c.isspace() for c in value):
        raise InputProblem("not_url")
    try:
        parts = urlsplit(value)
        host, _port = parts.hostname, parts.port  # .port raises on a port that is not a number
    except ValueError:
        raise InputProblem("not_url") from None
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise InputProblem("not_url")
    if parts.scheme == "http" and not _is_loopback(host):
        raise InputProblem("not_https")
    from .channels import ChannelError, robot_url

    try:
        robot_url(channel, value)
    except ChannelError:
        raise InputProblem("bad_robot") from None
    return value


def check_email(raw: str | None) -> str | None:
    """An email address as stored (None: no email); InputProblem("bad_email") unless it is one
    plain address: local part, @, a domain of two or more labels with letters in its last."""
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > EMAIL_MAX or value.count("@") != 1:
        raise InputProblem("bad_email")
    local, domain = value.split("@")
    labels = domain.split(".")
    if (len(local) > 64 or not _LOCAL.fullmatch(local) or len(labels) < 2
            or not all(_LABEL.fullmatch(label) for label in labels) or not re.search("[A-Za-z]", labels[-1])):
        raise InputProblem("bad_email")
    return value


class SubscriptionForm(BaseModel):
    """What a user (or an administrator for them) asks for. Context: `scope` (the user's Scope) and
    `campus_of` (department id -> campus id, every department of the hospital)."""

    model_config = ConfigDict(extra="ignore")

    all_depts: bool = False
    dept_ids: list[Annotated[str, Field(max_length=64)]] | None = None
    levels: list[Literal[NOTIFY_LEVELS]] | None = None  # type: ignore[valid-type]
    mode: Literal[NOTIFY_MODES]  # type: ignore[valid-type]
    lang: Literal["zh", "en"]
    wecom: str | None = None
    dingtalk: str | None = None
    feishu: str | None = None
    email: str | None = None

    @field_validator("dept_ids")
    @classmethod
    def _in_scope(cls, value: list[str] | None, info: ValidationInfo) -> list[str]:
        ids = sorted({i.strip() for i in value or [] if i.strip()})
        ctx = info.context or {}
        scope: Scope = ctx.get("scope", Scope.departments([]))
        campus_of: Mapping[str, str | None] = ctx.get("campus_of", {})
        if any(d not in campus_of or not scope.allows_department(d, campus_of[d]) for d in ids):
            raise InputProblem("dept_scope")
        if not info.data.get("all_depts") and not ids:
            raise InputProblem("depts_required")
        return [] if info.data.get("all_depts") else ids

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: list[str] | None) -> list[str]:
        if not value:
            raise InputProblem("levels_required")
        return [lv for lv in NOTIFY_LEVELS if lv in value]

    @field_validator("wecom", "dingtalk", "feishu")
    @classmethod
    def _webhook(cls, value: str | None, info: ValidationInfo) -> str | None:
        return check_webhook(value, str(info.field_name))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return check_email(value)


def read_subscription(values: Mapping[str, Any], scope: Scope, campus_of: Mapping[str, str | None]) -> SubscriptionForm:
    """The form checked: FormProblems naming each field that does not fit. Departments not named
    (none chosen, "all" unticked) count as a missing list."""
    values = {**values, "dept_ids": values.get("dept_ids") or None, "levels": values.get("levels") or None}
    form = read_form(SubscriptionForm, values, context={"scope": scope, "campus_of": campus_of})
    if form.dept_ids is None and not form.all_depts:  # pydantic skips a validator for a value left out
        raise FormProblems({"dept_ids": InputProblem("depts_required")})
    if form.levels is None:
        raise FormProblems({"levels": InputProblem("levels_required")})
    return form


@dataclass(frozen=True)
class Subscription:
    user_id: int
    all_depts: bool
    dept_ids: tuple[str, ...]
    levels: tuple[str, ...]
    mode: str
    lang: str
    channels: dict[str, str]  # channel -> address, only the channels set
    last_digest_at: datetime | None
    created_at: datetime
    version: int

    @classmethod
    def from_row(cls, row: Any) -> Subscription:
        m = row._mapping
        return cls(int(m["user_id"]), bool(m["all_depts"]), tuple(i for i in (m["dept_ids"] or "").split(",") if i),
                   tuple(lv for lv in (m["levels"] or "").split(",") if lv), m["mode"], m["lang"],
                   {c: m[c] for c in CHANNELS if m[c]}, m["last_digest_at"], m["created_at"], int(m["version"]))

    def wants(self, dept_id: str, level: str) -> bool:
        """Whether an alert of this department and level is one the user asked for (the scope is
        checked apart, at sending time)."""
        return level in self.levels and (self.all_depts or dept_id in self.dept_ids)


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def get_subscription(db: AppDB, user_id: int) -> Subscription | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(subscriptions).where(subscriptions.c.user_id == user_id)).first()
    return Subscription.from_row(row) if row else None


def all_subscriptions(db: AppDB) -> list[Subscription]:
    with db.engine.connect() as conn:
        return [Subscription.from_row(r) for r in conn.execute(select(subscriptions).order_by(subscriptions.c.user_id))]


def save_subscription(db: AppDB, user: User, values: Mapping[str, Any], campus_of: Mapping[str, str | None], *,
                      by: str | None, expected_version: int | None = None, now: datetime | None = None) -> Subscription:
    """Check the form against the user's own scope and store it (FormProblems: nothing is saved).
    `expected_version`: the version the editor read (None for a first subscription); a stale edit
    is refused."""
    form = read_subscription(values, user_scope(user), campus_of)
    now = now or _now()
    row = {"all_depts": form.all_depts, "dept_ids": ",".join(form.dept_ids or []), "levels": ",".join(form.levels or []),
           "mode": form.mode, "lang": form.lang, **{c: getattr(form, c) for c in CHANNELS}, "updated_at": now,
           "updated_by": by}
    with db.engine.begin() as conn:
        current = conn.execute(select(subscriptions.c.version).where(subscriptions.c.user_id == user.id)).first()
        if current is None:
            if expected_version not in (None, 0):
                raise StaleEdit("subscription")
            conn.execute(insert(subscriptions).values(**row, user_id=user.id, created_at=now, last_digest_at=None,
                                                      version=1))
        else:
            cond = subscriptions.c.user_id == user.id
            if expected_version is not None:
                cond = cond & (subscriptions.c.version == expected_version)
            if not conn.execute(update(subscriptions).where(cond).values(
                    **row, version=subscriptions.c.version + 1)).rowcount:
                raise StaleEdit("subscription")
    saved = get_subscription(db, user.id)
    assert saved is not None
    return saved


def mark_digest(db: AppDB, user_id: int, at: datetime) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(subscriptions).where(subscriptions.c.user_id == user_id).values(last_digest_at=at))
