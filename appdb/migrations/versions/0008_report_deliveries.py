"""A published monthly report sent to its department's subscribers: a delivery names the report it
carries (a PDF by email, a link in a chat robot's message) and the language it is sent in.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("report_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("lang", sa.String(8), nullable=True))  # zh | en: the report's message and PDF
        batch.create_foreign_key("fk_deliveries_report", "reports", ["report_id"], ["id"])
        batch.create_index("ix_deliveries_report", ["report_id"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_report")
        batch.drop_constraint("fk_deliveries_report", type_="foreignkey")
        batch.drop_column("lang")
        batch.drop_column("report_id")
