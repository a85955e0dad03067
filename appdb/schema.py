"""Tables of the application database (the migrations create them; this is the code's view)."""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

from data_layer.inputs import clean_text

metadata = MetaData()


class CleanString(TypeDecorator):
    """VARCHAR(n) whose every bound value (written or compared) is made storable first: control
    characters replaced, cut to the column's size (PostgreSQL refuses NUL and both PostgreSQL and
    MariaDB refuse an over-long value)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001, ANN201 - SQLAlchemy's signature
        return clean_text(value, self.impl.length) if isinstance(value, str) else value


class CleanText(TypeDecorator):
    """TEXT whose every bound value has its control characters replaced (see CleanString)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001, ANN201 - SQLAlchemy's signature
        return clean_text(value) if isinstance(value, str) else value

ROLES = ("admin", "leader", "director", "assistant")
SCOPE_KINDS = ("hospital", "campus", "departments", "none")

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", CleanString(64), nullable=False, unique=True),
    Column("display_name", CleanString(128), nullable=False),
    Column("password_hash", CleanString(255), nullable=False),
    Column("role", CleanString(16), nullable=False),
    Column("scope_kind", CleanString(16), nullable=False),
    Column("scope_ids", CleanText, nullable=False, default=""),  # comma-separated campus or department ids
    Column("lang", CleanString(8), nullable=True),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("is_demo", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("password_changed_at", DateTime, nullable=False),
    Column("version", Integer, nullable=False, default=1),  # bumped on every change: stale edits are refused
)

