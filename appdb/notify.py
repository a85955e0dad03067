"""Alert delivery: who gets which message when, over which channel, and what became of it.

- After a scan (`alerts_raised`): each new alert goes to every subscriber who asked for its level and
  department and whose scope holds it, at once when the subscription is immediate or the alert is
  red (red never waits for the morning); the others wait for the digest.
- Each morning (`digest`): a digest subscriber gets one message listing the alerts first seen since
  their last digest, in their scope, of their levels and departments (nothing when there are none).
- Escalation (`escalate`): a red alert still new (unacknowledged) after N working days goes to its
  department's director(s); after another N to the leader(s) of its campus or of the hospital. Each
  step happens once per alert (the escalations table holds a unique row per alert and step).
- Retries (`retry`): a failed send is tried again with exponential back-off (RETRY_MINUTES × 2^k)
  until MAX_ATTEMPTS, then given up. Never forever. A queued send (a monthly report queued by the
  reports page) is tried by the next `retry` as if it were due.
- Monthly reports (`queue_report`, `send_report`): a published report goes to every subscriber of its
  department whose scope holds it, whatever their levels and mode (a report is not an alert), by
  email as a PDF attachment (`report_pdf`, rendered once per language and run) and by chat robot as
  a short message with the report's link. A person already sent the report (or with it on its way)
  on a channel is not sent it again on that channel unless forced.

Every message is built in the recipient's language by `render` (components/notify.py, handed in by
the command line) and kept with its delivery, so a retry sends the same text. No message names an
alert outside its recipient's scope: the scope is checked per recipient when a message is queued
and again at every attempt. `now` is always passed in (tests freeze the clock that way).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import and_, insert, or_, select, update

from data_layer.scope import Scope, scope_filter

from . import channels
from .channels import Smtp
from .reports import get_report
from .schema import alerts, deliveries, escalations
from .store import AppDB, CodedError, User
from .subscriptions import all_subscriptions, get_subscription, mark_digest, user_scope

log = logging.getLogger("hospdash.notify")

SEVERITY = {"red": 0, "orange": 1, "yellow": 2}
ESCALATION_HORIZON_DAYS = 30  # red alerts first seen longer ago than this are not escalated (history)
NO_CHANNEL = "none"  # an escalation recipient with no channel set: recorded, nothing sent
PENDING = ("queued", "retrying")  # a delivery still to be tried


@dataclass(frozen=True)
class NotifySettings:
    """Delivery settings (docs/configuration.md): the dashboard's address for links, the SMTP server,
    escalation after N working days, retries."""

    base_url: str = "http://127.0.0.1:8050"
    smtp: Smtp | None = None
    escalate_days: int = 2
    max_attempts: int = 5
    retry_minutes: float = 5.0
    timeout_seconds: float = 10.0

    def alert_link(self, alert_id: int) -> str:
        return f"{self.base_url.rstrip('/')}/alerts?alert={alert_id}"

    def report_link(self, dept_id: str, report_id: int) -> str:
        """The report's page, as the reports page addresses it (pages/workspace/reports.py)."""
        return f"{self.base_url.rstrip('/')}/workspace/reports?{urlencode({'dept': dept_id, 'report': report_id})}"


def weekdays(start: date, end: date) -> int:
    """Monday-to-Friday days from `start` to `end` inclusive (when the warehouse's calendar is away)."""
    return sum(1 for k in range((end - start).days + 1) if (start + timedelta(days=k)).weekday() < 5)


@dataclass
class Tally:
    """What one run did: messages queued, sends that went, failed (to be retried), given up."""

    messages: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    gave_up: int = 0

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    def __str__(self) -> str:
        return (f"{self.messages} messages: {self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
                f"{self.gave_up} given up")


Render = Callable[..., Mapping[str, str]]
Send = Callable[..., str | None]  # (channel, address, message, smtp, timeout[, attach=(name, bytes)])
RenderReport = Callable[..., Mapping[str, str]]  # (report, lang, dept_name=, link=) -> message
ReportPdf = Callable[[int, str], tuple[str, bytes]]  # (report id, lang) -> (file name, PDF); raises PdfUnavailable


