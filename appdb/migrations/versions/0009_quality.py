"""Data quality: each nightly quality run (what it checked, what it could not, the per-month
fingerprints a restatement is found by), its findings, and the settings of the quality alerts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=False),
        sa.Column("through", sa.Date, nullable=True),  # the warehouse's data_through (NULL: unreachable)
        sa.Column("status", sa.String(16), nullable=False),  # complete | partial | unreachable
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("n_red", sa.Integer, nullable=False),
        sa.Column("n_orange", sa.Integer, nullable=False),
        sa.Column("n_yellow", sa.Integer, nullable=False),
        sa.Column("checked", sa.Text, nullable=False),  # JSON list of check codes
        sa.Column("not_checked", sa.Text, nullable=False),  # JSON list of {check, table, reason}
        sa.Column("fingerprints", sa.Text, nullable=False),  # JSON {"table|YYYY-MM": [rows, sum]}
    )
    op.create_index("ix_quality_runs_started", "quality_runs", ["started_at"])
    op.create_table(
        "quality_findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("quality_runs.id"), nullable=False),
        sa.Column("check_code", sa.String(48), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("dept_id", sa.String(64), nullable=True),  # NULL: the whole hospital's
        sa.Column("campus_id", sa.String(64), nullable=True),
        sa.Column("examples", sa.Text, nullable=False),  # JSON list of rows
        sa.Column("detail", sa.Text, nullable=False),  # JSON object
        sa.Column("alert_id", sa.Integer, nullable=True),  # the alert a red or orange finding raised or grew
    )
    op.create_index("ix_quality_findings_run", "quality_findings", ["run_id", "level"])
    op.create_index("ix_quality_findings_check", "quality_findings", ["check_code", "run_id"])
    op.create_table(
        "quality_settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("quality_settings")
    op.drop_index("ix_quality_findings_check", "quality_findings")
    op.drop_index("ix_quality_findings_run", "quality_findings")
    op.drop_table("quality_findings")
    op.drop_index("ix_quality_runs_started", "quality_runs")
    op.drop_table("quality_runs")
