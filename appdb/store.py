"""Users, logins and the audit log in the application database."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, event, func, insert, select, text, update
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.security import check_password_hash, generate_password_hash

from data_layer.engine import describe_db_error, make_engine
from data_layer.errors import UserError

from .migrate import upgrade
from .schema import ROLES, SCOPE_KINDS, audit_log, kiosk_tokens, login_events, users

MAX_FAILURES = 5  # failed logins (per user name or per address) before a lock-out
LOCK_WINDOW = timedelta(minutes=15)
_COMMON = {"password", "password1", "12345678", "123456789", "1234567890", "qwerty123", "abc12345", "admin123",
           "11111111", "88888888", "iloveyou", "a1234567", "woaini1314"}
_DUMMY_HASH = generate_password_hash("not-a-real-password-0")


class AppDBUnavailable(Exception):
    """The application database cannot be reached. Its text is plain (no host, account or
    database name) so it may be shown; `detail` names the address, for the log and admins."""

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__("the application database is unavailable")


def _unavailable_on_connection_errors(engine: Engine, url: str) -> None:
    """Make a failure to connect (or a dropped connection) on `engine` raise AppDBUnavailable."""

    @event.listens_for(engine, "handle_error")
    def translate(ctx: ExceptionContext) -> None:
        if ctx.is_pre_ping or not isinstance(ctx.sqlalchemy_exception, (OperationalError, InterfaceError)):
            return
        if ctx.is_disconnect or ctx.connection is None:  # no connection: the server is away
            raise AppDBUnavailable(describe_db_error(ctx.sqlalchemy_exception, url)) from ctx.original_exception


class CodedError(UserError):
    """A refusal with a `code` the pages translate (the message is the English text)."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


class PasswordPolicyError(UserError):
    """A password that breaks the policy; `code` names the rule for the translation catalogs."""

    MESSAGES = {
        "too_short": "the password needs at least 10 characters",
        "needs_letter_digit": "the password needs both letters and digits",
        "contains_username": "the password must not contain the user name",
        "common": "the password is too common",
    }

    def __init__(self, code: str):
        self.code = code
        super().__init__(self.MESSAGES[code])


class StaleEdit(CodedError):
    """Someone else changed the record since it was read."""

    def __init__(self, what: str = "user") -> None:
        super().__init__("stale", f"someone else changed this {what} since you opened it: reload and try again")


def password_problem(password: str, username: str = "") -> str | None:
    """The rule a password breaks, or None."""
    if len(password) < 10:
        return "too_short"
    if not (re.search(r"[A-Za-z]", password) and re.search(r"\d", password)):
        return "needs_letter_digit"
    if username and username.lower() in password.lower():
        return "contains_username"
    if password.lower() in _COMMON:
        return "common"
    return None


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    scope_kind: str
    scope_ids: tuple[str, ...]
    lang: str | None
    is_active: bool
    is_demo: bool
    version: int

    @classmethod
    def from_row(cls, row: Any) -> User:
        m = row._mapping
        ids = tuple(i for i in str(m["scope_ids"] or "").split(",") if i)
        return cls(m["id"], m["username"], m["display_name"], m["role"], m["scope_kind"], ids, m["lang"],
                   bool(m["is_active"]), bool(m["is_demo"]), int(m["version"]))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _check_role_scope(role: str, scope_kind: str, scope_ids: tuple[str, ...]) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if scope_kind not in SCOPE_KINDS:
        raise UserError(f"unknown scope {scope_kind!r}: use one of {', '.join(SCOPE_KINDS)}")
    allowed = {"admin": {"none"}, "leader": {"hospital", "campus"}, "director": {"departments"},
               "assistant": {"departments"}}[role]
    if scope_kind not in allowed:
        raise CodedError("scope_mismatch", f"a {role} takes a scope of {' or '.join(sorted(allowed))}, not {scope_kind}")
    if scope_kind in ("campus", "departments") and not scope_ids:
        raise CodedError("scope_ids_required", f"a {scope_kind} scope names at least one id")
    if scope_kind in ("hospital", "none") and scope_ids:
        raise CodedError("scope_ids_forbidden", f"a {scope_kind} scope names no ids")