class PdfUnavailable(Exception):
    """The report's PDF could not be made; the message says why, for a person (in the PDF's language)."""


@dataclass(frozen=True)
class Queued:
    """What queueing a report did: people given at least one new delivery, the deliveries queued, and
    people left out because they had it already (sent, or on its way) on every channel."""

    recipients: int
    deliveries: int
    already: int


@dataclass
class Outbox:
    """Delivery over one application database. `render(kind, alerts, lang, names=, link=, step=,
    days=, now=)` builds a message {subject, text, markdown, html}; `dept_names`: department id ->
    (Chinese, English) name; `workdays(start, end)`: working days in [start, end]."""

    db: AppDB
    settings: NotifySettings
    render: Render
    dept_names: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    workdays: Callable[[date, date], int] = weekdays
    send: Send = channels.send
    render_report: RenderReport | None = None
    report_pdf: ReportPdf | None = None
    _pdfs: dict[tuple[int, str], tuple[str, bytes] | str] = field(default_factory=dict, init=False, repr=False)

    # ----------------------------------------------------------------- the four jobs
    def alerts_raised(self, alert_ids: Sequence[int], now: datetime) -> Tally:
        """Send the alerts a scan just added to the subscribers who get them at once."""
        tally = Tally()
        found = self._alerts(alert_ids)
        if not found:
            return tally
        users = self._users()
        for sub in all_subscriptions(self.db):
            user = users.get(sub.user_id)
            if user is None or not sub.channels:
                continue
            scope = user_scope(user)
            for a in found:
                if sub.wants(a["dept_id"], a["level"]) and scope.allows_department(a["dept_id"], a["campus_id"]) \
                        and (sub.mode == "immediate" or a["level"] == "red"):
                    self._queue("alert", user, sub.lang, sub.channels, [a], now, tally)
        return tally

    def digest(self, now: datetime) -> Tally:
        """Each digest subscriber's alerts first seen since their last digest, in one message."""
        tally = Tally()
        users = self._users()
        for sub in all_subscriptions(self.db):
            user = users.get(sub.user_id)
            if user is None or sub.mode != "digest":
                continue
            since = (alerts.c.first_seen > sub.last_digest_at if sub.last_digest_at is not None
                     else alerts.c.first_seen >= sub.created_at)  # the first digest: since subscribing
            conds = [since, alerts.c.first_seen <= now, alerts.c.level.in_(sub.levels),
                     scope_filter(user_scope(user), alerts.c.dept_id, alerts.c.campus_id)]
            if not sub.all_depts:
                conds.append(alerts.c.dept_id.in_(sub.dept_ids))
            with self.db.engine.connect() as conn:
                ids = [r.id for r in conn.execute(select(alerts.c.id).where(and_(*conds)))]
            listed = sorted(self._alerts(ids), key=lambda a: (SEVERITY.get(a["level"], 9), a["first_seen"], a["id"]))
            if listed and sub.channels:
                self._queue("digest", user, sub.lang, sub.channels, listed, now, tally)
            mark_digest(self.db, user.id, now)
        return tally

    def escalate(self, now: datetime) -> Tally:
        """Red alerts still new after N (step 1: the directors) and 2N (step 2: the leaders) working days."""
        tally = Tally()
        n = self.settings.escalate_days
        with self.db.engine.connect() as conn:
            # an alert first seen long ago (a scan over past dates stores history) is past escalating
            reds = [r.id for r in conn.execute(select(alerts.c.id).where(
                alerts.c.level == "red", alerts.c.status == "new", alerts.c.first_seen <= now,
                alerts.c.first_seen >= now - timedelta(days=ESCALATION_HORIZON_DAYS)))]
            done = {(r.alert_id, r.step) for r in conn.execute(select(escalations.c.alert_id, escalations.c.step)
                                                                  .where(escalations.c.alert_id.in_(reds)))}
        users = list(self._users().values())
        subs = {s.user_id: s for s in all_subscriptions(self.db)}  # one read, not one per recipient
        for a in self._alerts(reds):
            waited = self.workdays(a["first_seen"].date() + timedelta(days=1), now.date())
            for step in (1, 2):
                if waited < step * n or (a["id"], step) in done:
                    continue
                role = "director" if step == 1 else "leader"
                to = [u for u in users if u.role == role
                      and user_scope(u).allows_department(a["dept_id"], a["campus_id"])]
                if not self._claim(a["id"], step, len(to), now):
                    continue  # another run took this step
                for user in to:
                    sub = subs.get(user.id)
                    lang = sub.lang if sub else (user.lang or "zh")
                    chans = sub.channels if sub else {}
                    self._queue("escalation", user, lang, chans, [a], now, tally, step=step, days=step * n)
        return tally

    def retry(self, now: datetime, *, report_id: int | None = None) -> Tally:
        """Try again every failed send whose time has come, and every queued one (`report_id`: only
        that report's)."""
        tally = Tally()
        conds = [deliveries.c.status.in_(PENDING), deliveries.c.next_attempt_at <= now]
        if report_id is not None:
            conds.append(deliveries.c.report_id == report_id)
        with self.db.engine.connect() as conn:
            due = [dict(r._mapping) for r in conn.execute(select(deliveries).where(*conds).order_by(deliveries.c.id))]
        users = self._users()
        for row in due:
            tally.add(self._attempt(row, users.get(row["user_id"]), now))
        return tally

    def send_report(self, report_id: int, now: datetime, *, force: bool = False) -> tuple[Queued, Tally]:
        """Queue the published report for its department's subscribers (queue_report) and send its
        queued deliveries now (`python -m appdb notify report`)."""
        queued = queue_report(self.db, report_id, now, force=force)
        return queued, self.retry(now, report_id=report_id)

    def run(self, now: datetime) -> dict[str, Tally]:
        """The morning job: retries, escalations, then the digest."""
        return {"retry": self.retry(now), "escalate": self.escalate(now), "digest": self.digest(now)}

    # ----------------------------------------------------------------- inside
    def _users(self) -> dict[int, User]:
        """Active users who read hospital data (an administrator sees none)."""
        return {u.id: u for u in self.db.list_users() if u.is_active and u.role != "admin"}

    def _alerts(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        ids = list(ids)
        if not ids:
            return []
        with self.db.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(alerts).where(alerts.c.id.in_(ids))
                                                           .order_by(alerts.c.id))]
        for r in rows:
            r["drivers"] = json.loads(r["drivers"] or "[]")
            r["consequences"] = json.loads(r["consequences"] or "[]")
            r["adjusted"] = json.loads(r["adjusted"]) if r["adjusted"] else None
        return rows

    def _claim(self, alert_id: int, step: int, recipients: int, now: datetime) -> bool:
        """Record an escalation step; False when it was recorded already (the unique key refuses it)."""
        from sqlalchemy.exc import IntegrityError

        try:
            with self.db.engine.begin() as conn:
                conn.execute(insert(escalations).values(alert_id=alert_id, step=step, at=now, recipients=recipients))
        except IntegrityError:
            return False
        return True

    def _queue(self, kind: str, user: User, lang: str, chans: Mapping[str, str], listed: list[dict[str, Any]],
               now: datetime, tally: Tally, *, step: int | None = None, days: int | None = None) -> None:
        """Build the message once in the recipient's language and try each of their channels now."""
        message = dict(self.render(kind, listed, lang, names=self.dept_names, link=self.settings.alert_link,
                                   step=step, days=days, now=now))
        tally.messages += 1
        values = {"kind": kind, "alert_id": listed[0]["id"] if kind != "digest" else None,
                  "alert_ids": "," + ",".join(str(a["id"]) for a in listed) + ",", "step": step, "user_id": user.id,
                  "attempts": 0, "message": json.dumps(message, ensure_ascii=False), "created_at": now,
                  "updated_at": now}
        if not chans:  # an escalation to someone who set no channel: on record, so the alert's page says so
            with self.db.engine.begin() as conn:
                conn.execute(insert(deliveries).values(**values, channel=NO_CHANNEL, status="failed",
                                                       last_error="no channel set"))
            tally.add("failed")
            return
        for channel in chans:
            with self.db.engine.begin() as conn:
                new_id = conn.execute(insert(deliveries).values(**values, channel=channel, status="retrying",
                                                                next_attempt_at=now)).inserted_primary_key[0]
                row = dict(conn.execute(select(deliveries).where(deliveries.c.id == new_id)).one()._mapping)
            tally.add(self._attempt(row, user, now))

    def _still_allowed(self, row: Mapping[str, Any], user: User) -> bool:
        """Every alert the message names (or the report it carries: published) still lies in the
        recipient's scope."""
        if row.get("report_id") is not None:
            report = get_report(self.db, Scope.hospital(), int(row["report_id"]))
            return (report is not None and report["status"] == "published"
                    and user_scope(user).allows_department(report["dept_id"], report["campus_id"]))
        ids = [int(i) for i in str(row["alert_ids"]).split(",") if i]
        scope = user_scope(user)
        return all(scope.allows_department(a["dept_id"], a["campus_id"]) for a in self._alerts(ids))

    def _attempt(self, row: Mapping[str, Any], user: User | None, now: datetime) -> str:
        """One try of one delivery; its new status."""
        sub = get_subscription(self.db, user.id) if user is not None else None
        address = sub.channels.get(row["channel"]) if sub is not None else None
        problem = ("recipient inactive" if user is None else "channel removed" if address is None
                   else None if self._still_allowed(row, user) else "outside the recipient's scope")
        attempts = int(row["attempts"])
        message: dict[str, str] = json.loads(row["message"])
        attach: tuple[str, bytes] | None = None
        if problem is None and row.get("report_id") is not None:
            message, attach, problem = self._report_parts(row)
        if problem is None:
            assert address is not None
            try:
                extra = {"attach": attach} if attach is not None else {}
                problem = self.send(row["channel"], address, message, self.settings.smtp,
                                    self.settings.timeout_seconds, **extra)
            except Exception as exc:  # noqa: BLE001 - a delivery never takes the caller down
                log.warning("delivery %s raised %s", row["id"], type(exc).__name__)
                problem = type(exc).__name__
            attempts += 1
            if problem is None:
                status, nxt = "sent", None
            elif attempts >= self.settings.max_attempts:
                status, nxt = "gave_up", None
            else:
                status, nxt = "retrying", now + timedelta(minutes=self.settings.retry_minutes * 2 ** (attempts - 1))
        else:
            status, nxt = "failed", None
        with self.db.engine.begin() as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == row["id"]).values(
                status=status, attempts=attempts, last_error=problem, next_attempt_at=nxt, updated_at=now,
                sent_at=now if status == "sent" else None))
        if problem:
            log.warning("delivery %s (%s to user %s): %s", row["id"], row["channel"], row["user_id"], status)
        return status

    def _report_parts(self, row: Mapping[str, Any]) -> tuple[dict[str, str], tuple[str, bytes] | None, str | None]:
        """A report delivery's message (built at its first attempt, in the delivery's language, and
        kept, so a retry sends the same text), its PDF for an email, and the problem when either
        cannot be made."""
        lang = row.get("lang") or "zh"
        message: dict[str, str] = json.loads(row["message"])
        report = get_report(self.db, Scope.hospital(), int(row["report_id"]))
        if report is None:
            return message, None, "report missing"
        if not message:
            if self.render_report is None:
                return message, None, "no message builder for reports"
            pair = self.dept_names.get(report["dept_id"])
            name = (pair[0] if lang == "zh" else pair[1]) if pair else report["dept_id"]
            message = dict(self.render_report(report, lang, dept_name=name,
                                              link=self.settings.report_link(report["dept_id"], report["id"])))
            with self.db.engine.begin() as conn:
                conn.execute(update(deliveries).where(deliveries.c.id == row["id"]).values(
                    message=json.dumps(message, ensure_ascii=False)))
        if row["channel"] != "email":
            return message, None, None
        made = self._pdf(int(report["id"]), lang)
        return (message, None, made) if isinstance(made, str) else (message, made, None)

    def _pdf(self, report_id: int, lang: str) -> tuple[str, bytes] | str:
        """The report's PDF in `lang` (file name, bytes), or why not; made once per Outbox."""
        key = (report_id, lang)
        if key not in self._pdfs:
            if self.report_pdf is None:
                self._pdfs[key] = "no PDF renderer configured"
            else:
                try:
                    self._pdfs[key] = self.report_pdf(report_id, lang)
                except PdfUnavailable as exc:
                    self._pdfs[key] = str(exc)[:500] or "the PDF could not be made"
                except Exception as exc:  # noqa: BLE001 - a delivery never takes the caller down
                    log.warning("report %s PDF raised %s", report_id, type(exc).__name__)
                    self._pdfs[key] = type(exc).__name__
        return self._pdfs[key]


