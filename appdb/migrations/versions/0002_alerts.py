"""Alerts written by the detector, and their workflow notes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("problem_key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("dept_id", sa.String(64), nullable=False),
        sa.Column("campus_id", sa.String(64), nullable=True),
        sa.Column("indicator", sa.String(64), nullable=False),
        sa.Column("entity_type", sa.String(32), nullable=True),
        sa.Column("entity_id", sa.String(64), nullable=True),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("observed", sa.Float, nullable=False),
        sa.Column("expected", sa.Float, nullable=False),
        sa.Column("band_low", sa.Float, nullable=True),
        sa.Column("band_high", sa.Float, nullable=True),
        sa.Column("deviation", sa.Float, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("drivers", sa.Text, nullable=False),
        sa.Column("action_key", sa.String(96), nullable=False),
        sa.Column("occurrences", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("last_seen", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_alerts_key", "alerts", ["problem_key", "period_end"])
    op.create_index("ix_alerts_dept_status", "alerts", ["dept_id", "status"])
    op.create_table(
        "alert_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_alert_notes_alert", "alert_notes", ["alert_id", "at"])


def downgrade() -> None:
    op.drop_table("alert_notes")
    op.drop_table("alerts")