login_events = Table(
    "login_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("username", CleanString(64), nullable=False),
    Column("ip", CleanString(64), nullable=False),
    Column("success", Boolean, nullable=False),
    Column("reason", CleanString(64), nullable=True),
    Index("ix_login_events_user_at", "username", "at"),
    Index("ix_login_events_ip_at", "ip", "at"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("username", CleanString(64), nullable=True),
    Column("action", CleanString(32), nullable=False),
    Column("target", CleanString(255), nullable=True),
    Column("detail", CleanText, nullable=True),
    Column("ip", CleanString(64), nullable=True),
    Index("ix_audit_at", "at"),
    Index("ix_audit_action_at", "action", "at"),
)

ALERT_STATUSES = ("new", "acknowledged", "resolved", "dismissed")

alerts = Table(
    "alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("problem_key", CleanString(255), nullable=False),  # kind|dept|indicator|entity: one problem, one alert
    Column("kind", CleanString(32), nullable=False),
    Column("level", CleanString(8), nullable=False),
    Column("dept_id", CleanString(64), nullable=False),
    Column("campus_id", CleanString(64), nullable=True),
    Column("indicator", CleanString(64), nullable=False),
    Column("entity_type", CleanString(32), nullable=True),
    Column("entity_id", CleanString(64), nullable=True),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("observed", Float, nullable=False),
    Column("expected", Float, nullable=False),
    Column("band_low", Float, nullable=True),
    Column("band_high", Float, nullable=True),
    Column("deviation", Float, nullable=False),
    Column("method", CleanText, nullable=False),
    Column("drivers", CleanText, nullable=False),  # JSON list
    Column("consequences", CleanText, nullable=False, server_default="[]"),  # JSON list: knock-ons of this cause
    Column("adjusted", CleanText, nullable=True),  # JSON: the case-mix adjusted view of a per-case figure
    Column("action_key", CleanString(96), nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("status", CleanString(16), nullable=False),
    Column("owner", CleanString(64), nullable=True),
    Column("reason", CleanText, nullable=True),
    Column("first_seen", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_alerts_key", "problem_key", "period_end"),
    Index("ix_alerts_dept_status", "dept_id", "status"),
)

alert_notes = Table(
    "alert_notes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("username", CleanString(64), nullable=True),
    Column("kind", CleanString(16), nullable=False),  # problem, cause, suggestion, action, status
    Column("text", CleanText, nullable=False),
    Index("ix_alert_notes_alert", "alert_id", "at"),
)

kiosk_tokens = Table(
    "kiosk_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("label", CleanString(128), nullable=False),
    Column("token_hash", CleanString(64), nullable=False, unique=True),  # sha256 of the token; the token itself is not kept
    Column("created_by", CleanString(64), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime, nullable=True),
    Column("last_ip", CleanString(64), nullable=True),
    Column("revoked_at", DateTime, nullable=True),
)

appraisals = Table(
    "appraisals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dept_id", CleanString(64), nullable=False),
    Column("campus_id", CleanString(64), nullable=True),
    Column("device_name", CleanString(200), nullable=False),
    Column("category", CleanString(32), nullable=False),
    Column("inputs", CleanText, nullable=False),  # JSON: the form's fields as entered
    Column("annual_exams", Float, nullable=False),
    Column("annual_revenue", Float, nullable=False),
    Column("annual_cost", Float, nullable=False),
    Column("annual_net", Float, nullable=False),
    Column("payback_years", Float, nullable=True),
    Column("existing", CleanText, nullable=False),  # JSON: the department's devices of the kind and their use
    Column("note", CleanText, nullable=True),
    Column("created_by", CleanString(64), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Index("ix_appraisals_dept", "dept_id", "created_at"),
)

PROJECT_STATUSES = ("active", "closed")

projects = Table(
    "projects", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", CleanString(200), nullable=False),
    Column("dept_ids", CleanText, nullable=False),  # comma-separated
    Column("campus_ids", CleanText, nullable=False),  # comma-separated, for campus scopes
    Column("indicators", CleanText, nullable=False),  # comma-separated registry codes
    Column("start_date", Date, nullable=False),
    Column("before_days", Integer, nullable=False),
    Column("after_days", Integer, nullable=False),
    Column("description", CleanText, nullable=True),
    Column("status", CleanString(16), nullable=False),
    Column("created_by", CleanString(64), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

REPORT_STATUSES = ("draft", "published")

reports = Table(
    "reports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dept_id", CleanString(64), nullable=False),
    Column("campus_id", CleanString(64), nullable=True),
    Column("month", Date, nullable=False),  # first day of the month reported
    Column("revision", Integer, nullable=False),
    Column("status", CleanString(16), nullable=False),
    Column("content", CleanText, nullable=False),  # JSON: the generated sections, frozen at publication
    Column("findings", CleanText, nullable=False),  # JSON list of {problem, cause, suggestion}
    Column("data_stamp", CleanString(80), nullable=False),
    Column("created_by", CleanString(64), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("published_by", CleanString(64), nullable=True),
    Column("published_at", DateTime, nullable=True),
    Column("version", Integer, nullable=False),
    UniqueConstraint("dept_id", "month", "revision", name="uq_reports_dept_month_rev"),
)

sessions = Table(
    "sessions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", CleanString(64), nullable=False, unique=True),  # sha256 of the cookie's session id
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),  # written at most once a minute
    Column("ip", CleanString(64), nullable=True),
    Column("user_agent", CleanString(255), nullable=True),
    Column("kiosk_id", Integer, ForeignKey("kiosk_tokens.id"), nullable=True),  # a wall signed in by a kiosk login
    Column("revoked_at", DateTime, nullable=True),
    Column("revoked_reason", CleanString(32), nullable=True),
    Index("ix_sessions_user", "user_id", "revoked_at"),
    Index("ix_sessions_kiosk", "kiosk_id"),
)

# ------------------------------------------------------------------ notifications (docs/alerts.md#delivery)
NOTIFY_LEVELS = ("yellow", "orange", "red")
NOTIFY_MODES = ("immediate", "digest")
CHANNELS = ("wecom", "dingtalk", "feishu", "email")  # feishu also takes a Lark robot's address
DELIVERY_KINDS = ("alert", "digest", "escalation", "report")
DELIVERY_STATUSES = ("queued", "sent", "retrying", "failed", "gave_up")  # queued: a report waiting for its first try

subscriptions = Table(
    "subscriptions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, unique=True),
    Column("all_depts", Boolean, nullable=False),  # every department of the user's scope, as it is at sending time
    Column("dept_ids", CleanText, nullable=False, default=""),  # comma-separated, when not all_depts
    Column("levels", CleanString(32), nullable=False),  # comma-separated of NOTIFY_LEVELS
    Column("mode", CleanString(16), nullable=False),  # immediate | digest
    Column("lang", CleanString(8), nullable=False),  # zh | en: the language of the messages
    Column("wecom", CleanString(500), nullable=True),  # robot webhook addresses (secrets: never shown in logs)
    Column("dingtalk", CleanString(500), nullable=True),
    Column("feishu", CleanString(500), nullable=True),
    Column("email", CleanString(254), nullable=True),
    Column("last_digest_at", DateTime, nullable=True),  # the digest lists alerts first seen after this
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", CleanString(64), nullable=True),
    Column("version", Integer, nullable=False),
)

deliveries = Table(
    "deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", CleanString(16), nullable=False),  # alert | digest | escalation | report
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=True),  # alert and escalation messages
    Column("alert_ids", CleanText, nullable=False, default=""),  # ",3,7,9,": every alert the message names
    Column("step", Integer, nullable=True),  # escalation: 1 director(s), 2 campus or hospital leader(s)
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("channel", CleanString(16), nullable=False),
    Column("status", CleanString(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", CleanString(500), nullable=True),
    Column("next_attempt_at", DateTime, nullable=True),
    Column("message", CleanText, nullable=False),  # JSON: subject, text, markdown, html (the recipient's language);
    # a report's is "{}" until its first attempt builds it
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("sent_at", DateTime, nullable=True),
    Column("report_id", Integer, ForeignKey("reports.id", name="fk_deliveries_report"), nullable=True),  # kind report
    Column("lang", CleanString(8), nullable=True),  # kind report: zh | en, the message's and the PDF's language
    Index("ix_deliveries_alert", "alert_id"),
    Index("ix_deliveries_report", "report_id"),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
)

escalations = Table(
    "escalations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("step", Integer, nullable=False),
    Column("at", DateTime, nullable=False),
    Column("recipients", Integer, nullable=False),
    UniqueConstraint("alert_id", "step", name="uq_escalations_alert_step"),  # each step happens once
)

# ------------------------------------------------------------------ data quality (docs/data-quality.md)
QUALITY_STATUSES = ("complete", "partial", "unreachable")

quality_runs = Table(
    "quality_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=False),
    Column("through", Date, nullable=True),  # the warehouse's data_through (NULL: unreachable)
    Column("status", CleanString(16), nullable=False),  # complete | partial | unreachable
    Column("backend", CleanString(32), nullable=False),
    Column("n_red", Integer, nullable=False),
    Column("n_orange", Integer, nullable=False),
    Column("n_yellow", Integer, nullable=False),
    Column("checked", CleanText, nullable=False),  # JSON list of check codes
    Column("not_checked", CleanText, nullable=False),  # JSON list of {check, table, reason}
    Column("fingerprints", CleanText, nullable=False),  # JSON {"table|YYYY-MM": [rows, sum]}
    Index("ix_quality_runs_started", "started_at"),
)

quality_findings = Table(
    "quality_findings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("quality_runs.id"), nullable=False),
    Column("check_code", CleanString(48), nullable=False),
    Column("level", CleanString(8), nullable=False),
    Column("count", Integer, nullable=False),
    Column("table_name", CleanString(64), nullable=False),
    Column("dept_id", CleanString(64), nullable=True),  # NULL: the whole hospital's
    Column("campus_id", CleanString(64), nullable=True),
    Column("examples", CleanText, nullable=False),  # JSON list of rows
    Column("detail", CleanText, nullable=False),  # JSON object
    Column("alert_id", Integer, nullable=True),  # the alert a red or orange finding raised or grew
    Index("ix_quality_findings_run", "run_id", "level"),
    Index("ix_quality_findings_check", "check_code", "run_id"),
)

quality_settings = Table(
    "quality_settings", metadata,
    Column("key", CleanString(64), primary_key=True),
    Column("value", CleanText, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("updated_by", CleanString(64), nullable=True),
)