def report_recipients(db: AppDB, report: Mapping[str, Any]) -> list[tuple[User, Any]]:
    """(user, subscription) of everyone a report goes to: active readers subscribed to its department
    (by name, or "all in my scope") whose scope holds it, with at least one channel. Levels and mode
    do not apply: a report is not an alert."""
    users = {u.id: u for u in db.list_users() if u.is_active and u.role != "admin"}
    out = []
    for sub in all_subscriptions(db):
        user = users.get(sub.user_id)
        if user is None or not sub.channels or not (sub.all_depts or report["dept_id"] in sub.dept_ids):
            continue
        if user_scope(user).allows_department(report["dept_id"], report["campus_id"]):
            out.append((user, sub))
    return out


def queue_report(db: AppDB, report_id: int, now: datetime, *, force: bool = False) -> Queued:
    """Queue a published report for its department's subscribers: one delivery per person and
    channel, in their subscription's language, tried by the next `retry` (or at once by
    `Outbox.send_report`). A person who has it already on a channel (sent, or still on its way) is
    not queued again there unless `force`. CodedError report_missing / report_draft."""
    report = get_report(db, Scope.hospital(), int(report_id))
    if report is None:
        raise CodedError("report_missing", f"no report {report_id}")
    if report["status"] != "published":
        raise CodedError("report_draft", "a draft cannot be sent: publish it first")
    with db.engine.connect() as conn:
        had = {(r.user_id, r.channel) for r in conn.execute(select(deliveries.c.user_id, deliveries.c.channel).where(
            deliveries.c.report_id == report["id"], deliveries.c.status.in_(("sent", *PENDING))))}
    people = already = count = 0
    for user, sub in report_recipients(db, report):
        chans = [c for c in sub.channels if force or (user.id, c) not in had]
        if not chans:
            already += 1
            continue
        people += 1
        with db.engine.begin() as conn:
            for channel in chans:
                conn.execute(insert(deliveries).values(
                    kind="report", alert_id=None, alert_ids="", step=None, user_id=user.id, channel=channel,
                    status="queued", attempts=0, message="{}", next_attempt_at=now, created_at=now, updated_at=now,
                    report_id=report["id"], lang=sub.lang))
                count += 1
    return Queued(people, count, already)


