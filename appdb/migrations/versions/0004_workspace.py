"""Assistant workspace: equipment purchase appraisals, improvement projects, monthly reports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appraisals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dept_id", sa.String(64), nullable=False),
        sa.Column("campus_id", sa.String(64), nullable=True),
        sa.Column("device_name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("inputs", sa.Text, nullable=False),  # JSON: the form's fields as entered
        sa.Column("annual_exams", sa.Float, nullable=False),
        sa.Column("annual_revenue", sa.Float, nullable=False),
        sa.Column("annual_cost", sa.Float, nullable=False),
        sa.Column("annual_net", sa.Float, nullable=False),
        sa.Column("payback_years", sa.Float, nullable=True),
        sa.Column("existing", sa.Text, nullable=False),  # JSON: the department's devices of the kind and their use
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Index("ix_appraisals_dept", "dept_id", "created_at"),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("dept_ids", sa.Text, nullable=False),  # comma-separated
        sa.Column("campus_ids", sa.Text, nullable=False),  # comma-separated, for campus scopes
        sa.Column("indicators", sa.Text, nullable=False),  # comma-separated registry codes
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("before_days", sa.Integer, nullable=False),
        sa.Column("after_days", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),  # active, closed
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dept_id", sa.String(64), nullable=False),
        sa.Column("campus_id", sa.String(64), nullable=True),
        sa.Column("month", sa.Date, nullable=False),  # first day of the month reported
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # draft, published
        sa.Column("content", sa.Text, nullable=False),  # JSON: the generated sections, frozen at publication
        sa.Column("findings", sa.Text, nullable=False),  # JSON list of {problem, cause, suggestion}
        sa.Column("data_stamp", sa.String(80), nullable=False),  # warehouse freshness when generated
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("published_by", sa.String(64), nullable=True),
        sa.Column("published_at", sa.DateTime, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("dept_id", "month", "revision", name="uq_reports_dept_month_rev"),
    )


def downgrade() -> None:
    op.drop_table("reports")
    op.drop_table("projects")
    op.drop_table("appraisals")