class AppDB:
    """The application database behind a URL; `migrate()` brings its schema up to date."""

    def __init__(self, url: str, engine: Engine | None = None):
        self.url = url
        self.engine = engine or make_engine(url)
        _unavailable_on_connection_errors(self.engine, url)

    def migrate(self) -> str:
        return upgrade(self.engine)

    def ping(self) -> None:
        """A cheap round trip (SELECT 1); AppDBUnavailable when the server is away."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    # ------------------------------------------------------------------ users
    def create_user(self, username: str, display_name: str, password: str, role: str, scope_kind: str,
                    scope_ids: tuple[str, ...] | list[str] = (), *, is_demo: bool = False,
                    lang: str | None = None) -> User:
        username = username.strip()
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{3,64}", username):
            raise CodedError("bad_username", "a user name has 3 to 64 letters, digits, dots, dashes or underscores")
        ids = tuple(sorted({i.strip() for i in scope_ids if i.strip()}))
        _check_role_scope(role, scope_kind, ids)
        if problem := password_problem(password, username):
            raise PasswordPolicyError(problem)
        now = _now()
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.id).where(func.lower(users.c.username) == username.lower())).first():
                raise CodedError("user_exists", f"user {username!r} exists already")
            conn.execute(insert(users).values(
                username=username, display_name=display_name.strip() or username,
                password_hash=generate_password_hash(password), role=role, scope_kind=scope_kind,
                scope_ids=",".join(ids), lang=lang, is_active=True, is_demo=is_demo, created_at=now, updated_at=now,
                password_changed_at=now, version=1))
        user = self.get_by_username(username)
        assert user is not None
        return user

    def get(self, user_id: int) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return User.from_row(row) if row else None

    def get_by_username(self, username: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(func.lower(users.c.username) == username.strip().lower())).first()
        return User.from_row(row) if row else None

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [User.from_row(r) for r in conn.execute(select(users).order_by(users.c.role, users.c.username))]

    def _change(self, user_id: int, expected_version: int | None, values: dict[str, Any]) -> User:
        values = {**values, "updated_at": _now(), "version": users.c.version + 1}
        cond = users.c.id == user_id
        if expected_version is not None:
            cond = and_(cond, users.c.version == expected_version)
        with self.engine.begin() as conn:
            done = conn.execute(update(users).where(cond).values(**values)).rowcount
        if not done:
            if self.get(user_id) is None:
                raise UserError(f"no user with id {user_id}")
            raise StaleEdit()
        user = self.get(user_id)
        assert user is not None
        return user

    def update_role_scope(self, user_id: int, role: str, scope_kind: str, scope_ids: tuple[str, ...] | list[str],
                          expected_version: int | None = None, display_name: str | None = None) -> User:
        ids = tuple(sorted({i.strip() for i in scope_ids if i.strip()}))
        _check_role_scope(role, scope_kind, ids)
        values: dict[str, Any] = {"role": role, "scope_kind": scope_kind, "scope_ids": ",".join(ids)}
        if display_name is not None and display_name.strip():
            values["display_name"] = display_name.strip()
        return self._change(user_id, expected_version, values)

    def set_password(self, user_id: int, password: str, expected_version: int | None = None) -> User:
        user = self.get(user_id)
        if user is None:
            raise UserError(f"no user with id {user_id}")
        if problem := password_problem(password, user.username):
            raise PasswordPolicyError(problem)
        return self._change(user_id, expected_version, {"password_hash": generate_password_hash(password),
                                                        "password_changed_at": _now()})

    def set_active(self, user_id: int, active: bool, expected_version: int | None = None) -> User:
        return self._change(user_id, expected_version, {"is_active": active})

    def set_lang(self, user_id: int, lang: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(lang=lang))

    # ----------------------------------------------------------------- logins
    def lockout_seconds(self, username: str, ip: str, now: datetime | None = None) -> int:
        """Seconds until the user name or address may try again (0: not locked)."""
        now = now or _now()
        since = now - LOCK_WINDOW
        with self.engine.connect() as conn:
            waits = []
            for col, value in ((login_events.c.username, username.strip().lower()), (login_events.c.ip, ip)):
                last_ok = conn.execute(select(func.max(login_events.c.at)).where(
                    col == value, login_events.c.success.is_(True))).scalar()
                start = max(since, last_ok) if last_ok else since
                rows = conn.execute(select(login_events.c.at).where(
                    col == value, login_events.c.success.is_(False), login_events.c.at > start)
                    .order_by(login_events.c.at.desc()).limit(MAX_FAILURES)).fetchall()
                if len(rows) >= MAX_FAILURES:
                    waits.append(int((rows[-1][0] + LOCK_WINDOW - now).total_seconds()))
        return max([0, *waits])

    def authenticate(self, username: str, password: str, ip: str) -> tuple[User | None, str]:
        """(user, 'ok') or (None, reason): locked, unknown, bad_password, inactive. Records the attempt."""
        name = username.strip().lower()[:64]
        if self.lockout_seconds(name, ip) > 0:
            self._login_event(name, ip, False, "locked")
            return None, "locked"
        user = self.get_by_username(name) if name else None
        with self.engine.connect() as conn:
            stored = conn.execute(select(users.c.password_hash).where(users.c.id == user.id)).scalar() if user else None
        good = check_password_hash(stored or _DUMMY_HASH, password)  # hash even for unknown names (timing)
        if user is None or not good:
            self._login_event(name, ip, False, "unknown" if user is None else "bad_password")
            return None, "bad_password"
        if not user.is_active:
            self._login_event(name, ip, False, "inactive")
            return None, "inactive"
        self._login_event(name, ip, True, None)
        return user, "ok"

    def _login_event(self, username: str, ip: str, success: bool, reason: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(login_events).values(at=_now(), username=username, ip=ip, success=success,
                                                     reason=reason))

    def logins(self, username: str | None = None, limit: int = 200) -> list[dict]:
        stmt = select(login_events).order_by(login_events.c.at.desc(), login_events.c.id.desc()).limit(limit)
        if username:
            stmt = stmt.where(login_events.c.username == username.lower())
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    # ------------------------------------------------------------------ kiosk logins
    def issue_kiosk(self, user_id: int, label: str, created_by: str | None) -> tuple[int, str]:
        """A long-lived sign-in for a wall display, for a leader account. Returns (id, token):
        the token is shown once and only its hash is kept."""
        user = self.get(user_id)
        if user is None or not user.is_active:
            raise CodedError("kiosk_user", "no active user with that id")
        if user.role != "leader":
            raise CodedError("kiosk_role", "a kiosk login is for a hospital leader's account (the wall screens are theirs)")
        label = (label or "").strip()[:128] or "wall display"
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            kid = conn.execute(insert(kiosk_tokens).values(
                user_id=user_id, label=label, token_hash=_digest(token), created_by=created_by,
                created_at=_now())).inserted_primary_key[0]
        return int(kid), token

    def kiosk_login(self, token: str, ip: str | None = None) -> tuple[int, User] | None:
        """The kiosk login and its user for a token that is valid, unrevoked and of an active
        leader; records its use. None otherwise."""
        if not token or len(token) > 200:
            return None
        with self.engine.begin() as conn:
            row = conn.execute(select(kiosk_tokens).where(kiosk_tokens.c.token_hash == _digest(token))).first()
            if row is None or row.revoked_at is not None:
                return None
            conn.execute(update(kiosk_tokens).where(kiosk_tokens.c.id == row.id).values(
                last_used_at=_now(), last_ip=(ip or "")[:64] or None))
        user = self.get(row.user_id)
        if user is None or not user.is_active or user.role != "leader":
            return None
        return int(row.id), user

    def kiosk_valid(self, kiosk_id: int) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(select(kiosk_tokens.c.revoked_at).where(kiosk_tokens.c.id == kiosk_id)).first()
        return row is not None and row.revoked_at is None

    def revoke_kiosk(self, kiosk_id: int) -> bool:
        """Revoke a kiosk login; the wall using it is signed out within a minute. False if unknown."""
        with self.engine.begin() as conn:
            n = conn.execute(update(kiosk_tokens).where(kiosk_tokens.c.id == kiosk_id,
                                                        kiosk_tokens.c.revoked_at.is_(None))
                             .values(revoked_at=_now())).rowcount
        return n > 0

    def list_kiosks(self) -> list[dict]:
        stmt = (select(kiosk_tokens.c.id, kiosk_tokens.c.label, users.c.username, kiosk_tokens.c.created_by,
                       kiosk_tokens.c.created_at, kiosk_tokens.c.last_used_at, kiosk_tokens.c.last_ip,
                       kiosk_tokens.c.revoked_at)
                .join(users, users.c.id == kiosk_tokens.c.user_id).order_by(kiosk_tokens.c.id))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    # ------------------------------------------------------------------ audit
    def audit(self, action: str, username: str | None, target: str | None = None, detail: str | None = None,
              ip: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(audit_log).values(at=_now(), username=username, action=action[:32],
                                                  target=(target or "")[:255] or None, detail=detail, ip=ip))

    def audit_entries(self, *, action: str | None = None, username: str | None = None,
                      since: datetime | None = None, until: datetime | None = None, limit: int = 500) -> list[dict]:
        stmt = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit)
        if action:
            stmt = stmt.where(audit_log.c.action == action)
        if username:
            stmt = stmt.where(audit_log.c.username == username)
        if since:
            stmt = stmt.where(audit_log.c.at >= since)
        if until:
            stmt = stmt.where(audit_log.c.at <= until)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]
