"""Users, logins and the audit log in the application database."""
from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import math
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, event, func, insert, select, text, update
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.security import check_password_hash, generate_password_hash

from data_layer.engine import describe_db_error, make_engine
from data_layer.errors import UserError
from data_layer.tally import add, counting

from .migrate import upgrade
from .passwords import PasswordPolicyError, password_problem
from .schema import ROLES, SCOPE_KINDS, audit_log, kiosk_tokens, login_events, sessions, users

MAX_FAILURES = 5  # failed sign-ins of one user name from one address before that pair is locked
ADDRESS_MAX_FAILURES = 10  # failed sign-ins from one address, whatever the user names, before it is locked
ACCOUNT_ALERT_FAILURES = 10  # failed sign-ins of one user name from all addresses before its sign-ins slow down
ACCOUNT_DELAY_SECONDS = 1  # how long each wrong password for such a user name waits for its answer
LOCK_WINDOW = timedelta(minutes=15)  # failures count within it; a lock lasts this long after the failure that set it
FAILURE_REASONS = ("unknown", "bad_password", "inactive")  # "locked" (refused while locked) is not a failure
# how passwords are hashed: werkzeug's scrypt at its full cost (n=2**15, r=8, p=1, about 0.1 s a hash);
# the test suite lowers the cost for its own users (tests/conftest.py), production never does
PASSWORD_METHOD = "scrypt"


@functools.lru_cache
def _dummy_hash(method: str) -> str:
    """A hash to check unknown user names against, at the cost real ones take (timing)."""
    return generate_password_hash("not-a-real-password-0", method=method)


class AppDBUnavailable(Exception):
    """The application database cannot be reached. Its text is plain (no host, account or
    database name) so it may be shown; `detail` names the address, for the log and admins."""

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__("the application database is unavailable")


# statements run on an application database in this context while `counting_reads` counts them
_READS: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("hospdash_appdb_reads", default=None)


def counting_reads() -> contextlib.AbstractContextManager[list[int]]:
    """Count the statements run on any application database within (yields [count]): the kit keeps
    an answer only if building it read none (pages/_kit.kept_answer), since what the application
    database holds changes without a load and so is not in the answer's key."""
    return counting(_READS)


def _count_read(*_args: Any) -> None:
    add(_READS)


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


class StaleEdit(CodedError):
    """Someone else changed the record since it was read."""

    def __init__(self, what: str = "user") -> None:
        super().__init__("stale", f"someone else changed this {what} since you opened it: reload and try again")


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


def _lower_username() -> Any:
    """lower(users.username), typed as the column so a compared value is cleaned like a stored one."""
    return func.lower(users.c.username, type_=users.c.username.type)


def _login_name(username: str) -> str:
    return username.strip().lower()[:64]


def _failure_times(conn: Connection, where: Any, since: datetime, now: datetime) -> list[datetime]:
    """When the failed sign-ins matching `where` happened in (since, now], oldest first."""
    rows = conn.execute(select(login_events.c.at).where(
        where, login_events.c.success.is_(False), login_events.c.reason.in_(FAILURE_REASONS),
        login_events.c.at > since, login_events.c.at <= now).order_by(login_events.c.at.desc()).limit(1000))
    return [r.at for r in rows][::-1]


def _lock_end(failures: list[datetime], threshold: int) -> datetime | None:
    """When the last lock these failures (oldest first) set ends, or None. A lock starts at the failure
    that makes `threshold` within LOCK_WINDOW and ends LOCK_WINDOW after it; failures during a lock
    neither extend it nor count towards the next."""
    end, window = None, deque()
    for at in failures:
        if end is not None and at < end:
            continue
        window.append(at)
        while window[0] <= at - LOCK_WINDOW:
            window.popleft()
        if len(window) >= threshold:
            end = at + LOCK_WINDOW
            window.clear()
    return end


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