def report_deliveries(db: AppDB, report_id: int) -> list[dict[str, Any]]:
    """Every delivery of a report, newest first, with the recipient's display name."""
    from .schema import users

    stmt = (select(deliveries.c.id, deliveries.c.kind, deliveries.c.step, deliveries.c.channel, deliveries.c.status,
                   deliveries.c.attempts, deliveries.c.last_error, deliveries.c.next_attempt_at, deliveries.c.lang,
                   deliveries.c.updated_at, deliveries.c.sent_at, users.c.username, users.c.display_name)
            .join(users, users.c.id == deliveries.c.user_id)
            .where(deliveries.c.report_id == report_id).order_by(deliveries.c.id.desc()))
    with db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def deliveries_of(db: AppDB, alert_id: int) -> list[dict[str, Any]]:
    """Every delivery that named this alert (its own message, escalations, digests), newest first,
    with the recipient's display name."""
    from .schema import users

    stmt = (select(deliveries.c.id, deliveries.c.kind, deliveries.c.step, deliveries.c.channel, deliveries.c.status,
                   deliveries.c.attempts, deliveries.c.last_error, deliveries.c.next_attempt_at,
                   deliveries.c.updated_at, deliveries.c.sent_at, users.c.username, users.c.display_name)
            .join(users, users.c.id == deliveries.c.user_id)
            .where(or_(deliveries.c.alert_id == alert_id, deliveries.c.alert_ids.contains(f",{alert_id},")))
            .order_by(deliveries.c.id.desc()))
    with db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]