@dataclass(frozen=True)
class SessionLimits:
    """How long a signed-in session lives on the server."""

    idle: timedelta = timedelta(minutes=30)  # ends after this long without a request
    absolute: timedelta = timedelta(hours=12)  # ends this long after sign-in, however busy
    touch: timedelta = timedelta(minutes=1)  # last_seen_at is written at most this often
    kept: timedelta = timedelta(days=30)  # an ended session's record is deleted this long after its absolute limit


@dataclass(frozen=True)
class SessionState:
    """A server-side session as the gate sees it; `ended` says why it no longer counts (None: alive)."""

    id: int
    user_id: int
    kiosk_id: int | None
    ended: str | None


class AppDB:
    """The application database behind a URL; `migrate()` brings its schema up to date."""

    def __init__(self, url: str, engine: Engine | None = None, session_limits: SessionLimits | None = None):
        self.url = url
        self.engine = engine or make_engine(url)
        self.session_limits = session_limits or SessionLimits()
        _unavailable_on_connection_errors(self.engine, url)
        if not event.contains(self.engine, "before_cursor_execute", _count_read):
            event.listen(self.engine, "before_cursor_execute", _count_read)

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
        if problem := password_problem(password, username, display_name):
            raise PasswordPolicyError(problem)
        now = _now()
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.id).where(_lower_username() == username.lower())).first():
                raise CodedError("user_exists", f"user {username!r} exists already")
            conn.execute(insert(users).values(
                username=username, display_name=display_name.strip() or username,
                password_hash=generate_password_hash(password, method=PASSWORD_METHOD), role=role, scope_kind=scope_kind,
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
            row = conn.execute(select(users).where(_lower_username() == username.strip().lower())).first()
        return User.from_row(row) if row else None

    def list_users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [User.from_row(r) for r in conn.execute(select(users).order_by(users.c.role, users.c.username))]

    def _change(self, user_id: int, expected_version: int | None, values: dict[str, Any]) -> User:
        values = {**values, "updated_at": _now(), "version": users.c.version + 1}
        cond = users.c.id == user_id
        if expected_version is not None:
            cond = and_(cond, users.c.version == expected_version)
        ended = ("password" if "password_hash" in values else "deactivated" if values.get("is_active") is False
                 else "user_changed")
        with self.engine.begin() as conn:
            done = conn.execute(update(users).where(cond).values(**values)).rowcount
            if done:  # a changed user signs in again: every session of theirs ends with the change
                self._end_sessions(conn, sessions.c.user_id == user_id, ended)
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
        if problem := password_problem(password, user.username, user.display_name):
            raise PasswordPolicyError(problem)
        return self._change(user_id, expected_version, {"password_hash": generate_password_hash(password, method=PASSWORD_METHOD),
                                                        "password_changed_at": _now()})

    def set_active(self, user_id: int, active: bool, expected_version: int | None = None) -> User:
        return self._change(user_id, expected_version, {"is_active": active})

    def set_lang(self, user_id: int, lang: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(lang=lang))

    # ----------------------------------------------------------------- logins
    def lockout_seconds(self, username: str, ip: str, now: datetime | None = None) -> int:
        """Seconds until this user name may try again from this address (0: not locked): the lock of
        the pair (user name, address) or of the address. Other addresses are not affected."""
        now = now or _now()
        name, since = _login_name(username), now - 2 * LOCK_WINDOW  # older failures cannot set a lock still on
        pair = and_(login_events.c.username == name, login_events.c.ip == ip)
        with self.engine.connect() as conn:
            last_ok = conn.execute(select(func.max(login_events.c.at)).where(
                pair, login_events.c.success.is_(True), login_events.c.at <= now)).scalar()
            ends = [_lock_end(_failure_times(conn, pair, max(since, last_ok or since), now), MAX_FAILURES),
                    _lock_end(_failure_times(conn, login_events.c.ip == ip, since, now), ADDRESS_MAX_FAILURES)]
        return max([0, *(math.ceil((end - now).total_seconds()) for end in ends if end and end > now)])

    def account_delay(self, username: str, ip: str, now: datetime | None = None) -> int:
        """Seconds a wrong password for this user name waits for its answer while the name draws many
        failures from all addresses (0: none); audited once per LOCK_WINDOW. Never a lock."""
        now = now or _now()
        name = _login_name(username)
        with self.engine.connect() as conn:
            rows = conn.execute(select(login_events.c.ip).where(
                login_events.c.username == name, login_events.c.success.is_(False),
                login_events.c.reason.in_(FAILURE_REASONS), login_events.c.at > now - LOCK_WINDOW,
                login_events.c.at <= now)).fetchall()
            if len(rows) < ACCOUNT_ALERT_FAILURES:
                return 0
            told = conn.execute(select(audit_log.c.id).where(
                audit_log.c.action == "login_throttled", audit_log.c.username == name,
                audit_log.c.at > now - LOCK_WINDOW).limit(1)).first()
        if told is None:
            self.audit("login_throttled", name, None, f"{len(rows)} failed sign-ins from "
                       f"{len({r.ip for r in rows})} addresses in {LOCK_WINDOW.seconds // 60} minutes", ip)
        return ACCOUNT_DELAY_SECONDS

    def authenticate(self, username: str, password: str, ip: str, now: datetime | None = None,
                     pause: Callable[[float], object] = time.sleep) -> tuple[User | None, str]:
        """(user, 'ok') or (None, reason): locked, bad_password, inactive. Records the attempt; an attempt
        refused while locked is recorded as 'locked', which is never counted as a failure."""
        now = now or _now()
        name = _login_name(username)
        if self.lockout_seconds(name, ip, now) > 0:
            self._login_event(name, ip, False, "locked", now)
            return None, "locked"
        user = self.get_by_username(name) if name else None
        with self.engine.connect() as conn:
            stored = conn.execute(select(users.c.password_hash).where(users.c.id == user.id)).scalar() if user else None
        good = check_password_hash(stored or _dummy_hash(PASSWORD_METHOD), password)  # hash even for unknown names (timing)
        if user is None or not good:
            self._login_event(name, ip, False, "unknown" if user is None else "bad_password", now)
            if delay := self.account_delay(name, ip, now):
                pause(delay)  # slows guessers down; the owner's right password is never delayed
            return None, "bad_password"
        if not user.is_active:
            self._login_event(name, ip, False, "inactive", now)
            return None, "inactive"
        self._login_event(name, ip, True, None, now)
        return user, "ok"

    def _login_event(self, username: str, ip: str, success: bool, reason: str | None, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(login_events).values(at=at, username=username, ip=ip, success=success,
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

    def revoke_kiosk(self, kiosk_id: int) -> bool:
        """Revoke a kiosk login and end its walls' sessions (signed out at their next request). False if unknown."""
        with self.engine.begin() as conn:
            n = conn.execute(update(kiosk_tokens).where(kiosk_tokens.c.id == kiosk_id,
                                                        kiosk_tokens.c.revoked_at.is_(None))
                             .values(revoked_at=_now())).rowcount
            self._end_sessions(conn, sessions.c.kiosk_id == kiosk_id, "kiosk_revoked")
        return n > 0

    def list_kiosks(self) -> list[dict]:
        stmt = (select(kiosk_tokens.c.id, kiosk_tokens.c.label, users.c.username, kiosk_tokens.c.created_by,
                       kiosk_tokens.c.created_at, kiosk_tokens.c.last_used_at, kiosk_tokens.c.last_ip,
                       kiosk_tokens.c.revoked_at)
                .join(users, users.c.id == kiosk_tokens.c.user_id).order_by(kiosk_tokens.c.id))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    # ------------------------------------------------------------------ sessions
    def open_session(self, user_id: int, ip: str | None, user_agent: str | None, kiosk_id: int | None = None) -> str:
        """Record a new signed-in session; returns its id for the cookie (only its hash is kept)."""
        token = secrets.token_urlsafe(32)
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(insert(sessions).values(
                token_hash=_digest(token), user_id=user_id, created_at=now, last_seen_at=now,
                ip=(ip or "")[:64] or None, user_agent=(user_agent or "")[:255] or None, kiosk_id=kiosk_id))
            # the table stays small: a record past its absolute limit by `kept` cannot be alive (sign-ins stay
            # in login_events and the audit log)
            conn.execute(delete(sessions).where(
                sessions.c.created_at < now - self.session_limits.absolute - self.session_limits.kept))
        return token

    def check_session(self, token: str | None, now: datetime | None = None) -> SessionState | None:
        """The session behind a cookie's id (None: unknown). One past the idle or absolute limit is
        ended here; a live one has its last_seen_at moved on, at most once per `touch`."""
        if not token or len(token) > 200:
            return None
        with self.engine.begin() as conn:
            return self._check_session(conn, token, now or _now())

    def check_session_user(self, token: str | None, user_id: int,
                           now: datetime | None = None) -> tuple[SessionState | None, User | None]:
        """`check_session(token)` and `get(user_id)` in one connection and transaction: what every
        signed-in request asks first (shell/auth.py), so one round of the pool rather than two."""
        with self.engine.begin() as conn:
            found = self._check_session(conn, token, now or _now()) if token and len(token) <= 200 else None
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return found, (User.from_row(row) if row else None)

    def _check_session(self, conn: Connection, token: str, now: datetime) -> SessionState | None:
        lim = self.session_limits
        row = conn.execute(select(sessions).where(sessions.c.token_hash == _digest(token))).first()
        if row is None:
            return None
        ended = row.revoked_reason or ("revoked" if row.revoked_at is not None else None)
        if ended is None and now - row.created_at > lim.absolute:
            ended = "expired"
        elif ended is None and now - row.last_seen_at > lim.idle:
            ended = "idle"
        if ended and row.revoked_at is None:
            self._end_sessions(conn, sessions.c.id == row.id, ended, now)
        elif ended is None and now - row.last_seen_at >= lim.touch:
            conn.execute(update(sessions).where(sessions.c.id == row.id).values(last_seen_at=now))
        return SessionState(int(row.id), int(row.user_id), row.kiosk_id, ended)

    def end_session(self, token: str | None, reason: str) -> bool:
        """End the session behind a cookie's id (sign-out); False when there is none open."""
        if not token:
            return False
        with self.engine.begin() as conn:
            return self._end_sessions(conn, sessions.c.token_hash == _digest(token), reason) > 0

    def end_user_sessions(self, user_id: int, reason: str) -> int:
        """End every open session of a user (an administrator's "sign out everywhere"); how many."""
        with self.engine.begin() as conn:
            return self._end_sessions(conn, sessions.c.user_id == user_id, reason)

    def active_sessions(self, user_id: int, now: datetime | None = None) -> list[dict]:
        """A user's sessions that are open and within the limits, newest first, with their wall's label."""
        now, lim = now or _now(), self.session_limits
        stmt = (select(sessions.c.id, sessions.c.created_at, sessions.c.last_seen_at, sessions.c.ip,
                       sessions.c.user_agent, sessions.c.kiosk_id, kiosk_tokens.c.label.label("kiosk_label"))
                .outerjoin(kiosk_tokens, kiosk_tokens.c.id == sessions.c.kiosk_id)
                .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None),
                       sessions.c.last_seen_at >= now - lim.idle, sessions.c.created_at >= now - lim.absolute)
                .order_by(sessions.c.last_seen_at.desc(), sessions.c.id.desc()))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    @staticmethod
    def _end_sessions(conn: Any, cond: Any, reason: str, now: datetime | None = None) -> int:
        return conn.execute(update(sessions).where(cond, sessions.c.revoked_at.is_(None))
                            .values(revoked_at=now or _now(), revoked_reason=reason[:32])).rowcount

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
